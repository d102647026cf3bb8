// An HTTP recording's exchanges, read off its events: each http.request with the body parts, the
// response head, the end, the WebSocket messages, the guardrail decision and the access events
// that belong to it (by requestSeq, or querySeq for guardrail.hit and access). Events that
// belong to no request held here (the first events held answer a request read before them) are
// left out. DOM-free, like statements.ts.
//
// Exchanges are values: an event that changes one replaces it with a changed copy, so a view
// holding the list ($state.raw) sees which rows changed by identity. `ExchangeFold` takes events
// one batch at a time (the live watch: the backlog first, then each batch as it comes);
// `PlayheadExchanges` answers the player at any playhead (only events up to it count).
import type { EventData, VigilEvent } from '../../../../common/events/schema.ts';
import { SeqFold } from './seq-fold.ts';

/** An exchange at or above this takes long (as a statement does: statements.ts). */
export const SLOW_EXCHANGE_MS = 1000;
/** WebSocket messages kept per exchange (the latest): a long-lived socket stays bounded. */
export const WS_MESSAGES_MAX = 500;

export type Header = [string, string];
export type Outcome = EventData<'http.end'>['outcome'];

export interface ExchangeBody {
  contentType: string | null;
  /** The parts' text joined in seq order (masked as recorded); '' for a binary body. */
  text: string;
  /** Bytes the parts cover (as sent). */
  bytes: number;
  binary: boolean;
  /** The body limit was reached: what followed was counted, not kept. */
  truncated: boolean;
  /** How many parts came (more than one: a stream). */
  parts: number;
}

export interface WsEntry {
  seq: number;
  time: string;
  direction: 'client' | 'target';
  kind: 'text' | 'binary' | 'close';
  text: string | null;
  bytes: number;
  truncated: boolean;
}

export interface Exchange {
  /** The http.request's seq. */
  seq: number;
  time: string;
  method: string;
  path: string;
  /** Without '?', values masked ('' when none). */
  query: string;
  version: string;
  requestHeaders: readonly Header[];
  requestBody: ExchangeBody | null;
  /** null until the response head came. */
  status: number | null;
  /** 'vigil': the agent answered, not the target. */
  by: 'vigil' | null;
  responseHeaders: readonly Header[];
  responseBody: ExchangeBody | null;
  /** null while it runs. */
  outcome: Outcome | null;
  detail: string | null;
  durationMs: number | null;
  /** From http.end; before it, what the body parts counted. */
  requestBytes: number;
  responseBytes: number;
  wsMessages: readonly WsEntry[];
  /** WebSocket messages not kept (past WS_MESSAGES_MAX, the oldest go). */
  wsDropped: number;
  guardrail: EventData<'guardrail.hit'> | null;
  access: readonly EventData<'access'>[];
  /** The last event that belongs to it. */
  lastSeq: number;
  /** Its request is past the playhead: only the request line is known (the player's list). */
  upcoming: boolean;
}

function requestOf(e: Extract<VigilEvent, { type: 'http.request' }>, upcoming = false): Exchange {
  return {
    seq: e.seq, time: e.time, method: e.data.method, path: e.data.path, query: e.data.query, version: e.data.version,
    requestHeaders: e.data.headers, requestBody: null, status: null, by: null, responseHeaders: [], responseBody: null,
    outcome: null, detail: null, durationMs: null, requestBytes: 0, responseBytes: 0, wsMessages: [], wsDropped: 0,
    guardrail: null, access: [], lastSeq: e.seq, upcoming,
  };
}

function withPart(body: ExchangeBody | null, part: EventData<'http.body'>): ExchangeBody {
  const binary = (body?.binary ?? false) || part.binary === true;
  return {
    contentType: body?.contentType ?? part.contentType ?? null,
    text: binary ? '' : (body?.text ?? '') + (part.text ?? ''),
    bytes: (body?.bytes ?? 0) + part.bytes,
    binary,
    truncated: (body?.truncated ?? false) || part.truncated === true,
    parts: (body?.parts ?? 0) + 1,
  };
}

