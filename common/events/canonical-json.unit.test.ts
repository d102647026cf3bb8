// The fast encoder against a general-purpose RFC 8785 implementation (the `canonicalize` package,
// a dev dependency kept for this comparison): the bytes a later hash chain signs must not depend
// on which of the two produced them.
import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson } from './canonical-json.ts';
import { eventHash } from './chain.ts';
import { SessionEventEncoder, type SessionMeta } from './session-event-encoder.ts';

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AWKWARD = ['', 'a', 'é', '\u0000', '\n\t"\\', '\u2028\u2029', '😀', '\u007f', '\u00ad', 'ü', 'Z', '10', '2', '__proto__x', 'emoji😀key'];

function randomString(next: () => number): string {
  let s = '';
  const n = Math.floor(next() * 6);
  for (let i = 0; i < n; i++) s += AWKWARD[Math.floor(next() * AWKWARD.length)];
  return s;
}

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 5 : 7));
  switch (pick) {
    case 0: return null;
    case 1: return next() < 0.5;
    case 2: return [0, -0, 1, -1, 1e21, 1e-7, 0.1 + 0.2, 123456789.125, 2 ** 53, -5e-324][Math.floor(next() * 10)];
    case 3: return randomString(next);
    case 4: return Math.floor(next() * 1e6) - 5e5;
    case 5: return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      const n = Math.floor(next() * 5);
      for (let i = 0; i < n; i++) obj[randomString(next)] = randomValue(next, depth + 1);
      if (next() < 0.2) obj.skipped = undefined;
      return obj;
    }
  }
}

describe('canonicalJson', () => {
  it('when given any JSON value, then it writes the same bytes as a reference RFC 8785 implementation', () => {
    const next = random(8785);
    for (let i = 0; i < 3000; i++) {
      const value = randomValue(next, 0);
      expect(canonicalJson(value)).toBe(canonicalize(value));
    }
  });

  it('when keys sort differently by code unit than by code point, then code units decide (RFC 8785)', () => {
    const value = { '\u{1F600}': 1, '\uFB01': 2, a: 3, '1': 4, '10': 5, '2': 6 };
    expect(canonicalJson(value)).toBe(canonicalize(value));
    expect(canonicalJson(value)).toBe('{"1":4,"10":5,"2":6,"a":3,"😀":1,"ﬁ":2}');
  });

  it('when a value has no canonical form, then it is refused', () => {
    for (const bad of [NaN, Infinity, { a: -Infinity }, 'lone \ud800 surrogate', { '\udc00': 1 }]) {
      expect(() => canonicalJson(bad)).toThrow(CanonicalJsonError);
    }
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => canonicalJson(cycle)).toThrow(CanonicalJsonError);
  });
});

describe('SessionEventEncoder', () => {
  it('when events are encoded with the session envelope, then the bytes equal the whole event canonicalized', () => {
    const next = random(42);
    for (let i = 0; i < 500; i++) {
      const meta: SessionMeta = {
        sessionId: crypto.randomUUID(),
        user: randomString(next) || 'alice',
        target: randomString(next),
        protocol: (['postgres', 'ssh', 'http'] as const)[i % 3],
        connection: { client: `127.0.0.1:${i}`, agent: randomString(next) },
      };
      const encoder = new SessionEventEncoder(meta);
      const data = randomValue(next, 1) ?? {};
      const masked = next() < 0.5 ? { EMAIL: i, [randomString(next)]: 1 } : undefined;
      const prev = i % 3 === 0 ? undefined : eventHash(String(i));
      const fields = { type: 'db.query' as const, id: crypto.randomUUID(), seq: i + 1, time: new Date(1.7e12 + i * 997).toISOString(), data, masked, prev };
      const event = { v: 1, ...meta, ...fields, ...(masked ? { masked } : {}) };
      if (!masked) delete (event as { masked?: unknown }).masked;
      if (!prev) delete (event as { prev?: unknown }).prev;
      expect(encoder.encode(fields)).toBe(canonicalize(event));
    }
  });
});
