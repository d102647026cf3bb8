// The masking corpus of HTTP exchanges: every kind of secret the engine's corpus has
// (secret-corpus.ts), each in every place an exchange can carry it. The secret text never shows in
// what is recorded, harmless values pass unchanged, and counts are what masking the text alone
// gives (or one whole-value marker where a name masks it whole).
import { describe, expect, it } from 'vitest';
import type { MaskCounts } from '../../../common/events/schema.ts';
import { mergeCounts } from '../../masking/masker.ts';
import { secretCorpus } from '../../masking/secret-corpus.ts';
import { defaultMasker } from '../../masking/test-support.ts';
import { maskBody } from './body.ts';
import { BodyStreamMasker } from './body-stream.ts';
import { maskHeaders } from './headers.ts';
import { maskQuery } from './query.ts';

const masker = defaultMasker();
const corpus = secretCorpus();
const B = 'vigil-corpus-boundary';

interface Placement {
  /** Puts a value somewhere and returns what is recorded, with its counts. */
  record(value: string): { text: string; counts: MaskCounts | null };
  /**
   * How a value the detectors leave reads there (the value goes through the detectors); absent
   * where a name masks the value whole (one SECRET_COLUMN, whatever it is).
   */
  shown?: (value: string) => string;
}

const body = (type: string, text: string) => {
  const r = maskBody(type, Buffer.from(text), { masker, complete: true });
  return { text: r.text ?? '', counts: r.counts };
};
const json = (value: unknown) => body('application/json', JSON.stringify(value));

function stream(kind: 'sse' | 'ndjson', text: string): { text: string; counts: MaskCounts | null } {
  const s = new BodyStreamMasker({ masker, kind });
  const counts: MaskCounts = {};
  let out = '';
  const bytes = Buffer.from(text);
  // In pieces of 7 bytes: lines, characters and secrets are cut everywhere.
  for (let at = 0; at < bytes.length; at += 7) {
    const r = s.push(bytes.subarray(at, at + 7));
    out += r.text;
    mergeCounts(counts, r.counts);
  }
  const r = s.end();
  mergeCounts(counts, r.counts);
  return { text: out + r.text, counts: Object.keys(counts).length > 0 ? counts : null };
}

const same = (v: string) => v;
const inJson = (v: string) => JSON.stringify(v).slice(1, -1);

const PLACEMENTS: Record<string, Placement> = {
  'a header': {
    shown: same,
    record: (v) => {
      const r = maskHeaders([['X-Note', v]], { masker, extra: [] });
      return { text: r.headers[0][1], counts: r.counts };
    },
  },
  'a query value': { shown: encodeURIComponent, record: (v) => maskQuery(`page=2&note=${encodeURIComponent(v)}`, masker) },
  'a JSON string value': { shown: inJson, record: (v) => json({ id: 1, note: v }) },
  'a JSON string in an array of objects': { shown: inJson, record: (v) => json({ items: [{ n: 1 }, { note: [v] }] }) },
  'a JSON value under a secret key': { record: (v) => json({ user: 'bob', password: v }) },
  'a nested object under a secret key': { record: (v) => json({ a: { client: { api_key: { v: [v, 1], n: 2 } } } }) },
  'an array under a secret key': { record: (v) => json({ secrets: [v, { x: v }] }) },
  'a form field': { shown: encodeURIComponent, record: (v) => body('application/x-www-form-urlencoded', `page=2&note=${encodeURIComponent(v)}`) },
  'a form field with a secret name': { record: (v) => body('application/x-www-form-urlencoded', `page=2&client_secret=${encodeURIComponent(v)}`) },
  'a multipart field': {
    shown: same,
    record: (v) => body(`multipart/form-data; boundary=${B}`, `--${B}\r\nContent-Disposition: form-data; name="note"\r\n\r\n${v}\r\n--${B}--\r\n`),
  },
  'a multipart field with a secret name': {
    record: (v) => body(`multipart/form-data; boundary=${B}`, `--${B}\r\nContent-Disposition: form-data; name="token"\r\n\r\n${v}\r\n--${B}--\r\n`),
  },
  'an SSE JSON data line': { shown: inJson, record: (v) => stream('sse', `event: note\ndata: ${JSON.stringify({ note: v })}\n\n`) },
  'an ndjson line': { shown: inJson, record: (v) => stream('ndjson', `{"n":1}\n${JSON.stringify({ note: v })}\n`) },
  'a text body': { shown: same, record: (v) => body('text/plain', v) },
};

describe('HTTP masking corpus', () => {
  for (const [where, placement] of Object.entries(PLACEMENTS)) {
    describe(`in ${where}`, () => {
      it.each(corpus.map((fixture) => [fixture.name, fixture] as const))('when %s is there, then its secret never shows', (_name, fixture) => {
        const { text, counts } = placement.record(fixture.text);
        for (const secret of fixture.secrets) expect(text).not.toContain(secret);
        if (placement.shown === undefined) expect(counts).toEqual({ SECRET_COLUMN: 1 });
        else if (fixture.secrets.length > 0) expect(counts).toEqual(masker.maskText(fixture.text).counts);
      });

      it.each(['bob', 'Müller, Köln', 'order #42 shipped 2026-01-05 10:00:00', 'https://example.com/docs?page=2', 'a "quoted" line\nand another'])(
        'when a harmless value %j is there, then it reads unchanged',
        (value) => {
          const { text, counts } = placement.record(value);
          if (placement.shown === undefined) {
            expect(counts).toEqual({ SECRET_COLUMN: 1 });
            expect(text).toContain('[SECRET_COLUMN]');
          } else {
            expect(counts).toBeNull();
            expect(text).toContain(placement.shown(value));
          }
        },
      );
    });
  }
});

describe('HTTP masking corpus in SSE text data', () => {
  // Each line of the text is a `data:` line, the stream cut in pieces of 7 bytes: the result is what
  // masking the whole stream text at once gives. One secret is out of reach there: a YAML block
  // scalar's value is known by its indentation, which the `data: ` before every line hides.
  const NOT_IN_SSE = new Set(['YAML block scalar']);

  it.each(corpus.map((fixture) => [fixture.name, fixture] as const))('when %s is sent as data lines, then it is masked as the whole text is', (_name, fixture) => {
    const sse = `${fixture.text.split('\n').map((line) => `data: ${line}`).join('\n')}\n\n`;
    const out = stream('sse', sse);
    const whole = masker.maskText(sse);
    expect(out).toEqual({ text: whole.text, counts: whole.counts });
    if (!NOT_IN_SSE.has(fixture.name)) for (const secret of fixture.secrets) expect(out.text).not.toContain(secret);
  });
});
