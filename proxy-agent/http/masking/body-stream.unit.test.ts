import { describe, expect, it } from 'vitest';
import type { MaskCounts } from '../../../common/events/schema.ts';
import { mergeCounts } from '../../masking/masker.ts';
import { defaultMasker, SAMPLE } from '../../masking/test-support.ts';
import { BodyStreamMasker, type StreamKind, streamKind } from './body-stream.ts';

const masker = defaultMasker();

function run(kind: StreamKind, chunks: (Buffer | string)[], opts: { maxLine?: number; holdBack?: number } = {}): { text: string; counts: MaskCounts; pieces: string[] } {
  const stream = new BodyStreamMasker({ masker, kind, ...opts });
  const counts: MaskCounts = {};
  const pieces: string[] = [];
  for (const chunk of chunks) {
    const r = stream.push(chunk);
    pieces.push(r.text);
    mergeCounts(counts, r.counts);
  }
  const r = stream.end();
  pieces.push(r.text);
  mergeCounts(counts, r.counts);
  return { text: pieces.join(''), counts, pieces };
}

const SSE = [
  'event: message',
  'data: {"text":"café ✓ alice.smith@example.com","password":"Hunter2-Secret","n":1}',
  '',
  `data: token ${SAMPLE.jwt} end`,
  '',
  ': keep-alive',
  'data: [1,2,3]',
  '',
  '',
].join('\n');
const SSE_MASKED = [
  'event: message',
  'data: {"text":"café ✓ [EMAIL]","password":"[SECRET_COLUMN]","n":1}',
  '',
  'data: token [JWT] end',
  '',
  ': keep-alive',
  'data: [1,2,3]',
  '',
  '',
].join('\n');

describe('BodyStreamMasker', () => {
  it('when an event stream passes whole, then JSON data is masked field by field and text data by the detectors', () => {
    expect(run('sse', [SSE])).toEqual({ text: SSE_MASKED, counts: { EMAIL: 1, SECRET_COLUMN: 1, JWT: 1 }, pieces: expect.any(Array) });
  });

  it('when the stream is split in two at every byte, then the output is the same and no secret shows', () => {
    const bytes = Buffer.from(SSE);
    for (let at = 0; at <= bytes.length; at++) {
      const out = run('sse', [bytes.subarray(0, at), bytes.subarray(at)]);
      expect(out.text, `split at ${at}`).toBe(SSE_MASKED);
      expect(out.counts, `split at ${at}`).toEqual({ EMAIL: 1, SECRET_COLUMN: 1, JWT: 1 });
    }
  });

  it('when the stream comes a byte at a time, with lines longer than the line bound, then no secret shows', () => {
    const bytes = Buffer.from(SSE);
    const singles = [...bytes].map((b) => Buffer.from([b]));
    for (const maxLine of [undefined, 8]) {
      const out = run('sse', singles, { maxLine });
      for (const secret of ['Hunter2-Secret', 'alice.smith', SAMPLE.jwt.split('.')[2]]) expect(out.text).not.toContain(secret);
      expect(out.text).toContain('[JWT]');
    }
    expect(run('sse', singles).text).toBe(SSE_MASKED);
  });

  it('when a JSON line arrives, then it is emitted at once with the text before it, in order', () => {
    const stream = new BodyStreamMasker({ masker, kind: 'sse' });
    expect(stream.push('event: a\n').text).toBe('');
    expect(stream.push('data: {"token":"x"}\n').text).toBe('event: a\ndata: {"token":"[SECRET_COLUMN]"}\n');
    expect(stream.push('data: {"open').text).toBe('');
    expect(stream.end()).toEqual({ text: 'data: {"open', counts: null });
  });

  it('when a private key is printed over data lines with a JSON line inside it, then the line goes as text with the key, in order', () => {
    const lines = SAMPLE.pem.split('\n').map((l) => `data: ${l}`);
    const text = ['data: {"token":"x"}', lines[0], lines[1], 'data: {"a":1}', ...lines.slice(2), 'data: {"b":2}', ''].join('\n');
    for (const chunks of [[text], text.split(/(?<=\n)/)]) {
      const out = run('sse', chunks);
      expect(out.text).toBe('data: {"token":"[SECRET_COLUMN]"}\ndata: [PRIVATE_KEY]\ndata: {"b":2}\n');
      expect(out.counts).toEqual({ SECRET_COLUMN: 1, PRIVATE_KEY: 1 });
    }
  });

  it('when ndjson comes in pieces, then each line is masked field by field, the last one even without its line break', () => {
    const lines = '{"user":"bob","api_key":"k1"}\r\n{"note":"alice.smith@example.com"}\nnot json alice.smith@example.com\n{"secrets":[1,2]}';
    const out = run('ndjson', [lines.slice(0, 10), lines.slice(10, 50), lines.slice(50)]);
    expect(out.text).toBe('{"user":"bob","api_key":"[SECRET_COLUMN]"}\r\n{"note":"[EMAIL]"}\nnot json [EMAIL]\n{"secrets":"[SECRET_COLUMN]"}');
    expect(out.counts).toEqual({ SECRET_COLUMN: 2, EMAIL: 2 });
  });

  it('when the stream ends inside a JSON line, then the secret key value cut there is still masked', () => {
    const out = run('sse', ['data: {"ok":1}\n', 'data: {"user":"bob","password":"Hunter2-Se']);
    expect(out.text).toBe('data: {"ok":1}\ndata: {"user":"bob","password":"[SECRET_COLUMN]');
    expect(out.counts).toEqual({ SECRET_COLUMN: 1 });
  });

  it('when the stream pauses, then flush emits the text held but not the line under way', () => {
    const stream = new BodyStreamMasker({ masker, kind: 'sse' });
    stream.push(': hello\nevent: ping\ndata: alice.smi');
    expect(stream.flush()).toEqual({ text: ': hello\nevent: ping\n', counts: null });
    expect(stream.push('th@example.com\n\n').text).toBe('');
    expect(stream.end()).toEqual({ text: 'data: [EMAIL]\n\n', counts: { EMAIL: 1 } });
  });

  it('when the content type is given, then streamKind tells which stream it is', () => {
    expect(streamKind('text/event-stream; charset=utf-8')).toBe('sse');
    expect(streamKind('application/x-ndjson')).toBe('ndjson');
    expect(streamKind('application/jsonl')).toBe('ndjson');
    expect(streamKind('application/json')).toBeNull();
    expect(streamKind(undefined)).toBeNull();
  });
});
