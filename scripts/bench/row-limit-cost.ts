// The cost of a `maxRows` guardrail on the wire (issue 18): the same single-row UPDATE through one
// agent process on three targets of the same upstream (no guardrails; guardrails with no maxRows
// rule; the same plus a maxRows rule on writes) and straight to PostgreSQL, the four in turn
// statement by statement so that drift on a shared machine falls on all alike. What a maxRows rule does per write
// depends on where the write runs (limited-write.ts), so each case is measured on its own:
//   - autocommit, simple Query: the agent opens a block first (BEGIN, awaited), sends the write,
//     holds its CommandComplete, COMMITs, and only then answers;
//   - autocommit, extended (Parse/Bind/Execute/Sync with $1): the Execute goes with a Flush and the
//     client's Sync waits until the count is in;
//   - in the client's own BEGIN ... COMMIT: the write goes as is; its count is read on the way back;
//   - pgbench's TPC-B-like script (its writes all run inside BEGIN ... END), for throughput.
// node-postgres is the client (one connection per target, one statement at a time): without
// values it sends a simple Query, with values the extended protocol (unnamed statement: Parse,
// Bind, Describe, Execute, Sync each time). The ids cycle over a few rows so that statement texts
// repeat, as an application's do: the guardrail decision is then remembered by text
// (guardrail-cost.ts measures the check itself). The figures are latencies seen by the client:
// the hub's persister shares its process (see pg.ts), which weighs on p99 more than on p50.
import pg from 'pg';
import { resetTables, runPgbench, WORKLOADS, type Endpoint } from './pgbench.ts';
import { median, percentile } from './report.ts';

const TABLE = 'vigil_row_limit_bench';
/** Rows the measured UPDATEs touch (their texts repeat after this many). */
const HOT_ROWS = 100;
/** More than the rule's limit, so that a check can see the rule refuse a write. */
const TABLE_ROWS = 2000;
const MAX_ROWS = 1000;
const BLOCK_SIZE = 100;

const UNBOUNDED_WRITES = { name: 'no-unbounded-writes', statements: ['DELETE_WITHOUT_WHERE', 'UPDATE_WITHOUT_WHERE'], action: 'deny' };
const BOUNDED_WRITES = { name: 'bounded-writes', statements: ['UPDATE', 'DELETE', 'INSERT'], maxRows: MAX_ROWS, action: 'deny' };

/** The agent's targets for this measurement; the maxRows one differs from `guarded` by the maxRows rule alone. */
export const ROW_LIMIT_VARIANTS = [
  { key: 'none', target: 'rows-no-guardrails', label: 'no guardrails', guardrails: [] as object[] },
  { key: 'guarded', target: 'rows-guardrails', label: 'guardrails, no maxRows', guardrails: [UNBOUNDED_WRITES] },
  { key: 'maxRows', target: 'rows-max-rows', label: `maxRows ${MAX_ROWS} rule`, guardrails: [UNBOUNDED_WRITES, BOUNDED_WRITES] },
] as const;
export type VariantKey = (typeof ROW_LIMIT_VARIANTS)[number]['key'];

/** The agent config's targets: recording and masking on, as on the benchmarked agent's target. */
export function rowLimitTargets(upstream: { host: string; port: number; database: string; user: string }): object[] {
  return ROW_LIMIT_VARIANTS.map((v) => ({ name: v.target, protocol: 'postgres', listen: '127.0.0.1:0', recording: 'required', upstream, guardrails: v.guardrails }));
}

type Mode = 'simple' | 'extended' | 'block';
const MODES: { mode: Mode; label: string }[] = [
  { mode: 'simple', label: 'autocommit, simple Query' },
  { mode: 'extended', label: 'autocommit, extended ($1)' },
  { mode: 'block', label: `in BEGIN..COMMIT of ${BLOCK_SIZE}` },
];
const PGBENCH_LABEL = 'pgbench TPC-B-like';

