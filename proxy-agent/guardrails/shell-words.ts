// What a word of the parsed line is worth once the shell removed its quotes (`r''m`, `"r"m`,
// `\rm`, `$'\x72m'` are all `rm`), or that it is only known at run time ($x, $(...), {a,b}).
import { goString, items, nodeType, type ShLit, type ShNode, type ShSource, type ShWord } from './shell-syntax.ts';

/** A word as the shell would pass it to a command, or null when it is only known at run time. */
export interface WordValue {
  value: string | null;
  /** Why the value is null, naming the word, e.g. "a variable ($x)". */
  dynamic?: string;
  /**
   * When value is null: the word with its quotes removed but its expansions left as written
   * (`"rm -rf $d"` -> `rm -rf $d`), for reading the shape of a string a shell runs.
   */
  template?: string;
  /** An unquoted *, ? or [...] or an extended glob: the shell may replace it with file names. */
  glob?: boolean;
}

const GLOB = /[*?]|\[[^\]]+\]/;
/** {1..9}, {a..z}, {1..9..2}: a sequence expression. */
const SEQUENCE = /^(-?\d+\.\.-?\d+|[A-Za-z]\.\.[A-Za-z])(\.\.-?\d+)?$/;

export function wordValue(word: ShWord, src: ShSource): WordValue {
  const text = src.of(word);
  let template = '';
  let dynamic: string | null = hasBraceExpansion(text) ? `a brace expansion (${text})` : null;
  let glob = false;
  const expansion = (part: ShNode) => {
    template += src.of(part);
    dynamic ??= describeExpansion(part, text);
  };
  for (const part of items(word.Parts)) {
    switch (nodeType(part)) {
      case 'Lit': {
        const raw = goString((part as ShLit).Value);
        if (GLOB.test(raw.replace(/\\./gs, ''))) glob = true;
        template += unescape(raw, 'bare');
        break;
      }
      case 'SglQuoted': {
        const q = part as ShLit & { Dollar: boolean };
        template += q.Dollar ? ansiC(q.Value) : goString(q.Value);
        break;
      }
      case 'DblQuoted':
        for (const inner of items((part as ShWord).Parts)) {
          if (nodeType(inner) === 'Lit') template += unescape(goString((inner as ShLit).Value), 'double');
          else expansion(inner);
        }
        break;
      case 'ExtGlob':
        glob = true;
        template += src.of(part);
        break;
      default:
        expansion(part);
    }
  }
  if (dynamic !== null) return { value: null, dynamic, template };
  return glob ? { value: template, glob } : { value: template };
}

/**
 * A here-document's body as the shell feeds it: expanded unless its delimiter was quoted. With
 * expansions, value is null and template has them as written.
 */
export function heredocValue(body: ShWord, quoted: boolean, src: ShSource): { value: string | null; template: string } {
  let template = '';
  let expanded = false;
  for (const part of items(body.Parts)) {
    if (nodeType(part) === 'Lit') {
      const raw = goString((part as ShLit).Value);
      template += quoted ? raw : unescape(raw, 'heredoc');
    } else {
      template += src.of(part);
      expanded = true;
    }
  }
  return { value: expanded ? null : template, template };
}

/**
 * An unquoted `{...}` holding an unquoted comma or `..`: bash makes several words of it. The
 * parser leaves braces as plain text, so the word's source is scanned here.
 */
export function hasBraceExpansion(text: string): boolean {
  const open: number[] = [];
  let quote: string | null = null;
  // In $'...' a backslash escapes the quote; in '...' nothing is escaped.
  let ansi = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && (quote === '"' || ansi)) i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '\\') i++;
    else if (c === "'" || c === '"') {
      quote = c;
      ansi = c === "'" && text[i - 1] === '$';
    }
    else if (c === '$' && text[i + 1] === '{') i++;
    else if (c === '{') open.push(i);
    else if (c === '}' && open.length) {
      const inner = text.slice(open.pop()! + 1, i);
      if (SEQUENCE.test(inner) || hasTopLevelComma(inner)) return true;
    }
  }
  return false;
}

function hasTopLevelComma(inner: string): boolean {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '\\') i++;
    else if (c === "'" || c === '"') quote = c;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) return true;
  }
  return false;
}

function describeExpansion(part: ShNode, text: string): string {
  const kind = nodeType(part);
  const what =
    kind === 'ParamExp' ? 'a variable'
    : kind === 'CmdSubst' ? "a command's output"
    : kind === 'ArithmExp' ? 'an arithmetic expansion'
    : kind === 'ProcSubst' ? 'a process substitution'
    : 'an expansion';
  return `${what} (${text})`;
}

/** Backslashes outside quotes escape any char; in "..." and here-documents only $ ` \ (and " in "..."). */
function unescape(raw: string, mode: 'bare' | 'double' | 'heredoc'): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== '\\' || i + 1 >= raw.length) {
      out += c;
      continue;
    }
    const next = raw[i + 1];
    if (next === '\n') i++;
    else if (mode === 'bare' || next === '$' || next === '`' || next === '\\' || (mode === 'double' && next === '"')) {
      out += next;
      i++;
    } else out += c;
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, e: 27, E: 27, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };

/**
 * The body of $'...' (as UTF-8 bytes, one per char) as bash decodes it: \x and octal escapes give
 * bytes, \u and \U code points; bash ends the string at a NUL.
 */
export function ansiC(raw: string): string {
  const bytes: number[] = [];
  const digits = (from: number, max: number, re: RegExp) => {
    let end = from;
    while (end < raw.length && end - from < max && re.test(raw[end])) end++;
    return raw.slice(from, end);
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== '\\' || i + 1 >= raw.length) {
      bytes.push(raw.charCodeAt(i) & 0xff);
      continue;
    }
    const e = raw[i + 1];
    let byte: number;
    if (Object.hasOwn(SIMPLE_ESCAPES, e)) {
      byte = SIMPLE_ESCAPES[e];
      i += 1;
    } else if (/[0-7]/.test(e)) {
      const d = digits(i + 1, 3, /[0-7]/);
      byte = parseInt(d, 8) & 0xff;
      i += d.length;
    } else if (e === 'x' && /[0-9a-fA-F]/.test(raw[i + 2] ?? '')) {
      const d = digits(i + 2, 2, /[0-9a-fA-F]/);
      byte = parseInt(d, 16);
      i += 1 + d.length;
    } else if ((e === 'u' || e === 'U') && /[0-9a-fA-F]/.test(raw[i + 2] ?? '')) {
      const d = digits(i + 2, e === 'u' ? 4 : 8, /[0-9a-fA-F]/);
      const cp = parseInt(d, 16);
      i += 1 + d.length;
      if (cp === 0) break;
      bytes.push(...Buffer.from(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\ufffd', 'utf8'));
      continue;
    } else if (e === 'c' && i + 2 < raw.length) {
      byte = raw.charCodeAt(i + 2) & 0x1f;
      i += 2;
    } else {
      bytes.push(0x5c);
      continue;
    }
    if (byte === 0) break;
    bytes.push(byte);
  }
  return Buffer.from(bytes).toString('utf8');
}
