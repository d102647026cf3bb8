// Redis killed with SIGKILL while sessions run, and started again empty (no RDB, no AOF): the
// stream, the consumer group, the leases and the watermarks are gone. The agent keeps serving
// from its spool and sends again whatever the hub had not confirmed; the hubs ride it out.
import { pgbenchClient, pgLoop, psqlClient, selectFeed, sshClient, pause, type Client } from '../clients.ts';
import { endpoint, finish, stopAll, type CaseContext } from '../case-kit.ts';
import type { CaseRow } from '../report.ts';

export async function redisKill(ctx: CaseContext): Promise<CaseRow> {
  const { cluster, profile: p } = ctx;
  const ep = endpoint(ctx);
  const sshEp = await endpoint(ctx, 'box', cluster.ports.ssh)();
  const loadS = p.loadBeforeS + p.outageS + p.loadAfterS;
  const clients: Client[] = [
    pgbenchClient(ctx.caseId, cluster.dir, await ep(), p.pgbenchClients, loadS),
    ...Array.from({ length: p.pgClients }, (_, i) => pgLoop(ctx.caseId, `pg${i}`, ep, { pauseMs: 50, sleepEvery: 10, sleepS: 0.5, extended: i % 2 === 1 })),
    ...await Promise.all(Array.from({ length: p.psqlClients }, async (_, i) => psqlClient(ctx.caseId, `psql${i}`, await ep(), selectFeed(100)))),
    ...Array.from({ length: p.sshClients }, (_, i) => sshClient(ctx.caseId, `ssh${i}`, sshEp, cluster.askpass, loadS * 10)),
  ];
  await pause(p.loadBeforeS * 1000);
  const killAt = Date.now();
  await cluster.redis.kill();
  await pause(p.outageS * 1000);
  // During the outage the hubs say Redis is down and keep serving.
  const ready = await fetch(`${cluster.liveHub().url}/readyz`).then(async (r) => `${r.status} ${JSON.stringify(((await r.json()) as { checks?: unknown }).checks)}`, (e: Error) => e.message);
  await cluster.redis.start();
  const backAt = Date.now();
  await pause(p.loadAfterS * 1000);
  const clientsEnd = await stopAll(clients);
  const served = clients.reduce((n, c) => n + c.log.seen.filter((s) => s.at > killAt && s.at < backAt).length, 0);

  return finish(ctx, {
    fault: 'Redis `kill -9`, restarted empty',
    clients,
    dueAt: () => clientsEnd,
    since: backAt,
    notes: [`Redis down ${((backAt - killAt) / 1000).toFixed(1)} s; the clients saw ${served} statements and lines complete meanwhile; /readyz during the outage: ${ready}`],
  });
}
