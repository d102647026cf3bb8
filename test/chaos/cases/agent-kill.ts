// The agent killed with SIGKILL while its clients are inside statements (pg_sleep) and inside
// COPY in both directions, and while Redis is away; then started again with its outbox, at once
// or after the hub has ended its sessions: whatever a client saw complete must reach the store
// from the outbox, and every session the dead process held must end with a reason.
import { pgLoop, psqlClient, selectFeed, sshClient, pause, type Client, type PsqlFeed } from '../clients.ts';
import { endpoint, finish, restartAgent, stopAll, type CaseContext } from '../case-kit.ts';
import { readSessions } from '../ledger.ts';
import type { CaseRow } from '../report.ts';

/** Past the agent's lease (5 s) and the hub's check of it: the hub ends the sessions first. */
const LATE_RESTART_MS = 8000;

/** Terminal output is spooled in bursts (100 ms, or 1 s for a word still open): this much before
 * the kill may be unrecorded, by design. */
const SSH_BATCH_MS = 1500;

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await pause(20);
  }
  return true;
}

export async function agentKillMidStatement(ctx: CaseContext): Promise<CaseRow> {
  const { cluster, profile: p } = ctx;
  const ep = endpoint(ctx);
  const loops = Array.from({ length: p.pgClients }, (_, i) => pgLoop(ctx.caseId, `pg${i}`, ep, { sleepEvery: 3, sleepS: 1.5, pauseMs: 50, extended: i % 2 === 1, reconnect: true }));
  const psqls = await Promise.all(Array.from({ length: p.psqlClients }, async (_, i) => psqlClient(ctx.caseId, `psql${i}`, await ep(), selectFeed(100, 4))));
  const sshEp = await endpoint(ctx, 'box', cluster.ports.ssh)();
  const sshs = Array.from({ length: p.sshClients }, (_, i) => sshClient(ctx.caseId, `ssh${i}`, sshEp, cluster.askpass, (p.loadBeforeS + 3) * 10));
  const clients: Client[] = [...loops, ...psqls, ...sshs];

  await pause(p.loadBeforeS * 1000);
  // A sleep that has just begun: one found near its end (the load ran into it) would be over by
  // the kill, and the case would not test what it says.
  const inSleep = await until(() => loops.some((l) => l.sleepingForMs() >= 0 && l.sleepingForMs() < 300), 5000);
  await pause(300);
  const sleeping = loops.filter((l) => l.sleeping()).length;
  const killAt = Date.now();
  await cluster.kill(cluster.agent);
  await pause(300);
  const restartMs = await restartAgent(cluster, cluster.agent);
  await pause(p.loadAfterS * 1000);
  const clientsEnd = await stopAll(clients);

  return finish(ctx, {
    fault: 'agent `kill -9` mid-statement, restarted',
    clients,
    dueAt: (s) => (s.startedAt < killAt ? killAt : clientsEnd),
    since: killAt,
    batchCutoff: killAt - SSH_BATCH_MS,
    notes: [`${sleeping} node-postgres sessions were inside pg_sleep at the kill${inSleep ? '' : ' (none reached one in time)'}; the agent started again at once (before its lease lapsed), ready ${(restartMs / 1000).toFixed(1)} s later; clients reconnected`],
    problems: sleeping === 0 ? ['no session was mid-statement at the kill'] : [],
  });
}

