// Bytes to text for masking: in the charset the type names (UTF-8 when none), strictly: bytes
// that are not valid in it make the body binary. A body cut at the recording limit may end inside
// a character: that last incomplete character is dropped, not an error.

/** The text of `bytes`, or null when they are not text in `charset`. */
export function decodeText(bytes: Uint8Array, charset: string | undefined, complete: boolean): string | null {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset?.trim() || 'utf-8', { fatal: true });
  } catch {
    return null; // a charset nobody knows
  }
  try {
    return decoder.decode(bytes, { stream: !complete });
  } catch {
    return null;
  }
}

/**
 * Whether text found without a type reads as text: no NUL and no other control character but
 * tab, line breaks, form feed and escape (terminal colours).
 */
export function looksLikeText(text: string): boolean {
  return !/[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]/.test(text);
}
