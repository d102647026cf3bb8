// Messages too large to hold whole: their raw bytes pass by in pieces, and the reader gets a
// bounded stand-in (long values cut, with size and SHA-256) or, for CopyData, the body in pieces.
// Small limits make "large" small, so every split of the stream can be tried.
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BackendFramer } from './backend-framer.ts';
import { dataRowCells } from './backend-decoder.ts';
import { ClientParser } from './client-parser.ts';
import type { ClientMessage } from './client-messages.ts';
import { ProtocolError } from './errors.ts';
import { Field, MessageCutter, PIECE, type MessageCut } from './message-cutter.ts';
import { byte, coded, cstr, i16, i32, u32, uncoded, value } from './test-wire.ts';

const sha = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');
const LIMITS = { wholeMessageBytes: 64, keepValueBytes: 16 };

const startup = uncoded(i32(196608), cstr('user'), cstr('alice'), cstr(''));
const longSql = `select '${'x'.repeat(150)}' as v -- ☃☃`;
const bigParam = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff));
const copyData = Buffer.from('1\tone\n'.repeat(40));

/** A client stream mixing whole messages and streamed ones. */
const clientMessages = [
  startup,
  coded('Q', cstr('select 1')),
  coded('Q', cstr(longSql)),
  coded('P', cstr('s1'), cstr(longSql), i16(1), u32(25)),
  coded('B', cstr('p'), cstr('s1'), i16(1), i16(1), i16(3), value('short'), value(null), value(bigParam), i16(0)),
  coded('E', cstr('p'), i32(0)),
  coded('S'),
  coded('d', copyData),
  coded('c'),
  coded('X'),
];
const clientStream = Buffer.concat(clientMessages);

interface Seen {
  messages: ClientMessage[];
  cuts: (MessageCut | null)[];
  raw: Buffer[];
  pieces: Buffer[];
}

function parseClient(chunks: Buffer[]): Seen {
  const parser = new ClientParser(LIMITS);
  const seen: Seen = { messages: [], cuts: [], raw: [], pieces: [] };
  for (const chunk of chunks) {
    parser.feed(chunk, (msg, raw, cut) => {
      if (msg.type === 'startup') return;
      seen.messages.push(msg as ClientMessage);
      seen.cuts.push(cut);
      if (cut === null) seen.raw.push(Buffer.from(raw));
    }, (bytes) => seen.pieces.push(Buffer.from(bytes)));
  }
  return seen;
}

function expectClientStream(seen: Seen): void {
  const types = seen.messages.map((m) => m.type);
  // The CopyData arrives as several pieces of its body.
  expect(types.filter((t) => t !== 'copy-data')).toEqual(['query', 'query', 'parse', 'bind', 'execute', 'sync', 'copy-done', 'terminate']);
  const [small, query, parse, bind] = seen.messages as [
    Extract<ClientMessage, { type: 'query' }>, Extract<ClientMessage, { type: 'query' }>,
    Extract<ClientMessage, { type: 'parse' }>, Extract<ClientMessage, { type: 'bind' }>,
  ];
  expect(small).toEqual({ type: 'query', sql: 'select 1' });
  expect(seen.cuts[0]).toBeNull();
  const sqlBytes = Buffer.from(longSql);
  expect(query.sql).toBe(sqlBytes.subarray(0, 16).toString());
  expect(query.sqlCut).toEqual({ size: sqlBytes.length, sha256: sha(sqlBytes) });
  expect(parse).toMatchObject({ statement: 's1', paramTypes: [25], sqlCut: { size: sqlBytes.length, sha256: sha(sqlBytes) } });
  expect(bind.params).toEqual([Buffer.from('short'), null, bigParam.subarray(0, 16)]);
  expect(bind.paramCuts).toEqual([undefined, undefined, { size: 300, sha256: sha(bigParam) }]);
  expect(bind).toMatchObject({ portal: 'p', statement: 's1', paramFormats: [1], resultFormats: [] });
  const copies = seen.messages.filter((m): m is Extract<ClientMessage, { type: 'copy-data' }> => m.type === 'copy-data');
  expect(Buffer.concat(copies.map((c) => c.data)).equals(copyData)).toBe(true);
  expect(seen.cuts.filter((c) => c === PIECE)).toHaveLength(copies.length);
  // Every streamed message's bytes went by exactly once, in order; the rest came whole.
  const streamed = [2, 3, 4, 7].map((i) => clientMessages[i]);
  expect(Buffer.concat(seen.pieces).equals(Buffer.concat(streamed))).toBe(true);
  const whole = [1, 5, 6, 8, 9].map((i) => clientMessages[i]);
  expect(Buffer.concat(seen.raw).equals(Buffer.concat(whole))).toBe(true);
}

