// The one pass over a text that every built-in detector shares. Detectors never scan: they say
// where to look (a prefix where a token starts, a character, a run of digits where a token
// starts), and the scanner calls them there. Most characters cost one table load: letters and
// digits inside a token are skipped in a tight loop, a token start costs one more load (its first
// two characters index the prefix table), and only a candidate runs a detector's own check.
//
// A token starts at the start of the text or after a character that is not [A-Za-z0-9].
//
// Two prefilters keep candidates rare on ordinary text: a run of digits reaches the digit
// detectors only in a shape one of them could take (13-19 digits, printed groups, NNN-NN, NNN.NNN),
// and an assignment (':' or '=') reaches a detector only when the key before it ends in three
// letters that one of the detector's key endings ends in (`status=200` costs one table load).
import type { AssignmentHook, CharHook, Detector, DigitHook, PrefixHook } from './detectors/detector.ts';
import { SpanSink } from './spans.ts';

interface Bound<H> {
  hook: H;
  rule: number;
}

/** One shape for every entry, so the hot path's property loads stay monomorphic. */
interface PrefixEntry {
  /** The prefix, lower-cased when it matches in any case. */
  text: string;
  ignoreCase: boolean;
  rule: number;
  at: PrefixHook['at'];
}

// Character classes, one table load per character (bits, as several can hold).
const C_ALNUM = 1;
const C_DIGIT = 2;
/** Some prefix starts with it. */
const C_FIRST = 4;
/** A character hook looks at it. */
const C_HOOK = 8;
/** ':' or '=' with assignment hooks. */
const C_OPERATOR = 16;
/** What may end a key before an operator: a letter, '_', '-', a quote, a blank. */
const C_KEY_END = 32;

const key = (c0: number, c1: number) => (c0 << 7) | (c1 & 127);

/** 5 bits per key character: a-z (any case) are 1-26, '_' and '-' 27; anything else 0 (no key). */
const KEY_CHAR = new Uint8Array(128);
for (let c = 0; c < 26; c++) KEY_CHAR[65 + c] = KEY_CHAR[97 + c] = c + 1;
KEY_CHAR[95] = KEY_CHAR[45] = 27;
const keyCode = (c: number) => (c < 128 ? KEY_CHAR[c] : 0);

interface AssignmentEntry extends Bound<AssignmentHook> {
  /** The key ending, lower case ('' for a hook on every assignment). */
  ending: string;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
/** The code at `i`, or -1 past the end (reading past the end would deoptimize the hot loop). */
const codeAt = (text: string, i: number) => (i < text.length ? text.charCodeAt(i) : -1);

export class Scanner {
  /** Index into `groups` (0: none) by the first two characters of a token. */
  private readonly prefixTable = new Uint16Array(128 * 128);
  private readonly groups: PrefixEntry[][] = [[]];
  /** By UTF-16 code unit: the C_* bits. */
  private readonly classes = new Uint8Array(65536);
  /** Index into `charHooks` (0: none) by character. */
  private readonly charTable = new Uint8Array(128);
  private readonly charHooks: Bound<CharHook>[][] = [[]];
  private readonly digitHooks: Bound<DigitHook>[] = [];
  /** Index into `assignmentGroups` (0: none) by the last three characters of a key (5 bits each). */
  private readonly assignmentTable = new Uint16Array(1 << 15);
  private readonly assignmentGroups: AssignmentEntry[][] = [[]];
  private readonly anyAssignment: AssignmentEntry[] = [];
  /** Prefixes matched by the last scan (0: no detector's pattern ran; characters and digits only pass cheap checks). */
  checks = 0;

  /** `rules[i]` is the rule index of the first name of detectors[i]. */
  constructor(detectors: readonly Detector[], rules: readonly number[]) {
    const cls = this.classes;
    for (let c = 48; c <= 57; c++) cls[c] = C_ALNUM | C_DIGIT;
    for (let c = 65; c <= 90; c++) cls[c] = cls[c + 32] = C_ALNUM | C_KEY_END;
    for (const c of '_-"\' \t') cls[c.charCodeAt(0)] |= C_KEY_END;
    detectors.forEach((d, i) => {
      const base = rules[i];
      for (const hook of d.prefixes ?? []) this.addPrefix(hook, base + (hook.rule ?? 0));
      for (const hook of d.chars ?? []) this.addChar(hook, base + (hook.rule ?? 0));
      if (d.digits) this.digitHooks.push({ hook: d.digits, rule: base });
      for (const hook of d.assignments ?? []) this.addAssignment(hook, base + (hook.rule ?? 0));
    });
    if (this.assignmentGroups.length > 1 || this.anyAssignment.length > 0) cls[58] = cls[61] |= C_OPERATOR;
  }

