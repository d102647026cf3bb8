// The agent's memory with many idle sessions: real, authenticated node-postgres logins held open
// while /proc reads the agent's resident memory. The agent process (agent-process.ts, started with
// --expose-gc) also reports its live heap after a full collection, which tells memory the sessions
// hold from heap the process kept after earlier load.
import pg from 'pg';
import type { Endpoint } from './pgbench.ts';
import { rssMb, type Child } from './processes.ts';

type Mem = { rss: number; heapUsed: number; heapTotal: number; external: number };

export interface IdleMemory {
  opened: number;
  /** VmRSS in MB: before opening, with the sessions open (the figure the target is about), after closing. */
  before: number;
  during: number;
  after: number;
  /** process.memoryUsage() after gc(), with the sessions open and after closing them. */
  liveWith: Mem | null;
  liveWithout: Mem | null;
}

async function agentMem(agent: Child): Promise<Mem | null> {
  agent.send('mem');
  return (await agent.nextMessage((m) => 'mem' in m)).afterGc as Mem | null;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function holdIdleSessions(e: Endpoint, agent: Child, count: number): Promise<IdleMemory> {
  const before = rssMb(agent.pid);
  const clients: pg.Client[] = [];
  try {
    // In batches: a login storm would measure the burst, not the idle footprint.
    for (let i = 0; i < count; i += 25) {
      const batch = Array.from({ length: Math.min(25, count - i) }, () =>
        new pg.Client({ host: e.host, port: e.port, user: e.user, password: e.password, database: e.database }));
      for (const c of batch) c.on('error', () => undefined);
      await Promise.all(batch.map((c) => c.connect()));
      clients.push(...batch);
    }
    await pause(1000);
    const during = rssMb(agent.pid);
    const liveWith = await agentMem(agent);
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    await pause(1000);
    const after = rssMb(agent.pid);
    const liveWithout = await agentMem(agent);
    return { opened: count, before, during, after, liveWith, liveWithout };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

export function printIdleMemory(label: string, m: IdleMemory, targetMb: number, say: (line?: string) => void): void {
  const mb = (n: number) => (n / 1048576).toFixed(1);
  say(`memory, ${label}: RSS ${m.before.toFixed(1)} MB before, ${m.during.toFixed(1)} MB with ${m.opened} idle sessions, ` +
    `${m.after.toFixed(1)} MB after closing them; target < ${targetMb} MB: ${m.during < targetMb ? 'PASS' : 'MISS'}`);
  if (m.liveWith && m.liveWithout) {
    const heapWith = m.liveWith.heapUsed + m.liveWith.external;
    const heapWithout = m.liveWithout.heapUsed + m.liveWithout.external;
    say(`  after a full GC: live heap+external ${mb(heapWith)} MB with the sessions, ${mb(heapWithout)} MB without ` +
      `(${((heapWith - heapWithout) / 1024 / Math.max(1, m.opened)).toFixed(1)} KB a session); heap reserved ${mb(m.liveWith.heapTotal)} MB`);
  }
}
