// The one error type of the wire layer. Anything thrown while framing or parsing bytes from a
// peer is a ProtocolError: the caller ends that connection (the parser is unusable afterwards).

export class ProtocolError extends Error {
  override name = 'ProtocolError';
  /** PostgreSQL closes the connection without a word for this one (a startup packet of impossible length). */
  quiet = false;
}

/** Logged, never answered: what PostgreSQL does with a startup packet it cannot even frame. */
export function quietProtocolError(message: string): ProtocolError {
  const err = new ProtocolError(message);
  err.quiet = true;
  return err;
}

/** A startup packet asking for a protocol other than 3.x (answered as PostgreSQL answers it). */
export class UnsupportedProtocolError extends ProtocolError {
  override name = 'UnsupportedProtocolError';
  constructor(readonly version: number) {
    super(`unsupported frontend protocol ${version >>> 16}.${version & 0xffff}: server supports 3.0 to 3.0`);
  }
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** "1 GiB" or "64 MiB" for whole units, else "10000 bytes": for limit messages people read. */
export function formatByteLimit(bytes: number): string {
  if (bytes % GIB === 0) return `${bytes / GIB} GiB`;
  return bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`;
}

/** 0x51 ('Q'): the byte and, when printable, its letter. */
export function describeCode(code: number): string {
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  return code >= 0x20 && code < 0x7f ? `${hex} ('${String.fromCharCode(code)}')` : hex;
}
