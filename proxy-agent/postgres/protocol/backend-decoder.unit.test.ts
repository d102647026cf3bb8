import { describe, expect, it } from 'vitest';
import { dataRowCells, decodeBackend, encodeDataRow } from './backend-decoder.ts';
import type { BackendMessage } from './backend-decoder.ts';
import { BackendFramer } from './backend-framer.ts';
import { ProtocolError } from './errors.ts';
import {
  authenticationCleartextPassword,
  authenticationOk,
  backendKeyData,
  errorResponse,
  noticeResponse,
  parameterStatus,
  readyForQuery,
  sslResponse,
} from './server-messages.ts';
import { byte, coded, cstr, i16, i32, prng, u32, value } from './test-wire.ts';

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

function only<N extends BackendMessage['name']>(msg: BackendMessage, name: N): Extract<BackendMessage, { name: N }> {
  expect(msg.name).toBe(name);
  return msg as Extract<BackendMessage, { name: N }>;
}

describe('DataRow', () => {
  it('when cells are encoded, then dataRowCells gives the same bytes back and the lengths frame correctly', () => {
    const binary = Buffer.from([0, 0xff, 0, 1]);
    const row = encodeDataRow(['alice', null, '', 'ünïcødé ☃', binary]);
    const framed: Buffer[] = [];
    new BackendFramer().push(row, (_code, message) => framed.push(message));
    expect(framed).toHaveLength(1);
    expect(dataRowCells(row)).toEqual([Buffer.from('alice'), null, Buffer.alloc(0), Buffer.from('ünïcødé ☃'), binary]);
  });

  it('when a hand-built DataRow is read, then the cells are views into it', () => {
    const row = coded('D', i16(2), value('x'), value(null));
    const cells = dataRowCells(row);
    expect(cells).toEqual([Buffer.from('x'), null]);
    expect(cells[0]!.buffer).toBe(row.buffer);
  });

  it('when a DataRow lies about its cell count or lengths, then it fails', () => {
    expectProtocolError(() => dataRowCells(coded('D', i16(3), value('x'), value('y'))), /runs past the end/);
    expectProtocolError(() => dataRowCells(coded('D', i16(1), value('x'), value('y'))), /unexpected bytes/);
    expectProtocolError(() => dataRowCells(coded('D', i16(1), i32(-2))), /length -2/);
    expectProtocolError(() => dataRowCells(coded('C', cstr('SELECT 1'))), /expected a DataRow/);
  });

  it('when decodeBackend reads a DataRow, then pg-protocol gives the text fields', () => {
    const row = only(decodeBackend(encodeDataRow(['1', null])), 'dataRow');
    expect(row.fields).toEqual(['1', null]);
  });
});

