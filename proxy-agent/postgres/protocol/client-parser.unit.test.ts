import { describe, expect, it } from 'vitest';
import { serialize } from 'pg-protocol';
import { ClientParser } from './client-parser.ts';
import type { ClientMessage, StartupPacket } from './client-messages.ts';
import { passwordText } from './client-messages.ts';
import { ProtocolError } from './errors.ts';
import { byte, coded, cstr, i16, i32, prng, u32, uncoded, value } from './test-wire.ts';

type Parsed = ClientMessage | StartupPacket;

const sslRequest = uncoded(i32(80877103));
const startup = uncoded(
  i32(196608),
  cstr('user'), cstr('alice'),
  cstr('database'), cstr('shop'),
  cstr('application_name'), cstr('psql ☃'),
  cstr(''),
);

/** One of every client message, with the value the parser must produce. */
const session: [Buffer, Parsed][] = [
  [sslRequest, { type: 'ssl-request' }],
  [startup, { type: 'startup', protocolVersion: 196608, params: { user: 'alice', database: 'shop', application_name: 'psql ☃' } }],
  [coded('p', cstr('s3cret')), { type: 'password', data: cstr('s3cret') }],
  [coded('Q', cstr("select 'héllo' -- ☃")), { type: 'query', sql: "select 'héllo' -- ☃" }],
  [coded('P', cstr('s1'), cstr('select $1::int, $2'), i16(2), u32(23), u32(25)), { type: 'parse', statement: 's1', sql: 'select $1::int, $2', paramTypes: [23, 25] }],
  [
    coded('B', cstr('p1'), cstr('s1'), i16(2), i16(0), i16(1), i16(2), value('42'), value(null), i16(1), i16(1)),
    { type: 'bind', portal: 'p1', statement: 's1', paramFormats: [0, 1], params: [Buffer.from('42'), null], resultFormats: [1] },
  ],
  [coded('D', byte('S'), cstr('s1')), { type: 'describe', target: 'S', name: 's1' }],
  [coded('D', byte('P'), cstr('p1')), { type: 'describe', target: 'P', name: 'p1' }],
  [coded('E', cstr('p1'), i32(10)), { type: 'execute', portal: 'p1', maxRows: 10 }],
  [coded('H'), { type: 'flush' }],
  [coded('S'), { type: 'sync' }],
  [coded('C', byte('S'), cstr('s1')), { type: 'close', target: 'S', name: 's1' }],
  [coded('C', byte('P'), cstr('')), { type: 'close', target: 'P', name: '' }],
  [coded('d', Buffer.from([0, 1, 2, 0, 255])), { type: 'copy-data', data: Buffer.from([0, 1, 2, 0, 255]) }],
  [coded('c'), { type: 'copy-done' }],
  [coded('f', cstr('client gave up')), { type: 'copy-fail', message: 'client gave up' }],
  [
    coded('F', u32(1598), i16(1), i16(1), i16(2), value(Buffer.from([0, 0, 0, 7])), value(null), i16(1)),
    { type: 'function-call', functionOid: 1598, argFormats: [1], args: [Buffer.from([0, 0, 0, 7]), null], resultFormat: 1 },
  ],
  [coded('X'), { type: 'terminate' }],
];
const stream = Buffer.concat(session.map(([bytes]) => bytes));
const expected = session.map(([, msg]) => msg);

function parseChunks(chunks: Buffer[]): { messages: Parsed[]; raws: Buffer[] } {
  const parser = new ClientParser();
  const messages: Parsed[] = [];
  const raws: Buffer[] = [];
  for (const chunk of chunks) {
    parser.feed(chunk, (msg, raw) => {
      messages.push(msg);
      raws.push(Buffer.from(raw));
    });
  }
  return { messages, raws };
}

