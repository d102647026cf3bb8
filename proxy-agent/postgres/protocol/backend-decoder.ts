// Decodes ONE whole server message (as BackendFramer delivers it) into a typed value, mostly with
// pg-protocol's Parser, plus our own code where pg-protocol falls short: BackendKeyData (its
// secret is longer than 4 bytes under protocol 3.2), FunctionCallResponse, NegotiateProtocolVersion
// and CopyBothResponse (which it does not decode), and checks before two of its parse functions:
// - Authentication: it reads a malformed or unknown request as AuthenticationOk;
// - ErrorResponse/NoticeResponse: a field list without its final NUL makes it loop forever
//   (reading past the end yields '' and the loop waits for '\0').
//
// Why handing pg-protocol's Parser the relay's bytes is safe here (read in
// node_modules/pg-protocol/dist/parser.js, 1.16.1): Parser.parse() only writes into a buffer in
// mergeBuffer() when it already holds leftover bytes from an earlier call. We check that every
// buffer is exactly one whole message (its length field matches), so each call starts with no
// leftover (mergeBuffer takes the buffer by reference), consumes the buffer to its end and resets
// its state to an empty buffer: nothing is written and nothing is retained. When a parse function
// throws midway, the Parser keeps the buffer as leftover: we then discard that Parser.
//
// DataRow cells: dataRowCells() gives raw bytes (binary-format cells stay intact); decodeBackend
// decodes them as UTF-8 strings, like pg-protocol.
import { Parser } from 'pg-protocol/dist/parser.js';
import type {
  AuthenticationMD5Password,
  CommandCompleteMessage,
  CopyDataMessage,
  CopyResponse,
  DataRowMessage,
  DatabaseError,
  Field,
  NoticeMessage,
  NotificationResponseMessage,
  ParameterDescriptionMessage,
  ParameterStatusMessage,
  ReadyForQueryMessage,
  RowDescriptionMessage,
} from 'pg-protocol/dist/messages.js';
import { BackendCode, KNOWN_BACKEND_CODES } from './backend-codes.ts';
import { BufferReader } from './buffer-reader.ts';
import { ProtocolError, describeCode } from './errors.ts';

export { BackendCode } from './backend-codes.ts';
export type {
  AuthenticationMD5Password,
  CommandCompleteMessage,
  CopyDataMessage,
  CopyResponse,
  DataRowMessage,
  DatabaseError,
  Field,
  NoticeMessage,
  NotificationResponseMessage,
  ParameterDescriptionMessage,
  ParameterStatusMessage,
  ReadyForQueryMessage,
  RowDescriptionMessage,
};

// pg-protocol types `name` as the wide MessageName; narrowing it lets `switch (msg.name)` work.
type Named<T, N extends string> = T & { readonly name: N };
interface Bare<N extends string> {
  readonly name: N;
  readonly length: number;
}

export type AuthenticationOk = Bare<'authenticationOk'>;
export type AuthenticationCleartextPassword = Bare<'authenticationCleartextPassword'>;
export interface AuthenticationSASL extends Bare<'authenticationSASL'> {
  readonly mechanisms: string[];
}
export interface AuthenticationSASLContinue extends Bare<'authenticationSASLContinue'> {
  /** The server-first-message. */
  readonly data: string;
}
export interface AuthenticationSASLFinal extends Bare<'authenticationSASLFinal'> {
  /** The server-final-message. */
  readonly data: string;
}
/** Unlike pg-protocol's, the secret is bytes: 4 under protocol 3.0, up to 256 under 3.2. */
export interface BackendKeyDataMessage extends Bare<'backendKeyData'> {
  readonly processID: number;
  readonly secretKey: Buffer;
}
export interface FunctionCallResponseMessage extends Bare<'functionCallResponse'> {
  readonly result: Buffer | null;
}
export interface NegotiateProtocolVersionMessage extends Bare<'negotiateProtocolVersion'> {
  readonly newestMinorVersion: number;
  readonly unrecognizedOptions: string[];
}
export interface CopyBothResponseMessage extends Bare<'copyBothResponse'> {
  readonly binary: boolean;
  readonly columnTypes: number[];
}
export type ErrorResponseMessage = Named<DatabaseError, 'error'>;
export type NoticeResponseMessage = Named<NoticeMessage, 'notice'>;

