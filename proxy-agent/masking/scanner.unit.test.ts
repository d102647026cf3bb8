import { describe, expect, it } from 'vitest';
import { isTokenStart } from './detectors/credential-format.ts';
import type { Detector } from './detectors/detector.ts';
import { DETECTORS } from './detectors/index.ts';
import { Scanner } from './scanner.ts';
import { mergeSpans, SpanSink, type Span } from './spans.ts';
import { join, SAMPLE } from './test-support.ts';


/**
 * What the scanner must find, without any of its prefilters (prefix table, character classes,
 * digit shapes, key-ending table): every hook called wherever its documented condition holds.
 */
const scanners = new Map<Detector, Scanner>();
const scannerOf = (d: Detector) => scanners.get(d) ?? scanners.set(d, new Scanner([d], [0])).get(d)!;

function reference(d: Detector, text: string): Span[] {
  const sink = new SpanSink();
  const scanner = scannerOf(d);
  sink.findsAny = (t) => {
    const inner = new SpanSink();
    scanner.scan(t, inner);
    return inner.spans.length > 0;
  };
  {
    for (let i = 0; i < text.length; i++) {
      if (isTokenStart(text, i)) {
        for (const p of d.prefixes ?? []) {
          const here = text.slice(i, i + p.prefix.length);
          if (p.ignoreCase ? here.toLowerCase() === p.prefix.toLowerCase() : here === p.prefix) p.at(text, i, sink);
        }
        if (d.digits && /\d/.test(text[i])) {
          let end = i;
          while (end < text.length && /\d/.test(text[end])) end++;
          d.digits(text, i, end, sink);
        }
      }
      for (const c of d.chars ?? []) if (text[i] === c.char) c.at(text, i, sink);
      if (text[i] === ':' || text[i] === '=') {
        let keyEnd = i;
        while (keyEnd > 0 && i - keyEnd < 8 && /[ \t]/.test(text[keyEnd - 1])) keyEnd--;
        if (/["']/.test(text[keyEnd - 1] ?? '')) keyEnd -= text[keyEnd - 2] === '\\' ? 2 : 1;
        const key = text.slice(0, keyEnd).toLowerCase();
        for (const a of d.assignments ?? []) {
          if (a.keys === 'any') {
            if (/[ \t"']/.test(text[i + 1] ?? '')) a.at(text, i, keyEnd, sink);
          } else if (a.keys.some((ending) => key.endsWith(ending))) a.at(text, i, keyEnd, sink);
        }
      }
    }
  }
  return mergeSpans(sink.spans.map((s) => ({ ...s }))).map(({ start, end }) => ({ start, end, rule: 0 }));
}

function scanned(d: Detector, text: string): Span[] {
  const sink = new SpanSink();
  scannerOf(d).scan(text, sink);
  return mergeSpans(sink.spans).map(({ start, end }) => ({ start, end, rule: 0 }));
}

describe('Scanner', () => {
  // Pieces of every format, glued at random and cut at random: whatever a detector finds when
  // called everywhere, the one-pass scanner must find through its prefilters.
  const PIECES = [
    'a@b.co', '4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005', '4222222222222', '123-45-6789', 'GB82WEST12345698765432',
    'GB82 WEST 1234 5698 7654 32', '(555) 123-4567', '555.123.4567', '+1 555 123 4567', '1-555-123-4567', SAMPLE.jwt, 'Bearer abc123def456',
    'Authorization: Basic dXNlcg==', SAMPLE.awsKeyId, `aws_secret_access_key=${SAMPLE.awsSecret}`, SAMPLE.github, SAMPLE.githubPat,
    SAMPLE.slack, SAMPLE.stripe, SAMPLE.gcp, SAMPLE.pem, 'postgres://u:p@h/d', 'password=x', "PASSWORD 'x'", 'E\'', '$$',
    `API_KEY=${join('q8Zr', '4TmW2x', 'Lp9vB7nK3s')}`, '"client_secret": "abcdefgh12"', "{'api_secret': 'k3Yq9Zt7Wm2x'}", 'DB_PASS=hunter22', 'data:\n  x: cG9zdGdyZXM6Ly9hOmJAaC9k',
    'mysql -pS3cret db', 'curl -u bob:pw1 x', 'sshpass -p pw2 ssh', 'password => \'x1\'', 'password: |\n  blk',
    ' ', '\n', '-', '.', '(', ')', '+', ':', '/', '_', "'", '"', '=', '\\', 'x', 'A', '0', '7', 'é', '2024-01-05 10:00:00',
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

  it('when any detector matches a text called everywhere, then the scanner finds the same spans', { timeout: 60_000 }, () => {
    let matched = 0;
    for (let n = 0; n < 2_000; n++) {
      let text = '';
      for (let k = 1 + rnd(6); k > 0; k--) text += piece();
      for (const d of DETECTORS) {
        const want = reference(d, text);
        if (want.length > 0) matched++;
        expect(scanned(d, text), `${d.name} in ${JSON.stringify(text)}`).toEqual(want);
      }
    }
    expect(matched).toBeGreaterThan(1_000);
  });

  it('when a prefix is shorter than 2 characters, then building the scanner fails clearly', () => {
    const d: Detector = { name: 'EMAIL', prefixes: [{ prefix: 'x', at: () => undefined }] };
    expect(() => new Scanner([d], [0])).toThrow(/prefix "x" is shorter than 2 characters/);
  });
});
