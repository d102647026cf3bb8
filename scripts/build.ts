// npm run build — the `vigil` command as plain JavaScript in dist/, for running in production
// without the TypeScript loader: `node dist/vigil.mjs agent --config vigil.yaml`. tsx compiles
// on the fly in a loader thread of its own, which costs every process about 35 MB of memory; the
// bundle does not. Packages stay external (resolved from node_modules, as with tsx).
// Development keeps using bin/vigil.mjs (tsx): no build step between an edit and a run.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface BundleOptions {
  /** Output directory; must be inside the repository so that node_modules resolves. */
  outdir?: string;
  /** Further entry points, as { out name (no extension): source path relative to the root }. */
  extra?: Record<string, string>;
}

/** Builds dist/vigil.mjs (and the demo database's worker beside it). Returns the output directory. */
export async function buildBundle(opts: BundleOptions = {}): Promise<string> {
  const outdir = opts.outdir ?? path.join(ROOT, 'dist');
  await build({
    absWorkingDir: ROOT,
    entryPoints: [
      { in: 'cli/main.ts', out: 'vigil' },
      // demo-database.ts starts its worker from ./demo-worker-boot.mjs next to itself: in the
      // bundle that is next to vigil.mjs, and the worker is plain JavaScript too.
      { in: 'proxy-agent/demo/demo-database-worker.ts', out: 'demo-worker-boot' },
      // Likewise the shell parser's worker (shell-reading-offload.ts starts ./shell-reading-boot.mjs).
      { in: 'proxy-agent/guardrails/shell-reading-worker.ts', out: 'shell-reading-boot' },
      ...Object.entries(opts.extra ?? {}).map(([out, source]) => ({ in: source, out })),
    ],
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  return outdir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = await buildBundle();
  // The dashboard too: the hub serves web/dist.
  const { build: buildWeb } = await import('vite');
  await buildWeb({ configFile: path.join(ROOT, 'web', 'vite.config.ts'), logLevel: 'warn' });
  process.stdout.write(`built ${path.relative(process.cwd(), path.join(outdir, 'vigil.mjs'))}: run it with node (e.g. node dist/vigil.mjs agent --config vigil.yaml)\n`);
}
