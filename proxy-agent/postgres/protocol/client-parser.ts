// Vigil's parser of what a PostgreSQL client sends. It starts in startup mode (packets without a
// code byte: SSLRequest, GSSENCRequest, CancelRequest, StartupMessage) and switches itself to
// coded messages after a StartupMessage. After SSLRequest/GSSENCRequest it stays in startup mode:
// the client sends another startup packet once the server has answered 'N' (or has done TLS).
// Framing rules (no mutation, zero copy, early length checks) live in framer.ts.
//
// A message above wholeMessageBytes is streamed (framer.ts): its raw bytes go to onRaw as they
// arrive, then the message is delivered read from a bounded stand-in whose long values are cut
// (`cut` is set; sqlCut, paramCuts, argCuts say what was cut). A streamed CopyData is delivered
// instead as several copy-data messages, one per piece of its body, with the PIECE cut (their
// boundaries mean nothing).
import { BufferReader } from './buffer-reader.ts';
import { ClientCode, StartupCode } from './client-messages.ts';
import type { ClientMessage, StartupPacket } from './client-messages.ts';
import { ProtocolError, UnsupportedProtocolError, describeCode, formatByteLimit, quietProtocolError } from './errors.ts';
import { Framer } from './framer.ts';
import { Field, PIECE, type MessageCut } from './message-cutter.ts';

/**
 * raw: the message's exact bytes when cut is null; otherwise the message was streamed (its bytes
 * went to onRaw) and raw is only what it was read from.
 */
export type ClientMessageHandler = (msg: ClientMessage | StartupPacket, raw: Buffer, cut: MessageCut | null) => void;
/** The raw bytes of a streamed message, in order, as they arrive (views: copy to keep). */
export type RawPieceHandler = (bytes: Buffer, code: number) => void;

export interface ClientParserOptions {
  /** Largest accepted message (the length field's value); default 1 GiB, PostgreSQL's own limit. */
  maxMessageBytes?: number;
  /** Messages up to this size are delivered whole; larger ones are streamed. Default 1 MiB. */
  wholeMessageBytes?: number;
  /** The same for Query, Parse and FunctionCall (a reader that must see a statement whole). */
  wholeStatementBytes?: number;
  /** Bytes kept of each value of a streamed message. Default 64 KiB. */
  keepValueBytes?: number;
}

/** MaxAllocSize: the server takes no message body above 1 GB. */
const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 * 1024;
const DEFAULT_WHOLE_MESSAGE_BYTES = 1024 * 1024;
/** The server's own limit (MAX_STARTUP_PACKET_LENGTH), on the packet after its length field. */
const MAX_STARTUP_BYTES = 10_000;
/** Protocol 3.2 (PostgreSQL 18) allows cancel keys of up to 256 bytes. */
const MAX_CANCEL_KEY_BYTES = 256;

const KNOWN_CODES = new Uint8Array(256);
for (const code of [
  ClientCode.Bind, ClientCode.Close, ClientCode.CopyData, ClientCode.CopyDone, ClientCode.CopyFail,
  ClientCode.Describe, ClientCode.Execute, ClientCode.Flush, ClientCode.FunctionCall, ClientCode.Parse,
  ClientCode.Password, ClientCode.Query, ClientCode.Sync, ClientCode.Terminate,
]) {
  KNOWN_CODES[code] = 1;
}

// Message objects without fields are shared rather than allocated per message.
const SYNC: ClientMessage = Object.freeze({ type: 'sync' });
const FLUSH: ClientMessage = Object.freeze({ type: 'flush' });
const COPY_DONE: ClientMessage = Object.freeze({ type: 'copy-done' });
const TERMINATE: ClientMessage = Object.freeze({ type: 'terminate' });
const SSL_REQUEST: StartupPacket = Object.freeze({ type: 'ssl-request' });
const GSSENC_REQUEST: StartupPacket = Object.freeze({ type: 'gssenc-request' });

/** How a streamed message is read (framer.ts); CopyData has none: its body goes on in pieces. */
const LAYOUTS: Partial<Record<number, readonly Field[]>> = {
  [ClientCode.Query]: [Field.CString],
  [ClientCode.Parse]: [Field.CString, Field.CString, Field.Int32List],
  [ClientCode.Bind]: [Field.CString, Field.CString, Field.Int16List, Field.Values, Field.Int16List],
  [ClientCode.FunctionCall]: [Field.Int32, Field.Int16List, Field.Values, Field.Int16],
  [ClientCode.Describe]: [Field.Byte, Field.CString],
  [ClientCode.Close]: [Field.Byte, Field.CString],
  [ClientCode.Execute]: [Field.CString, Field.Int32],
  [ClientCode.CopyFail]: [Field.CString],
  [ClientCode.Password]: [Field.Rest],
  [ClientCode.Sync]: [],
  [ClientCode.Flush]: [],
  [ClientCode.Terminate]: [],
  [ClientCode.CopyDone]: [],
};

