// Seeking through the whole path: long generated SSH sessions (full-screen programs, the alternate
// screen, resizes, wide characters, output cut anywhere) are stored, indexed by the hub's indexer
// (keyframes through the database and back) and sought through /api/sessions/:id/seek at random
// moments; the screen the answer draws (its keyframe restored, then its events) must serialize to
// the same bytes, and hold the same cells, cursor and buffer, as playing every event from the start.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeekResponse, SessionTimelineResponse } from '../../common/api-contract.ts';
import { encodeEvent, type VigilEvent } from '../../common/events/index.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner, TokenVerifier } from '../../common/tokens.ts';
import { createApiApp } from '../../server/http/app.ts';
import { recordingDerivers } from '../../server/recordings/index/derivers.ts';
import { RecordingIndexer } from '../../server/recordings/index/indexer.ts';
import { replayFrom, TerminalReplay, type Keyframe } from '../../server/recordings/terminal/keyframer.ts';
import type { VirtualTerminal } from '../../server/recordings/terminal/virtual-terminal.ts';
import { prng } from '../../common/prng.ts';
import { generateSession } from '../../server/recordings/terminal/session-generator.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import { serveApp, type ServedApp } from '../support/serve-app.ts';

let stores: HubStores;
let served: ServedApp;
let indexer: RecordingIndexer;
let token: string;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-seek-'));

beforeAll(async () => {
  stores = await createMemoryStore({ logger: silentLogger });
  const keys = ensureSigningKey(dir);
  token = await (await TokenSigner.fromPem(keys.privateKeyPem)).apiToken('rita', 'reviewer', 60 * 60_000);
  served = await serveApp(createApiApp({ stores, verifier: await TokenVerifier.fromPem(keys.publicKeyPem), logger: silentLogger }));
  indexer = new RecordingIndexer({ store: stores.recordings, index: stores.index, derivers: recordingDerivers, logger: silentLogger, scanIntervalMs: 50 });
  indexer.start();
});

afterAll(async () => {
  await indexer?.stop();
  await served?.close();
  await stores?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** What the screen shows: each row's first `cols` cells (a row may hold more, unseen, after a narrowing). */
function visible(vt: VirtualTerminal): string[] {
  const buffer = vt.term.buffer.active;
  return Array.from({ length: vt.rows }, (_, y) => buffer.getLine(buffer.viewportY + y)!.translateToString(false, 0, vt.cols).trimEnd());
}

async function isApproximate(sessionId: string, seq: number): Promise<boolean> {
  const keyframe = await stores.index.keyframeAt(sessionId, seq);
  return keyframe?.seq === seq && keyframe.approximate !== undefined;
}

async function get<T>(p: string): Promise<T> {
  const res = await fetch(`${served.url}${p}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status, p).toBe(200);
  return res.json() as Promise<T>;
}

/**
 * The generator also cuts output between the halves of a surrogate pair (xterm must cope); an
 * agent never records that (it decodes UTF-8 across reads), and canonical JSON refuses a lone
 * surrogate: the high half moves on to the next output.
 */
function wholeCharacters(events: VigilEvent[]): VigilEvent[] {
  let carry = '';
  return events.map((e) => {
    if (e.type !== 'term.output') return e;
    let text = carry + e.data.text;
    carry = '';
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      carry = text.slice(-1);
      text = text.slice(0, -1);
    }
    return { ...e, data: { ...e.data, text } };
  });
}

/** A generated session under a fresh id, stored in persister-sized batches. */
async function record(seed: number, output: number): Promise<{ id: string; events: VigilEvent[] }> {
  const id = crypto.randomUUID();
  const events = wholeCharacters(generateSession(seed, { output }).events.map((e) => ({ ...e, sessionId: id }) as VigilEvent));
  for (let i = 0; i < events.length; i += 200) {
    await stores.recordings.append(events.slice(i, i + 200).map((event) => ({ event, body: encodeEvent(event) })));
  }
  const deadline = Date.now() + 120_000;
  while ((await stores.index.indexedSeq(id)) < events.length) {
    if (Date.now() > deadline) throw new Error('not indexed in time');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { id, events };
}

describe('seeking a stored recording', () => {
  for (const seed of [11, 12]) {
    it(`when session ${seed} is sought at random moments and at its keyframes, then each screen equals playing it from the start`, async () => {
      const { id, events } = await record(seed, 700_000);
      const timeline = await get<SessionTimelineResponse>(`/api/sessions/${id}/timeline`);
      expect(timeline.keyframes.length).toBeGreaterThanOrEqual(2);

      const random = prng(seed);
      const moments = [...new Set([
        ...Array.from({ length: 12 }, () => 1 + Math.floor(random() * events.length)),
        ...timeline.keyframes, ...timeline.keyframes.map((s) => s + 1), events.length,
      ])].filter((s) => s <= events.length).sort((a, b) => a - b);
      // Playing from the start, once, up to each moment in turn.
      const reference = new TerminalReplay();
      let next = 0;
      let exact = 0;
      try {
        for (const seq of moments) {
          while (next < events.length && events[next].seq <= seq) reference.apply(events[next++]);
          const played = reference.screen;
          if (!played) continue;
          const answer = await get<SeekResponse>(`/api/sessions/${id}/seek?seq=${seq}`);
          expect(answer.seq).toBe(seq);
          expect(answer.next).toBeNull();
          const keyframe = answer.keyframe as Keyframe | null;
          if (keyframe) expect(answer.events[0]?.seq ?? seq + 1).toBe(keyframe.seq + 1);
          const sought = await replayFrom(keyframe, answer.events, seq);
          const where = `seq ${seq} from keyframe ${keyframe?.seq ?? 'none'}`;
          try {
            // An approximate keyframe (keyframer.ts: a state no escape sequence recreates) shows the
            // right screen up to the next keyframe, which the keyframer checks; its hidden state,
            // which serialize() prints, may differ. Which ones are is in the keyframes table.
            if (!(keyframe && await isApproximate(id, keyframe.seq))) {
              exact++;
              expect(sought.serialize(), where).toBe(played.serialize());
            }
            expect(visible(sought), where).toEqual(visible(played));
            expect(sought.cursor(), where).toEqual(played.cursor());
            expect(sought.activeBuffer, where).toBe(played.activeBuffer);
          } finally {
            sought.dispose();
          }
        }
      } finally {
        reference.dispose();
      }
      expect(exact).toBeGreaterThan(moments.length / 2);
    }, 120_000);
  }
});
