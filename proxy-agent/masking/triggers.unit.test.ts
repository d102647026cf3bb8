import { describe, expect, it } from 'vitest';
import { DETECTORS } from './detectors/index.ts';
import { SpanSink } from './spans.ts';
import { SAMPLE } from './test-support.ts';
import { scanTriggers, T_CARD, T_CONN, T_EMAIL, T_IBAN, T_JWT, T_PEM, T_PHONE, T_ROLE, T_SSN, T_BEARER, T_CLOUD } from './triggers.ts';

describe('scanTriggers', () => {
  it.each([
    '', '42', '-17', '3.14159', 'alice', 'Alice Smith', "O'Brien", 't', 'f',
    '2024-01-05', '2024-01-05 10:00:00', '2024-01-05 10:00:00.123456+00', '2024-01-05T10:00:00Z',
    '1704448800000', '550e8400-e29b-41d4-a716-446655440000', '{"a": 1, "b": [1, 2, 3]}',
    'The quick brown fox jumps over the lazy dog.', '192.168.1.10', '$1,234.56',
  ])('when a typical cell %j is scanned, then no detector is triggered', (cell) => {
    expect(scanTriggers(cell)).toBe(0);
  });

  it.each([
    ['a@b.co', T_EMAIL],
    ['4111 1111 1111 1111', T_CARD],
    ['4111111111111111', T_CARD],
    ['123-45-6789', T_SSN],
    ['GB82WEST12345698765432', T_IBAN],
    ['+1 555 123 4567', T_PHONE],
    ['(555) 123-4567', T_PHONE],
    ['555.123.4567', T_PHONE],
    ['x eyJhbGci', T_JWT],
    ['Bearer abc', T_BEARER],
    ['Authorization: x', T_BEARER],
    ['AKIA', T_CLOUD],
    ['-----BEGIN', T_PEM],
    ['postgres://x', T_CONN],
    ['PASSWORD', T_CONN | T_ROLE],
  ])('when %j is scanned, then its detector bit is set', (text, bit) => {
    expect(scanTriggers(text) & bit).toBe(bit);
  });
});

describe('scanTriggers as a prefilter', () => {
  // Pieces of every secret format, glued at random: whenever a detector run unconditionally finds
  // something, its trigger bit must be set, or the fast path would let the secret through.
  const PIECES = [
    'a@b.co', '4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005', '123-45-6789', 'GB82WEST12345698765432',
    'GB82 WEST 1234 5698 7654 32', '(555) 123-4567', '555.123.4567', '+1 555 123 4567', '1-555-123-4567', SAMPLE.jwt, 'Bearer abc123def456',
    'Authorization: Basic dXNlcg==', SAMPLE.awsKeyId, `aws_secret_access_key=${SAMPLE.awsSecret}`, SAMPLE.github, SAMPLE.githubPat,
    SAMPLE.slack, SAMPLE.stripe, SAMPLE.gcp, SAMPLE.pem, 'postgres://u:p@h/d', 'password=x', "PASSWORD 'x'", 'E\'', '$$',
    ' ', '\n', '-', '.', '(', ')', '+', ':', '/', '_', "'", 'x', 'A', '0', '7', 'é', '2024-01-05 10:00:00',
  ];
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const piece = () => {
    const p = PIECES[rnd(PIECES.length)];
    if (rnd(3) > 0) return p;
    const a = rnd(p.length + 1);
    return p.slice(a, a + 1 + rnd(p.length));
  };

  it('when any detector matches a text, then the trigger scan has set its bit', () => {
    let matched = 0;
    for (let n = 0; n < 20_000; n++) {
      let text = '';
      for (let k = 1 + rnd(6); k > 0; k--) text += piece();
      const flags = scanTriggers(text);
      for (const d of DETECTORS) {
        const sink = new SpanSink();
        d.find(text, sink);
        if (sink.spans.length === 0) continue;
        matched++;
        expect(flags & d.trigger, `${d.name} in ${JSON.stringify(text)}`).toBe(d.trigger);
      }
    }
    expect(matched).toBeGreaterThan(10_000);
  });
});
