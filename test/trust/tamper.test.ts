// Tamper evidence end to end: real psql sessions through the agent, persisted to a real
// PostgreSQL store, sealed with a signed manifest; then the store is edited by hand, as an
// attacker with write access to it would, and the verifier must name what changed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { silentLogger } from '../../common/log.ts';
import { createMemoryStore, createStore, type HubStores } from '../../server/store/create-store.ts';
import { RecordingSealer } from '../../server/recordings/trust/sealer.ts';
import { RecordingVerifier } from '../../server/recordings/trust/recording-verifier.ts';
import type { RecordingKeys } from '../../server/recordings/trust/recording-keys.ts';
import { FileAnchor } from '../../server/recordings/trust/manifest-anchor.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 90_000 });

const adminUrl = inject('postgresUrl');
const storeDb = `vigil_trust_${crypto.randomBytes(4).toString('hex')}`;
let storeUrl: string;
let stores: HubStores;
let h: Harness;
let sql: pg.Client;
let keys: RecordingKeys;
let sealer: RecordingSealer;
let verifier: RecordingVerifier;
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-trust-'));

async function admin(text: string) {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** A psql session of `n` statements, ended, stored and sealed; its id. */
async function sealedSession(n = 6): Promise<string> {
  const marker = crypto.randomUUID();
  const statements = Array.from({ length: n }, (_, i) => `select '${marker}' as m, ${i + 1} as n;`).join('\n');
  const r = await h.psql(['-At'], { input: statements });
  expect(r.code).toBe(0);
  // Found by SQL, not by reading every recording: the earlier tests' recordings are tampered with.
  let id = '';
  await vi.waitFor(async () => {
    const { rows } = await sql.query<{ id: string }>(
      `SELECT s.id FROM sessions s WHERE s.ended_at IS NOT NULL AND s.persisted_seq = s.last_seq
         AND EXISTS (SELECT 1 FROM segments g WHERE g.session_id = s.id AND strpos(g.body, $1) > 0)`, [marker]);
    expect(rows).toHaveLength(1);
    id = rows[0].id;
  }, { timeout: 20_000, interval: 100 });
  await vi.waitFor(async () => expect(await sealer.seal(id)).not.toBeNull(), { timeout: 10_000 });
  return id;
}

/** The session's stored lines, row by row, and a way to write a row back. */
async function rowsOf(id: string) {
  const { rows } = await sql.query<{ first_seq: string; last_seq: string; body: string }>(
    'SELECT first_seq, last_seq, body FROM segments WHERE session_id = $1 ORDER BY first_seq', [id]);
  return rows.map((r) => ({ firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq), lines: r.body.split('\n') }));
}

beforeAll(async () => {
  await admin(`CREATE DATABASE ${storeDb}`);
  const url = new URL(adminUrl);
  url.pathname = `/${storeDb}`;
  storeUrl = url.toString();
  stores = await createStore({ databaseUrl: storeUrl, dataDir: keyDir, logger: silentLogger });
  h = await startHarness({ postgresUrl: adminUrl, stores });
  sql = new pg.Client({ connectionString: storeUrl });
  await sql.connect();
  keys = await stores.openRecordingKeys(keyDir);
  sealer = new RecordingSealer({ store: stores.recordings, manifests: stores.manifests, keys, logger: silentLogger });
  verifier = new RecordingVerifier(stores.manifests, keys);
});

afterAll(async () => {
  await sql?.end();
  await h?.stop();
  await stores?.close();
  await admin(`DROP DATABASE IF EXISTS ${storeDb} WITH (FORCE)`);
  fs.rmSync(keyDir, { recursive: true, force: true });
});