export class ClientParser extends Framer {
  private readonly maxMessageBytes: number;
  private readonly wholeMessageBytes: number;
  private readonly wholeStatementBytes: number;
  private readonly reader = new BufferReader();
  private startupMode = true;
  private onMessage: ClientMessageHandler | null = null;
  private onRaw: RawPieceHandler | null = null;

  constructor(opts: ClientParserOptions = {}) {
    super();
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.wholeMessageBytes = opts.wholeMessageBytes ?? DEFAULT_WHOLE_MESSAGE_BYTES;
    this.wholeStatementBytes = opts.wholeStatementBytes ?? this.wholeMessageBytes;
    if (opts.keepValueBytes !== undefined) this.keepValueBytes = opts.keepValueBytes;
  }

  /** True until a StartupMessage has been parsed. */
  inStartup(): boolean {
    return this.startupMode;
  }

  /** Parses every complete message in chunk (after what earlier chunks left over). */
  feed(chunk: Buffer, onMessage: ClientMessageHandler, onRaw: RawPieceHandler | null = null): void {
    this.onMessage = onMessage;
    this.onRaw = onRaw;
    this.frame(chunk);
  }

  protected headerSize(): number {
    return this.startupMode ? 4 : 5;
  }

  protected messageSize(bytes: Buffer, offset: number): number {
    if (this.startupMode) {
      // PostgreSQL logs these and closes without an answer.
      const length = bytes.readUInt32BE(offset);
      if (length < 8) throw quietProtocolError(`startup packet length ${length} is too short`);
      if (length - 4 > MAX_STARTUP_BYTES) {
        throw quietProtocolError(`startup packet length ${length} exceeds the ${MAX_STARTUP_BYTES} bytes limit`);
      }
      return length;
    }
    const code = bytes[offset];
    if (KNOWN_CODES[code] === 0) throw new ProtocolError(`unknown client message code ${describeCode(code)}`);
    const length = bytes.readUInt32BE(offset + 1);
    if (length < 4) throw new ProtocolError(`message length ${length} is too short (code ${describeCode(code)})`);
    if (length > this.maxMessageBytes) {
      throw new ProtocolError(`message length ${length} exceeds the ${formatByteLimit(this.maxMessageBytes)} limit`);
    }
    return length + 1;
  }

  protected streams(code: number, size: number): boolean {
    if (this.startupMode) return false;
    const statement = code === ClientCode.Query || code === ClientCode.Parse || code === ClientCode.FunctionCall;
    return size > (statement ? this.wholeStatementBytes : this.wholeMessageBytes);
  }

  protected layoutOf(code: number): readonly Field[] | null {
    return code === ClientCode.CopyData ? null : (LAYOUTS[code] ?? [Field.Rest]);
  }

  protected deliver(raw: Buffer, cut: MessageCut | null): void {
    if (cut !== null) return this.onMessage!(withCuts(this.parseMessage(raw), cut), raw, cut);
    const msg = this.startupMode ? this.parseStartup(raw) : this.parseMessage(raw);
    this.onMessage!(msg, raw, null);
  }

  protected deliverRaw(bytes: Buffer, code: number): void {
    this.onRaw?.(bytes, code);
  }

  protected deliverBodyPiece(_code: number, body: Buffer): void {
    this.onMessage!({ type: 'copy-data', data: body }, body, PIECE);
  }