export async function agentKillMidCopy(ctx: CaseContext): Promise<CaseRow> {
  const { cluster, profile: p } = ctx;
  const ep = endpoint(ctx);
  const bigStarted: number[] = [];

  // COPY FROM STDIN: a few whole ones, then one that streams until the agent dies under it.
  const copyIn = async (f: PsqlFeed) => {
    const rows = (from: number, count: number) => Array.from({ length: count }, (_, i) => `${from + i}\tchaos row ${from + i}\n`).join('');
    for (let k = 1; k <= 3; k++) {
      f.write(`/* ${f.marker(k)} */ copy chaos_copy (n, note) from stdin;\n${rows(k * 1000, 200)}\\.\n\\echo done:${f.marker(k)}\n`);
      await pause(150);
    }
    f.write(`/* ${f.marker('big')} */ copy chaos_copy (n, note) from stdin;\n`);
    bigStarted.push(Date.now());
    for (let n = 0; f.alive() && !f.stopping(); n += 500) {
      f.write(rows(n, 500));
      await pause(20);
    }
  };
  // COPY TO STDOUT: whole ones, then one paced by the server (a sleep per row) that never ends.
  const copyOut = async (f: PsqlFeed) => {
    f.write('\\o /dev/null\n');
    for (let k = 1; k <= 3; k++) {
      f.write(`/* ${f.marker(k)} */ copy (select g, md5(g::text) from generate_series(1, 2000) g) to stdout;\n\\echo done:${f.marker(k)}\n`);
      await pause(150);
    }
    f.write(`/* ${f.marker('big')} */ copy (select g, repeat('x', 200) from generate_series(1, 100000000) g where pg_sleep(0.0002) is not null) to stdout;\n`);
    bigStarted.push(Date.now());
    while (f.alive() && !f.stopping()) await pause(100);
  };
  const clients: Client[] = [
    psqlClient(ctx.caseId, 'copyin', await ep(), copyIn),
    psqlClient(ctx.caseId, 'copyout', await ep(), copyOut),
    ...Array.from({ length: p.pgClients }, (_, i) => pgLoop(ctx.caseId, `pg${i}`, ep, { pauseMs: 50, reconnect: true })),
  ];
  const started = await until(() => bigStarted.length === 2, 20_000);
  await pause(Math.max(p.loadBeforeS * 1000, 1500));
  const killAt = Date.now();
  await cluster.kill(cluster.agent);
  await pause(LATE_RESTART_MS);
  const restartMs = await restartAgent(cluster, cluster.agent);
  await pause(p.loadAfterS * 1000);
  const clientsEnd = await stopAll(clients);
  const copySeen = clients.slice(0, 2).map((c) => c.log.seen.length);

  return finish(ctx, {
    fault: 'agent `kill -9` mid-COPY (in and out), restarted',
    clients,
    dueAt: (s) => (s.startedAt < killAt ? killAt : clientsEnd),
    since: killAt,
    notes: [`killed ${((killAt - Math.max(...bigStarted)) / 1000).toFixed(1)} s into a COPY FROM STDIN and a COPY TO STDOUT (${copySeen.join(' and ')} COPYs before them completed); the agent started again ${LATE_RESTART_MS / 1000} s after (once its lease lapsed), ready ${(restartMs / 1000).toFixed(1)} s later`],
    problems: started ? [] : ['the long COPYs never started'],
  });
}

/**
 * The agent cut off from Redis (its statements' events only in its outbox), killed, and started
 * again only after the hub, Redis back, has ended its sessions itself: what the outbox held must
 * still reach the store, in the seqs the agent gave it.
 */
export async function agentKillOffline(ctx: CaseContext): Promise<CaseRow> {
  const { cluster, profile: p } = ctx;
  const ep = endpoint(ctx);
  const loops = Array.from({ length: p.pgClients }, (_, i) => pgLoop(ctx.caseId, `pg${i}`, ep, { pauseMs: 50, extended: i % 2 === 1, reconnect: true }));
  let redisDown = false;
  try {
    await pause(p.loadBeforeS * 1000);
    await cluster.redis.halt();
    redisDown = true;
    // Statements complete meanwhile: their events are in the outbox and nowhere else.
    await pause(1000);
    const killAt = Date.now();
    await cluster.kill(cluster.agent);
    await cluster.redis.start();
    redisDown = false;
    const backAt = Date.now();
    const cut = await readSessions(cluster, ctx.user);
    let hubEndedAfter: number | null = null;
    for (const deadline = backAt + 30_000; hubEndedAfter === null && Date.now() < deadline; await pause(250)) {
      const now = await readSessions(cluster, ctx.user);
      if (cut.every((c) => now.find((s) => s.id === c.id)?.endReason)) hubEndedAfter = Date.now() - backAt;
    }
    const restartMs = await restartAgent(cluster, cluster.agent);
    await pause(p.loadAfterS * 1000);
    const clientsEnd = await stopAll(loops);
    const offline = loops.reduce((n, l) => n + l.log.seen.filter((s) => s.at > killAt - 1000 && s.at <= killAt).length, 0);
    return await finish(ctx, {
      fault: 'agent `kill -9` while Redis is away, restarted after the hub ended its sessions',
      clients: loops,
      // Nothing reaches the store before Redis is back.
      dueAt: (s) => (s.startedAt < killAt ? backAt : clientsEnd),
      since: backAt,
      notes: [`${offline} statements completed with Redis away (in the outbox only); the hub ended the cut sessions ${hubEndedAfter === null ? 'never (30 s)' : `${(hubEndedAfter / 1000).toFixed(1)} s`} after Redis came back; the agent started then, ready ${(restartMs / 1000).toFixed(1)} s later`],
    });
  } finally {
    if (redisDown) await cluster.redis.start();
    if (!loops.every((l) => l.log.endedAt)) await stopAll(loops);
  }
}
