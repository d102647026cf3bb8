// Retention on a real PostgreSQL store: recordings past their target's retention are purged
// (events, segments and what was derived from them), leaving the summary, the manifest, a signed
// tombstone and an audit entry; legal holds keep what they cover until released; a late copy of
// a purged recording's events is not stored again; verify says "purged", not "tampered".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../common/config/load-config.ts';
import { silentLogger } from '../../common/log.ts';
import { createStore, type HubStores } from '../../server/store/create-store.ts';
import { RecordingSealer } from '../../server/recordings/trust/sealer.ts';
import { RecordingVerifier } from '../../server/recordings/trust/recording-verifier.ts';
import type { RecordingPurger } from '../../server/recordings/retention/purger.ts';
import { fakeSession } from '../hub/event-fixtures.ts';
import { createFreshDatabase } from '../hub/fresh-database.ts';

let stores: HubStores;
let sql: pg.Client;
let purger: RecordingPurger;
let verifier: RecordingVerifier;
let drop: () => Promise<void>;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-retention-'));

// Ended in 2025: long past a minute. The vault target keeps its recordings forever (the default).
const expired = fakeSession({ user: 'alice', target: 'pg', queries: 2, chained: true });
const heldOne = fakeSession({ user: 'bob', target: 'pg', queries: 1, chained: true });
const carls = fakeSession({ user: 'carl', target: 'pg', queries: 1, chained: true });
const forever = fakeSession({ user: 'alice', target: 'vault', queries: 1, chained: true });
const live = fakeSession({ user: 'alice', target: 'pg', queries: 1, ended: false, chained: true });

const count = async (table: string, id: string) => Number((await sql.query(`SELECT count(*) AS n FROM ${table} WHERE session_id = $1`, [id])).rows[0].n);

beforeAll(async () => {
  const db = await createFreshDatabase(inject('postgresUrl'), 'vigil_retention');
  drop = db.drop;
  stores = await createStore({ databaseUrl: db.url, dataDir: dir });
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await stores.recordings.append([...expired.events, ...heldOne.events, ...carls.events, ...forever.events, ...live.events]);
  await stores.shares.create({ sessionId: expired.sessionId, createdBy: 'alice', users: ['dave'], group: null, note: '', expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
  const config = parseConfig({
    dataDir: dir,
    targets: [
      { name: 'pg', protocol: 'postgres', listen: '127.0.0.1:15432', retention: '1m' },
      { name: 'vault', protocol: 'postgres', listen: '127.0.0.1:15433' },
    ],
  });
  const keys = await stores.openRecordingKeys(dir);
  const sealer = new RecordingSealer({ store: stores.recordings, manifests: stores.manifests, keys, logger: silentLogger });
  await sealer.sweep();
  purger = stores.createPurger({ config, manifests: stores.manifests, keys, sealer, logger: silentLogger });
  verifier = new RecordingVerifier(stores.manifests, keys);
  await stores.holds.create({ sessionId: heldOne.sessionId, reason: 'LEGAL-1: litigation', createdBy: 'rita' });
  await stores.holds.create({ user: 'carl', reason: 'HR-7', createdBy: 'rita' });
});

afterAll(async () => {
  await sql?.end();
  await stores?.close();
  await drop?.();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('retention', () => {
  it('when a target keeps recordings a minute, then the expired one is purged and the held, the live and the forever-kept ones stay', async () => {
    const result = await purger.sweep();
    expect(result.purged).toEqual([expired.sessionId]);
    expect(result.held.sort()).toEqual([heldOne.sessionId, carls.sessionId].sort());

    for (const table of ['segments', 'markers', 'search_docs', 'shares']) expect(await count(table, expired.sessionId), table).toBe(0);
    expect(await stores.recordings.readEvents(expired.sessionId)).toEqual([]);
    const summary = await stores.recordings.getSession(expired.sessionId);
    expect(summary).toMatchObject({ user: 'alice', target: 'pg', eventCount: 6, purgedAt: expect.any(String) });
    for (const kept of [heldOne, carls, forever, live]) expect((await stores.recordings.readEvents(kept.sessionId)).length).toBe(kept.events.length);

    const audit = await stores.access.auditLog({ sessionId: expired.sessionId, actions: ['session.purged'] });
    expect(audit).toEqual([expect.objectContaining({ actor: 'vigil-retention', detail: expect.objectContaining({ by: 'retention: target pg keeps 1m', manifestHash: expect.stringMatching(/^[0-9a-f]{64}$/) }) })]);
  });

  it('when a purged recording is verified, then it is reported purged with its tombstone, and an edited tombstone is named', async () => {
    const report = (await verifier.verify(expired.sessionId))!;
    expect(report).toMatchObject({ status: 'purged', problems: [] });
    expect(report.summary).toMatch(/^purged at \S+ by retention: target pg keeps 1m; the tombstone and the manifest it names hold$/);

    const { rows } = await sql.query<{ tombstone: string }>('SELECT tombstone FROM recording_tombstones WHERE session_id = $1', [expired.sessionId]);
    const edited = { ...JSON.parse(rows[0].tombstone), purgedBy: 'someone else' };
    await sql.query('UPDATE recording_tombstones SET tombstone = $2 WHERE session_id = $1', [expired.sessionId, JSON.stringify(edited)]);
    const tampered = (await verifier.verify(expired.sessionId))!;
    expect(tampered.status).toBe('tampered');
    expect(tampered.problems[0]).toMatch(/the tombstone's signature does not verify/);
  });

  it('when the events of a purged recording arrive again (a bus re-delivering), then they are not stored again', async () => {
    const result = await stores.recordings.append(expired.events);
    expect(result.inserted).toBe(0);
    expect(await count('segments', expired.sessionId)).toBe(0);
  });

  it('when a hold is released, then the next sweep purges what it kept; an admin can purge one session now unless it is live or held', async () => {
    expect(await purger.purgeNow(carls.sessionId, 'ada')).toBe('held');
    expect(await purger.purgeNow(live.sessionId, 'ada')).toBe('live');
    const [hold] = (await stores.holds.list()).filter((h) => h.sessionId === heldOne.sessionId);
    await stores.holds.release(hold.id, 'rita');
    expect((await purger.sweep()).purged).toEqual([heldOne.sessionId]);
    expect(await purger.purgeNow(forever.sessionId, 'ada')).toBe('purged');
    expect(await purger.purgeNow(forever.sessionId, 'ada')).toBe('gone');
    const audit = await stores.access.auditLog({ sessionId: forever.sessionId, actions: ['session.purged'] });
    expect(audit[0]).toMatchObject({ actor: 'ada', detail: expect.objectContaining({ by: 'ada' }) });
    expect((await verifier.verify(forever.sessionId))!.status).toBe('purged');
  });
});
