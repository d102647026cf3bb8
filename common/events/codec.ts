// One canonical encoding for every event (RFC 8785, JSON Canonicalization Scheme): sorted keys,
// no whitespace, ECMAScript number formatting. The bytes that go on the bus are the bytes that
// the store keeps and that a later hash chain signs, so any process re-encoding a parsed event
// gets the same bytes back.
import { canonicalJson } from './canonical-json.ts';
import { VigilEvent } from './schema.ts';

export function encodeEvent(event: VigilEvent): string {
  return canonicalJson(event);
}

export type DecodeResult = { ok: true; event: VigilEvent } | { ok: false; error: string };

/** Parses and validates an event from untrusted text (the bus, the store, an import). */
export function decodeEvent(text: string): DecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the input, which may hold recorded content.
    return { ok: false, error: 'not JSON' };
  }
  const parsed = VigilEvent.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `invalid event at ${issue?.path.join('.') || '(root)'}: ${issue?.message}` };
  }
  return { ok: true, event: parsed.data };
}
