import { describe, expect, it } from 'vitest';
import { BackendFramer } from './backend-framer.ts';
import { ProtocolError } from './errors.ts';
import { byte, coded, cstr, i16, i32, prng, u32, value } from './test-wire.ts';

/** A server stream with one of most backend messages. */
const messages: Buffer[] = [
  coded('R', i32(10), cstr('SCRAM-SHA-256'), cstr('')),
  coded('R', i32(11), Buffer.from('r=abc,s=c2FsdA==,i=4096')),
  coded('R', i32(12), Buffer.from('v=c2lnbmF0dXJl')),
  coded('R', i32(0)),
  coded('S', cstr('server_version'), cstr('15.8')),
  coded('K', i32(1234), i32(5678)),
  coded('Z', byte('I')),
  coded('T', i16(1), cstr('name'), u32(16384), i16(2), u32(25), i16(-1), i32(-1), i16(0)),
  coded('D', i16(2), value('alice'), value(null)),
  coded('D', i16(0)),
  coded('C', cstr('SELECT 2')),
  coded('N', byte('S'), cstr('NOTICE'), byte('M'), cstr('hi'), Buffer.from([0])),
  coded('E', byte('S'), cstr('ERROR'), byte('C'), cstr('42601'), byte('M'), cstr('syntax error'), Buffer.from([0])),
  coded('A', i32(99), cstr('chan'), cstr('payload')),
  coded('1'), coded('2'), coded('3'), coded('n'), coded('s'), coded('I'),
  coded('t', i16(1), u32(23)),
  coded('G', byte(0), i16(1), i16(0)),
  coded('H', byte(0), i16(0)),
  coded('d', Buffer.from('1\talice\n')),
  coded('c'),
  coded('V', value(Buffer.from([0, 0, 0, 1]))),
  coded('v', i32(0), i32(1), cstr('_pq_.unknown')),
  coded('W', byte(0), i16(0)),
];
const stream = Buffer.concat(messages);

function frame(chunks: Buffer[]): { codes: number[]; raws: Buffer[] } {
  const framer = new BackendFramer();
  const codes: number[] = [];
  const raws: Buffer[] = [];
  for (const chunk of chunks) {
    framer.push(chunk, (code, message) => {
      codes.push(code);
      raws.push(Buffer.from(message));
    });
  }
  return { codes, raws };
}

function expectWholeStream(chunks: Buffer[]): void {
  const { codes, raws } = frame(chunks);
  expect(codes).toEqual(messages.map((m) => m[0]));
  // Buffer.equals per message: deep equality on Buffers is too slow for thousands of splits.
  const mismatch = messages.findIndex((m, i) => !raws[i]?.equals(m));
  expect(mismatch).toBe(-1);
}

function expectProtocolError(fn: () => void, message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ProtocolError);
  if (message) expect((thrown as Error).message).toMatch(message);
}

describe('BackendFramer', () => {
  it('when the stream is split at every offset, then the same messages come out byte for byte', () => {
    for (let k = 0; k <= stream.length; k++) expectWholeStream([stream.subarray(0, k), stream.subarray(k)]);
  });

  it('when the stream is split into three pieces, then the same messages come out', () => {
    for (let i = 0; i <= stream.length; i += 3) {
      for (let j = i; j <= stream.length; j += 5) {
        expectWholeStream([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]);
      }
    }
  });

  it('when it frames, then the chunks it was given are unchanged', () => {
    const copy = Buffer.from(stream);
    for (let k = 0; k <= stream.length; k += 11) frame([stream.subarray(0, k), stream.subarray(k)]);
    expect(stream.equals(copy)).toBe(true);
  });

  it('when a message lies inside one chunk, then it is delivered as a view of that chunk', () => {
    const framer = new BackendFramer();
    const views: Buffer[] = [];
    framer.push(stream, (_code, message) => views.push(message));
    expect(views.every((v) => v.buffer === stream.buffer)).toBe(true);
  });

  it('when a message is incomplete, then pendingBytes returns what has arrived', () => {
    const framer = new BackendFramer();
    framer.push(stream.subarray(0, 3), () => {});
    expect(framer.pendingBytes().equals(stream.subarray(0, 3))).toBe(true);
    framer.push(stream.subarray(3, 12), () => {});
    expect(framer.pendingBytes().equals(stream.subarray(0, 12))).toBe(true);
  });

  it('when stop() is called after ReadyForQuery, then the following bytes are handed back, not delivered', () => {
    const framer = new BackendFramer();
    const after = coded('S', cstr('a'), cstr('b'));
    const codes: number[] = [];
    let rest: Buffer | undefined;
    framer.push(Buffer.concat([coded('Z', byte('I')), after]), (code) => {
      codes.push(code);
      if (code === 0x5a) rest = framer.stop();
    });
    expect(codes).toEqual([0x5a]);
    expect(rest!.equals(after)).toBe(true);
  });

  it('when a length field says 2 GB, then it fails on the header alone', () => {
    expectProtocolError(
      () => new BackendFramer().push(Buffer.from([0x44, 0x7f, 0xff, 0xff, 0xff]), () => {}),
      /^message length 2147483647 exceeds the 1 GiB limit$/,
    );
  });

  it('when a length is below 4 or a code is unknown, then it fails', () => {
    expectProtocolError(() => new BackendFramer().push(Buffer.from([0x44, 0, 0, 0, 2]), () => {}), /too short/);
    expectProtocolError(() => new BackendFramer().push(coded('q'), () => {}), /unknown server message code 0x71 \('q'\)/);
  });

  it('when an error has happened, then the framer refuses further input', () => {
    const framer = new BackendFramer();
    expectProtocolError(() => framer.push(coded('q'), () => {}));
    expectProtocolError(() => framer.push(coded('Z', byte('I')), () => {}), /unusable/);
  });

  it('when random bytes arrive, then the only failure is a ProtocolError', () => {
    const random = prng(11);
    for (let round = 0; round < 2000; round++) {
      const bytes = Buffer.alloc(1 + Math.floor(random() * 48));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      try {
        new BackendFramer().push(bytes, () => {});
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
    }
  });
});