type Who = 'direct' | VariantKey;
const WHO: { key: Who; label: string }[] = [{ key: 'direct', label: 'direct' }, ...ROW_LIMIT_VARIANTS.map((v) => ({ key: v.key, label: v.label }))];

interface Sample {
  /** Each UPDATE's latency, µs. */
  latencies: number[];
}

export interface RowLimitCost {
  /** UPDATEs per target and mode. */
  statements: number;
  samples: Record<Mode, Record<Who, Sample>>;
  /** TPS per variant, one per round (absent when pgbench was skipped). */
  tps?: Record<VariantKey, number[]>;
  pgbenchSeconds?: number;
  /** What the rule checks saw; empty when every rule acted as configured. */
  problems: string[];
}

export interface RowLimitOptions {
  direct: Endpoint;
  targets: Record<VariantKey, Endpoint>;
  /** UPDATEs per target and mode (rounded up to whole blocks). */
  statements: number;
  pgbench?: { clients: number; threads: number; seconds: number; rounds: number };
  progress?: (line: string) => void;
}

const connect = async (e: Endpoint): Promise<pg.Client> => {
  const c = new pg.Client({ host: e.host, port: e.port, user: e.user, password: e.password, database: e.database });
  c.on('error', () => undefined);
  await c.connect();
  return c;
};

const now = () => process.hrtime.bigint();
const usSince = (t: bigint) => Number(now() - t) / 1000;

