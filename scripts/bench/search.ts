// npm run bench:search — search on PostgreSQL at the size issue 14 names (10,000 sessions, 10
// million events). It starts a private PostgreSQL 15 (or uses --url), makes a synthetic store
// (recordings generated from templates and a Zipf vocabulary, run through the real extractor and
// written with the real writes), then EXPLAINs and times a mix of searches. bench:seek runs the
// same at a tenth of the events.
//
//   npm run bench:search -- --sessions 10000 --events 10000000 --dir /tmp/vigil-search-bench
//   npm run bench:search -- --dir /tmp/vigil-search-bench --reuse      (queries only)
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { VigilEvent } from '../../common/events/index.ts';
import { migrate, MIGRATIONS } from '../../server/store/migrations.ts';
import { PgSqlClient } from '../../server/store/pg-sql-client.ts';
import type { SqlClient, SqlRows } from '../../server/store/sql-client.ts';
import { SearchExtractor, type SearchDocument, type StatementEntry } from '../../server/recordings/search/search-documents.ts';
import { SEARCH_TUNING, searchRecordings, searchSession, listStatements, writeDocuments, writeStatements, type SearchQuery } from '../../server/recordings/search/search-index.ts';
import { freePort, waitForPort } from '../../test/support/free-port.ts';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '10000' },
    events: { type: 'string', default: '10000000' },
    dir: { type: 'string', default: '/tmp/vigil-search-bench' },
    url: { type: 'string' },
    reuse: { type: 'boolean', default: false },
    runs: { type: 'string', default: '30' },
    probe: { type: 'string' },
    window: { type: 'string' },
    budget: { type: 'string' },
    explain: { type: 'boolean', default: false },
    'no-parallel': { type: 'boolean', default: false },
  },
});

const PG_BIN = process.env.VIGIL_PG_BIN ?? '/usr/lib/postgresql/15/bin';

// ---- a private server ------------------------------------------------------------------------------