describe('ClientParser with messages above the whole-message limit', () => {
  it('when the stream arrives in one chunk, then long values are cut with their size and hash', () => {
    expectClientStream(parseClient([clientStream]));
  });

  it('when the stream is split at every offset, then the same messages, cuts and raw bytes come out', () => {
    for (let k = 0; k <= clientStream.length; k++) {
      expectClientStream(parseClient([clientStream.subarray(0, k), clientStream.subarray(k)]));
    }
  });

  it('when the stream is split into three pieces, then the same messages come out', () => {
    for (let i = 0; i <= clientStream.length; i += 7) {
      for (let j = i; j <= clientStream.length; j += 17) {
        expectClientStream(parseClient([clientStream.subarray(0, i), clientStream.subarray(i, j), clientStream.subarray(j)]));
      }
    }
  });

  it('when bytes arrive one at a time, then the same messages come out', () => {
    const chunks: Buffer[] = [];
    for (let k = 0; k < clientStream.length; k++) chunks.push(clientStream.subarray(k, k + 1));
    expectClientStream(parseClient(chunks));
  });

  it('when a streamed message is under way, then pendingBytes holds nothing of what was handed on', () => {
    const parser = new ClientParser(LIMITS);
    parser.feed(startup, () => {});
    const query = coded('Q', cstr(longSql));
    parser.feed(query.subarray(0, 100), () => {}, () => {});
    expect(parser.pendingBytes().length).toBe(0);
  });

  it('when statements may be held whole for longer, then a long Query is whole and a long Bind is streamed', () => {
    const parser = new ClientParser({ ...LIMITS, wholeStatementBytes: 1000 });
    parser.feed(startup, () => {});
    const seen: [string, boolean][] = [];
    parser.feed(Buffer.concat([clientMessages[2], clientMessages[4]]), (msg, _raw, cut) => seen.push([msg.type, cut !== null]));
    expect(seen).toEqual([['query', false], ['bind', true]]);
  });

  it('when a streamed message lies about its contents, then it fails with a ProtocolError', () => {
    const lying = [
      coded('B', cstr('p'), cstr('s'), i16(0), i16(1), i32(500), bigParam.subarray(0, 100), i16(0)), // a value past the end
      coded('Q', Buffer.from(longSql)), // no terminator
      coded('E', cstr('p'.repeat(80)), i32(0), Buffer.from('trailing')), // bytes after the last field
    ];
    for (const message of lying) {
      const parser = new ClientParser(LIMITS);
      parser.feed(startup, () => {});
      expect(() => parser.feed(message, () => {}, () => {})).toThrow(ProtocolError);
    }
  });

  it('when a message exceeds maxMessageBytes, then it fails on its header even though it would be streamed', () => {
    const parser = new ClientParser({ ...LIMITS, maxMessageBytes: 100 });
    parser.feed(startup, () => {});
    expect(() => parser.feed(coded('Q', cstr(longSql)).subarray(0, 5), () => {})).toThrow(/exceeds the 100 bytes limit/);
  });
});

/** A server stream: a whole row, a streamed row with long cells, a streamed CopyData. */
const cell = Buffer.from('y'.repeat(90));
const serverMessages = [
  coded('D', i16(2), value('1'), value('a')),
  coded('D', i16(4), value('2'), value(cell), value(null), value(bigParam)),
  coded('d', copyData),
  coded('c'),
  coded('C', cstr('SELECT 2')),
  coded('Z', byte('I')),
];
const serverStream = Buffer.concat(serverMessages);

