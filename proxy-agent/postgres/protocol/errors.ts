// The one error type of the wire layer. Anything thrown while framing or parsing bytes from a
// peer is a ProtocolError: the caller ends that connection (the parser is unusable afterwards).

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const MIB = 1024 * 1024;

/** "64 MiB" for whole mebibytes, else "10000 bytes": for limit messages people read. */
export function formatByteLimit(bytes: number): string {
  return bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`;
}

/** 0x51 ('Q'): the byte and, when printable, its letter. */
export function describeCode(code: number): string {
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  return code >= 0x20 && code < 0x7f ? `${hex} ('${String.fromCharCode(code)}')` : hex;
}