/** The exchange as changed by one of its events (a copy), or null when the event is not about it. */
function applied(ex: Exchange, e: VigilEvent): Exchange | null {
  const last = Math.max(ex.lastSeq, e.seq);
  switch (e.type) {
    case 'http.body': {
      const d = e.data;
      if (d.direction === 'request') {
        const requestBody = withPart(ex.requestBody, d);
        return { ...ex, requestBody, requestBytes: ex.outcome ? ex.requestBytes : requestBody.bytes, lastSeq: last };
      }
      const responseBody = withPart(ex.responseBody, d);
      return { ...ex, responseBody, responseBytes: ex.outcome ? ex.responseBytes : responseBody.bytes, lastSeq: last };
    }
    case 'http.response':
      return { ...ex, status: e.data.status, by: e.data.by ?? null, responseHeaders: e.data.headers, lastSeq: last };
    case 'http.end':
      return {
        ...ex, outcome: e.data.outcome, detail: e.data.detail ?? null, durationMs: e.data.durationMs,
        requestBytes: e.data.requestBytes, responseBytes: e.data.responseBytes, lastSeq: last,
      };
    case 'ws.message': {
      const d = e.data;
      const entry: WsEntry = { seq: e.seq, time: e.time, direction: d.direction, kind: d.kind, text: d.text ?? null, bytes: d.bytes, truncated: d.truncated === true };
      const all = [...ex.wsMessages, entry];
      const over = Math.max(0, all.length - WS_MESSAGES_MAX);
      return { ...ex, wsMessages: over ? all.slice(over) : all, wsDropped: ex.wsDropped + over, lastSeq: last };
    }
    case 'guardrail.hit':
      return { ...ex, guardrail: e.data, lastSeq: last };
    case 'access':
      return { ...ex, access: [...ex.access, e.data], lastSeq: last };
    default:
      return null;
  }
}

/** The request an event belongs to (null: none, or not an exchange's event). */
function ownerOf(e: VigilEvent): number | null {
  switch (e.type) {
    case 'http.body':
    case 'http.response':
    case 'http.end':
    case 'ws.message':
      return e.data.requestSeq;
    case 'guardrail.hit':
    case 'access':
      return e.data.querySeq ?? null;
    default:
      return null;
  }
}

/** Exchanges folded from events in seq order, a batch at a time; an event seen already is skipped. */
export class ExchangeFold extends SeqFold<Exchange> {
  /** Request seq → index in the list. */
  readonly #index = new Map<number, number>();
  /** Event seq → the request it belongs to (the exchange's own events only). */
  readonly #owner = new Map<number, number>();

  /** The exchange an event belongs to (its request's seq), when it is one of theirs. */
  exchangeOf(seq: number): number | null {
    return this.#owner.get(seq) ?? null;
  }

  protected take(e: VigilEvent): boolean {
    if (e.type === 'http.request') {
      this.#index.set(e.seq, this.items.length);
      this.items.push(requestOf(e));
      this.#owner.set(e.seq, e.seq);
      return true;
    }
    const owner = ownerOf(e);
    const i = owner === null ? undefined : this.#index.get(owner);
    if (i === undefined) return false;
    const next = applied(this.items[i], e);
    if (!next) return false;
    this.items[i] = next;
    this.#owner.set(e.seq, owner!);
    return true;
  }
}

/** The exchanges of events in seq order, counting only those up to `untilSeq`. */
export function foldExchanges(events: readonly VigilEvent[], untilSeq = Infinity): Exchange[] {
  const fold = new ExchangeFold();
  fold.add(events.filter((e) => e.seq <= untilSeq));
  return fold.list();
}

export interface ExchangesAt {
  /** Exchanges begun at or before the playhead, as they were there. */
  played: Exchange[];
  /** Requests held past the playhead (request line and headers only, `upcoming`). */
  upcoming: Exchange[];
  /** The exchange of the event at the playhead, else the last begun before it (its seq; null: none). */
  current: number | null;
}

/**
 * The player's exchanges at a playhead, over the events it holds. Moving the playhead forward
 * over the same events only folds the events passed; another window or a move back folds again.
 */
export class PlayheadExchanges {
  #events: readonly VigilEvent[] | null = null;
  #fold = new ExchangeFold();
  /** Index in #events of the next event to fold. */
  #next = 0;
  /** Of all the events held, whatever the playhead: every request, each exchange's last event, whose each event is. */
  #requests: Exchange[] = [];
  #ends = new Map<number, number>();
  #owner = new Map<number, number>();