function frameServer(chunks: Buffer[]) {
  const framer = new BackendFramer(LIMITS);
  const out: { code: number; message: Buffer; cut: MessageCut | null }[] = [];
  const pieces: Buffer[] = [];
  for (const chunk of chunks) {
    framer.push(chunk, (code, message, cut) => out.push({ code, message: Buffer.from(message), cut }), (b) => pieces.push(Buffer.from(b)));
  }
  return { out, pieces };
}

function expectServerStream({ out, pieces }: ReturnType<typeof frameServer>): void {
  const rows = out.filter((m) => m.code === 0x44);
  expect(rows[0].cut).toBeNull();
  expect(rows[0].message.equals(serverMessages[0])).toBe(true);
  expect(dataRowCells(rows[1].message)).toEqual([Buffer.from('2'), cell.subarray(0, 16), null, bigParam.subarray(0, 16)]);
  expect(rows[1].cut).toEqual({ size: serverMessages[1].length, values: [undefined, { size: 90, sha256: sha(cell) }, undefined, { size: 300, sha256: sha(bigParam) }] });
  const copies = out.filter((m) => m.code === 0x64);
  expect(copies.every((c) => c.cut === PIECE && c.message.readUInt32BE(1) === c.message.length - 1)).toBe(true);
  expect(Buffer.concat(copies.map((c) => c.message.subarray(5))).equals(copyData)).toBe(true);
  expect(out.filter((m) => m.code !== 0x64).map((m) => String.fromCharCode(m.code)).join('')).toBe('DDcCZ');
  expect(Buffer.concat(pieces).equals(Buffer.concat([serverMessages[1], serverMessages[2]]))).toBe(true);
}

describe('BackendFramer with messages above the whole-message limit', () => {
  it('when the stream is split at every offset, then rows are cut the same way and CopyData comes in pieces', () => {
    for (let k = 0; k <= serverStream.length; k++) {
      expectServerStream(frameServer([serverStream.subarray(0, k), serverStream.subarray(k)]));
    }
  });

  it('when bytes arrive one at a time, then the same messages come out', () => {
    const chunks: Buffer[] = [];
    for (let k = 0; k < serverStream.length; k++) chunks.push(serverStream.subarray(k, k + 1));
    expectServerStream(frameServer(chunks));
  });

  it('when the whole-message limit depends on the code, then only the codes above theirs are streamed', () => {
    const framer = new BackendFramer({ keepValueBytes: 16, wholeMessageBytes: (code) => (code === 0x44 ? 10_000 : 64) });
    const cuts: (MessageCut | null)[] = [];
    framer.push(serverStream, (code, _m, cut) => { if (code === 0x44) cuts.push(cut); });
    expect(cuts).toEqual([null, null]);
  });
});

describe('MessageCutter', () => {
  it('when values outgrow the budget, then later ones keep nothing but are still hashed', () => {
    const body = Buffer.concat([i16(3), value(bigParam), value(bigParam), value('tiny')]);
    const cutter = new MessageCutter(0x44, 5 + body.length, [Field.Values], { keep: 200, budget: 250 });
    cutter.write(body);
    const { message, cut } = cutter.finish();
    expect(dataRowCells(message).map((c) => c?.length)).toEqual([200, 50, 0]);
    expect(cut.values.map((v) => v?.size)).toEqual([300, 300, 4]);
    expect(cut.values[2]!.sha256).toBe(sha('tiny'));
  });

  it('when an ErrorResponse is streamed, then its fields stay readable', () => {
    const body = Buffer.concat([byte('S'), cstr('ERROR'), byte('M'), cstr('m'.repeat(100)), Buffer.from([0])]);
    const cutter = new MessageCutter(0x45, 5 + body.length, [Field.Fields], { keep: 10, budget: 100 });
    cutter.write(body);
    const { message, cut } = cutter.finish();
    expect(message.equals(coded('E', byte('S'), cstr('ERROR'), byte('M'), cstr('m'.repeat(10)), Buffer.from([0])))).toBe(true);
    expect(cut.values[1]).toEqual({ size: 100, sha256: sha('m'.repeat(100)) });
  });
});