/** 0..n-1 in a random order. */
function shuffled(n: number): number[] {
  const xs = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/**
 * `count` UPDATEs per connection, one statement each in turn: on a shared machine a stall then
 * lands on all targets, not on one target's batch. The order is drawn anew each turn, since the
 * work a statement leaves behind (the agent's recording, the persister in this process) falls on
 * the statement after it: in a fixed cycle each target would always pay for the same neighbour.
 * Each connection has rows of its own, since in a block the rows stay locked until COMMIT.
 */
async function rounds(clients: pg.Client[], mode: Mode, count: number, samples?: Sample[]): Promise<void> {
  const ids = clients.map((_, k) => (i: number) => k * HOT_ROWS + (i % HOT_ROWS) + 1);
  const inTurn = async (run: (k: number) => Promise<void>) => {
    for (const k of shuffled(clients.length)) await run(k);
  };
  const timed = async (k: number, query: () => Promise<unknown>) => {
    const t = now();
    await query();
    samples?.[k].latencies.push(usSince(t));
  };
  const simple = (k: number, i: number) => timed(k, () => clients[k].query(`UPDATE ${TABLE} SET n = n + 1 WHERE id = ${ids[k](i)}`));
  if (mode === 'block') {
    for (let done = 0; done < count; done += BLOCK_SIZE) {
      await inTurn((k) => clients[k].query('BEGIN').then(() => undefined));
      for (let i = 0; i < BLOCK_SIZE; i++) await inTurn((k) => simple(k, i));
      await inTurn((k) => clients[k].query('COMMIT').then(() => undefined));
    }
    return;
  }
  for (let i = 0; i < count; i++) {
    await inTurn((k) => (mode === 'simple' ? simple(k, i) : timed(k, () => clients[k].query({ text: `UPDATE ${TABLE} SET n = n + 1 WHERE id = $1`, values: [ids[k](i)] }))));
  }
}

/** How a statement fails (SQLSTATE and message), or null when it runs. */
async function failure(c: pg.Client, sql: string): Promise<string | null> {
  try {
    await c.query(sql);
    return null;
  } catch (err) {
    return `${(err as { code?: string }).code ?? '?'} ${(err as Error).message}`;
  }
}

/** Without this, a target whose rules did not load would print a plausible-looking 1.00. */
async function checkRules(clients: Record<Who, pg.Client>): Promise<string[]> {
  const problems: string[] = [];
  const unbounded = `UPDATE ${TABLE} SET n = n`;
  const big = `UPDATE ${TABLE} SET n = n WHERE id <= ${MAX_ROWS + 1}`;
  const expect = async (who: VariantKey, sql: string, refusedBy: string | null) => {
    const error = await failure(clients[who], sql);
    const ok = refusedBy === null ? error === null : error?.includes(refusedBy) === true;
    if (!ok) problems.push(`${who}: "${sql}" ${error ? `failed: ${error}` : 'ran'}; expected ${refusedBy ? `a refusal by ${refusedBy}` : 'it to run'}`);
  };
  await expect('none', unbounded, null);
  await expect('guarded', unbounded, UNBOUNDED_WRITES.name);
  await expect('guarded', big, null);
  await expect('maxRows', unbounded, UNBOUNDED_WRITES.name);
  await expect('maxRows', big, BOUNDED_WRITES.name);
  return problems;
}

export async function measureRowLimitCost(opts: RowLimitOptions): Promise<RowLimitCost> {
  const say = opts.progress ?? (() => undefined);
  const setup = await connect(opts.direct);
  try {
    await setup.query(`DROP TABLE IF EXISTS ${TABLE}; CREATE TABLE ${TABLE} (id int PRIMARY KEY, n int NOT NULL DEFAULT 0); ` +
      `INSERT INTO ${TABLE} (id) SELECT generate_series(1, ${TABLE_ROWS})`);
    // On its own: VACUUM refuses the implicit transaction of a string of statements.
    await setup.query(`VACUUM ANALYZE ${TABLE}`);
  } finally {
    await setup.end();
  }

  const clients = {} as Record<Who, pg.Client>;
  try {
    for (const w of WHO) clients[w.key] = await connect(w.key === 'direct' ? opts.direct : opts.targets[w.key]);
    const problems = await checkRules(clients);

    const statements = Math.max(1, Math.ceil(opts.statements / BLOCK_SIZE)) * BLOCK_SIZE;
    const list = WHO.map((w) => clients[w.key]);
    // Warm-up: every statement text once per target (the decision cache, plans, the JIT).
    for (const { mode } of MODES) await rounds(list, mode, HOT_ROWS);
    const samples = {} as Record<Mode, Record<Who, Sample>>;
    for (const { mode } of MODES) {
      const measured = WHO.map(() => ({ latencies: [] as number[] }));
      await rounds(list, mode, statements, measured);
      samples[mode] = Object.fromEntries(WHO.map((w, k) => [w.key, measured[k]])) as Record<Who, Sample>;
    }
    say(`row limit: ${statements} UPDATEs per target and mode, interleaved statement by statement, done`);

    let tps: Record<VariantKey, number[]> | undefined;
    const pgb = opts.pgbench;
    if (pgb) {
      const tpcb = WORKLOADS.find((w) => w.name === 'TPC-B-like')!;
      tps = { none: [], guarded: [], maxRows: [] };
      for (let round = 0; round < pgb.rounds; round++) {
        const order = ROW_LIMIT_VARIANTS.map((_, i) => ROW_LIMIT_VARIANTS[(i + round) % ROW_LIMIT_VARIANTS.length]);
        for (const v of order) {
          await resetTables(opts.direct);
          const r = await runPgbench(opts.targets[v.key], tpcb, pgb);
          if (r.failed) problems.push(`${v.key}: pgbench had ${r.failed} failed transactions`);
          tps[v.key].push(r.tps);
        }
      }
      say(`row limit: pgbench TPC-B-like, ${pgb.rounds} round(s) of ${pgb.seconds} s per target done`);
    }
    return { statements, samples, tps, pgbenchSeconds: pgb?.seconds, problems };
  } finally {
    await Promise.all(Object.values(clients).map((c) => c.end().catch(() => undefined)));
    const cleanup = await connect(opts.direct);
    await cleanup.query(`DROP TABLE IF EXISTS ${TABLE}`).finally(() => cleanup.end());
  }
}

const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const signed = (n: number) => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(0)}` : '-');

export function printRowLimitCost(cost: RowLimitCost, say: (line?: string) => void): void {
  const sorted = (mode: Mode, who: Who) => [...cost.samples[mode][who].latencies].sort((a, b) => a - b);
  const p = (mode: Mode, who: Who, pct: number) => percentile(sorted(mode, who), pct);
  const mean = (mode: Mode, who: Who) => {
    const xs = cost.samples[mode][who].latencies;
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  say(`maxRows guardrail cost: UPDATE ${TABLE} SET n = n + 1 WHERE id = N (one row), node-postgres, one statement at a time, ` +
    `${cost.statements} per target and mode, the targets in turn statement by statement; the agent's three targets are in one agent process`);
  say(`${'mode'.padEnd(28)}${'target'.padEnd(24)}${'p50 µs'.padStart(9)}${'p99 µs'.padStart(9)}${'mean µs'.padStart(9)}   added vs no guardrails p50 / p99`);
  for (const { mode, label } of MODES) {
    WHO.forEach((w, i) => {
      const added = w.key === 'guarded' || w.key === 'maxRows'
        ? `   ${signed(p(mode, w.key, 50) - p(mode, 'none', 50))} / ${signed(p(mode, w.key, 99) - p(mode, 'none', 99))} µs`
        : '';
      say(`${(i === 0 ? label : '').padEnd(28)}${w.label.padEnd(24)}${f(p(mode, w.key, 50)).padStart(9)}${f(p(mode, w.key, 99)).padStart(9)}${f(mean(mode, w.key)).padStart(9)}${added}`);
    });
  }
  const tpsOf = (k: VariantKey) => (cost.tps ? median(cost.tps[k]) : NaN);
  if (cost.tps) {
    say(`${PGBENCH_LABEL.padEnd(28)}${ROW_LIMIT_VARIANTS.map((v) => `${v.label} ${f(tpsOf(v.key))}`).join(', ')} TPS (median of ${cost.tps.none.length} run(s) of ${cost.pgbenchSeconds} s)`);
  }

  // As report.ts prints its ratios: of rates, higher is faster, 1.00 costs nothing. A statement's
  // rate is 1/p50: on a shared machine the mean follows whatever else ran.
  const columns = [...MODES.map((m) => m.label), ...(cost.tps ? [PGBENCH_LABEL] : [])];
  say();
  say(`${'ratio of 1/p50 (TPS)'.padEnd(24)}${columns.map((c) => c.padStart(28)).join('')}`);
  const ratioRow = (label: string, num: VariantKey, den: Who) => {
    const cells = MODES.map(({ mode }) => p(mode, den, 50) / p(mode, num, 50));
    if (cost.tps) cells.push(den === 'direct' ? NaN : tpsOf(num) / tpsOf(den));
    say(`${label.padEnd(24)}${cells.map((v) => f(v, 2).padStart(28)).join('')}`);
  };
  ratioRow('maxRows/no guardrails', 'maxRows', 'none');
  ratioRow('maxRows/guardrails', 'maxRows', 'guarded');
  ratioRow('guardrails/no guardrails', 'guarded', 'none');
  ratioRow('no guardrails/direct', 'none', 'direct');

  const added = (mode: Mode) => signed(p(mode, 'maxRows', 50) - p(mode, 'guarded', 50));
  say(`why: round trips agent<->PostgreSQL. An autocommit Query under maxRows makes two more (BEGIN sent and awaited first, COMMIT after its held ` +
    `CommandComplete): ${added('simple')} µs p50 here over the same rules without maxRows; an Execute one more (the client's Sync waits ` +
    `for the count): ${added('extended')} µs; in a block none (the count comes back with the write's own answer): ${added('block')} µs. No target for this figure.`);
  for (const problem of cost.problems) say(`WARNING: ${problem}`);
}
