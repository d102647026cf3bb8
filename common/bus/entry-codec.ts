// How batches travel through Redis as single strings: one stream entry per append (the events'
// bodies) and one live message per session per append (sequence numbers and bodies). Each item is
// length-prefixed (`<length>:<text>`, length in UTF-16 code units), so a body may hold any
// character, newlines and colons included, and nothing is escaped or re-encoded on the way.
// Unpacking is strict: anything that does not frame exactly is refused as a whole (null), and the
// caller treats it as one invalid entry.

const MAX_LENGTH_DIGITS = 10;

/** An item to pack: its text (whose UTF-16 length frames it) and that text's UTF-8 bytes. */
export interface PackItem {
  text: string;
  utf8: Buffer;
  /** Live messages only: the event's seq, written before the length. */
  seq?: number;
}

/**
 * The one writer of the framing, as bytes: the UTF-8 of each text is encoded
 * once by the caller and only copied here, so a batch bound for both the stream and the live
 * channels is not encoded to UTF-8 twice (nor measured again by the Redis client).
 * A reader decodes the whole message from UTF-8 and frames it by UTF-16 lengths, which is exact
 * for well-formed text (event bodies are: the encoder refuses lone surrogates).
 */
export function packBytes(items: readonly PackItem[], withSeq: boolean): Buffer {
  const heads: string[] = [];
  let size = 0;
  for (const item of items) {
    const head = withSeq ? `${item.seq}:${item.text.length}:` : `${item.text.length}:`;
    heads.push(head);
    size += head.length + item.utf8.length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  items.forEach((item, i) => {
    at += out.write(heads[i], at, 'latin1');
    at += item.utf8.copy(out, at);
  });
  return out;
}

/** packBytes as a string (tests, tools); the bus itself writes the bytes. */
export function packBodies(bodies: readonly string[]): string {
  return packBytes(bodies.map((text) => ({ text, utf8: Buffer.from(text, 'utf8') })), false).toString('utf8');
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

/** Live message of one session as a string: `<seq>:<length>:<body>` per event, in order. */
export function packLive(events: ReadonlyArray<{ seq: number; body: string }>): string {
  return packBytes(events.map((e) => ({ text: e.body, utf8: Buffer.from(e.body, 'utf8'), seq: e.seq })), true).toString('utf8');
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