  private addAssignment(hook: AssignmentHook, rule: number): void {
    if (hook.keys === 'any') {
      this.anyAssignment.push({ hook, rule, ending: '' });
      return;
    }
    for (const ending of hook.keys) {
      const k = ending.length >= 3 ? suffixCode(ending, ending.length) : 0;
      if (k <= 0) throw new Error(`masking: key ending ${JSON.stringify(ending)} needs 3 letters, '_' or '-' at its end`);
      if (this.assignmentTable[k] === 0) {
        this.assignmentTable[k] = this.assignmentGroups.length;
        this.assignmentGroups.push([]);
      }
      this.assignmentGroups[this.assignmentTable[k]].push({ hook, rule, ending });
    }
  }

  /** Whether any detector matches in `text` (for a detector that looks into what a value decodes to). */
  private readonly findsAny = (text: string): boolean => {
    const sink = new SpanSink();
    const checks = this.checks;
    this.scan(text, sink);
    this.checks = checks;
    return sink.spans.length > 0;
  };

  private addPrefix(hook: PrefixHook, rule: number): void {
    if (hook.prefix.length < 2) throw new Error(`masking: prefix ${JSON.stringify(hook.prefix)} is shorter than 2 characters`);
    const text = hook.ignoreCase ? hook.prefix.toLowerCase() : hook.prefix;
    const entry: PrefixEntry = { text, ignoreCase: hook.ignoreCase === true, rule, at: hook.at };
    const firsts = hook.ignoreCase ? caseVariants(text[0]) : [text[0]];
    const seconds = hook.ignoreCase ? caseVariants(text[1]) : [text[1]];
    for (const a of firsts) {
      for (const b of seconds) {
        const k = key(a.charCodeAt(0), b.charCodeAt(0));
        this.classes[a.charCodeAt(0)] |= C_FIRST;
        if (this.prefixTable[k] === 0) {
          this.prefixTable[k] = this.groups.length;
          this.groups.push([]);
        }
        const group = this.groups[this.prefixTable[k]];
        if (!group.includes(entry)) group.push(entry);
      }
    }
  }

  private addChar(hook: CharHook, rule: number): void {
    const c = hook.char.charCodeAt(0);
    this.classes[c] |= C_HOOK;
    if (this.charTable[c] === 0) {
      this.charTable[c] = this.charHooks.length;
      this.charHooks.push([]);
    }
    this.charHooks[this.charTable[c]].push({ hook, rule });
  }

  /** Adds every detector's spans in `text` to `out`. */
  scan(text: string, out: SpanSink): void {
    this.checks = 0;
    out.findsAny = this.findsAny;
    const n = text.length;
    const cls = this.classes;
    const prefixTable = this.prefixTable;
    let i = 0;
    while (i < n) {
      // `i` is a token start.
      let c = text.charCodeAt(i);
      let k = cls[c];
      if ((k & C_FIRST) !== 0) {
        const g = prefixTable[key(c, i + 1 < n ? text.charCodeAt(i + 1) : 0)];
        if (g !== 0) this.prefixes(this.groups[g], text, i, out);
      }
      if ((k & C_ALNUM) !== 0) {
        if ((k & C_DIGIT) !== 0) {
          const start = i;
          while (++i < n && (cls[(c = text.charCodeAt(i))] & C_DIGIT) !== 0);
          // One or two digits (the parts of dates and times) start nothing but the "1" of "1-555-...".
          const len = i - start;
          if ((len >= 3 || (len === 1 && text.charCodeAt(start) === 49)) && this.digitHooks.length > 0 && digitShape(text, start, i)) this.digits(text, start, i, out);
        }
        while (i < n && (cls[(c = text.charCodeAt(i))] & C_ALNUM) !== 0) i++;
        if (i === n) break;
        k = cls[c];
      }
      // `c` at `i` is not [A-Za-z0-9]: the next position is a token start.
      if ((k & C_OPERATOR) !== 0) {
        // A key ends in a letter, '_', '-', a quote or a blank: "10:00" is no assignment. Right
        // after a letter, the key's last three characters decide without a call (`status=200`).
        if (i > 0 && (cls[(c = text.charCodeAt(i - 1))] & C_KEY_END) !== 0 && ((cls[c] & C_ALNUM) === 0 || this.assignmentTable[suffixCode(text, i)] !== 0 || this.anyAfter(text, i))) {
          this.assignment(text, i, out);
        }
      } else if ((k & C_HOOK) !== 0) {
        this.chars(this.charHooks[this.charTable[c]], text, i, out);
      }
      i++;
    }
  }

