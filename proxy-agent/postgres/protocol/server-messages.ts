// Messages the agent itself sends to the client, playing the server's part: its own password
// challenge, refusals (ErrorResponse FATAL) and the cancel key it hands out.
import { BackendCode } from './backend-codes.ts';
import { BufferWriter } from './buffer-writer.ts';

export interface ErrorFields {
  severity: 'ERROR' | 'FATAL';
  /** SQLSTATE, five characters (e.g. 28P01 invalid_password). */
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

export interface NoticeFields {
  severity: 'WARNING' | 'NOTICE' | 'DEBUG' | 'INFO' | 'LOG';
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

const writer = new BufferWriter();

const AUTHENTICATION_OK = Buffer.from([BackendCode.Authentication, 0, 0, 0, 8, 0, 0, 0, 0]);
const AUTHENTICATION_CLEARTEXT = Buffer.from([BackendCode.Authentication, 0, 0, 0, 8, 0, 0, 0, 3]);

// Fresh copies: callers may hand the buffer to a socket and must not share one instance.
export function authenticationOk(): Buffer {
  return Buffer.from(AUTHENTICATION_OK);
}

export function authenticationCleartextPassword(): Buffer {
  return Buffer.from(AUTHENTICATION_CLEARTEXT);
}

/** ErrorResponse with fields S, V (the non-localized severity), C, M and, when given, D and H. */
export function errorResponse(fields: ErrorFields): Buffer {
  return fieldsMessage(BackendCode.ErrorResponse, fields);
}

export function noticeResponse(fields: NoticeFields): Buffer {
  return fieldsMessage(BackendCode.NoticeResponse, fields);
}

export function backendKeyData(processId: number, secretKey: Buffer): Buffer {
  return writer.int32(processId).bytes(secretKey).flush(BackendCode.BackendKeyData);
}

export function parameterStatus(name: string, value: string): Buffer {
  return writer.cstring(name).cstring(value).flush(BackendCode.ParameterStatus);
}

export function readyForQuery(status: 'I' | 'T' | 'E'): Buffer {
  return writer.int8(status.charCodeAt(0)).flush(BackendCode.ReadyForQuery);
}

/**
 * The newest protocol version spoken and the `_pq_.` options not recognised. PostgreSQL sends the
 * whole version number (196608 for 3.0) where the documentation speaks of a minor version.
 */
export function negotiateProtocolVersion(newest: number, unrecognized: readonly string[]): Buffer {
  writer.int32(newest).int32(unrecognized.length);
  for (const option of unrecognized) writer.cstring(option);
  return writer.flush(BackendCode.NegotiateProtocolVersion);
}

/**
 * An error in the protocol 2 format ('E', a line of text, NUL): how PostgreSQL tells a client
 * asking for protocol 1 or 2 that it is not spoken.
 */
export function protocol2Error(message: string): Buffer {
  return Buffer.from(`EFATAL:  ${withoutNul(message)}\n\0`, 'utf8');
}

/** The unframed one-byte answer to an SSLRequest or GSSENCRequest. */
export function sslResponse(accept: boolean): Buffer {
  return Buffer.from(accept ? 'S' : 'N', 'latin1');
}

function fieldsMessage(code: number, fields: ErrorFields | NoticeFields): Buffer {
  writer.int8(0x53).cstring(fields.severity); // S
  writer.int8(0x56).cstring(fields.severity); // V
  writer.int8(0x43).cstring(fields.code); // C
  writer.int8(0x4d).cstring(withoutNul(fields.message)); // M
  if (fields.detail !== undefined) writer.int8(0x44).cstring(withoutNul(fields.detail)); // D
  if (fields.hint !== undefined) writer.int8(0x48).cstring(withoutNul(fields.hint)); // H
  return writer.int8(0).flush(code);
}

/** A NUL inside a field would end it early and shift every later field. */
function withoutNul(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\\0') : text;
}
