// Turns wire values (result cells, Bind parameters) into the text a recording keeps. Text-format
// values are UTF-8 already. Binary-format values are decoded for the common types; text-like
// types are decoded as UTF-8 because their binary form IS their UTF-8 bytes, so masking still
// sees the words; anything else is kept as a short hex prefix, which no detector reads.

/** Type OIDs whose binary representation is their UTF-8 text. */
export const TEXT_LIKE_OIDS = new Set([
  25, // text
  1043, // varchar
  1042, // bpchar
  19, // name
  114, // json
  142, // xml
  705, // unknown
  0, // unspecified (parameters without a declared type)
]);

const HEX_PREFIX_BYTES = 64;

export function binaryCellText(bytes: Buffer, typeOid: number): string {
  if (TEXT_LIKE_OIDS.has(typeOid)) return bytes.toString('utf8');
  switch (typeOid) {
    case 16: // bool
      if (bytes.length === 1) return bytes[0] ? 't' : 'f';
      break;
    case 21: // int2
      if (bytes.length === 2) return String(bytes.readInt16BE(0));
      break;
    case 23: // int4
    case 26: // oid
      if (bytes.length === 4) return String(typeOid === 26 ? bytes.readUInt32BE(0) : bytes.readInt32BE(0));
      break;
    case 20: // int8
      if (bytes.length === 8) return bytes.readBigInt64BE(0).toString();
      break;
    case 700: // float4
      if (bytes.length === 4) return String(bytes.readFloatBE(0));
      break;
    case 701: // float8
      if (bytes.length === 8) return String(bytes.readDoubleBE(0));
      break;
    case 2950: // uuid
      if (bytes.length === 16) {
        const h = bytes.toString('hex');
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      }
      break;
    case 3802: // jsonb: a version byte, then the JSON text
      if (bytes.length > 0 && bytes[0] === 1) return bytes.subarray(1).toString('utf8');
      break;
  }
  const hex = bytes.subarray(0, HEX_PREFIX_BYTES).toString('hex');
  return bytes.length > HEX_PREFIX_BYTES ? `\\x${hex}… [${bytes.length} bytes]` : `\\x${hex}`;
}

export function cellText(bytes: Buffer | null, binary: boolean, typeOid: number): string | null {
  if (bytes === null) return null;
  return binary ? binaryCellText(bytes, typeOid) : bytes.toString('utf8');
}

/** Whether masking can rewrite a binary value as text without breaking the client's decoder. */
export function binaryIsText(typeOid: number): boolean {
  return TEXT_LIKE_OIDS.has(typeOid);
}

/** Format code of parameter/column i from a Bind's format list (none = text, one = all). */
export function formatAt(formats: readonly number[], i: number): number {
  if (formats.length === 0) return 0;
  if (formats.length === 1) return formats[0];
  return formats[i] ?? 0;
}
