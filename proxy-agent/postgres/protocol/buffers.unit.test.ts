import { describe, expect, it } from 'vitest';
import { BufferReader } from './buffer-reader.ts';
import { BufferWriter } from './buffer-writer.ts';
import { ClientParser } from './client-parser.ts';
import type { ClientMessage, StartupPacket } from './client-messages.ts';
import { ProtocolError } from './errors.ts';
import { cancelRequest, startupMessage } from './frontend-messages.ts';
import { coded, cstr, i16, i32, uncoded } from './test-wire.ts';

describe('BufferWriter', () => {
  it('when flushed with a code, then it writes [code][length incl. itself][body]', () => {
    const out = new BufferWriter().cstring('select 1').flush(0x51);
    expect(out.equals(coded('Q', cstr('select 1')))).toBe(true);
  });

  it('when flushed without a code, then it writes a startup-style packet', () => {
    const out = new BufferWriter().int32(80877103).flush();
    expect(out.equals(uncoded(i32(80877103)))).toBe(true);
  });

  it('when the body outgrows the buffer, then it grows and earlier results stay intact', () => {
    const writer = new BufferWriter(8);
    const first = writer.int16(-1).int8(7).flush(0x41);
    const big = Buffer.alloc(10_000, 3);
    const second = writer.bytes(big).string('ü').flush(0x64);
    expect(first.equals(coded('A', i16(-1), Buffer.from([7])))).toBe(true);
    expect(second.equals(coded('d', big, Buffer.from('ü')))).toBe(true);
  });
});

describe('BufferReader', () => {
  it('when reading values, then the cursor advances and remaining() counts down', () => {
    const reader = new BufferReader(Buffer.concat([i16(-2), i32(-3), Buffer.from([0xff, 0xff, 0xff, 0xff, 9]), cstr('hé'), Buffer.from('xyz')]));
    expect([reader.int16(), reader.int32(), reader.uint32(), reader.byte(), reader.cstring()]).toEqual([-2, -3, 0xffffffff, 9, 'hé']);
    expect(reader.remaining()).toBe(3);
    expect(reader.string(1)).toBe('x');
    expect(reader.bytes(2).toString()).toBe('yz');
    expect(reader.remaining()).toBe(0);
  });

  it('when reading past the end, then it throws a ProtocolError', () => {
    expect(() => new BufferReader(Buffer.from([1])).int16()).toThrow(ProtocolError);
    expect(() => new BufferReader(Buffer.from('abc')).cstring()).toThrow(ProtocolError);
    expect(() => new BufferReader(Buffer.from('abc')).bytes(4)).toThrow(ProtocolError);
  });

  it('when limited to a range, then a terminator beyond it does not count', () => {
    const reader = new BufferReader(Buffer.from('abc\0'), 0, 3);
    expect(() => reader.cstring()).toThrow(ProtocolError);
  });
});

describe('frontend messages', () => {
  function parseStartup(bytes: Buffer): (ClientMessage | StartupPacket)[] {
    const seen: (ClientMessage | StartupPacket)[] = [];
    new ClientParser().feed(bytes, (msg) => seen.push(msg));
    return seen;
  }

  it('when a startup message is built, then it carries exactly the given parameters', () => {
    expect(parseStartup(startupMessage({ user: 'svc', database: 'shop', client_encoding: 'LATIN1' }))).toEqual([
      { type: 'startup', protocolVersion: 196608, params: { user: 'svc', database: 'shop', client_encoding: 'LATIN1' } },
    ]);
  });

  it('when a cancel request is built with a 4-byte or a long key, then the whole key is sent', () => {
    for (const key of [Buffer.from([9, 8, 7, 6]), Buffer.alloc(32, 1)]) {
      expect(parseStartup(cancelRequest(77, key))).toEqual([{ type: 'cancel-request', processId: 77, secretKey: key }]);
    }
  });
});
