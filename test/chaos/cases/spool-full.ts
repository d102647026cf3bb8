// The second agent (a spool of a hundred events, `recording: required` PostgreSQL and SSH
// targets) with Redis stopped: its spool fills within a second or two. Its sessions must end
// recorded (`recording_unavailable`, no hole), a new session must be refused with a clear error,
// and once Redis is back everything the clients saw must reach the store and new sessions must be
// served again.
import pg from 'pg';
import { pgLoop, pause, sshClient, type Client, type Endpoint } from '../clients.ts';
import { endpoint, finish, stopAll, type CaseContext } from '../case-kit.ts';
import type { CaseRow } from '../report.ts';

async function tryLogin(e: Endpoint): Promise<string> {
  const client = new pg.Client({ host: '127.0.0.1', port: e.port, user: e.user, password: e.token, database: e.target, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return 'admitted';
  } catch (err) {
    const e2 = err as Error & { code?: string };
    return `${e2.code ?? ''} ${e2.message}`.trim();
  }
}

const SPOOL_CLIENTS = 3;

export async function spoolFull(ctx: CaseContext): Promise<CaseRow> {
  const { cluster, profile: p } = ctx;
  const slot = cluster.spoolAgent;
  if (!slot.proc) await cluster.startAgent(slot);
  const ep = endpoint(ctx, 'pg-spool', cluster.ports.spoolPg);
  const sshEp = await endpoint(ctx, 'box-spool', cluster.ports.spoolSsh)();
  // A light load (each session's events wait in the spool until the hub confirms them, 4 times a
  // second): the spool must fill because Redis is gone, not before.
  const clients: Client[] = [
    ...Array.from({ length: SPOOL_CLIENTS }, (_, i) => pgLoop(ctx.caseId, `pg${i}`, ep, { pauseMs: 100 })),
    sshClient(ctx.caseId, 'ssh0', sshEp, cluster.askpass, 600),
  ];
  let redisDown = false;
  try {
    await pause(Math.max(1500, p.loadBeforeS * 1000));
    const early = clients.filter((c) => c.log.endedAt).map((c) => c.log.name);
    const faultAt = Date.now();
    await cluster.redis.halt();
    redisDown = true;
    // Each client's session is ended by the agent once the spool is full.
    const cut = await Promise.race([Promise.all(clients.map((c) => c.done)).then(() => true), pause(30_000).then(() => false)]);
    const refusal = await tryLogin(await ep());
    await cluster.redis.start();
    redisDown = false;
    const backAt = Date.now();
    // Served again once the spool has room (what it held reaches the hub first).
    let again = '';
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && again !== 'admitted'; await pause(500)) again = await tryLogin(await ep());
    const after = pgLoop(ctx.caseId, 'after', ep, { pauseMs: 100 });
    clients.push(after);
    await pause(1000);
    const clientsEnd = await stopAll(clients);

    const problems: string[] = [];
    if (early.length) problems.push(`${early.join(', ')} ended before Redis stopped: ${clients.find((c) => c.log.endedAt)?.log.errors[0]}`);
    if (!cut) problems.push(`sessions were not ended within 30 s of Redis stopping with a spool of ${cluster.spoolEvents} events`);
    if (!/57P03.*requires recording/.test(refusal)) problems.push(`a new session while the spool was full got: ${refusal}`);
    if (again !== 'admitted') problems.push(`no new session admitted within 30 s of Redis coming back: ${again}`);
    const row = await finish(ctx, {
      fault: `spool full (${cluster.spoolEvents} events, Redis stopped)`,
      clients,
      // Nothing can reach the store before Redis is back: ends are due from then.
      dueAt: (s) => (s.startedAt < backAt ? backAt : clientsEnd),
      since: backAt,
      notes: [`sessions cut ${((Math.max(...clients.slice(0, -1).map((c) => c.log.endedAt)) - faultAt) / 1000).toFixed(1)} s after Redis stopped; a new one was refused: "${refusal}"`],
      problems,
    });
    const cutCount = clients.length - 1;
    const unavailable = row.reasons.get('recording_unavailable') ?? 0;
    if (unavailable < cutCount) {
      row.problems.push(`${cutCount} sessions were cut by the full spool, ${unavailable} ended recording_unavailable (all reasons: ${[...row.reasons].map(([r, n]) => `${r} ${n}`).join(', ')})`);
    }
    return row;
  } finally {
    if (process.env.CHAOS_DEBUG) console.log(`spool agent's log:\n${slot.proc?.stderr().slice(-6000)}`);
    if (redisDown) await cluster.redis.start();
    if (!clients.every((c) => c.log.endedAt)) await stopAll(clients);
    await cluster.stopProcess(slot);
  }
}