  at(events: readonly VigilEvent[], untilSeq: number): ExchangesAt {
    if (events !== this.#events) this.#hold(events);
    if (untilSeq < this.#fold.lastSeq) this.#restart();
    let i = this.#next;
    while (i < events.length && events[i].seq <= untilSeq) i += 1;
    this.#fold.add(events.slice(this.#next, i));
    this.#next = i;
    const played = this.#fold.list();
    const upcoming = this.#requests.filter((r) => r.seq > untilSeq);
    return { played, upcoming, current: this.exchangeOf(untilSeq) ?? played.at(-1)?.seq ?? null };
  }

  /** The exchange (its request's seq) an event held belongs to; null when none held. */
  exchangeOf(seq: number): number | null {
    return this.#owner.get(seq) ?? null;
  }

  /** The last event held of the exchange begun at `seq` (where the player shows it whole). */
  endOf(seq: number): number {
    return this.#ends.get(seq) ?? seq;
  }

  #restart(): void {
    this.#fold = new ExchangeFold();
    this.#next = 0;
  }

  #hold(events: readonly VigilEvent[]): void {
    this.#events = events;
    this.#restart();
    this.#requests = [];
    this.#ends = new Map();
    this.#owner = new Map();
    for (const e of events) {
      if (e.type === 'http.request') {
        this.#requests.push(requestOf(e, true));
        this.#ends.set(e.seq, e.seq);
        this.#owner.set(e.seq, e.seq);
        continue;
      }
      const owner = ownerOf(e);
      if (owner === null || !this.#ends.has(owner)) continue;
      this.#ends.set(owner, Math.max(this.#ends.get(owner)!, e.seq));
      this.#owner.set(e.seq, owner);
    }
  }
}

// ---- how an exchange reads ---------------------------------------------------------------------

/** The path with its query. */
export function target(ex: Pick<Exchange, 'path' | 'query'>): string {
  return ex.query ? `${ex.path}?${ex.query}` : ex.path;
}

export type StatusClass = 'info' | 'ok' | 'redirect' | 'client-error' | 'server-error' | 'pending' | 'failed';

/**
 * What the status column says, and its colour: the status (by its class; "· vigil" when the
 * agent answered, the outcome when it was aborted or refused after one), "—" while pending, the
 * outcome when it ended without a status.
 */
export function statusOf(ex: Pick<Exchange, 'status' | 'outcome'> & { by?: 'vigil' | null }): { label: string; tone: StatusClass } {
  if (ex.status === null) {
    if (ex.outcome === null) return { label: '—', tone: 'pending' };
    return { label: ex.outcome, tone: ex.outcome === 'complete' || ex.outcome === 'upgraded' ? 'ok' : 'failed' };
  }
  const s = ex.status;
  const tone: StatusClass = s < 200 ? 'info' : s < 300 ? 'ok' : s < 400 ? 'redirect' : s < 500 ? 'client-error' : 'server-error';
  const notes = [ex.by === 'vigil' ? 'vigil' : '', ex.outcome === 'aborted' || ex.outcome === 'refused' ? ex.outcome : ''].filter(Boolean);
  return { label: [String(s), ...notes].join(' · '), tone };
}

/** The exchange went wrong: a 5xx, or aborted or refused. */
export function failed(ex: Pick<Exchange, 'status' | 'outcome'>): boolean {
  return (ex.status !== null && ex.status >= 500) || ex.outcome === 'aborted' || ex.outcome === 'refused';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '…';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/** A body as shown: JSON pretty-printed when it parses, else its text as recorded; a binary body described. */
export function bodyText(body: ExchangeBody): string {
  if (body.binary) return `[binary, ${body.bytes} bytes${body.contentType ? `, ${body.contentType}` : ''}]`;
  const t = body.text.trim();
  if (t.startsWith('{') || t.startsWith('[') || /\bjson\b|\+json/i.test(body.contentType ?? '')) {
    try {
      return JSON.stringify(JSON.parse(t), null, 2);
    } catch {
      // Not JSON after all (a stream of JSON lines, a cut body): as recorded.
    }
  }
  return body.text;
}