describe('decodeBackend', () => {
  it('when an ErrorResponse built by server-messages is decoded, then every field comes back', () => {
    const message = errorResponse({ severity: 'FATAL', code: '28P01', message: 'access denied', detail: 'token expired', hint: 'ask again' });
    const e = only(decodeBackend(message), 'error');
    expect({ severity: e.severity, code: e.code, message: e.message, detail: e.detail, hint: e.hint }).toEqual({
      severity: 'FATAL', code: '28P01', message: 'access denied', detail: 'token expired', hint: 'ask again',
    });
  });

  it('when a text holds a NUL, then the ErrorResponse stays well-formed', () => {
    const e = only(decodeBackend(errorResponse({ severity: 'ERROR', code: 'XX000', message: 'a\0b' })), 'error');
    expect(e.message).toBe('a\\0b');
    expect(e.code).toBe('XX000');
  });

  it('when an ErrorResponse or NoticeResponse lacks its final NUL, then it fails instead of hanging', () => {
    expectProtocolError(() => decodeBackend(coded('E', byte('M'), cstr('no end'))), /not terminated/);
    expectProtocolError(() => decodeBackend(coded('N', byte('M'), Buffer.from('abc'))), /unterminated field/);
    expectProtocolError(() => decodeBackend(coded('E', byte('M'), cstr('x'), Buffer.from([0, 0]))), /not terminated/);
    expect(only(decodeBackend(coded('E', Buffer.from([0]))), 'error').code).toBeUndefined();
  });

  it('when a NoticeResponse is decoded, then it is a notice with its fields', () => {
    const n = only(decodeBackend(noticeResponse({ severity: 'WARNING', code: '01000', message: 'careful' })), 'notice');
    expect([n.severity, n.code, n.message]).toEqual(['WARNING', '01000', 'careful']);
  });

  it('when BackendKeyData carries a 4-byte or a 32-byte key, then the whole key comes back', () => {
    for (const key of [Buffer.from([0, 0, 0x16, 0x2e]), Buffer.alloc(32, 7)]) {
      const k = only(decodeBackend(backendKeyData(4242, key)), 'backendKeyData');
      expect(k.processID).toBe(4242);
      expect(k.secretKey).toEqual(key);
    }
  });

  it('when the agent greets, then its messages decode as the client would read them', () => {
    expect(only(decodeBackend(authenticationOk()), 'authenticationOk').name).toBe('authenticationOk');
    expect(decodeBackend(authenticationCleartextPassword()).name).toBe('authenticationCleartextPassword');
    const p = only(decodeBackend(parameterStatus('server_version', '15.8')), 'parameterStatus');
    expect([p.parameterName, p.parameterValue]).toEqual(['server_version', '15.8']);
    expect(only(decodeBackend(readyForQuery('T')), 'readyForQuery').status).toBe('T');
    expect(sslResponse(true).toString()).toBe('S');
    expect(sslResponse(false).toString()).toBe('N');
  });

  it('when authentication requests arrive, then MD5 salts and SASL payloads come back', () => {
    const salt = Buffer.from([1, 2, 3, 4]);
    expect(only(decodeBackend(coded('R', i32(5), salt)), 'authenticationMD5Password').salt).toEqual(salt);
    const sasl = only(decodeBackend(coded('R', i32(10), cstr('SCRAM-SHA-256-PLUS'), cstr('SCRAM-SHA-256'), cstr(''))), 'authenticationSASL');
    expect(sasl.mechanisms).toEqual(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
    expect(only(decodeBackend(coded('R', i32(11), Buffer.from('r=x,s=y,i=1'))), 'authenticationSASLContinue').data).toBe('r=x,s=y,i=1');
    expect(only(decodeBackend(coded('R', i32(12), Buffer.from('v=abc'))), 'authenticationSASLFinal').data).toBe('v=abc');
  });

  it('when an authentication request is malformed or unsupported, then it fails instead of reading as AuthenticationOk', () => {
    expectProtocolError(() => decodeBackend(coded('R', i32(3), i32(0))), /unexpected length/);
    expectProtocolError(() => decodeBackend(coded('R', i32(5), i16(1))), /unexpected length/);
    expectProtocolError(() => decodeBackend(coded('R', i32(0), byte(1))), /unexpected length/);
    expectProtocolError(() => decodeBackend(coded('R', i32(7))), /GSSAPI authentication, which is not supported/);
    expectProtocolError(() => decodeBackend(coded('R', i32(99))), /unknown authentication request 99/);
  });

  it('when a RowDescription is decoded, then the fields carry names, types and formats', () => {
    const t = only(
      decodeBackend(coded('T', i16(2), cstr('id'), u32(16384), i16(1), u32(23), i16(4), i32(-1), i16(1), cstr('email'), u32(16384), i16(2), u32(25), i16(-1), i32(-1), i16(0))),
      'rowDescription',
    );
    expect(t.fields.map((f) => [f.name, f.dataTypeID, f.format])).toEqual([['id', 23, 'binary'], ['email', 25, 'text']]);
  });

  it('when messages pg-protocol does not decode arrive, then ours are used', () => {
    expect(only(decodeBackend(coded('V', value(Buffer.from([1, 2])))), 'functionCallResponse').result).toEqual(Buffer.from([1, 2]));
    expect(only(decodeBackend(coded('V', i32(-1))), 'functionCallResponse').result).toBeNull();
    const v = only(decodeBackend(coded('v', i32(0), i32(1), cstr('_pq_.x'))), 'negotiateProtocolVersion');
    expect([v.newestMinorVersion, v.unrecognizedOptions]).toEqual([0, ['_pq_.x']]);
    const w = only(decodeBackend(coded('W', byte(1), i16(1), i16(1))), 'copyBothResponse');
    expect([w.binary, w.columnTypes]).toEqual([true, [1]]);
  });

  it('when the other server messages are decoded, then pg-protocol names them', () => {
    const names = [
      coded('C', cstr('INSERT 0 1')), coded('A', i32(1), cstr('c'), cstr('p')), coded('1'), coded('2'), coded('3'),
      coded('n'), coded('s'), coded('I'), coded('c'), coded('t', i16(1), u32(23)), coded('G', byte(0), i16(0)),
      coded('H', byte(0), i16(0)), coded('d', Buffer.from('x')),
    ].map((m) => decodeBackend(m).name);
    expect(names).toEqual([
      'commandComplete', 'notification', 'parseComplete', 'bindComplete', 'closeComplete', 'noData',
      'portalSuspended', 'emptyQuery', 'copyDone', 'parameterDescription', 'copyInResponse', 'copyOutResponse', 'copyData',
    ]);
  });

  it('when a buffer is not exactly one message, then it fails and later decodes still work', () => {
    const whole = coded('C', cstr('SELECT 1'));
    expectProtocolError(() => decodeBackend(whole.subarray(0, whole.length - 1)), /declares/);
    expectProtocolError(() => decodeBackend(Buffer.concat([whole, whole])), /declares/);
    expectProtocolError(() => decodeBackend(coded('q')), /unknown server message code/);
    expectProtocolError(() => decodeBackend(coded('K', i32(1), i16(2))), /secret key of 2 bytes/);
    // A body pg-protocol cannot read: the parser that failed is replaced.
    expectProtocolError(() => decodeBackend(coded('A', i16(1))), /cannot decode/);
    expect(only(decodeBackend(whole), 'commandComplete').text).toBe('SELECT 1');
  });

  it('when messages are decoded, then the buffers are unchanged', () => {
    const all = [
      coded('C', cstr('SELECT 1')), encodeDataRow(['a', null]), errorResponse({ severity: 'ERROR', code: '42P01', message: 'm' }),
      coded('T', i16(1), cstr('a'), u32(0), i16(0), u32(25), i16(-1), i32(-1), i16(0)), coded('Z', byte('I')),
    ];
    const stream = Buffer.concat(all);
    const copy = Buffer.from(stream);
    new BackendFramer().push(stream.subarray(0, 9), () => {});
    const framer = new BackendFramer();
    for (let k = 0; k < stream.length; k += 3) framer.push(stream.subarray(k, k + 3), (_c, m) => decodeBackend(m));
    new BackendFramer().push(stream, (_c, m) => decodeBackend(m));
    expect(stream.equals(copy)).toBe(true);
  });

  it('when known codes carry random bodies, then the only failure is a ProtocolError', () => {
    const random = prng(3);
    const codes = 'RK23CWdcGHDIEVvnNAtS1sZT';
    for (let round = 0; round < 5000; round++) {
      const body = Buffer.alloc(Math.floor(random() * 40));
      for (let i = 0; i < body.length; i++) body[i] = random() < 0.3 ? 0 : Math.floor(random() * 256);
      if (body.length >= 4 && random() < 0.5) body.writeInt32BE(Math.floor(random() * 14) - 1, 0);
      const message = coded(codes[Math.floor(random() * codes.length)], body);
      try {
        decodeBackend(message);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
    }
    expect(only(decodeBackend(coded('Z', byte('I'))), 'readyForQuery').status).toBe('I');
  });
});