function expectWholeSession(chunks: Buffer[]): void {
  const { messages, raws } = parseChunks(chunks);
  expect(messages).toEqual(expected);
  expect(Buffer.concat(raws).equals(stream)).toBe(true);
  expect(raws.map((r) => r.length)).toEqual(session.map(([b]) => b.length));
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

function afterStartup(): ClientParser {
  const parser = new ClientParser();
  parser.feed(startup, () => {});
  return parser;
}

describe('ClientParser', () => {
  it('when a whole session arrives in one chunk, then every message parses and raw is its exact bytes', () => {
    expectWholeSession([stream]);
  });

  it('when the stream is split at every offset, then it re-parses identically', () => {
    for (let k = 0; k <= stream.length; k++) {
      expectWholeSession([stream.subarray(0, k), stream.subarray(k)]);
    }
  });

  it('when the stream is split into three pieces, then it re-parses identically', () => {
    for (let i = 0; i <= stream.length; i += 3) {
      for (let j = i; j <= stream.length; j += 7) {
        expectWholeSession([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]);
      }
    }
  });

  it('when bytes arrive one at a time, then it re-parses identically', () => {
    const chunks: Buffer[] = [];
    for (let k = 0; k < stream.length; k++) chunks.push(stream.subarray(k, k + 1));
    expectWholeSession(chunks);
  });

  it('when it parses, then the chunks it was given are unchanged', () => {
    const copy = Buffer.from(stream);
    const chunks = [stream.subarray(0, 50), stream.subarray(50, 51), stream.subarray(51, 200), stream.subarray(200)];
    parseChunks(chunks);
    expect(stream.equals(copy)).toBe(true);
  });

  it('when a message lies inside one chunk, then raw is a view of that chunk (no copy)', () => {
    const parser = new ClientParser();
    const raws: Buffer[] = [];
    parser.feed(startup, (_msg, raw) => raws.push(raw));
    expect(raws[0].buffer).toBe(startup.buffer);
    expect(raws[0].byteOffset).toBe(startup.byteOffset);
  });

  it('when a message is split across chunks, then raw is a fresh buffer that later input cannot change', () => {
    const parser = afterStartup();
    const query = coded('Q', cstr('select 1'));
    const first = Buffer.from(query.subarray(0, 7));
    const second = Buffer.from(query.subarray(7));
    let raw: Buffer | undefined;
    parser.feed(first, () => {});
    parser.feed(second, (_msg, r) => (raw = r));
    first.fill(0);
    second.fill(0);
    expect(raw!.equals(query)).toBe(true);
  });

  it('when a message larger than the first split buffer arrives in small pieces, then it is joined intact', () => {
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const message = coded('d', data);
    const parser = afterStartup();
    const seen: Buffer[] = [];
    for (let k = 0; k < message.length; k += 4093) {
      parser.feed(message.subarray(k, k + 4093), (msg, raw) => {
        expect(raw.equals(message)).toBe(true);
        seen.push((msg as Extract<ClientMessage, { type: 'copy-data' }>).data);
      });
    }
    expect(seen).toHaveLength(1);
    expect(seen[0].equals(data)).toBe(true);
  });

  it('when a startup packet is truncated, then nothing is delivered and nothing fails until the rest arrives', () => {
    const parser = new ClientParser();
    const seen: Parsed[] = [];
    parser.feed(startup.subarray(0, 10), (msg) => seen.push(msg));
    expect(seen).toEqual([]);
    expect(parser.pendingBytes().equals(startup.subarray(0, 10))).toBe(true);
    parser.feed(startup.subarray(10), (msg) => seen.push(msg));
    expect(seen).toEqual([expected[1]]);
    expect(parser.pendingBytes().length).toBe(0);
  });

  it('when only part of a header has arrived, then pendingBytes returns it', () => {
    const parser = afterStartup();
    parser.feed(Buffer.from([0x51, 0, 0]), () => {});
    expect([...parser.pendingBytes()]).toEqual([0x51, 0, 0]);
  });

  it('when an SSLRequest arrives, then the parser stays in startup mode; after a StartupMessage it does not', () => {
    const parser = new ClientParser();
    parser.feed(sslRequest, () => {});
    expect(parser.inStartup()).toBe(true);
    parser.feed(startup, () => {});
    expect(parser.inStartup()).toBe(false);
  });

  it('when a CancelRequest carries a 4-byte or a longer (protocol 3.2) key, then the whole key is returned', () => {
    for (const key of [Buffer.from([1, 2, 3, 4]), Buffer.alloc(32, 0xab)]) {
      const { messages } = parseChunks([uncoded(i32(80877102), i32(4242), key)]);
      expect(messages).toEqual([{ type: 'cancel-request', processId: 4242, secretKey: key }]);
    }
  });

  it('when a client asks for protocol 3.2, then the startup is accepted with that version', () => {
    const { messages } = parseChunks([uncoded(i32(196610), cstr('user'), cstr('bob'), cstr(''))]);
    expect(messages).toEqual([{ type: 'startup', protocolVersion: 196610, params: { user: 'bob' } }]);
  });

  it('when a startup parameter is named __proto__, then it is an ordinary key', () => {
    const { messages } = parseChunks([uncoded(i32(196608), cstr('__proto__'), cstr('x'), cstr(''))]);
    const params = (messages[0] as Extract<StartupPacket, { type: 'startup' }>).params;
    expect(Object.keys(params)).toEqual(['__proto__']);
    expect(params.__proto__).toBe('x');
  });

  it('when a password message arrives, then passwordText reads its string', () => {
    const { messages } = parseChunks([startup, coded('p', cstr('tøken'))]);
    expect(passwordText(messages[1] as Extract<ClientMessage, { type: 'password' }>)).toBe('tøken');
    expectProtocolError(() => passwordText({ type: 'password', data: Buffer.from('no terminator') }));
  });

  it('when pg-protocol serializes client messages, then they parse back to the same values', () => {
    const chunks = [
      serialize.startup({ user: 'u', database: 'd' }),
      serialize.query('select 1'),
      serialize.parse({ name: 'n', text: 'select $1', types: [25] }),
      serialize.bind({ portal: 'p', statement: 'n', values: ['x', null, Buffer.from([9])], binary: true }),
      serialize.describe({ type: 'P', name: 'p' }),
      serialize.execute({ portal: 'p', rows: 5 }),
      serialize.close({ type: 'S', name: 'n' }),
      serialize.sync(),
      serialize.end(),
    ];
    const { messages } = parseChunks([Buffer.concat(chunks)]);
    expect(messages.slice(1)).toEqual([
      { type: 'query', sql: 'select 1' },
      { type: 'parse', statement: 'n', sql: 'select $1', paramTypes: [25] },
      { type: 'bind', portal: 'p', statement: 'n', paramFormats: [0, 0, 1], params: [Buffer.from('x'), null, Buffer.from([9])], resultFormats: [1] },
      { type: 'describe', target: 'P', name: 'p' },
      { type: 'execute', portal: 'p', maxRows: 5 },
      { type: 'close', target: 'S', name: 'n' },
      { type: 'sync' },
      { type: 'terminate' },
    ]);
  });

  describe('stop()', () => {
    it('when called from the callback, then the rest of the chunk is handed back and not parsed', () => {
      const parser = new ClientParser();
      const query = coded('Q', cstr('select 1'));
      const partial = coded('Q', cstr('select 2')).subarray(0, 6);
      const seen: Parsed[] = [];
      let rest: Buffer | undefined;
      parser.feed(Buffer.concat([startup, query, partial]), (msg) => {
        seen.push(msg);
        if (msg.type === 'startup') rest = parser.stop();
      });
      expect(seen.map((m) => m.type)).toEqual(['startup']);
      expect(rest!.equals(Buffer.concat([query, partial]))).toBe(true);
      expectProtocolError(() => parser.feed(query, () => {}), /stopped/);
    });

    it('when called for a message joined from two chunks, then the rest of the second chunk is handed back', () => {
      const parser = new ClientParser();
      const query = coded('Q', cstr('select 1'));
      parser.feed(Buffer.concat([sslRequest, startup.subarray(0, 9)]), () => {});
      let rest: Buffer | undefined;
      parser.feed(Buffer.concat([startup.subarray(9), query]), (msg) => {
        if (msg.type === 'startup') rest = parser.stop();
      });
      expect(rest!.equals(query)).toBe(true);
    });

    it('when called between chunks, then it returns the incomplete message', () => {
      const parser = afterStartup();
      const query = coded('Q', cstr('select 1'));
      parser.feed(query.subarray(0, 8), () => {});
      expect(parser.stop().equals(query.subarray(0, 8))).toBe(true);
    });
  });

  describe('bad input', () => {
    it('when a length field says 2 GB, then it fails on the header alone with the limit in the message', () => {
      const parser = afterStartup();
      expectProtocolError(
        () => parser.feed(Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff]), () => {}),
        /^message length 2147483647 exceeds the 1 GiB limit$/,
      );
    });

    it('when a startup packet claims 2 GB, then it fails on the length alone', () => {
      expectProtocolError(() => new ClientParser().feed(u32(0x7fffffff), () => {}), /exceeds the 10000 bytes limit/);
    });

    it('when maxMessageBytes is set, then a longer message fails', () => {
      const parser = new ClientParser({ maxMessageBytes: 100 });
      parser.feed(startup, () => {});
      expectProtocolError(() => parser.feed(coded('Q', cstr('x'.repeat(100))), () => {}), /exceeds the 100 bytes limit/);
    });

    it('when a length is below 4, then it fails', () => {
      expectProtocolError(() => afterStartup().feed(Buffer.from([0x53, 0, 0, 0, 3]), () => {}), /too short/);
      expectProtocolError(() => new ClientParser().feed(i32(7), () => {}), /too short/);
    });

    it('when a code is unknown, then it fails naming the code', () => {
      expectProtocolError(() => afterStartup().feed(coded('Z'), () => {}), /unknown client message code 0x5a \('Z'\)/);
    });

    it('when a Bind claims more parameters than it holds, then it fails', () => {
      const lying = coded('B', cstr(''), cstr(''), i16(0), i16(3), value('a'), value('b'), i16(0));
      expectProtocolError(() => afterStartup().feed(lying, () => {}), /runs past the end/);
    });

    it('when a Bind claims fewer parameters than it holds, then it fails', () => {
      const lying = coded('B', cstr(''), cstr(''), i16(0), i16(1), value('a'), value('b'), i16(0));
      expectProtocolError(() => afterStartup().feed(lying, () => {}));
    });

    it('when a Bind has a format count that matches neither 0, 1 nor the parameters, then it fails', () => {
      const bad = coded('B', cstr(''), cstr(''), i16(2), i16(0), i16(0), i16(3), value('a'), value('b'), value('c'), i16(0));
      expectProtocolError(() => afterStartup().feed(bad, () => {}), /2 parameter formats for 3 parameters/);
    });

    it('when a fixed-size message has a body, then it fails', () => {
      expectProtocolError(() => afterStartup().feed(coded('S', Buffer.from([1])), () => {}), /unexpected bytes/);
    });

    it('when a Describe target is neither S nor P, then it fails', () => {
      expectProtocolError(() => afterStartup().feed(coded('D', byte('X'), cstr('a')), () => {}), /neither 'S' nor 'P'/);
    });

    it('when a string is not terminated, then it fails', () => {
      expectProtocolError(() => afterStartup().feed(coded('Q', Buffer.from('select 1')), () => {}), /unterminated/);
    });

    it('when the protocol version is not 3.x, then it fails', () => {
      expectProtocolError(() => new ClientParser().feed(uncoded(i32(131072), cstr('')), () => {}), /unsupported frontend protocol 2\.0/);
    });

    it('when an error has happened, then the parser refuses further input', () => {
      const parser = afterStartup();
      expectProtocolError(() => parser.feed(coded('Z'), () => {}));
      expectProtocolError(() => parser.feed(coded('S'), () => {}), /unusable/);
    });

    it('when the callback throws, then the error propagates and the parser refuses further input', () => {
      const parser = new ClientParser();
      expect(() => parser.feed(startup, () => { throw new Error('boom'); })).toThrow('boom');
      expectProtocolError(() => parser.feed(coded('S'), () => {}), /unusable/);
    });

    it('when random bytes arrive, then the only failure is a ProtocolError', () => {
      const random = prng(7);
      for (let round = 0; round < 3000; round++) {
        const parser = round % 2 === 0 ? new ClientParser() : afterStartup();
        const bytes = Buffer.alloc(1 + Math.floor(random() * 64));
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
        // Make plausible headers common so bodies get parsed, not only rejected at the header.
        if (round % 4 === 1) {
          bytes[0] = 'QPBDESHCdcfFXp'.charCodeAt(Math.floor(random() * 14));
          if (bytes.length >= 5) bytes.writeUInt32BE(bytes.length - 1, 1);
        }
        try {
          parser.feed(bytes, () => {});
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
        }
      }
    });
  });
});
