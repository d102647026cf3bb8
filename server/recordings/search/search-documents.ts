// What a recording offers to search, extracted as its events arrive: the hub feeds one session's
// events in seq order, batch after batch while the session is live, and gets back the search
// documents and statement index entries those events completed (search-index.ts stores them).
//
// Documents:
// - query: a db.query's SQL (and its parameters, on a line of their own);
// - command: an ssh.exec command line; an ssh.file transfer (`sftp download /etc/hosts`); an HTTP
//   request line (`GET /api/users?limit=10`);
// - input: a line typed on a terminal (typed-lines.ts), COPY FROM STDIN content, an HTTP request
//   body's text, a WebSocket message from the client;
// - output: what a terminal showed (screen-text.ts), a result's first rows, COPY TO STDOUT content,
//   errors and notices as psql prints them, an HTTP status line (`HTTP 404 Not Found`), a response
//   body's text, a WebSocket message from the target.
// A document is keyed by (seq, kind, part): the event it begins at, and its place among documents
// of that kind begun there (a long statement is cut into parts; an event may end several lines).
// Everything recorded is masked by the agents already; nothing here unmasks or adds data.
//
// State: per terminal channel, the line being typed, the output chunk being gathered and two
// escape-sequence scanners; the statements still waiting for an answer (statement-pairing.ts).
// All of it is bounded and plain data: snapshot() gives it as JSON, restore() takes it back, and the
// extractor then goes on exactly where it was. Without a snapshot, start({ fromSeq }) begins fresh at
// an event boundary: what was held for earlier events is lost (a partly typed line, the output
// gathered since the last chunk closed, and the pairing of statements still unanswered then).
// Feeding events the extractor has seen (seq below nextSeq) does nothing; extraction is
// deterministic, so re-feeding the same events from a snapshot yields the same documents.
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import type { EventOf, VigilEvent } from '../../../common/events/index.ts';
import { newScreenTextState, ScreenText, ScreenTextState, type ScreenChunk } from './screen-text.ts';
import { PendingStatement, StatementPairing, type StatementEntry } from './statement-pairing.ts';
import { cutAt, newTypedLinesState, TypedLines, TypedLinesState, type TypedLine } from './typed-lines.ts';
import { newVtScanState } from './vt-scanner.ts';

export type { StatementEntry, StatementError } from './statement-pairing.ts';

