// An HTTP session as HAR 1.2 (what browsers' developer tools and HAR viewers open): one entry per
// exchange, in request order (har-entry.ts builds each). The events are read as recorded, masked
// at the agent: the export adds nothing the recording does not hold.
//
// HarEntries releases an exchange's entry once it and every exchange requested before it have
// ended, so that the hub streams a long session page by page (HarWriter) instead of holding it
// whole. An upgraded exchange (a WebSocket) is held until the session ends: its messages may
// follow its http.end.
import type { Entry, Har, Log } from 'har-format';
import pkg from '../../../package.json' with { type: 'json' };
import type { EventOf, VigilEvent } from '../../../common/events/index.ts';
import { addBodyPart, entryOf, newExchange, type Exchange } from './har-entry.ts';

export class HarEntries {
  private base: string | null = null;
  private start: EventOf<'session.start'> | null = null;
  /** The exchanges not released yet, by the seq of their http.request (insertion order is request order). */
  private readonly open = new Map<number, Exchange>();

  /** What the log says of the session (from its session.start), null before it came. */
  get comment(): string | null {
    const s = this.start;
    return s && `Vigil session ${s.sessionId}: ${s.user} on ${s.target} from ${s.connection.client}, started ${s.time}`;
  }

  /** The entries this event completes, in request order. */
  push(e: VigilEvent): Entry[] {
    switch (e.type) {
      case 'session.start':
        this.start = e;
        this.base = baseOf(e.data.upstream);
        return [];
      case 'session.end':
        // Whatever has not ended now never will, in this recording.
        return this.release(`the session ended (${e.data.reason}) before this exchange did`);
      case 'http.request':
        this.open.set(e.seq, newExchange(e));
        return [];
      case 'guardrail.hit':
        this.exchange(e.data.querySeq, e.time)?.notes.push(`guardrail ${e.data.rule}: ${e.data.action}`);
        return [];
      case 'http.body': {
        const x = this.exchange(e.data.requestSeq, e.time);
        if (x && e.data.direction === 'request') x.requestBody = addBodyPart(x.requestBody, e.data);
        if (x && e.data.direction === 'response') x.responseBody = addBodyPart(x.responseBody, e.data);
        return [];
      }
      case 'http.response': {
        const x = this.exchange(e.data.requestSeq, e.time);
        if (x) x.response = e.data;
        return [];
      }
      case 'ws.message':
        this.exchange(e.data.requestSeq, e.time)?.messages.push(e);
        return [];
      case 'http.end': {
        const x = this.exchange(e.data.requestSeq, e.time);
        if (x) x.end = e.data;
        return this.release(null);
      }
      default:
        return [];
    }
  }

  /** The entries still held: the recording stops before their end (a live session, or a gap). */
  end(): Entry[] {
    return this.release('the recording stops before this exchange ended');
  }

  /** Releases the finished exchanges at the head; with `cut`, every one, each unfinished one saying why. */
  private release(cut: string | null): Entry[] {
    const out: Entry[] = [];
    for (const [seq, x] of this.open) {
      const finished = x.end !== null && x.end.outcome !== 'upgraded';
      if (!finished && cut === null) break;
      if (!x.end) x.cut = cut;
      this.open.delete(seq);
      out.push(entryOf(x, this.base ?? `http://${x.request.target}`));
    }
    return out;
  }

  private exchange(requestSeq: number | undefined, time: string): Exchange | undefined {
    const x = requestSeq === undefined ? undefined : this.open.get(requestSeq);
    if (x) x.lastMs = Math.max(x.lastMs, Date.parse(time));
    return x;
  }
}

/** The target's base URL, without a trailing slash (an upstream without a scheme is taken as http). */
function baseOf(upstream: string): string {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(upstream) ? upstream : `http://${upstream}`;
  return url.replace(/\/+$/, '');
}

function logHead(comment: string | null): Omit<Log, 'entries'> {
  return { version: '1.2', creator: { name: 'Vigil', version: pkg.version }, ...(comment ? { comment } : {}) };
}

/** A session's events, in seq order, as one HAR document. */
export function harOf(events: Iterable<VigilEvent>): Har {
  const entries = new HarEntries();
  const all: Entry[] = [];
  for (const e of events) all.push(...entries.push(e));
  all.push(...entries.end());
  return { log: { ...logHead(entries.comment), entries: all } };
}

/**
 * The same document as harOf, as lines of JSON text written as the events come: the head, one
 * entry a line, the tail. The last entry line is held until the next one shows whether it needs
 * a comma.
 */
export class HarWriter {
  private readonly entries = new HarEntries();
  private headWritten = false;
  private last: string | null = null;

  push(e: VigilEvent): string[] {
    return this.lines(this.entries.push(e));
  }

  end(): string[] {
    const lines = this.lines(this.entries.end());
    if (!this.headWritten) lines.push(this.head());
    if (this.last !== null) lines.push(this.last);
    lines.push(']}}');
    return lines;
  }

  private lines(entries: Entry[]): string[] {
    if (entries.length === 0) return [];
    // Written at the first entry (or the end): by then the session.start has said whose it is.
    const out = this.headWritten ? [] : [this.head()];
    for (const entry of entries) {
      if (this.last !== null) out.push(`${this.last},`);
      this.last = JSON.stringify(entry);
    }
    return out;
  }

  private head(): string {
    this.headWritten = true;
    const head = JSON.stringify({ log: logHead(this.entries.comment) });
    // {"log":{...}} opened up for its entries: the head's last two braces come back in the tail.
    return `${head.slice(0, -2)},"entries":[`;
  }
}
