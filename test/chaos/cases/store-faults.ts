// The store PostgreSQL under load: its connections terminated again and again
// (pg_terminate_backend on every hub connection), then the server stopped and started again.
// Sessions run through the agent all along; the hubs must stay up and store everything once the
// store is back.
import pg from 'pg';
import { CHECKER_APP, STORE_DB } from '../cluster.ts';
import { pgbenchClient, pgLoop, psqlClient, selectFeed, pause, type Client } from '../clients.ts';
import { endpoint, finish, stopAll, type CaseContext } from '../case-kit.ts';
import type { CaseRow } from '../report.ts';

async function loadClients(ctx: CaseContext, seconds: number): Promise<Client[]> {
  const { cluster, profile: p } = ctx;
  const ep = endpoint(ctx);
  return [
    pgbenchClient(ctx.caseId, cluster.dir, await ep(), p.pgbenchClients, seconds),
    ...Array.from({ length: p.pgClients }, (_, i) => pgLoop(ctx.caseId, `pg${i}`, ep, { pauseMs: 30, extended: i % 2 === 1 })),
    ...await Promise.all(Array.from({ length: p.psqlClients }, async (_, i) => psqlClient(ctx.caseId, `psql${i}`, await ep(), selectFeed(100)))),
  ];
}

/** Terminates every connection of the hubs to the store (not this suite's own). */
async function terminateHubConnections(storeAdminUrl: string): Promise<number> {
  const admin = new pg.Client({ connectionString: storeAdminUrl });
  await admin.connect();
  try {
    const r = await admin.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
       where datname = $1 and pid <> pg_backend_pid() and coalesce(application_name, '') <> $2`, [STORE_DB, CHECKER_APP]);
    return r.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

export async function storeTerminate(ctx: CaseContext): Promise<CaseRow> {
  const { cluster, profile: p } = ctx;
  const clients = await loadClients(ctx, p.loadBeforeS + p.outageS + p.loadAfterS);
  await pause(p.loadBeforeS * 1000);
  const faultAt = Date.now();
  let terminated = 0;
  while (Date.now() - faultAt < p.outageS * 1000) {
    terminated += await terminateHubConnections(cluster.store.url);
    await pause(200);
  }
  const faultEnd = Date.now();
  await pause(p.loadAfterS * 1000);
  const clientsEnd = await stopAll(clients);
  return finish(ctx, {
    fault: 'store connections terminated (`pg_terminate_backend`, every 200 ms)',
    clients,
    dueAt: () => clientsEnd,
    since: faultEnd,
    notes: [`${terminated} store connections of the hubs terminated over ${p.outageS} s`],
  });
}

export async function storeRestart(ctx: CaseContext): Promise<CaseRow> {
  const { cluster, profile: p } = ctx;
  const clients = await loadClients(ctx, p.loadBeforeS + p.outageS + p.loadAfterS + 2);
  await pause(p.loadBeforeS * 1000);
  const faultAt = Date.now();
  await cluster.store.halt();
  await pause(p.outageS * 1000);
  const ready = await fetch(`${cluster.liveHub().url}/readyz`).then((r) => r.status, (e: Error) => e.message);
  await cluster.store.start();
  const backAt = Date.now();
  await pause(p.loadAfterS * 1000);
  const clientsEnd = await stopAll(clients);
  return finish(ctx, {
    fault: 'store PostgreSQL restarted',
    clients,
    dueAt: () => clientsEnd,
    since: backAt,
    notes: [`store down ${((backAt - faultAt) / 1000).toFixed(1)} s (fast shutdown, then start); /readyz meanwhile: ${ready}`],
  });
}