export const SEARCH_KINDS = ['query', 'command', 'input', 'output'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

export interface SearchDocument {
  sessionId: string;
  /** The event the text begins at. */
  seq: number;
  kind: SearchKind;
  /** Its place among the documents of this kind that begin at this event (0, 1, ...). */
  part: number;
  /** The time of the event at seq. */
  time: string;
  text: string;
}

export interface Extracted {
  documents: SearchDocument[];
  statements: StatementEntry[];
}

/** A statement or command longer than this is cut into parts (at a space when there is one). */
export const DOC_CHARS = 8192;
/** A result's document: its column names and first rows, up to this many rows and characters. */
export const RESULT_ROWS = 50;
export const RESULT_CHARS = 4096;
/** COPY content, parameters: the first characters. */
export const COPY_CHARS = 4096;
export const PARAMS_CHARS = 1024;
/** An HTTP body part or a WebSocket message: its first characters (cut into DOC_CHARS parts). */
export const BODY_CHARS = 32 * 1024;
/** Channels followed at once; past it the longest-idle one is closed (its text goes out). */
export const MAX_CHANNELS = 64;

const ChannelState = z.object({
  channel: z.number().int().nonnegative(),
  input: TypedLinesState,
  output: ScreenTextState,
});

export const ExtractorSnapshot = z.object({
  v: z.literal(1),
  sessionId: z.string().min(1).max(64),
  nextSeq: z.number().int().positive(),
  /** Channels in the order they were last used (least recent first). */
  channels: z.array(ChannelState).max(MAX_CHANNELS),
  pending: z.array(PendingStatement),
});
export type ExtractorSnapshot = z.infer<typeof ExtractorSnapshot>;

interface Channel {
  input: TypedLines;
  output: ScreenText;
}

export class SearchExtractor {
  readonly sessionId: string;
  #nextSeq: number;
  /** By channel number, least recently used first (Map keeps insertion order). */
  readonly #channels = new Map<number, Channel>();
  readonly #statements: StatementPairing;

  private constructor(sessionId: string, nextSeq: number, pending: PendingStatement[]) {
    this.sessionId = sessionId;
    this.#nextSeq = nextSeq;
    this.#statements = new StatementPairing(sessionId, pending);
  }

  /** A fresh extractor for a session, from its first event or from an event boundary. */
  static start(sessionId: string, opts: { fromSeq?: number } = {}): SearchExtractor {
    const fromSeq = opts.fromSeq ?? 1;
    if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw new RangeError(`invalid fromSeq: ${fromSeq}`);
    return new SearchExtractor(sessionId, fromSeq, []);
  }

  /** An extractor exactly where snapshot() left one; throws if the snapshot is not one. */
  static restore(snapshot: unknown): SearchExtractor {
    const s = ExtractorSnapshot.parse(snapshot);
    const extractor = new SearchExtractor(s.sessionId, s.nextSeq, s.pending);
    for (const c of s.channels) {
      extractor.#channels.set(c.channel, { input: new TypedLines(c.input), output: new ScreenText(c.output) });
    }
    return extractor;
  }

  /** The seq of the next event expected; earlier ones are ignored. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** The state as plain JSON-safe data (a copy). */
  snapshot(): ExtractorSnapshot {
    return structuredClone({
      v: 1 as const,
      sessionId: this.sessionId,
      nextSeq: this.#nextSeq,
      channels: [...this.#channels].map(([channel, c]) => ({ channel, input: c.input.state, output: c.output.state })),
      pending: this.#statements.pending,
    });
  }

  /**
   * Feeds events of this session in seq order. A gap (an event past nextSeq) is taken as a fresh
   * boundary: lines being typed are dropped and open output chunks closed.
   */
  push(events: readonly VigilEvent[]): Extracted {
    const out: Extracted = { documents: [], statements: [] };
    for (const e of events) {
      if (e.sessionId !== this.sessionId) throw new Error(`event of session ${e.sessionId} fed to the extractor of ${this.sessionId}`);
      if (e.seq < this.#nextSeq) continue;
      if (e.seq > this.#nextSeq) this.#discontinuity(out);
      this.#nextSeq = e.seq + 1;
      this.#event(e, out);
    }
    return out;
  }

  /**
   * Closes the output chunks still open, so the latest output of a live, quiet session becomes
   * searchable. Where a chunk closes then depends on when this is called: a re-extraction from
   * an earlier snapshot may cut that output differently (its text is then indexed twice).
   */
  flush(): Extracted {
    const out: Extracted = { documents: [], statements: [] };
    for (const c of this.#channels.values()) this.#chunks(out, (chunks) => c.output.flush(chunks));
    return out;
  }

  /** The session is over: everything held goes out (session.end does this by itself). */
  finish(): Extracted {
    const out: Extracted = { documents: [], statements: [] };
    this.#finish(out);
    return out;
  }

  #event(e: VigilEvent, out: Extracted): void {
    switch (e.type) {
      case 'db.query':
        this.#text(out, e, 'query', queryText(e));
        this.#statements.query(e, out.statements);
        break;
      case 'db.result':
        this.#statements.result(e, out.statements);
        if (e.data.columns.length > 0 && e.data.rows.length > 0) this.#doc(out, e, 'output', 0, resultText(e));
        break;
      case 'db.error':
        this.#statements.error(e, out.statements);
        this.#doc(out, e, 'output', 0, psqlMessage(e.data.severity, e.data.message, e.data.detail, e.data.hint));
        break;
      case 'db.notice':
        this.#doc(out, e, 'output', 0, psqlMessage(e.data.severity, e.data.message, e.data.detail));
        break;
      case 'db.copy':
        this.#statements.answered(e.data.querySeq, out.statements);
        if (e.data.content) {
          this.#doc(out, e, e.data.direction === 'in' ? 'input' : 'output', 0, e.data.content.slice(0, cutAt(e.data.content, COPY_CHARS)));
        }
        break;
      case 'ssh.exec':
        this.#text(out, e, 'command', e.data.command);
        break;
      case 'ssh.file':
        this.#doc(out, e, 'command', 0, `${e.data.protocol} ${e.data.direction} ${e.data.path}`);
        break;
      case 'term.input': {
        const c = this.#channel(e.data.channel, out);
        if (e.data.text !== undefined) this.#lines(out, (lines) => c.input.push(e.data.text!, e.seq, e.time, lines));
        else c.input.hidden();
        break;
      }
      case 'term.output': {
        const c = this.#channel(e.data.channel, out);
        this.#chunks(out, (chunks) => c.output.push(e.data.text, e.data.stream ?? 'stdout', e.seq, e.time, chunks));
        break;
      }
      case 'ssh.exit':
        this.#closeChannel(e.data.channel, out);
        break;
      case 'http.request':
        this.#text(out, e, 'command', `${e.data.method} ${e.data.path}${e.data.query ? `?${e.data.query}` : ''}`);
        break;
      case 'http.response':
        this.#doc(out, e, 'output', 0, statusLine(e.data.status));
        break;
      case 'http.body':
        if (e.data.text) this.#text(out, e, e.data.direction === 'request' ? 'input' : 'output', e.data.text.slice(0, cutAt(e.data.text, BODY_CHARS)));
        break;
      case 'ws.message':
        if (e.data.kind === 'text' && e.data.text) this.#text(out, e, e.data.direction === 'client' ? 'input' : 'output', e.data.text.slice(0, cutAt(e.data.text, BODY_CHARS)));
        break;
      case 'session.end':
        this.#finish(out);
        break;
      default:
        break;
    }
  }

  #channel(channel: number, out: Extracted): Channel {
    let c = this.#channels.get(channel);
    if (c) {
      // Most recently used last.
      this.#channels.delete(channel);
    } else {
      if (this.#channels.size >= MAX_CHANNELS) this.#closeChannel(this.#channels.keys().next().value!, out);
      c = { input: new TypedLines(newTypedLinesState()), output: new ScreenText(newScreenTextState()) };
    }
    this.#channels.set(channel, c);
    return c;
  }

  #closeChannel(channel: number, out: Extracted): void {
    const c = this.#channels.get(channel);
    if (!c) return;
    this.#lines(out, (lines) => c.input.end(lines));
    this.#chunks(out, (chunks) => c.output.flush(chunks));
    this.#channels.delete(channel);
  }

  #finish(out: Extracted): void {
    for (const channel of [...this.#channels.keys()]) this.#closeChannel(channel, out);
    this.#statements.end(out.statements);
  }

  #discontinuity(out: Extracted): void {
    for (const c of this.#channels.values()) {
      c.input.hidden();
      c.input.state.scan = newVtScanState();
      this.#chunks(out, (chunks) => c.output.flush(chunks));
      c.output.state.scan = { stdout: newVtScanState(), stderr: newVtScanState() };
    }
  }

  #lines(out: Extracted, fill: (lines: TypedLine[]) => void): void {
    const lines: TypedLine[] = [];
    fill(lines);
    for (const l of lines) out.documents.push(this.#make(l.seq, 'input', l.part, l.time, l.text));
  }

  #chunks(out: Extracted, fill: (chunks: ScreenChunk[]) => void): void {
    const chunks: ScreenChunk[] = [];
    fill(chunks);
    for (const c of chunks) out.documents.push(this.#make(c.seq, 'output', c.part, c.time, c.text));
  }

  /** A text that may be long: cut into parts of at most DOC_CHARS. */
  #text(out: Extracted, e: VigilEvent, kind: SearchKind, text: string): void {
    splitText(text, DOC_CHARS).forEach((piece, part) => this.#doc(out, e, kind, part, piece));
  }

  #doc(out: Extracted, e: VigilEvent, kind: SearchKind, part: number, text: string): void {
    const plain = text.trim();
    if (plain) out.documents.push(this.#make(e.seq, kind, part, e.time, plain));
  }

  #make(seq: number, kind: SearchKind, part: number, time: string, text: string): SearchDocument {
    return { sessionId: this.sessionId, seq, kind, part, time, text: withoutNul(text) };
  }
}

/** The SQL, and the parameters it ran with (masked, as recorded) on a line of their own. */
function queryText(e: EventOf<'db.query'>): string {
  const params = e.data.params ?? [];
  if (params.length === 0) return e.data.sql;
  const values = params.map((p, i) => `$${i + 1}=${p.value === null ? 'NULL' : p.value}`).join(' ');
  return `${e.data.sql}\n-- ${values.slice(0, cutAt(values, PARAMS_CHARS))}`;
}

/** Column names, then the first rows, tab-separated, cut at a row when it grows too long. */
function resultText(e: EventOf<'db.result'>): string {
  const lines = [e.data.columns.map((c) => c.name).join('\t')];
  let length = lines[0].length;
  for (const row of e.data.rows.slice(0, RESULT_ROWS)) {
    const line = row.map((v) => (v === null ? 'NULL' : v)).join('\t');
    if (length + 1 + line.length > RESULT_CHARS) {
      if (lines.length === 1) lines.push(line.slice(0, cutAt(line, RESULT_CHARS - length - 1)));
      break;
    }
    lines.push(line);
    length += 1 + line.length;
  }
  return lines.join('\n');
}

/** `HTTP 404 Not Found` (the reason phrase is the standard one: the recording holds the code only). */
function statusLine(status: number): string {
  const reason = STATUS_CODES[status];
  return reason ? `HTTP ${status} ${reason}` : `HTTP ${status}`;
}

function psqlMessage(severity: string, message: string, detail?: string, hint?: string): string {
  let text = `${severity}:  ${message}`;
  if (detail) text += `\nDETAIL:  ${detail}`;
  if (hint) text += `\nHINT:  ${hint}`;
  return text;
}

/** Pieces of at most max characters, cut after a space or newline in the second half when there is one. */
export function splitText(text: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const space = Math.max(rest.lastIndexOf(' ', max - 1), rest.lastIndexOf('\n', max - 1));
    const at = space >= max / 2 ? space + 1 : cutAt(rest, max) || max;
    pieces.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  pieces.push(rest);
  return pieces;
}

/** PostgreSQL text cannot hold NUL. */
function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}
