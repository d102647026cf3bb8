// The dashboard's files (web/dist, built by Vite) for the hub to serve, and building them when
// they are missing or older than their sources (`vigil dev`, the tests). Production builds them
// with `npm run build`. And the links into the dashboard people share (a moment of a recording).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextFunction, Request, Response } from 'express';
import { MOMENT_SECONDS, MOMENT_SEQ } from '../../common/link-patterns.ts';
import { SESSION_ID_PATTERN } from '../../common/session-id.ts';

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

/**
 * GET /sessions/:id?t=SECONDS&seq=N, the link to a moment of a recording as people share it: to
 * the dashboard's player at that moment (`/#/play/ID?t=…&seq=…`). The link grants nothing: the
 * player's API calls are authorized per session, and one who may not see the session gets the
 * player's "not found". A malformed id is no link (404); a malformed t or seq is left out.
 */
export function sessionLinkRedirect(req: Request, res: Response, next: NextFunction): void {
  const id = req.params.id;
  if (typeof id !== 'string' || !SESSION_ID_PATTERN.test(id)) return next();
  const { t, seq } = req.query;
  const moment: string[] = [];
  if (typeof t === 'string' && MOMENT_SECONDS.test(t)) moment.push(`t=${t}`);
  if (typeof seq === 'string' && MOMENT_SEQ.test(seq) && Number(seq) > 0) moment.push(`seq=${seq}`);
  res.redirect(302, `/#/play/${encodeURIComponent(id)}${moment.length ? `?${moment.join('&')}` : ''}`);
}
