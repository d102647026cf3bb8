// What a client (frontend) sends, as typed values. Field names follow the protocol documentation;
// byte payloads are views into the message they came from (copy them to keep them past the
// callback if the chunk may be reused).
import { ProtocolError } from './errors.ts';
import type { ValueCut } from './message-cutter.ts';

/** Codes of frontend messages after the startup phase. */
export const enum ClientCode {
  Bind = 0x42, // B
  Close = 0x43, // C
  CopyData = 0x64, // d
  CopyDone = 0x63, // c
  CopyFail = 0x66, // f
  Describe = 0x44, // D
  Execute = 0x45, // E
  Flush = 0x48, // H
  FunctionCall = 0x46, // F
  Parse = 0x50, // P
  Password = 0x70, // p (also SASLInitialResponse, SASLResponse, GSSResponse)
  Query = 0x51, // Q
  Sync = 0x53, // S
  Terminate = 0x58, // X
}

/** The int32 that follows the length in a packet without a code byte. */
export const enum StartupCode {
  CancelRequest = 80877102, // 1234.5678
  SSLRequest = 80877103, // 1234.5679
  GSSENCRequest = 80877104, // 1234.5680
  ProtocolV3 = 196608, // 3.0; minor versions 3.x are 196608 + x
}

export type StartupPacket =
  | { type: 'ssl-request' }
  | { type: 'gssenc-request' }
  /** secretKey is 4 bytes up to PostgreSQL 17, up to 256 bytes with protocol 3.2 (PostgreSQL 18). */
  | { type: 'cancel-request'; processId: number; secretKey: Buffer }
  /** params has a null prototype: a client-sent key such as `__proto__` is just a key. */
  | { type: 'startup'; protocolVersion: number; params: Record<string, string> };

// A message too large to hold whole is read from a stand-in (message-cutter.ts): its long values
// hold only their first bytes, and the *Cut fields give the real size and hash of each one cut.
export type ClientMessage =
  | { type: 'query'; sql: string; sqlCut?: ValueCut } // Q
  | { type: 'parse'; statement: string; sql: string; paramTypes: number[]; sqlCut?: ValueCut } // P
  | {
      type: 'bind';
      portal: string;
      statement: string;
      paramFormats: number[];
      params: (Buffer | null)[];
      resultFormats: number[];
      paramCuts?: (ValueCut | undefined)[];
    } // B
  | { type: 'describe'; target: 'S' | 'P'; name: string } // D
  | { type: 'execute'; portal: string; maxRows: number } // E
  | { type: 'sync' } // S
  | { type: 'flush' } // H
  | { type: 'close'; target: 'S' | 'P'; name: string } // C
  | { type: 'copy-data'; data: Buffer } // d
  | { type: 'copy-done' } // c
  | { type: 'copy-fail'; message: string } // f
  | {
      type: 'function-call';
      functionOid: number;
      argFormats: number[];
      args: (Buffer | null)[];
      resultFormat: number;
      argCuts?: (ValueCut | undefined)[];
    } // F
  | { type: 'terminate' } // X
  /** PasswordMessage, SASLInitialResponse and SASLResponse share the code: the body is kept raw. */
  | { type: 'password'; data: Buffer }; // p

/** The text of a PasswordMessage (a NUL-terminated string filling the whole body). */
export function passwordText(msg: { type: 'password'; data: Buffer }): string {
  const nul = msg.data.indexOf(0);
  if (nul !== msg.data.length - 1) {
    throw new ProtocolError('invalid password message: the body is not exactly one NUL-terminated string');
  }
  return msg.data.toString('utf8', 0, nul);
}