describe('tamper evidence on a PostgreSQL store', () => {
  it('when a recorded session is sealed, then it verifies, every event chained to the one before', async () => {
    const id = await sealedSession();
    const report = await verifier.verify(id);
    expect(report).toMatchObject({ status: 'verified', problems: [], notes: [] });
    expect(report!.summary).toMatch(/^verified: \d+ events/);
    // Every event after the first carries its predecessor's hash.
    const lines = (await rowsOf(id)).flatMap((r) => r.lines);
    expect(lines.slice(1).every((l) => /"prev":"[0-9a-f]{64}"/.test(l))).toBe(true);
    expect(lines[0]).not.toContain('"prev"');
  });

  it('when one stored byte is changed, then the changed event is named', async () => {
    const id = await sealedSession();
    const lines = (await rowsOf(id)).flatMap((r) => r.lines);
    const seq = lines.findIndex((l) => l.includes('"type":"db.query"') && l.includes(' 3 as n')) + 1;
    await sql.query(`UPDATE segments SET body = replace(body, ' 3 as n', ' 4 as n') WHERE session_id = $1`, [id]);
    const report = (await verifier.verify(id))!;
    expect(report.status).toBe('tampered');
    expect(report.problems[0]).toBe(`event ${seq} was changed: its hash no longer matches the chain`);
  });

  it('when one event is deleted and the row closed up, then the missing event is named', async () => {
    const id = await sealedSession();
    const [row] = (await rowsOf(id)).filter((r) => r.lines.length >= 4);
    const gone = row.firstSeq + 2;
    const lines = row.lines.filter((_, i) => i !== 2);
    await sql.query('UPDATE segments SET body = $3, last_seq = last_seq - 1, event_count = event_count - 1 WHERE session_id = $1 AND first_seq = $2', [id, row.firstSeq, lines.join('\n')]);
    const report = (await verifier.verify(id))!;
    expect(report.status).toBe('tampered');
    expect(report.problems[0]).toMatch(new RegExp(`^event ${gone} was removed`));
  });

  it('when two events are swapped, then they are named as reordered', async () => {
    const id = await sealedSession();
    const [row] = (await rowsOf(id)).filter((r) => r.lines.length >= 4);
    const lines = [...row.lines];
    [lines[1], lines[2]] = [lines[2], lines[1]];
    await sql.query('UPDATE segments SET body = $3 WHERE session_id = $1 AND first_seq = $2', [id, row.firstSeq, lines.join('\n')]);
    const report = (await verifier.verify(id))!;
    expect(report.problems[0]).toBe(`events ${row.firstSeq + 1} and ${row.firstSeq + 2} are stored in each other's place (reordered)`);
  });

  it('when a row is replaced by another session\'s row, then the changed events and block are named', async () => {
    const id = await sealedSession();
    const other = await sealedSession();
    const [mine] = await rowsOf(id);
    const [theirs] = await rowsOf(other);
    // Re-labelled as this session's: same seqs, the other session's (valid, chained) events.
    const relabelled = theirs.lines.map((l) => l.replaceAll(other, id)).slice(0, mine.lines.length);
    await sql.query('UPDATE segments SET body = $3 WHERE session_id = $1 AND first_seq = $2', [id, mine.firstSeq, relabelled.join('\n')]);
    const report = (await verifier.verify(id))!;
    expect(report.status).toBe('tampered');
    expect(report.problems.some((p) => /differ from what was sealed \(block digest\)/.test(p))).toBe(true);
    expect(report.problems.some((p) => /was changed|were changed|is not the one sealed/.test(p))).toBe(true);
  });

  it('when the manifest is deleted, then verify says so', async () => {
    const id = await sealedSession();
    await sql.query('DELETE FROM recording_manifests WHERE session_id = $1', [id]);
    const report = (await verifier.verify(id))!;
    expect(report.status).toBe('tampered');
    expect(report.problems[0]).toMatch(/^the manifest is missing: it was written for events 1 to \d+ and is gone/);
  });

  it('when the manifest is edited to match a shortened recording, then its signature no longer holds', async () => {
    const id = await sealedSession();
    const { rows } = await sql.query<{ manifest: string }>('SELECT manifest FROM recording_manifests WHERE session_id = $1', [id]);
    const m = JSON.parse(rows[0].manifest);
    m.eventCount -= 1;
    await sql.query('UPDATE recording_manifests SET manifest = $2 WHERE session_id = $1', [id, JSON.stringify(m)]);
    const report = (await verifier.verify(id))!;
    expect(report.problems[0]).toMatch(/the manifest's signature does not verify with key [0-9a-f]{16}/);
  });

  it('when the signing key is rotated, then what the old key signed still verifies and new seals use the new key', async () => {
    const before = await sealedSession();
    const oldKey = keys.current().id;
    await keys.rotate();
    expect(keys.current().id).not.toBe(oldKey);
    const after = await sealedSession();
    const [a, b] = [(await verifier.verify(before))!, (await verifier.verify(after))!];
    expect([a.status, b.status]).toEqual(['verified', 'verified']);
    expect([a.manifest!.keyId, b.manifest!.keyId]).toEqual([oldKey, keys.current().id]);
    const published = await keys.published();
    expect(published.find((k) => k.id === oldKey)?.retiredAt).not.toBeNull();
  });

  it('when a key row is re-dated to after the seal, then the manifest is refused as signed by a key not in use', async () => {
    const id = await sealedSession();
    await sql.query(`UPDATE recording_keys SET created_at = now() + interval '1 hour' WHERE id = $1`, [keys.current().id]);
    try {
      const report = (await verifier.verify(id))!;
      expect(report.problems[0]).toMatch(/when key [0-9a-f]{16} was not in use/);
    } finally {
      await sql.query(`UPDATE recording_keys SET created_at = now() - interval '1 hour' WHERE id = $1`, [keys.current().id]);
    }
  });
});

describe('an external anchor', () => {
  it('when an attacker with the store edits an event and re-seals with a key of his own, then the anchor names the re-sealing', async () => {
    const anchorFile = path.join(keyDir, 'anchor.jsonl');
    const anchor = new FileAnchor(anchorFile);
    const anchoredSealer = new RecordingSealer({ store: stores.recordings, manifests: stores.manifests, keys, logger: silentLogger, anchor });
    const anchoredVerifier = new RecordingVerifier(stores.manifests, keys, anchor);
    // Sealed with the anchor on.
    const id = await sealedSession();
    await sql.query('DELETE FROM recording_manifests WHERE session_id = $1', [id]);
    await sql.query('UPDATE sessions SET manifest_seq = 0 WHERE id = $1', [id]);
    await anchoredSealer.seal(id);
    expect((await anchoredVerifier.verify(id))!.status).toBe('verified');
    expect(fs.readFileSync(anchorFile, 'utf8')).toContain(`"sessionId":"${id}"`);

    // The attacker: edits an event, re-chains nothing, publishes a key of his own and re-seals.
    await sql.query(`UPDATE segments SET body = replace(body, ' 2 as n', ' 9 as n') WHERE session_id = $1`, [id]);
    const attackerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-attacker-'));
    try {
      const attackerKeys = await stores.openRecordingKeys(attackerDir);
      const attacker = new RecordingSealer({ store: stores.recordings, manifests: stores.manifests, keys: attackerKeys, logger: silentLogger });
      await sql.query('DELETE FROM recording_manifests WHERE session_id = $1', [id]);
      await attacker.seal(id);
      // Re-sealed over the edit: the chain still shows it (the agent chained the events), the anchor too.
      const plain = (await new RecordingVerifier(stores.manifests, keys).verify(id))!;
      expect(plain.status).toBe('tampered');
      expect(plain.problems[0]).toMatch(/^already when sealed: event \d+ was changed/);
      const anchored = (await anchoredVerifier.verify(id))!;
      expect(anchored.status).toBe('tampered');
      expect(anchored.problems[0]).toMatch(new RegExp(`^the manifest is not the one anchored at ${anchorFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} on \\S+: the recording was re-sealed or its manifest replaced$`));
    } finally {
      fs.rmSync(attackerDir, { recursive: true, force: true });
    }
  });
});

describe('tamper evidence on embedded PGlite', () => {
  it('when a session is stored in PGlite and sealed, then it verifies as on PostgreSQL', async () => {
    const memory = await createMemoryStore();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-trust-pglite-'));
    const h2 = await startHarness({ postgresUrl: adminUrl, stores: memory });
    try {
      const k = await memory.openRecordingKeys(dir);
      const s = new RecordingSealer({ store: memory.recordings, manifests: memory.manifests, keys: k, logger: silentLogger });
      const v = new RecordingVerifier(memory.manifests, k);
      const r = await h2.psql(['-At', '-c', 'select 42']);
      expect(r.stdout).toBe('42\n');
      const events = await h2.sessionWhere((e) => e.type === 'db.query' && e.data.sql.includes('42'));
      const id = events[0].sessionId;
      await vi.waitFor(async () => expect(await s.sweep()).toBeGreaterThan(0), { timeout: 10_000 });
      expect((await v.verify(id))!.status).toBe('verified');
    } finally {
      await h2.stop();
      await memory.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
