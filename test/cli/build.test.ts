// `npm run build`: the bundle in dist/ runs without tsx, the way production runs the agent and the
// hub. Built here into a directory of its own (inside the repository, so node_modules resolves).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../scripts/build.ts';
import { REPO, runVigil } from './run-vigil.ts';

describe('npm run build', () => {
  const outdir = path.join(REPO, 'dist', `test-build-${process.pid}`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-build-'));
  beforeAll(async () => {
    await buildBundle({ outdir });
  }, 60_000);
  afterAll(() => {
    fs.rmSync(outdir, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('when built, then the bundle and the demo worker beside it are plain JavaScript', () => {
    for (const file of ['vigil.mjs', 'demo-worker-boot.mjs']) {
      const text = fs.readFileSync(path.join(outdir, file), 'utf8');
      expect(text).not.toMatch(/from ["']tsx/);
    }
  });

  it('when the bundled command runs, then it works without the TypeScript loader', async () => {
    const bin = path.join(outdir, 'vigil.mjs');
    const help = await runVigil(['--help'], {}, { bin });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('vigil');
    const token = await runVigil(['token', '--user', 'alice', '--target', 'demo'], { VIGIL_DATA_DIR: dataDir }, { bin });
    expect(token.stderr).toBe('');
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^postgresql:\/\/alice:[\w.-]+@127\.0\.0\.1:15432\/demo\?sslmode=disable\n$/);
  }, 60_000);
});
