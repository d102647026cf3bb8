// Where the agent's CPU time goes: the self time of a V8 .cpuprofile (node --cpu-prof) summed by
// function and by file, with repo paths and source lines.
// Run alone: tsx scripts/bench/cpu-profile.ts FILE.cpuprofile [TOP]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const sourceCache = new Map<string, string[] | null>();

/** tsx runs transformed code, so a profile's line may be off: find the definition in the source. */
function sourceLine(file: string, fn: string, generatedLine: number): string {
  if (!sourceCache.has(file)) sourceCache.set(file, fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : null);
  const lines = sourceCache.get(file);
  const bare = fn.replace(/^.*\./, '');
  if (lines && bare && !bare.startsWith('(')) {
    const def = new RegExp(`(function\\*?\\s+${bare}\\b|^\\s*(?:(?:private|public|protected|static|async|get|set|readonly|override)\\s+)*\\*?${bare}\\s*[(<]|\\b${bare}\\s*[:=]\\s*(?:async\\s*)?(?:\\(|function))`);
    let best = -1;
    lines.forEach((l, i) => {
      if (def.test(l) && (best < 0 || Math.abs(i - generatedLine) < Math.abs(best - generatedLine))) best = i;
    });
    if (best >= 0) return String(best + 1);
  }
  return `~${generatedLine + 1}`;
}

function place(url: string, root: string): { file: string; label: string } {
  if (!url) return { file: '', label: '(native)' };
  const p = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (p.startsWith('node:')) return { file: p, label: p };
  const rel = path.relative(root, p);
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(rel);
  return { file: p, label: nm ? `${nm[1]} (${rel.slice(rel.indexOf(nm[1]) + nm[1].length + 1)})` : rel };
}

export function printProfileTop(file: string, root: string, say: (line?: string) => void, top = 25): void {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0);
  const busy = total - idle;

  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const { file: abs, label } = place(url, root);
    const inRepo = abs.startsWith(root) && !abs.includes('node_modules');
    const line = inRepo ? sourceLine(abs, functionName, lineNumber) : String(lineNumber + 1);
    const key = `${functionName || '(anonymous)'}  ${label}${url ? `:${line}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    byFile.set(label, (byFile.get(label) ?? 0) + us);
  }
  // Native work (socket writes, GC...) charged to the nearest caller in the repo's own code: which
  // of Vigil's functions causes it.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byRepoCaller = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (byId.get(id)?.callFrame.functionName === '(idle)') continue;
    let cur: number | undefined = id;
    let key = '(no repo frame on the stack)';
    while (cur !== undefined) {
      const { functionName, url, lineNumber } = byId.get(cur)!.callFrame;
      const abs = url.startsWith('file://') ? fileURLToPath(url) : '';
      if (abs.startsWith(root) && !abs.includes('node_modules')) {
        key = `${functionName || '(anonymous)'}  ${path.relative(root, abs)}:${sourceLine(abs, functionName, lineNumber)}`;
        break;
      }
      cur = parent.get(cur);
    }
    byRepoCaller.set(key, (byRepoCaller.get(key) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  say(`CPU profile ${path.basename(file)}: ${(busy / 1e6).toFixed(1)} s busy of ${(total / 1e6).toFixed(1)} s; self time, share of busy`);
  for (const [k, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) say(`  ${pct(us)}  ${k}`);
  say('  by nearest repo function on the stack (self time of everything it calls outside the repo included):');
  for (const [k, us] of [...byRepoCaller].sort((a, b) => b[1] - a[1]).slice(0, 15)) say(`  ${pct(us)}  ${k}`);
  say('  by file:');
  for (const [k, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) say(`  ${pct(us)}  ${k}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: cpu-profile.ts FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  printProfileTop(file, path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'), (l = '') => process.stdout.write(`${l}\n`), Number(top ?? 25));
}