export type BackendMessage =
  | AuthenticationOk
  | AuthenticationCleartextPassword
  | Named<AuthenticationMD5Password, 'authenticationMD5Password'>
  | AuthenticationSASL
  | AuthenticationSASLContinue
  | AuthenticationSASLFinal
  | BackendKeyDataMessage
  | Bare<'parseComplete' | 'bindComplete' | 'closeComplete' | 'noData' | 'portalSuspended' | 'emptyQuery' | 'copyDone'>
  | Named<CommandCompleteMessage, 'commandComplete'>
  | Named<CopyResponse, 'copyInResponse' | 'copyOutResponse'>
  | CopyBothResponseMessage
  | Named<CopyDataMessage, 'copyData'>
  | Named<DataRowMessage, 'dataRow'>
  | ErrorResponseMessage
  | FunctionCallResponseMessage
  | NegotiateProtocolVersionMessage
  | NoticeResponseMessage
  | Named<NotificationResponseMessage, 'notification'>
  | Named<ParameterDescriptionMessage, 'parameterDescription'>
  | Named<ParameterStatusMessage, 'parameterStatus'>
  | Named<ReadyForQueryMessage, 'readyForQuery'>
  | Named<RowDescriptionMessage, 'rowDescription'>;

let parser = new Parser();
let decoded: unknown;
// One module-level callback rather than a closure per call.
const capture = (msg: unknown): void => {
  decoded = msg;
};
const reader = new BufferReader();

/** Decodes one whole backend message (code byte + length + body). Throws ProtocolError. */
export function decodeBackend(message: Buffer): BackendMessage {
  const code = checkWhole(message);
  switch (code) {
    case BackendCode.BackendKeyData:
      return decodeBackendKeyData(message);
    case BackendCode.FunctionCallResponse:
      return decodeFunctionCallResponse(message);
    case BackendCode.NegotiateProtocolVersion:
      return decodeNegotiateProtocolVersion(message);
    case BackendCode.CopyBothResponse:
      return decodeCopyBothResponse(message);
    case BackendCode.Authentication:
      checkAuthentication(message);
      break;
    case BackendCode.ErrorResponse:
    case BackendCode.NoticeResponse:
      checkFieldList(message);
      break;
  }
  decoded = undefined;
  try {
    parser.parse(message, capture);
  } catch (err) {
    parser = new Parser();
    throw new ProtocolError(`cannot decode server message ${describeCode(code)}: ${(err as Error).message}`);
  }
  const result = decoded;
  decoded = undefined;
  if (result === undefined) {
    // Cannot happen for a whole message; a Parser left holding bytes must not be reused.
    parser = new Parser();
    throw new ProtocolError(`server message ${describeCode(code)} was not decoded`);
  }
  return result as BackendMessage;
}

/**
 * The cells of a DataRow as raw bytes (views into message; null for SQL NULL). Cheaper than
 * decodeBackend and keeps binary-format cells intact.
 */
export function dataRowCells(message: Buffer): (Buffer | null)[] {
  if (checkWhole(message) !== BackendCode.DataRow) {
    throw new ProtocolError(`expected a DataRow, got ${describeCode(message[0])}`);
  }
  reader.reset(message, 5);
  const count = reader.uint16();
  const cells = new Array<Buffer | null>(count);
  for (let i = 0; i < count; i++) {
    const length = reader.int32();
    if (length === -1) cells[i] = null;
    else if (length < 0) throw new ProtocolError(`invalid DataRow: cell ${i} has length ${length}`);
    else cells[i] = reader.bytes(length);
  }
  expectEnd('DataRow');
  return cells;
}

