// The dashboard's files (web/dist, built by Vite) for the hub to serve, and building them when
// they are missing or older than their sources (`vigil dev`, the tests). Production builds them
// with `npm run build`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The sources sit two levels below the root, the bundle (dist/vigil.mjs) one: the root is found
// by its marker instead.
const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The repository (or installation) root: the nearest ancestor with web/vite.config.ts. */
function root(): string {
  for (let dir = HERE; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'web', 'vite.config.ts'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(HERE, '..', '..');
  }
}

export function dashboardDir(): string {
  return path.join(root(), 'web', 'dist');
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds web/dist when it is missing or older than web/src; returns the directory. */
export async function ensureDashboardBuilt(): Promise<string> {
  const base = root();
  const out = dashboardDir();
  const index = path.join(out, 'index.html');
  // Everything the dashboard imports: its own sources and the shared contracts in common/.
  const sources = [path.join(base, 'web', 'src'), path.join(base, 'common')];
  const built = fs.existsSync(index) ? fs.statSync(index).mtimeMs : 0;
  const newest = Math.max(...sources.filter((d) => fs.existsSync(d)).map(newestMtime), fs.statSync(path.join(base, 'web', 'index.html')).mtimeMs);
  if (built > newest) return out;
  const { build } = await import('vite');
  await build({ configFile: path.join(base, 'web', 'vite.config.ts'), logLevel: 'warn' });
  return out;
}
