// A complete JSON text masked field by field, written back compact (the dashboard pretty-prints):
// - a value under a key a column rule names (secret-names.ts; at any depth) becomes
//   "[SECRET_COLUMN]", whole: a string, a number, an object or an array (its whole subtree, one
//   count). null, true, false, "" and empty containers under such a key stay: they hide nothing;
// - every other string (keys too) goes through the detectors, decoded (escapes read), and read
//   after its key (`"client_secret": "...`; an array's items after the array's key) so the rules
//   keyed on a name see it; a number too (a card number written as a number becomes "[CARD]");
// - what is not masked keeps its text: numbers as written (no precision lost past 2^53),
//   strings with their original escapes, keys in their order, duplicate keys.
// The parser is its own (JSON.parse would round big numbers, reorder integer-like keys and drop
// duplicates) and iterative: nesting depth costs heap, not stack. It returns null for anything
// that is not exactly one JSON value (RFC 8259; a leading byte order mark is allowed): the caller
// then masks the text as text (json-text.ts).
import type { FieldMasker } from './field-masker.ts';

class NotJson extends Error {}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

interface Frame {
  object: boolean;
  /** The key whose value is being read (objects), or the key the array is the value of. */
  key: string | null;
}

/** `text` masked and compact, or null when it is not one JSON value. */
export function maskJson(text: string, f: FieldMasker): string | null {
  try {
    return new JsonMasker(text, f).run();
  } catch (err) {
    if (err instanceof NotJson) return null;
    throw err;
  }
}

class JsonMasker {
  private pos = 0;
  private readonly out: string[] = [];
  private readonly stack: Frame[] = [];
  /** Inside a value masked whole: nothing is written until the stack is back to this depth. */
  private hiddenAt = -1;
  /** A container was just opened: its first member comes next. */
  private opened = false;

  constructor(
    private readonly text: string,
    private readonly f: FieldMasker,
  ) {
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  run(): string {
    this.value();
    for (;;) {
      this.blank();
      const frame = this.stack.at(-1);
      if (frame === undefined) break;
      const c = this.text.charCodeAt(this.pos);
      if (this.opened) {
        this.opened = false;
        if (frame.object) this.key(frame);
        this.value();
      } else if (c === 44) {
        this.pos++;
        this.write(',');
        if (frame.object) this.key(frame);
        this.value();
      } else if (c === (frame.object ? 125 : 93)) {
        this.pos++;
        this.close();
      } else {
        throw new NotJson();
      }
    }
    if (this.pos !== this.text.length) throw new NotJson();
    return this.out.join('');
  }

  /** Reads one value; a container is only opened (run's loop reads its members: no recursion). */
  private value(): void {
    this.blank();
    const parent = this.stack.at(-1);
    const key = parent?.key ?? null;
    const secret = this.hiddenAt < 0 && parent !== undefined && parent.object && key !== null && this.f.isSecretName(key);
    const c = this.text.charCodeAt(this.pos);
    if (c === 123 || c === 91) {
      this.pos++;
      const object = c === 123;
      this.blank();
      const empty = this.text.charCodeAt(this.pos) === (object ? 125 : 93);
      if (secret && !empty) {
        this.write(`"${this.f.secretField()}"`);
        this.hiddenAt = this.stack.length;
      }
      this.write(object ? '{' : '[');
      this.stack.push({ object, key: object ? null : key });
      if (empty) {
        this.pos++;
        this.close();
      } else {
        this.opened = true;
      }
      return;
    }
    if (c === 34) {
      const [raw, decoded] = this.string();
      if (secret && decoded.length > 0) this.write(`"${this.f.secretField()}"`);
      else this.write(this.maskString(raw, decoded, key));
      return;
    }
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (m !== null && m[0].length > 0) {
      this.pos += m[0].length;
      if (secret) this.write(`"${this.f.secretField()}"`);
      else this.write(this.maskNumber(m[0], key));
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (this.text.startsWith(literal, this.pos)) {
        this.pos += literal.length;
        this.write(literal);
        return;
      }
    }
    throw new NotJson();
  }

  /** Reads a key and its ':' into `frame`. */
  private key(frame: Frame): void {
    this.blank();
    if (this.text.charCodeAt(this.pos) !== 34) throw new NotJson();
    const [raw, decoded] = this.string();
    this.blank();
    if (this.text.charCodeAt(this.pos) !== 58) throw new NotJson();
    this.pos++;
    frame.key = decoded;
    this.write(this.maskString(raw, decoded, null) + ':');
  }

  private close(): void {
    const frame = this.stack.pop()!;
    this.write(frame.object ? '}' : ']');
    if (this.hiddenAt === this.stack.length) this.hiddenAt = -1;
  }

  /** The string at pos: its source text and its value. */
  private string(): [string, string] {
    const start = this.pos;
    let escaped = false;
    let i = start + 1;
    for (;; i++) {
      const c = this.text.charCodeAt(i);
      if (Number.isNaN(c) || c < 0x20) throw new NotJson();
      if (c === 34) break;
      if (c === 92) {
        escaped = true;
        i++;
      }
    }
    this.pos = i + 1;
    const raw = this.text.slice(start, this.pos);
    if (!escaped) return [raw, raw.slice(1, -1)];
    try {
      return [raw, JSON.parse(raw) as string];
    } catch {
      throw new NotJson();
    }
  }

  private maskString(raw: string, decoded: string, key: string | null): string {
    if (this.hiddenAt >= 0) return raw;
    const masked = key === null ? this.f.value(decoded) : this.f.value(decoded, `${JSON.stringify(key)}: "`, '"');
    return masked === decoded ? raw : JSON.stringify(masked);
  }

  private maskNumber(raw: string, key: string | null): string {
    if (this.hiddenAt >= 0) return raw;
    const masked = key === null ? this.f.value(raw) : this.f.value(raw, `${JSON.stringify(key)}: `);
    return masked === raw ? raw : JSON.stringify(masked);
  }

  private write(s: string): void {
    if (this.hiddenAt < 0) this.out.push(s);
  }

  private blank(): void {
    const t = this.text;
    let c = t.charCodeAt(this.pos);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = t.charCodeAt(++this.pos);
  }
}