  private parseStartup(raw: Buffer): StartupPacket {
    const reader = this.reader.reset(raw, 4);
    const code = reader.int32();
    switch (code) {
      case StartupCode.SSLRequest:
        expectEnd(reader, 'SSLRequest');
        return SSL_REQUEST;
      case StartupCode.GSSENCRequest:
        expectEnd(reader, 'GSSENCRequest');
        return GSSENC_REQUEST;
      case StartupCode.CancelRequest: {
        // PostgreSQL drops a malformed one without an answer, like any cancel request.
        if (reader.remaining() < 4) throw quietProtocolError('invalid CancelRequest: no process id');
        const processId = reader.int32();
        const keyLength = reader.remaining();
        if (keyLength < 4 || keyLength > MAX_CANCEL_KEY_BYTES) {
          throw quietProtocolError(`invalid CancelRequest: secret key of ${keyLength} bytes`);
        }
        return { type: 'cancel-request', processId, secretKey: reader.bytes(keyLength) };
      }
    }
    if (code >>> 16 !== 3) throw new UnsupportedProtocolError(code);
    const params: Record<string, string> = Object.create(null);
    // Name/value pairs up to an empty name, which must be the last byte; anything else gets the
    // server's own words for it.
    try {
      for (;;) {
        const name = reader.cstring();
        if (name === '') break;
        params[name] = reader.cstring();
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      throw new ProtocolError(STARTUP_LAYOUT);
    }
    if (reader.remaining() !== 0) throw new ProtocolError(STARTUP_LAYOUT);
    this.startupMode = false;
    return { type: 'startup', protocolVersion: code, params };
  }

  private parseMessage(raw: Buffer): ClientMessage {
    const reader = this.reader.reset(raw, 5);
    const code = raw[0];
    let msg: ClientMessage;
    switch (code) {
      case ClientCode.Query:
        msg = { type: 'query', sql: reader.cstring() };
        break;
      case ClientCode.Parse: {
        const statement = reader.cstring();
        const sql = reader.cstring();
        const count = reader.uint16();
        const paramTypes = new Array<number>(count);
        for (let i = 0; i < count; i++) paramTypes[i] = reader.uint32();
        msg = { type: 'parse', statement, sql, paramTypes };
        break;
      }
      case ClientCode.Bind: {
        const portal = reader.cstring();
        const statement = reader.cstring();
        const paramFormats = readInt16List(reader);
        const params = readValues(reader);
        if (paramFormats.length > 1 && paramFormats.length !== params.length) {
          throw new ProtocolError(
            `invalid Bind: ${paramFormats.length} parameter formats for ${params.length} parameters`,
          );
        }
        const resultFormats = readInt16List(reader);
        msg = { type: 'bind', portal, statement, paramFormats, params, resultFormats };
        break;
      }
      case ClientCode.Describe:
        msg = { type: 'describe', target: readTarget(reader, 'Describe'), name: reader.cstring() };
        break;
      case ClientCode.Execute:
        // Unsigned on the wire; 0 means no limit.
        msg = { type: 'execute', portal: reader.cstring(), maxRows: reader.uint32() };
        break;
      case ClientCode.Sync:
        msg = SYNC;
        break;
      case ClientCode.Flush:
        msg = FLUSH;
        break;
      case ClientCode.Close:
        msg = { type: 'close', target: readTarget(reader, 'Close'), name: reader.cstring() };
        break;
      case ClientCode.CopyData:
        msg = { type: 'copy-data', data: reader.bytes(reader.remaining()) };
        break;
      case ClientCode.CopyDone:
        msg = COPY_DONE;
        break;
      case ClientCode.CopyFail:
        msg = { type: 'copy-fail', message: reader.cstring() };
        break;
      case ClientCode.FunctionCall: {
        const functionOid = reader.uint32();
        const argFormats = readInt16List(reader);
        const args = readValues(reader);
        const resultFormat = reader.int16();
        msg = { type: 'function-call', functionOid, argFormats, args, resultFormat };
        break;
      }
      case ClientCode.Terminate:
        msg = TERMINATE;
        break;
      case ClientCode.Password:
        msg = { type: 'password', data: reader.bytes(reader.remaining()) };
        break;
      default:
        // messageSize() admits known codes only.
        throw new ProtocolError(`unknown client message code ${describeCode(code)}`);
    }
    if (reader.remaining() !== 0) expectEnd(reader, describeCode(code));
    return msg;
  }
}

const STARTUP_LAYOUT = 'invalid startup packet layout: expected terminator as last byte';

/** A message read from a stand-in, with what was cut from it (value positions as in LAYOUTS). */
function withCuts(msg: ClientMessage, { values }: MessageCut): ClientMessage {
  if (values.length === 0) return msg;
  switch (msg.type) {
    case 'query':
      return values[0] ? { ...msg, sqlCut: values[0] } : msg;
    case 'parse':
      return values[1] ? { ...msg, sqlCut: values[1] } : msg;
    case 'bind':
      return { ...msg, paramCuts: msg.params.map((_, i) => values[2 + i]) };
    case 'function-call':
      return { ...msg, argCuts: msg.args.map((_, i) => values[i]) };
    default:
      return msg;
  }
}

function readInt16List(reader: BufferReader): number[] {
  const count = reader.uint16();
  const list = new Array<number>(count);
  for (let i = 0; i < count; i++) list[i] = reader.int16();
  return list;
}

/** Length-prefixed values as in Bind and FunctionCall: -1 is NULL. */
function readValues(reader: BufferReader): (Buffer | null)[] {
  const count = reader.uint16();
  const values = new Array<Buffer | null>(count);
  for (let i = 0; i < count; i++) {
    const length = reader.int32();
    if (length === -1) values[i] = null;
    else if (length < 0) throw new ProtocolError(`invalid value length ${length}`);
    else values[i] = reader.bytes(length);
  }
  return values;
}

function readTarget(reader: BufferReader, what: string): 'S' | 'P' {
  const target = reader.byte();
  if (target === 0x53) return 'S';
  if (target === 0x50) return 'P';
  throw new ProtocolError(`invalid ${what}: target ${describeCode(target)} is neither 'S' nor 'P'`);
}

function expectEnd(reader: BufferReader, what: string): void {
  const left = reader.remaining();
  if (left !== 0) throw new ProtocolError(`invalid ${what} message: ${left} unexpected bytes at the end`);
}
