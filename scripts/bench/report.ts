// The benchmark's printed report: medians per workload and target, the ratios the issue sets
// targets for (PASS/MISS, informational), and the recording's bookkeeping.
import type { PersisterMetrics } from '../../server/recordings/ingest/persister.ts';
import { WORKLOADS } from './pgbench.ts';

export interface Measurement {
  round: number;
  workload: string;
  target: string;
  tps: number;
  latencyMs: number;
  transactions: number;
  failed: number;
  /** CPU seconds of the target's proxy process during the run. */
  proxyCpu: number;
  /** CPU seconds of the driver (the hub's persister) during the run. */
  hubCpu: number;
  /** CPU seconds of the store's PostgreSQL backends (the persister's writes) during the run. */
  storeCpu: number;
  redisCpu: number;
  /** Busy cores of the whole machine during the run. */
  machineCores: number;
  wall: number;
}

type Say = (line?: string) => void;

/** The p-th percentile (nearest rank) of values sorted ascending; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Before Vigil existed, on this machine (docs: ANCHORS "Performance reference points"). */
const REFERENCE: Record<string, { pgbouncer: number; relay: number }> = {
  'select simple': { pgbouncer: 0.73, relay: 0.69 },
  'select extended': { pgbouncer: 0.81, relay: 0.63 },
  'TPC-B-like': { pgbouncer: 0.82, relay: 0.69 },
};

interface Ratio {
  label: string;
  num: string;
  den: string;
  /** Target per workload (undefined: informational only). */
  target?: (workload: string) => number | undefined;
  reference?: (workload: string) => number | undefined;
}

const RATIOS: Ratio[] = [
  { label: 'agent/direct', num: 'agent', den: 'direct' },
  { label: 'agent/relay', num: 'agent', den: 'relay', target: () => 0.9 },
  { label: 'agent/pgbouncer', num: 'agent', den: 'pgbouncer', target: (w) => (w === 'TPC-B-like' ? 1.0 : undefined) },
  { label: 'relay/direct', num: 'relay', den: 'direct', reference: (w) => REFERENCE[w]?.relay },
  { label: 'pgbouncer/direct', num: 'pgbouncer', den: 'direct', reference: (w) => REFERENCE[w]?.pgbouncer },
];

const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

export function printResults(ms: Measurement[], targets: string[], seconds: number, say: Say): void {
  const of = (w: string, t: string) => ms.filter((m) => m.workload === w && m.target === t);
  const tps = (w: string, t: string) => {
    const xs = of(w, t);
    return xs.length ? median(xs.map((m) => m.tps)) : NaN;
  };

  say('medians over rounds; proxy = the proxy process alone (cores busy, CPU us per transaction); machine = CPU us per');
  say('transaction of the whole machine (pgbench, PostgreSQL, proxy, recording pipeline, anything else running)');
  say(`${'workload'.padEnd(16)}${'target'.padEnd(11)}${'TPS'.padStart(8)}${'lat ms'.padStart(9)}${'proxy cores'.padStart(13)}${'us/tx'.padStart(8)}${'machine us/tx'.padStart(15)}   recording pipeline us/tx`);
  for (const w of WORKLOADS.map((x) => x.name)) {
    targets.forEach((t, i) => {
      const xs = of(w, t);
      if (!xs.length) return;
      const cpu = xs.reduce((n, m) => n + m.proxyCpu, 0);
      const tx = xs.reduce((n, m) => n + m.transactions, 0);
      const cores = cpu / (xs.length * seconds);
      const perTx = (sec: number) => f((sec / tx) * 1e6);
      const machine = xs.reduce((n, m) => n + m.machineCores * m.wall, 0);
      let pipeline = '';
      if (t === 'agent') {
        pipeline = `   redis ${perTx(xs.reduce((n, m) => n + m.redisCpu, 0))} + hub persister ${perTx(xs.reduce((n, m) => n + m.hubCpu, 0))} + store ${perTx(xs.reduce((n, m) => n + m.storeCpu, 0))}`;
      }
      const failed = xs.reduce((n, m) => n + m.failed, 0);
      say(`${(i === 0 ? w : '').padEnd(16)}${t.padEnd(11)}${f(tps(w, t)).padStart(8)}${f(median(xs.map((m) => m.latencyMs)), 3).padStart(9)}` +
        `${(t === 'direct' ? '-' : cores.toFixed(2)).padStart(13)}${(t === 'direct' ? '-' : f((cpu / tx) * 1e6)).padStart(8)}` +
        `${perTx(machine).padStart(15)}${pipeline}${failed ? `   ${failed} FAILED transactions` : ''}`);
    });
  }

  say();
  const names = WORKLOADS.map((x) => x.name);
  say(`${'ratio of median TPS'.padEnd(20)}${names.map((n) => n.padStart(22)).join('')}`);
  for (const r of RATIOS) {
    if (!targets.includes(r.num) || !targets.includes(r.den)) continue;
    const cells = names.map((w) => {
      const v = tps(w, r.num) / tps(w, r.den);
      const goal = r.target?.(w);
      const ref = r.reference?.(w);
      let note = '';
      if (goal !== undefined) note = ` ${v >= goal ? 'PASS' : 'MISS'} >=${goal.toFixed(1)}`;
      else if (ref !== undefined) note = ` (ref ${ref.toFixed(2)})`;
      return `${v.toFixed(2)}${note}`.padStart(22);
    });
    say(`${r.label.padEnd(20)}${cells.join('')}`);
  }
  say('targets (issue 2): agent/relay >= 0.9 on every workload; agent >= pgbouncer on TPC-B-like; ref = measured before Vigil');
}

export interface RecordingReport {
  drained: boolean;
  drainMs: number;
  drainError?: string;
  published: number;
  dropped: number;
  backlogMax: number;
  persister: PersisterMetrics;
  sessions: number;
  ended: number;
  complete: number;
  storedEvents: number;
}

export function printRecording(r: RecordingReport, say: Say): void {
  say();
  say(`recording: ${r.drained ? `drained ${f(r.drainMs)} ms after the last run` : `NOT drained: ${r.drainError}`}; ` +
    `largest backlog at the end of an agent run ${r.backlogMax} events`);
  say(`recording: agent appended ${r.published} events to Redis (dropped ${r.dropped}); persister wrote ${r.persister.persisted} ` +
    `(duplicates ${r.persister.duplicates}, invalid ${r.persister.invalid}, errors ${r.persister.errors})`);
  say(`recording: store holds ${r.sessions} sessions (${r.ended} ended, ${r.complete} with no gap) and ${r.storedEvents} events`);
}