async function startServer(dir: string, reuse: boolean): Promise<{ url: string; stop(): Promise<void> }> {
  const dataDir = path.join(dir, 'data');
  const ids = process.getuid?.() === 0
    ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) }
    : {};
  if (!reuse) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    if (ids.uid !== undefined) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
    execFileSync(path.join(PG_BIN, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], { stdio: 'ignore', ...ids });
  }
  const port = await freePort();
  // A modest production-like configuration for a 2-core, 23 GB machine.
  const child: ChildProcess = spawn(path.join(PG_BIN, 'postgres'), ['-D', dataDir, '-p', String(port), '-k', dir, '-h', '127.0.0.1',
    '-c', 'shared_buffers=4GB', '-c', 'effective_cache_size=12GB', '-c', 'work_mem=32MB', '-c', 'maintenance_work_mem=2GB',
    '-c', 'max_parallel_maintenance_workers=2', '-c', 'random_page_cost=1.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off', '-c', 'max_wal_size=8GB', '-c', 'checkpoint_timeout=30min',
    ...(args['no-parallel'] ? ['-c', 'max_parallel_workers_per_gather=0'] : [])], { stdio: 'ignore', ...ids });
  await waitForPort(port);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  for (let i = 0; ; i++) {
    try {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.end();
      break;
    } catch (err) {
      if (i > 200) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

// ---- synthetic recordings --------------------------------------------------------------------------

let seed = 0x5eed;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(list: readonly T[]) => list[int(list.length)];
/** Zipf-like: low indexes much more often. */
const zipf = <T>(list: readonly T[]) => list[Math.min(list.length - 1, Math.floor(list.length ** rand()) - 1)];
function gauss(): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const REAL_WORDS = `error warning info debug started stopped failed success request response timeout connection refused
  user account payment invoice order customer product service server client database query table index backup restore
  deploy release version config update install remove delete create read write open close file directory process thread
  memory disk network cache queue worker job task schedule cron retry limit quota token session login logout password
  admin root system kernel module driver device mount volume snapshot cluster node pod container image registry secret
  health check status ready alive metrics trace span event message topic partition offset consumer producer batch
  commit rollback transaction lock deadlock vacuum analyze replica primary standby failover promote archive wal`.split(/\s+/).filter(Boolean);
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'vo', 'xi', 'ze', 'pa', 'qu', 'sh', 'tr', 'el', 'an', 'or', 'is', 'um', 'ex', 'dy'];
const WORDS = [...REAL_WORDS];
while (WORDS.length < 20_000) WORDS.push(Array.from({ length: 2 + int(3) }, () => pick(SYLLABLES)).join(''));
const TABLES = ['payments', 'invoices', 'customers', 'orders', 'accounts', 'users', 'products', 'shipments', 'refunds', 'ledger_entries',
  ...Array.from({ length: 290 }, () => `${pick(WORDS.slice(0, 2000))}_${pick(WORDS.slice(0, 2000))}`)];
const COLUMNS = ['id', 'created_at', 'updated_at', 'status', 'amount', 'email', 'name', 'customer_id', 'total', 'currency', 'note', 'region',
  ...Array.from({ length: 100 }, () => pick(WORDS.slice(0, 3000)))];
const NAMES = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy', 'Mallory', 'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent', 'Victor', 'Walter'];
const USERS = Array.from({ length: 200 }, (_, i) => `user${String(i).padStart(3, '0')}`);
const PG_TARGETS = Array.from({ length: 60 }, (_, i) => `db-${i}`);
const SSH_TARGETS = Array.from({ length: 40 }, (_, i) => `host-${i}`);
const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
const word = () => zipf(WORDS);
const value = () => {
  switch (int(6)) {
    case 0: return String(int(100_000));
    case 1: return pick(NAMES);
    case 2: return '[EMAIL]';
    case 3: return `2030-0${1 + int(9)}-${10 + int(18)}`;
    case 4: return (int(1_000_000) / 100).toFixed(2);
    default: return word();
  }
};

function statement(): { sql: string; rows: string[][] | null; extended: boolean; error: string | null } {
  const table = zipf(TABLES);
  const cols = Array.from({ length: 1 + int(5) }, () => zipf(COLUMNS));
  const r = rand();
  const error = rand() < 0.03 ? pick([`relation "${table}_old" does not exist`, `duplicate key value violates unique constraint "${table}_pkey"`,
    `column "${word()}" does not exist`, 'canceling statement due to statement timeout', `permission denied for table ${table}`]) : null;
  const extended = rand() < 0.3;
  if (r < 0.0005) return { sql: `DROP TABLE ${table}`, rows: null, extended: false, error };
  if (r < 0.001) return { sql: `TRUNCATE ${table}`, rows: null, extended: false, error };
  if (r < 0.08) return { sql: pick(['BEGIN', 'COMMIT', 'ROLLBACK']), rows: null, extended: false, error: null };
  if (r < 0.5) {
    const rows = Array.from({ length: Math.floor(12 ** rand()) }, () => cols.map(value));
    const where = extended ? `${zipf(COLUMNS)} = $1` : `${zipf(COLUMNS)} = ${rand() < 0.5 ? int(100_000) : `'${word()}'`}`;
    return { sql: `SELECT ${cols.join(', ')} FROM ${table} WHERE ${where} ORDER BY id LIMIT ${1 + int(100)}`, rows, extended, error };
  }
  if (r < 0.6) return { sql: `SELECT count(*) FROM ${table} WHERE created_at > '2030-01-0${1 + int(9)}'`, rows: [[String(int(10_000))]], extended, error };
  if (r < 0.8) return { sql: `UPDATE ${table} SET ${cols[0]} = '${word()}' WHERE id = ${int(1_000_000)}`, rows: null, extended, error };
  if (r < 0.97) return { sql: `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => `'${value()}'`).join(', ')})`, rows: null, extended, error };
  return { sql: `DELETE FROM ${table} WHERE id = ${int(1_000_000)}`, rows: null, extended, error };
}

function command(): { line: string; output: string[] } {
  const w = word();
  const host = pick(SSH_TARGETS);
  const logLine = () => `2030-01-0${1 + int(9)}T${10 + int(13)}:${10 + int(49)}:${10 + int(49)}Z ${pick(['INFO', 'INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG'])} ${word()} ${word()} ${word()} id=${hex(12)} ip=10.${int(255)}.${int(255)}.${int(255)}`;
  const lines = (n: number, f: () => string) => Array.from({ length: n }, f);
  switch (int(10)) {
    case 0: return { line: `ls -la /var/log/${w}`, output: lines(2 + int(20), () => `-rw-r--r-- 1 root root ${int(100000)} Jan ${1 + int(28)} 10:${10 + int(49)} ${word()}.log`) };
    case 1: return { line: `cat /etc/${w}/${word()}.conf`, output: lines(3 + int(30), () => `${word()} = ${word()}`) };
    case 2: return { line: `tail -n 50 /var/log/${w}.log`, output: lines(10 + int(40), logLine) };
    case 3: return { line: `grep -r ${word()} /srv/${w}`, output: lines(int(15), () => `/srv/${w}/${word()}.py:${int(500)}: ${word()} ${word()}(${word()})`) };
    case 4: return { line: `sudo systemctl restart ${w}`, output: rand() < 0.2 ? [`Job for ${w}.service failed because the control process exited with error code.`] : [] };
    case 5: return { line: 'docker ps', output: lines(1 + int(8), () => `${hex(12)}   registry.local/${word()}:${int(20)}.${int(9)}   "/entrypoint.sh"   ${1 + int(9)} hours ago   Up   ${word()}`) };
    case 6: return { line: `kubectl get pods -n ${w}`, output: ['NAME READY STATUS RESTARTS AGE', ...lines(1 + int(10), () => `${word()}-${hex(10)}-${hex(5)}   1/1   Running   ${int(4)}   ${1 + int(30)}d`)] };
    case 7: return { line: `curl -s http://${host}:8080/health`, output: [`{"status":"${pick(['ok', 'ok', 'degraded'])}","version":"${int(9)}.${int(20)}.${int(50)}"}`] };
    case 8: return { line: `psql -h ${pick(PG_TARGETS)} -c "select count(*) from ${zipf(TABLES)}"`, output: [' count ', '-------', ` ${int(100000)}`, '(1 row)'] };
    default: return { line: `cd /srv/${w} && git log --oneline | head -5`, output: lines(5, () => `${hex(7)} ${word()} ${word()} ${word()} ${word()}`) };
  }
}

interface Meta {
  v: 1;
  id: string;
  sessionId: string;
  user: string;
  target: string;
  protocol: 'postgres' | 'ssh';
  connection: { client: string; agent: string };
}

/** One session's events, about n of them. (Built without schema checks: millions of them.) */
function sessionEvents(sessionId: string, protocol: 'postgres' | 'ssh', user: string, target: string, startMs: number, n: number): VigilEvent[] {
  const meta: Meta = { v: 1, id: '', sessionId, user, target, protocol, connection: { client: '10.0.0.1:5000', agent: 'agent-1' } };
  const events: VigilEvent[] = [];
  let ms = startMs;
  const add = (type: string, data: unknown, afterMs: number) => {
    ms += afterMs;
    events.push({ ...meta, id: `${sessionId}-${events.length + 1}`, seq: events.length + 1, time: new Date(ms).toISOString(), type, data } as VigilEvent);
    return events.length;
  };
  add('session.start', { upstream: 'x:1', recording: 'required', clientMasking: false }, 0);
  if (protocol === 'postgres') {
    while (events.length < n) {
      const s = statement();
      const params = s.extended ? [{ value: String(int(100_000)), format: 'text' }] : undefined;
      const q = add('db.query', { protocol: s.extended ? 'extended' : 'simple', sql: s.sql, ...(params ? { params } : {}) }, 500 + int(20_000));
      if (s.error) add('db.error', { querySeq: q, severity: 'ERROR', code: '42P01', message: s.error }, 2 + int(50));
      else {
        const rows = s.rows ?? [];
        const cols = rows[0]?.map((_, i) => ({ name: `c${i}`, typeOid: 25, format: 'text' })) ?? [];
        add('db.result', { querySeq: q, statementIndex: 0, columns: cols, rows, rowCount: rows.length || int(3), truncated: false,
          command: s.rows ? `SELECT ${rows.length}` : s.sql.split(' ')[0], durationUs: 100 + int(50_000) }, 1 + int(50));
      }
    }
  } else {
    add('ssh.shell', { channel: 0, pty: { term: 'xterm', cols: 120, rows: 40 } }, 100);
    const prompt = `\x1b[32m${user}@${target}\x1b[0m:~$ `;
    add('term.output', { channel: 0, text: prompt }, 200);
    while (events.length < n) {
      const c = command();
      // The terminal echoes each key as it is typed; the recorder keeps the line until Enter.
      for (const ch of c.line) add('term.output', { channel: 0, text: ch }, 60 + int(200));
      add('term.input', { channel: 0, text: `${c.line}\r` }, 50);
      const body = c.output.map((l) => (rand() < 0.1 ? `\x1b[1;31m${l}\x1b[0m` : l)).join('\r\n');
      add('term.output', { channel: 0, text: `\r\n${body}${body ? '\r\n' : ''}${prompt}` }, 20 + int(500));
      ms += 2000 + int(20_000);
    }
  }
  add('session.end', { reason: pick(['client_terminate', 'client_terminate', 'client_disconnect', 'killed']), durationMs: ms - startMs }, 100);
  return events;
}

// ---- building the store ----------------------------------------------------------------------------

async function build(client: PgSqlClient, sessions: number, totalEvents: number): Promise<void> {
  await migrate(client, { migrations: MIGRATIONS });
  // Loaded without the text indexes, which are built once at the end (as a restore would).
  await client.exec('DROP INDEX search_docs_words_idx; DROP INDEX search_docs_text_trgm_idx;');
  const weights = Array.from({ length: sessions }, () => Math.exp(1.2 * gauss()));
  const scale = totalEvents / weights.reduce((a, b) => a + b, 0);
  const t0 = Date.parse('2029-01-01T00:00:00.000Z');
  let docs: SearchDocument[] = [];
  let entries: StatementEntry[] = [];
  let sessionRows: unknown[][] = [];
  const started = Date.now();
  let eventCount = 0;
  let docCount = 0;
  let pendingWrites: Promise<unknown>[] = [];
  const flush = async () => {
    const [d, e, s] = [docs, entries, sessionRows];
    docs = [];
    entries = [];
    sessionRows = [];
    pendingWrites.push(Promise.all([
      writeDocuments(client, d),
      writeStatements(client, e),
      client.query(`INSERT INTO sessions (id, protocol, user_name, target, client_addr, agent_id, started_at, start_seen, ended_at, end_reason, last_seq, persisted_seq, event_count)
        SELECT id, protocol, u, t, '10.0.0.1:5000', 'agent-1', st, true, en, r, n, n, n FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::int8[])
          AS x(id, protocol, u, t, st, en, r, n)`,
      [s.map((r) => r[0]), s.map((r) => r[1]), s.map((r) => r[2]), s.map((r) => r[3]), s.map((r) => r[4]), s.map((r) => r[5]), s.map((r) => r[6]), s.map((r) => r[7])]),
    ]));
    if (pendingWrites.length >= 2) {
      await Promise.all(pendingWrites);
      pendingWrites = [];
    }
  };
  for (let i = 0; i < sessions; i++) {
    const protocol = rand() < 0.6 ? 'postgres' : 'ssh';
    const id = `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
    const start = t0 + Math.floor((i / sessions) * 365 * 86_400_000) + int(3_600_000);
    const n = Math.max(4, Math.round(weights[i] * scale));
    const events = sessionEvents(id, protocol, zipf(USERS), protocol === 'postgres' ? zipf(PG_TARGETS) : zipf(SSH_TARGETS), start, n);
    const extracted = SearchExtractor.start(id).push(events);
    docs.push(...extracted.documents);
    entries.push(...extracted.statements);
    const end = events.at(-1)!;
    sessionRows.push([id, protocol, events[0].user, events[0].target, events[0].time, end.time, (end.data as { reason: string }).reason, events.length]);
    eventCount += events.length;
    docCount += extracted.documents.length;
    if (docs.length >= 20_000) await flush();
    if (i % 500 === 499) console.log(`  ${i + 1} sessions, ${eventCount} events, ${docCount} docs, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  await flush();
  await Promise.all(pendingWrites);
  console.log(`loaded ${sessions} sessions, ${eventCount} events, ${docCount} documents in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  for (const sql of [
    'CREATE INDEX search_docs_words_idx ON search_docs USING gin (words)',
    'CREATE INDEX search_docs_text_trgm_idx ON search_docs USING gin (text gin_trgm_ops)',
    'VACUUM ANALYZE',
  ]) {
    const t = Date.now();
    await client.exec(sql);
    console.log(`${sql}: ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
}

// ---- measuring -------------------------------------------------------------------------------------

/** Passes statements through, keeping them for EXPLAIN. */
class CapturingClient implements SqlClient {
  statements: { text: string; params: readonly unknown[] }[] = [];
  constructor(private readonly inner: SqlClient) {}
  query<T>(text: string, params: readonly unknown[] = []): Promise<SqlRows<T>> {
    this.statements.push({ text, params });
    return this.inner.query<T>(text, params);
  }
  exec(script: string) { return this.inner.exec(script); }
  transaction<T>(fn: (tx: SqlClient) => Promise<T>) { return this.inner.transaction(fn); }
  close() { return this.inner.close(); }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(client: PgSqlClient): Promise<void> {
  const { rows: sizes } = await client.query<{ what: string; n: string }>(`
    SELECT 'sessions' AS what, count(*)::text AS n FROM sessions UNION ALL SELECT 'events', sum(event_count)::text FROM sessions
    UNION ALL SELECT 'search_docs', count(*)::text FROM search_docs UNION ALL SELECT 'statements', count(*)::text FROM statements
    UNION ALL SELECT 'search_docs size', pg_size_pretty(pg_total_relation_size('search_docs'))
    UNION ALL SELECT 'words index', pg_size_pretty(pg_relation_size('search_docs_words_idx'))
    UNION ALL SELECT 'trigram index', pg_size_pretty(pg_relation_size('search_docs_text_trgm_idx'))
    UNION ALL SELECT 'statements size', pg_size_pretty(pg_total_relation_size('statements'))`);
  for (const r of sizes) console.log(`${r.what}: ${r.n}`);
  const { rows: [someSession] } = await client.query<{ id: string; user_name: string; target: string }>(
    `SELECT id, user_name, target FROM sessions WHERE protocol = 'postgres' ORDER BY event_count DESC LIMIT 1`);
  const { rows: [recent] } = await client.query<{ id: string }>(`SELECT id FROM sessions ORDER BY started_at DESC LIMIT 1 OFFSET 100`);

  const searches: { name: string; query: SearchQuery }[] = [
    { name: 'rare statement (drop table)', query: { text: 'drop table' } },
    { name: 'rare word (truncate)', query: { text: 'truncate' } },
    { name: 'table name (payments)', query: { text: 'payments' } },
    { name: 'substring (paym)', query: { text: 'paym' } },
    { name: 'common word (select)', query: { text: 'select' } },
    { name: 'common word (error)', query: { text: 'error' } },
    { name: 'two common words (status failed)', query: { text: 'status failed' } },
    { name: 'short word (rm)', query: { text: 'ls' } },
    { name: 'hex id prefix (unlikely)', query: { text: 'deadbeef' } },
    { name: 'no match', query: { text: 'zzzyyyxxx' } },
    { name: 'phrase ("permission denied")', query: { text: '"permission denied"' } },
    { name: 'user filter + common', query: { text: 'select', user: someSession.user_name } },
    { name: 'target filter + rare', query: { text: 'drop table', target: someSession.target } },
    { name: 'viewer (own sessions) + common', query: { text: 'error', allowedUsers: ['user007'] } },
    { name: 'time range + medium', query: { text: 'payments', from: '2029-06-01T00:00:00Z', to: '2029-07-01T00:00:00Z' } },
    { name: 'ended killed + word', query: { text: 'invoices', ended: 'killed' } },
  ];
  const runs = Number(args.runs);
  const tuning = {
    probeLimit: Number(args.probe ?? SEARCH_TUNING.probeLimit),
    windowEvents: Number(args.window ?? SEARCH_TUNING.windowEvents),
    budgetEvents: Number(args.budget ?? SEARCH_TUNING.budgetEvents),
  };
  console.log(`tuning: ${JSON.stringify(tuning)}${args['no-parallel'] ? ', no parallel query' : ''}`);
  const all: number[] = [];
  const capture = new CapturingClient(client);
  for (const s of searches) {
    capture.statements = [];
    await searchRecordings(capture, s.query, tuning);
    const plan = capture.statements.slice();
    const times: number[] = [];
    let page = await searchRecordings(client, s.query, tuning);
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      page = await searchRecordings(client, s.query, tuning);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    all.push(...times);
    console.log(`\n## ${s.name}: ${page.sessions.length} sessions, ${page.sessions.reduce((n, x) => n + x.hitCount, 0)} hits, next ${page.nextCursor ? 'yes' : 'no'}; ` +
      `${plan.length} statements; p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms`);
    for (const st of args.explain ? plan.slice(0, 3) : []) {
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${st.text}`, st.params);
      console.log(rows.map((r) => `    ${r['QUERY PLAN']}`).join('\n'));
    }
  }
  // Words across the vocabulary's frequencies (the Zipf rank 1 to 20,000), and substrings of them.
  const sweep: number[] = [];
  const slow: string[] = [];
  for (let i = 0; i < 200; i++) {
    const rank = Math.floor(WORDS.length ** (i / 200));
    const w = WORDS[rank - 1];
    const text = i % 4 === 3 ? w.slice(0, Math.max(3, w.length - 2)) : w;
    await searchRecordings(client, { text }, tuning);
    const t = performance.now();
    const page = await searchRecordings(client, { text }, tuning);
    const ms = performance.now() - t;
    sweep.push(ms);
    if (ms > 100) slow.push(`${text} (rank ${rank}): ${ms.toFixed(0)} ms, ${page.sessions.length} sessions, next ${page.nextCursor ? 'yes' : 'no'}`);
  }
  sweep.sort((a, b) => a - b);
  console.log(`\nSWEEP of 200 words by frequency: p50 ${percentile(sweep, 50).toFixed(1)} ms, p95 ${percentile(sweep, 95).toFixed(1)} ms, p99 ${percentile(sweep, 99).toFixed(1)} ms, max ${sweep.at(-1)!.toFixed(1)} ms`);
  for (const line of slow) console.log(`  slow: ${line}`);
  all.push(...sweep);
  all.sort((a, b) => a - b);
  console.log(`\nALL searchRecordings (${all.length} runs): p50 ${percentile(all, 50).toFixed(1)} ms, p95 ${percentile(all, 95).toFixed(1)} ms, p99 ${percentile(all, 99).toFixed(1)} ms, max ${all.at(-1)!.toFixed(1)} ms`);

  for (const [name, fn] of [
    ['searchSession (largest postgres session, "payments")', () => searchSession(client, someSession.id, 'payments')],
    ['searchSession (recent session, "error")', () => searchSession(client, recent.id, 'error')],
    ['listStatements (largest session, page from the middle)', () => listStatements(client, someSession.id, 5000, 100)],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await fn();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(`${name}: p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms`);
  }
}

const server = args.url ? null : await startServer(args.dir, args.reuse);
const url = args.url ?? server!.url;
const client = new PgSqlClient({ connectionString: url, max: 4 });
try {
  if (!args.reuse) await build(client, Number(args.sessions), Number(args.events));
  await measure(client);
} finally {
  await client.close();
  await server?.stop();
}
