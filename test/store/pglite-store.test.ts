// The store contract on embedded PGlite, plus what only a file-backed PGlite must do: keep
// recordings across a close and reopen.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryStore, createStore } from '../../server/store/create-store.ts';
import { SessionEvents } from './event-factory.ts';
import { describeRecordingStoreContract } from './store-contract.ts';
import { describeSegmentContract } from './segment-contract.ts';
import { PgliteSqlClient } from '../../server/store/pglite-sql-client.ts';

describeRecordingStoreContract('PGlite (in memory)', () => createMemoryStore());
describeSegmentContract('PGlite (in memory)', () => createMemoryStore(), () => PgliteSqlClient.open());

describe('PGlite store on disk', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-store-'));

  afterAll(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('when the store is closed and reopened from its data dir, then sessions and events are still there', async () => {
    const s = new SessionEvents();
    const events = [s.start(), ...s.queries(3), s.end()];
    const firstStores = await createStore({ dataDir });
    const first = firstStores.recordings;
    await first.append(events);
    const summary = await first.getSession(s.sessionId);
    await firstStores.close();

    const secondStores = await createStore({ dataDir });
    const second = secondStores.recordings;
    try {
      expect(fs.existsSync(path.join(dataDir, 'store'))).toBe(true);
      expect(await second.getSession(s.sessionId)).toEqual(summary);
      expect((await second.readEvents(s.sessionId)).map((e) => e.body)).toEqual(events.map((e) => e.body));
    } finally {
      await secondStores.close();
    }
  });
});
