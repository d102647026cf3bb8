// The guardrail check's own cost per statement, in this process: the agent reads every Query and
// Parse with PostgreSQL's parser before it goes on when a target has rules, unless the text has
// no word a rule could need (statement-prefilter.ts); decisions are remembered by text. Measured
// for statements no rule matches (the common case) and for ones a rule decides, each as a repeated
// text (what applications send) and as a new text every time (a comment with a counter: ad hoc
// work), against a target without rules.
import { Guardrail } from '../../common/guardrails.ts';
import { GuardrailPolicy } from '../../proxy-agent/guardrails/guardrail-policy.ts';
import { loadClassifier } from '../../proxy-agent/guardrails/statement-classifier.ts';

/** What pgbench's TPC-B-like script and an application send, none of which the rules below match. */
const ORDINARY = [
  'SELECT abalance FROM pgbench_accounts WHERE aid = $1;',
  'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP);',
  "SELECT o.id, o.total, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.created_at > now() - interval '1 day' ORDER BY o.id LIMIT 50",
  'BEGIN',
  'COMMIT',
];
/** No rule matches these either, but they have a word a rule needs (update, delete): the parser reads them. */
const PARSED = ['UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;', 'DELETE FROM sessions WHERE expires_at < now()'];
const DECIDED = ['DELETE FROM orders', "DO $$ BEGIN DELETE FROM orders WHERE id = 1; EXECUTE 'truncate x'; END $$", 'DROP TABLE orders'];

const RULES = [
  { name: 'no-unbounded-writes', statements: ['DELETE_WITHOUT_WHERE', 'UPDATE_WITHOUT_WHERE'], action: 'deny' },
  { name: 'drops-need-approval', statements: ['DROP', 'TRUNCATE'], action: 'approve' },
  { name: 'bounded-deletes', statements: ['DELETE'], maxRows: 1000, action: 'deny' },
].map((g) => Guardrail.parse(g));

/** Microseconds per statement: [repeated text, a new text each time]. */
type Pair = [number, number];

export interface GuardrailCost {
  noRules: Pair;
  ordinary: Pair;
  parsed: Pair;
  decided: Pair;
}

function perStatementUs(policy: GuardrailPolicy, statements: readonly string[], ms: number, fresh: boolean): number {
  let n = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < until) {
    for (const sql of statements) policy.checkSql(fresh ? `${sql} /* ${n} */` : sql);
    n += statements.length;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / 1000 / n;
}

export async function measureGuardrailCost(ms = 1000): Promise<GuardrailCost> {
  await loadClassifier();
  const none = new GuardrailPolicy([]);
  const ruled = new GuardrailPolicy(RULES);
  // Warm the parser and the JIT first.
  perStatementUs(ruled, [...ORDINARY, ...PARSED, ...DECIDED], 300, true);
  const pair = (policy: GuardrailPolicy, statements: readonly string[]): Pair => [perStatementUs(policy, statements, ms, false), perStatementUs(policy, statements, ms, true)];
  return { noRules: pair(none, ORDINARY), ordinary: pair(ruled, ORDINARY), parsed: pair(ruled, PARSED), decided: pair(ruled, DECIDED) };
}

export function printGuardrailCost(cost: GuardrailCost, targetUs: number, say: (line?: string) => void): void {
  const verdict = (us: number) => (us < targetUs ? 'PASS' : 'MISS');
  const row = (label: string, [repeated, fresh]: Pair, judged = false) =>
    say(`  ${label.padEnd(44)} ${repeated.toFixed(2).padStart(7)} µs ${fresh.toFixed(2).padStart(8)} µs${judged ? `   ${verdict(repeated)} / ${verdict(fresh)} (target < ${targetUs} µs)` : ''}`);
  say('guardrail check per statement (in-process)        repeated   new text');
  row('target without rules', cost.noRules);
  row('no rule matches, no telling word', cost.ordinary, true);
  row('no rule matches, parsed (update ... where)', cost.parsed, true);
  row('a rule decides (bodies read too)', cost.decided);
}