/** Builds a DataRow from cells (strings as UTF-8, null as SQL NULL) with correct lengths. */
export function encodeDataRow(cells: readonly (Buffer | string | null)[]): Buffer {
  if (cells.length > 0xffff) throw new ProtocolError(`a DataRow holds at most 65535 cells, not ${cells.length}`);
  let size = 1 + 4 + 2;
  for (const cell of cells) {
    size += 4;
    if (cell !== null) size += typeof cell === 'string' ? Buffer.byteLength(cell) : cell.length;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = BackendCode.DataRow;
  out.writeUInt32BE(size - 1, 1);
  out.writeUInt16BE(cells.length, 5);
  let offset = 7;
  for (const cell of cells) {
    if (cell === null) {
      out.writeInt32BE(-1, offset);
      offset += 4;
    } else if (typeof cell === 'string') {
      const written = out.write(cell, offset + 4, 'utf8');
      out.writeUInt32BE(written, offset);
      offset += 4 + written;
    } else {
      out.writeUInt32BE(cell.length, offset);
      cell.copy(out, offset + 4);
      offset += 4 + cell.length;
    }
  }
  return out;
}

/** Returns the code of a buffer holding exactly one known message; throws otherwise. */
function checkWhole(message: Buffer): number {
  if (message.length < 5) throw new ProtocolError(`a server message is at least 5 bytes, got ${message.length}`);
  const code = message[0];
  if (KNOWN_BACKEND_CODES[code] === 0) throw new ProtocolError(`unknown server message code ${describeCode(code)}`);
  const length = message.readUInt32BE(1);
  if (length !== message.length - 1) {
    throw new ProtocolError(
      `server message ${describeCode(code)} declares ${length} bytes but ${message.length - 1} were given`,
    );
  }
  return code;
}

const AUTH_METHODS: Record<number, string> = {
  2: 'Kerberos V5',
  6: 'SCM credentials',
  7: 'GSSAPI',
  8: 'GSSAPI',
  9: 'SSPI',
};

/** Only what the agent can answer passes, with the exact length each request has. */
function checkAuthentication(message: Buffer): void {
  if (message.length < 9) throw new ProtocolError('invalid authentication request: no request code');
  const request = message.readInt32BE(5);
  const bodyLength = message.length - 9;
  switch (request) {
    case 0: // Ok
    case 3: // CleartextPassword
      if (bodyLength === 0) return;
      break;
    case 5: // MD5Password: a 4-byte salt
      if (bodyLength === 4) return;
      break;
    case 10: // SASL: mechanism names, each NUL-terminated, then an empty one
      if (bodyLength >= 1 && message[message.length - 1] === 0 && (bodyLength === 1 || message[message.length - 2] === 0)) {
        return;
      }
      break;
    case 11: // SASLContinue
    case 12: // SASLFinal
      return;
    default: {
      const method = AUTH_METHODS[request];
      throw new ProtocolError(
        method
          ? `the server asks for ${method} authentication, which is not supported`
          : `unknown authentication request ${request}`,
      );
    }
  }
  throw new ProtocolError(`invalid authentication request ${request}: unexpected length ${message.length - 1}`);
}

/** ErrorResponse/NoticeResponse body: ([type byte][cstring])* then a NUL, and nothing after. */
function checkFieldList(message: Buffer): void {
  const end = message.length;
  let i = 5;
  while (i < end && message[i] !== 0) {
    const nul = message.indexOf(0, i + 1);
    if (nul === -1) throw new ProtocolError(`invalid ${describeCode(message[0])}: unterminated field`);
    i = nul + 1;
  }
  if (i !== end - 1) throw new ProtocolError(`invalid ${describeCode(message[0])}: the field list is not terminated`);
}

function decodeBackendKeyData(message: Buffer): BackendKeyDataMessage {
  reader.reset(message, 5);
  const processID = reader.int32();
  const keyLength = reader.remaining();
  if (keyLength < 4 || keyLength > 256) throw new ProtocolError(`invalid BackendKeyData: secret key of ${keyLength} bytes`);
  return { name: 'backendKeyData', length: message.length - 1, processID, secretKey: reader.bytes(keyLength) };
}

function decodeFunctionCallResponse(message: Buffer): FunctionCallResponseMessage {
  reader.reset(message, 5);
  const size = reader.int32();
  if (size < -1) throw new ProtocolError(`invalid FunctionCallResponse: result length ${size}`);
  const result = size === -1 ? null : reader.bytes(size);
  expectEnd('FunctionCallResponse');
  return { name: 'functionCallResponse', length: message.length - 1, result };
}

function decodeNegotiateProtocolVersion(message: Buffer): NegotiateProtocolVersionMessage {
  reader.reset(message, 5);
  const newestMinorVersion = reader.int32();
  const count = reader.int32();
  if (count < 0) throw new ProtocolError(`invalid NegotiateProtocolVersion: ${count} options`);
  const unrecognizedOptions: string[] = [];
  for (let i = 0; i < count; i++) unrecognizedOptions.push(reader.cstring());
  expectEnd('NegotiateProtocolVersion');
  return { name: 'negotiateProtocolVersion', length: message.length - 1, newestMinorVersion, unrecognizedOptions };
}

function decodeCopyBothResponse(message: Buffer): CopyBothResponseMessage {
  reader.reset(message, 5);
  const binary = reader.byte() !== 0;
  const count = reader.uint16();
  const columnTypes = new Array<number>(count);
  for (let i = 0; i < count; i++) columnTypes[i] = reader.int16();
  expectEnd('CopyBothResponse');
  return { name: 'copyBothResponse', length: message.length - 1, binary, columnTypes };
}

function expectEnd(what: string): void {
  const left = reader.remaining();
  if (left !== 0) throw new ProtocolError(`invalid ${what}: ${left} unexpected bytes at the end`);
}