  private prefixes(group: readonly PrefixEntry[], text: string, at: number, out: SpanSink): void {
    for (let k = 0; k < group.length; k++) {
      const entry = group[k];
      if (!(entry.ignoreCase ? startsWithFolded(text, at, entry.text) : text.startsWith(entry.text, at))) continue;
      this.checks++;
      out.rule = entry.rule;
      entry.at(text, at, out);
    }
  }

  private chars(hooks: readonly Bound<CharHook>[], text: string, at: number, out: SpanSink): void {
    for (const { hook, rule } of hooks) {
      out.rule = rule;
      hook.at(text, at, out);
    }
  }

  /** At ':' or '=': the detectors for the key's ending, then those for every assignment. */
  private assignment(text: string, at: number, out: SpanSink): void {
    let keyEnd = at;
    for (let blanks = 0; blanks < 8 && keyEnd > 0; blanks++) {
      const c = text.charCodeAt(keyEnd - 1);
      if (c !== 32 && c !== 9) break;
      keyEnd--;
    }
    const q = keyEnd > 0 ? text.charCodeAt(keyEnd - 1) : -1;
    if (q === 34 || q === 39) keyEnd -= keyEnd > 1 && text.charCodeAt(keyEnd - 2) === 92 ? 2 : 1; // a quote, or \" inside a JSON string
    const k = suffixCode(text, keyEnd);
    const g = k > 0 ? this.assignmentTable[k] : 0;
    if (g !== 0) {
      for (const entry of this.assignmentGroups[g]) {
        if (!endsWithFolded(text, keyEnd, entry.ending)) continue;
        this.checks++;
        out.rule = entry.rule;
        entry.hook.at(text, at, keyEnd, out);
      }
    }
    if (!this.anyAfter(text, at)) return;
    for (const entry of this.anyAssignment) {
      out.rule = entry.rule;
      entry.hook.at(text, at, keyEnd, out);
    }
  }

  /** Hooks on every assignment see only those whose value is set off by a blank or a quote (`key: value`, `"key":"value"`). */
  private anyAfter(text: string, at: number): boolean {
    if (this.anyAssignment.length === 0 || at + 1 >= text.length) return false;
    const c = text.charCodeAt(at + 1);
    return c === 32 || c === 9 || c === 34 || c === 39;
  }

  private digits(text: string, start: number, end: number, out: SpanSink): void {
    for (const { hook, rule } of this.digitHooks) {
      out.rule = rule;
      hook(text, start, end, out);
    }
  }
}

/** The last three key characters before `end`, 5 bits each; 0 when one of them is not a key character. */
function suffixCode(text: string, end: number): number {
  if (end < 3) return 0;
  const a = keyCode(text.charCodeAt(end - 3)); // end >= 3: in bounds
  const b = keyCode(text.charCodeAt(end - 2));
  const c = keyCode(text.charCodeAt(end - 1));
  return a === 0 || b === 0 || c === 0 ? 0 : (a << 10) | (b << 5) | c;
}

/**
 * Whether the digits text[start, end) starting a token could begin a card number (13-19 digits,
 * or a group of four followed by a separator and four or six more), an SSN or a North-American
 * phone number (NNN-NN..., NNN.NNN, 1-NNN): the union of what the digit detectors look for.
 */
function digitShape(text: string, start: number, end: number): boolean {
  const len = end - start;
  if (len >= 13) return len <= 19;
  const sep = codeAt(text, end);
  switch (len) {
    case 4:
      return (sep === 32 || sep === 45) && isDigit(codeAt(text, end + 1)) && isDigit(codeAt(text, end + 2)) && isDigit(codeAt(text, end + 3)) && isDigit(codeAt(text, end + 4));
    case 3:
      return (sep === 45 || sep === 46) && isDigit(codeAt(text, end + 1)) && isDigit(codeAt(text, end + 2));
    case 1:
      return text.charCodeAt(start) === 49 && (sep === 45 || sep === 46 || sep === 32);
    default:
      return false;
  }
}

/** Whether text[.., end) ends with `lower` (lower-case ASCII) in any letter case. */
function endsWithFolded(text: string, end: number, lower: string): boolean {
  return end >= lower.length && startsWithFolded(text, end - lower.length, lower);
}

function caseVariants(ch: string): string[] {
  const lower = ch.toLowerCase();
  const upper = ch.toUpperCase();
  return lower === upper ? [ch] : [lower, upper];
}

/** Whether text[at..] starts with `lower` (lower-case ASCII) in any letter case. */
function startsWithFolded(text: string, at: number, lower: string): boolean {
  if (at + lower.length > text.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = text.charCodeAt(at + i);
    const l = lower.charCodeAt(i);
    if (c !== l && (c | 0x20) !== l) return false;
  }
  return true;
}
