// A hub killed with SIGKILL while it holds events it read from Redis but has not acknowledged (the
// moment is chosen so: it has entries pending), the other hub running: the standby stores new
// events at once and the dead hub's pending ones once it claims them. The case waits as long as
// that takes and reports it; the issue asks for 5 s.
import os from 'node:os';
import { createClient } from 'redis';
import { KEY_PREFIX } from '../cluster.ts';
import { pgbenchClient, pgLoop, psqlClient, selectFeed, sshClient, pause, type Client } from '../clients.ts';
import { endpoint, finish, stopAll, type CaseContext } from '../case-kit.ts';
import type { CaseRow } from '../report.ts';

const STREAM = `${KEY_PREFIX}events`;
const GROUP = 'vigil-persister';
/** A hub's persister is the consumer named `<host>-<pid>` (and, in newer hubs, `-<random>`). */
const isConsumerOf = (name: string, pid: number) => name === `${os.hostname()}-${pid}` || name.startsWith(`${os.hostname()}-${pid}-`);

type Redis = ReturnType<typeof createClient>;

async function pendingOf(redis: Redis, pid: number): Promise<number> {
  const reply = await redis.sendCommand<[number, string | null, string | null, Array<[string, string]> | null]>(['XPENDING', STREAM, GROUP]);
  return (reply[3] ?? []).filter(([name]) => isConsumerOf(name, pid)).reduce((n, [, count]) => n + Number(count), 0);
}

async function consumers(redis: Redis): Promise<string[]> {
  const reply = await redis.sendCommand<Array<unknown[] | Record<string, unknown> | Map<string, unknown>>>(['XINFO', 'CONSUMERS', STREAM, GROUP]);
  // A flat [key, value, ...] list in RESP2, a map in RESP3.
  return reply.map((c) => String(Array.isArray(c) ? c[c.indexOf('name') + 1] : c instanceof Map ? c.get('name') : c.name));
}

export async function hubKill(ctx: CaseContext): Promise<CaseRow> {
  const { cluster, profile: p } = ctx;
  const [victim, standby] = cluster.hubs;
  const redis: Redis = createClient({ url: cluster.redis.url });
  await redis.connect();
  try {
    const ep = endpoint(ctx);
    const sshEp = await endpoint(ctx, 'box', cluster.ports.ssh)();
    const loadS = p.loadBeforeS + p.loadAfterS + 2;
    const clients: Client[] = [
      pgbenchClient(ctx.caseId, cluster.dir, await ep(), p.pgbenchClients, loadS),
      ...Array.from({ length: p.pgClients }, (_, i) => pgLoop(ctx.caseId, `pg${i}`, ep, { pauseMs: 20, extended: i % 2 === 1 })),
      ...await Promise.all(Array.from({ length: p.psqlClients }, async (_, i) => psqlClient(ctx.caseId, `psql${i}`, await ep(), selectFeed(50)))),
      ...Array.from({ length: p.sshClients }, (_, i) => sshClient(ctx.caseId, `ssh${i}`, sshEp, cluster.askpass, loadS * 10)),
    ];
    await pause(p.loadBeforeS * 1000);

    // Killed the moment it holds unacknowledged entries, so the standby has something to take over.
    const victimPid = victim.proc!.child.pid!;
    const deadline = Date.now() + 5000;
    while ((await pendingOf(redis, victimPid)) === 0 && Date.now() < deadline);
    const killAt = Date.now();
    await cluster.kill(victim);
    const pendingAtKill = await pendingOf(redis, victimPid);
    let takenOverAfter: number | null = null;
    const watchTakeover = (async () => {
      while (Date.now() - killAt < 120_000) {
        if ((await pendingOf(redis, victimPid).catch(() => 1)) === 0) return (takenOverAfter = Date.now() - killAt);
        await pause(200);
      }
    })();

    await pause(p.loadAfterS * 1000);
    // pgbench runs its set time; the others stop now.
    const clientsEnd = await stopAll(clients);
    const row = await finish(ctx, {
      fault: 'hub `kill -9` (standby hub running)',
      clients,
      dueAt: () => clientsEnd,
      since: killAt,
      // The dead hub's entries arrive only once the standby takes them over: give it its time.
      timeoutMs: 120_000,
      stuckMs: 90_000,
    });
    await watchTakeover;
    const left = await consumers(redis).catch((err: Error) => [`(XINFO failed: ${err.message})`]);
    const livePids = cluster.hubs.filter((h) => h.proc).map((h) => h.proc!.child.pid!);
    const dead = left.filter((c) => !livePids.some((pid) => isConsumerOf(c, pid)));
    row.notes.push(
      `${pendingAtKill} entries were pending on the killed hub; the standby (${standby.name}) had taken them over ${takenOverAfter === null ? 'never (120 s)' : `${(takenOverAfter / 1000).toFixed(1)} s`} after the kill (issue: within 5 s)`,
      `consumers left in the group that belong to no running hub: ${dead.length}`,
    );
    if (pendingAtKill === 0) row.notes.push('the killed hub held no pending entry: the takeover was not exercised');
    await cluster.startHub(victim);
    return row;
  } finally {
    await redis.close();
  }
}
