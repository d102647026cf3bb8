// Secrets printed slowly: the secret corpus written in random pieces with random pauses, through a
// StreamMasker driven the way the terminal recorder drives it (settle on a 30 ms pause, flush after
// 1 s of quiet and when a hold's deadline passes), on a clock of the test's own.
import { describe, expect, it } from 'vitest';
import type { MaskCounts } from '../../common/events/schema.ts';
import { mergeCounts } from './masker.ts';
import { secretCorpus } from './secret-corpus.ts';
import { slowPieces, type Piece } from './slow-output.ts';
import { StreamMasker, type StreamMaskerOptions } from './stream-masker.ts';
import { defaultMasker } from './test-support.ts';

const masker = defaultMasker();
const IDLE_MS = 30;
const QUIET_MS = 1000;
const SEEDS = 60;

/** What a recording of `pieces` holds: the masker's output over simulated time, then its end. */
function record(pieces: Piece[], opts: StreamMaskerOptions = {}): { text: string; counts: MaskCounts } {
  let now = 0;
  const sm = new StreamMasker(masker, { ...opts, now: () => now });
  const counts: MaskCounts = {};
  let text = '';
  const take = (r: { text: string; counts: MaskCounts | null }) => {
    text += r.text;
    mergeCounts(counts, r.counts);
  };
  for (const piece of pieces) {
    take(sm.push(piece.text));
    const start = now;
    const until = start + piece.pauseMs;
    if (piece.pauseMs >= IDLE_MS) {
      now = start + IDLE_MS;
      take(sm.settle());
    }
    if (piece.pauseMs >= QUIET_MS) {
      now = start + QUIET_MS;
      take(sm.flush());
    }
    for (let due = sm.heldUntil(); piece.pauseMs >= IDLE_MS && due !== null && due <= until; due = sm.heldUntil()) {
      now = Math.max(now, due);
      take(sm.flush());
    }
    now = until;
  }
  take(sm.end());
  return { text, counts };
}

describe('secrets printed slowly', () => {
  const corpus = secretCorpus();

  it.each(corpus.map((f) => [f.name, f] as const))('when %s is printed in random pieces with random pauses, then it is masked as when printed at once', (_name, fixture) => {
    const whole = masker.maskText(fixture.text);
    for (let seed = 1; seed <= SEEDS; seed++) {
      const out = record(slowPieces(fixture.text, seed));
      expect(out.text, `seed ${seed}`).toBe(whole.text);
      expect(out.counts, `seed ${seed}`).toEqual(whole.counts ?? {});
      for (const secret of fixture.secrets) expect(out.text, `seed ${seed}`).not.toContain(secret);
    }
  });

  // A BEGIN line cut by a pause longer than the bound is masked as the start of a key, even when it
  // turns out to begin a certificate (fail closed): only keys alone are compared here.
  const keysAlone = corpus.filter((f) => f.text.includes('PRIVATE KEY-----') && !/-----BEGIN (?![A-Z0-9 ]*PRIVATE KEY)/.test(f.text));
  it.each(keysAlone.map((f) => [f.name, f] as const))(
    'when %s is printed slowly and held past a short time bound, then it is still masked as when printed at once',
    (_name, fixture) => {
      const whole = masker.maskText(fixture.text);
      for (let seed = 1; seed <= SEEDS; seed++) {
        const out = record(slowPieces(fixture.text, seed), { maxHeldMs: 1500 });
        expect(out.text, `seed ${seed}`).toBe(whole.text);
        expect(out.counts, `seed ${seed}`).toEqual(whole.counts);
      }
    },
  );

  it('when a key is printed a line at a time with seconds between lines, then it is held until its END line and masked once', () => {
    const fixture = corpus.find((f) => f.name === 'RSA key, PKCS#1')!;
    const lines = fixture.text.split(/(?<=\n)/);
    const out = record(lines.map((text) => ({ text, pauseMs: 1000 })));
    expect(out.text).toBe(masker.maskText(fixture.text).text);
    expect(out.counts).toEqual({ PRIVATE_KEY: 1 });
  });

  it('when a key takes longer than the time bound, then it is masked as it stands and the rest of it is dropped', () => {
    const fixture = corpus.find((f) => f.name === 'RSA key, PKCS#1')!;
    const lines = fixture.text.split(/(?<=\n)/);
    const out = record(lines.map((text) => ({ text, pauseMs: 2000 })), { maxHeldMs: 10_000 });
    expect(out.text).toBe(masker.maskText(fixture.text).text);
    expect(out.counts).toEqual({ PRIVATE_KEY: 1 });
  });

  it('when a key is larger than the size bound, then it is masked as it stands and the rest of it is dropped', () => {
    const fixture = corpus.find((f) => f.name === 'a key in the middle of a log')!;
    const lines = fixture.text.split(/(?<=\n)/);
    const out = record(lines.map((text) => ({ text, pauseMs: 50 })), { maxHeld: 300 });
    expect(out.text).toBe(masker.maskText(fixture.text).text);
    for (const secret of fixture.secrets) expect(out.text).not.toContain(secret);
  });
});
