// The layout of COPY ... (FORMAT binary) data, read a byte at a time by binary-copy-rows.ts (which
// counts rows) and client-masking/binary-copy-out.ts (which masks them): an 11-byte signature, an
// int32 of flags, an int32 header-extension length and that many bytes; then per tuple an int16
// field count (-1 ends the data) and per field an int32 length (-1: NULL) and that many bytes.

export const SIGNATURE_BYTES = 11;

/** Where a reader is in that layout. */
export enum BinaryCopyStep {
  Signature,
  Flags,
  ExtensionLength,
  Extension,
  FieldCount,
  FieldLength,
  Field,
  Done,
}
