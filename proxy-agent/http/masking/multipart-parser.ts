// multipart/* bodies split into parts, on bytes (a file part is rarely UTF-8): each delimiter is
// `--boundary` at the start of a line (CRLF, or a bare LF from lenient clients), a part's headers
// end at its first empty line. A body cut at the recording limit yields what it holds: its last
// part without its end (`complete` false), or only the start of a part's headers (`cutHead`).

export interface Part {
  headers: [string, string][];
  body: Buffer;
  /** The part's end (the next delimiter) was in the body. */
  complete: boolean;
}

export interface Multipart {
  preamble: Buffer;
  parts: Part[];
  /** Bytes of a part whose headers were cut before their end (a cut body only). */
  cutHead: Buffer | null;
  /** The closing delimiter `--boundary--` was reached; what follows it. */
  closed: boolean;
  epilogue: Buffer;
}

/** The parts of `body`, or null when no delimiter of `boundary` is in it. */
export function parseMultipart(body: Buffer, boundary: string): Multipart | null {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  let at = findDelimiter(body, delimiter, 0);
  if (at < 0) return null;
  const out: Multipart = { preamble: body.subarray(0, lineStart(body, at)), parts: [], cutHead: null, closed: false, epilogue: Buffer.alloc(0) };
  for (;;) {
    let pos = at + delimiter.length;
    if (body[pos] === 45 && body[pos + 1] === 45) {
      out.closed = true;
      pos = skipLine(body, pos + 2);
      out.epilogue = body.subarray(Math.min(pos, body.length));
      return out;
    }
    pos = skipLine(body, pos);
    if (pos > body.length) return out; // cut inside the delimiter line
    const next = findDelimiter(body, delimiter, pos);
    const end = next < 0 ? body.length : lineStart(body, next);
    const part = body.subarray(pos, end);
    const head = headEnd(part);
    if (head === null) {
      if (next >= 0) out.parts.push({ headers: parseHeaders(part.toString('latin1')), body: Buffer.alloc(0), complete: true });
      else out.cutHead = part;
    } else {
      out.parts.push({ headers: parseHeaders(part.subarray(0, head.headers).toString('latin1')), body: part.subarray(head.body), complete: next >= 0 });
    }
    if (next < 0) return out;
    at = next;
  }
}

/** The next `--boundary` at `from` or later that starts a line. */
function findDelimiter(body: Buffer, delimiter: Buffer, from: number): number {
  for (let at = body.indexOf(delimiter, from); at >= 0; at = body.indexOf(delimiter, at + 1)) {
    if (at === 0 || body[at - 1] === 10) return at;
  }
  return -1;
}

/** Where the line break before the delimiter at `at` starts (the break belongs to the delimiter). */
function lineStart(body: Buffer, at: number): number {
  if (at === 0) return 0;
  return body[at - 2] === 13 ? at - 2 : at - 1;
}

/** Past the end of the line at `pos` (transport padding allowed); past the body when it is cut. */
function skipLine(body: Buffer, pos: number): number {
  const lf = body.indexOf(10, pos);
  return lf < 0 ? body.length + 1 : lf + 1;
}

/** Where a part's headers end and its body starts, or null when there is no empty line. */
function headEnd(part: Buffer): { headers: number; body: number } | null {
  if (part[0] === 10) return { headers: 0, body: 1 };
  if (part[0] === 13 && part[1] === 10) return { headers: 0, body: 2 };
  const crlf = part.indexOf('\r\n\r\n');
  const lf = part.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headers: crlf, body: crlf + 4 };
  if (lf >= 0) return { headers: lf, body: lf + 2 };
  return null;
}

/** `Name: value` lines (folded lines joined); header bytes read as Latin-1 then as UTF-8 when they are. */
function parseHeaders(text: string): [string, string][] {
  const utf8 = Buffer.from(text, 'latin1').toString('utf8');
  const source = utf8.includes('\ufffd') ? text : utf8;
  const headers: [string, string][] = [];
  for (const line of source.split(/\r?\n/)) {
    if (line.length === 0) continue;
    if ((line[0] === ' ' || line[0] === '\t') && headers.length > 0) {
      headers[headers.length - 1][1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) headers.push(['', line]);
    else headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return headers;
}
