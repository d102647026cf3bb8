// How batches travel through Redis as single strings: one stream entry per append (the events'
// bodies) and one live message per session per append (sequence numbers and bodies). Each item is
// length-prefixed (`<length>:<text>`, length in UTF-16 code units), so a body may hold any
// character, newlines and colons included, and nothing is escaped or re-encoded on the way.
// Unpacking is strict: anything that does not frame exactly is refused as a whole (null), and the
// caller treats it as one invalid entry.

const MAX_LENGTH_DIGITS = 10;

export function packBodies(bodies: readonly string[]): string {
  let out = '';
  for (const body of bodies) out += `${body.length}:${body}`;
  return out;
}

export function unpackBodies(text: string): string[] | null {
  const bodies: string[] = [];
  let at = 0;
  while (at < text.length) {
    const next = readItem(text, at);
    if (!next) return null;
    bodies.push(next.text);
    at = next.end;
  }
  return bodies;
}

/** Live message of one session: `<seq>:<length>:<body>` per event, in order. */
export function packLive(events: ReadonlyArray<{ seq: number; body: string }>): string {
  let out = '';
  for (const e of events) out += `${e.seq}:${e.body.length}:${e.body}`;
  return out;
}

export function unpackLive(text: string): Array<{ seq: number; body: string }> | null {
  const events: Array<{ seq: number; body: string }> = [];
  let at = 0;
  while (at < text.length) {
    const seq = readNumber(text, at);
    if (!seq || seq.value < 1) return null;
    const item = readItem(text, seq.end);
    if (!item) return null;
    events.push({ seq: seq.value, body: item.text });
    at = item.end;
  }
  return events;
}

/** A decimal number followed by ':' at text[at]; the position after the colon. */
function readNumber(text: string, at: number): { value: number; end: number } | null {
  const colon = text.indexOf(':', at);
  if (colon <= at || colon - at > MAX_LENGTH_DIGITS + 6) return null;
  let value = 0;
  for (let i = at; i < colon; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return null;
    value = value * 10 + digit;
  }
  return Number.isSafeInteger(value) ? { value, end: colon + 1 } : null;
}

function readItem(text: string, at: number): { text: string; end: number } | null {
  const length = readNumber(text, at);
  if (!length) return null;
  const end = length.end + length.value;
  if (end > text.length) return null;
  return { text: text.slice(length.end, end), end };
}
