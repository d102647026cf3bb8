// For the player's unit tests: a recording in memory that answers as the hub does (/timeline,
// /seek, /events), counting what it was asked, and timers that run only when told. Never
// imported by the dashboard itself.
import type { KeyframeView, SeekResponse, SessionEventsResponse, SessionSummary, SessionTimelineResponse } from '../../../../common/api-contract.ts';
import type { VigilEvent } from '../../../../common/events/schema.ts';
import type { PlaybackEnv } from './engine.ts';
import type { Moment, PlayerSource } from './source.ts';

export const T0 = Date.parse('2030-01-01T09:00:00.000Z');

type Draft = { type: VigilEvent['type']; data: unknown; atMs: number };

/** Events of one session with the seqs and times given (ms after T0). */
export function recording(protocol: 'ssh' | 'postgres' | 'http', drafts: Draft[]): VigilEvent[] {
  return drafts.map((d, i) => ({
    v: 1, id: `e${i + 1}`, sessionId: 's1', seq: i + 1, time: new Date(T0 + d.atMs).toISOString(),
    user: 'alice', target: 'box', protocol, connection: { client: '10.0.0.1:5000', agent: 'a1' },
    type: d.type, data: d.data,
  }) as VigilEvent);
}

export const out = (atMs: number, text: string, channel = 0): Draft => ({ type: 'term.output', data: { channel, text }, atMs });
export const shell = (atMs: number, cols = 80, rows = 24, channel = 0): Draft => ({ type: 'ssh.shell', data: { channel, pty: { term: 'xterm', cols, rows } }, atMs });
export const resize = (atMs: number, cols: number, rows: number, channel = 0): Draft => ({ type: 'term.resize', data: { channel, cols, rows }, atMs });
export const start = (atMs = 0): Draft => ({ type: 'session.start', data: { upstream: 'u:1', recording: 'required', clientMasking: false }, atMs });
export const end = (atMs: number): Draft => ({ type: 'session.end', data: { reason: 'client_disconnect', durationMs: atMs }, atMs });
export const query = (atMs: number, sql: string): Draft => ({ type: 'db.query', data: { protocol: 'simple', sql }, atMs });
export const result = (atMs: number, querySeq: number, durationUs = 500): Draft => ({
  type: 'db.result', atMs,
  data: { querySeq, statementIndex: 0, columns: [{ name: 'x', typeOid: 25, format: 'text' }], rows: [['1']], rowCount: 1, truncated: false, command: 'SELECT 1', durationUs },
});
export const failure = (atMs: number, querySeq?: number): Draft => ({ type: 'db.error', atMs, data: { ...(querySeq ? { querySeq } : {}), severity: 'ERROR', code: '42P01', message: 'relation "nope" does not exist' } });

// HTTP: a request, its body parts, its response head, its end, WebSocket messages, a guardrail.
export const request = (atMs: number, method: string, path: string, query = '', headers: [string, string][] = []): Draft => ({
  type: 'http.request', atMs, data: { method, path, query, version: '1.1', headers },
});
export const body = (atMs: number, requestSeq: number, direction: 'request' | 'response', part: { text?: string; bytes?: number; contentType?: string; binary?: boolean; truncated?: boolean }): Draft => ({
  type: 'http.body', atMs, data: { requestSeq, direction, bytes: part.bytes ?? part.text?.length ?? 0, ...part },
});
export const response = (atMs: number, requestSeq: number, status: number, headers: [string, string][] = [], by?: 'vigil'): Draft => ({
  type: 'http.response', atMs, data: { requestSeq, status, headers, ...(by ? { by } : {}) },
});
export const httpEnd = (atMs: number, requestSeq: number, outcome: 'complete' | 'aborted' | 'refused' | 'upgraded', durationMs: number, requestBytes = 0, responseBytes = 0, detail?: string): Draft => ({
  type: 'http.end', atMs, data: { requestSeq, outcome, durationMs, requestBytes, responseBytes, ...(detail ? { detail } : {}) },
});
export const wsMessage = (atMs: number, requestSeq: number, direction: 'client' | 'target', text: string | null, bytes = text?.length ?? 0): Draft => ({
  type: 'ws.message', atMs, data: { requestSeq, direction, kind: text === null ? 'binary' : 'text', ...(text === null ? {} : { text }), bytes },
});
export const guardrail = (atMs: number, querySeq: number, rule: string, action: 'deny' | 'approve' = 'deny', statement = ''): Draft => ({
  type: 'guardrail.hit', atMs, data: { rule, action, querySeq, statement },
});

export class FakeHub implements PlayerSource {
  readonly asked: string[] = [];
  keyframes: KeyframeView[] = [];
  /** The most events /seek returns after its keyframe (the hub: 10,000). */
  seekLimit = 10_000;
  /** Answers held back until released (to test overlapping seeks). */
  hold = false;
  private held: Array<() => void> = [];
  status = 200;

  constructor(public stored: VigilEvent[], public ended = true) {}

  get summary(): SessionSummary {
    const last = this.stored.at(-1);
    return {
      id: 's1', protocol: this.stored[0]?.protocol ?? 'ssh', user: 'alice', target: 'box', client: '10.0.0.1:5000', agent: 'a1',
      startedAt: new Date(T0).toISOString(), endedAt: this.ended && last ? last.time : null, endReason: this.ended ? 'client_disconnect' : null,
      lastSeq: last?.seq ?? 0, persistedSeq: last?.seq ?? 0, eventCount: this.stored.length, queryCount: 0, errorCount: 0,
    };
  }

  release(): void {
    for (const fn of this.held.splice(0)) fn();
  }

  private answer<T>(what: string, body: () => T): Promise<T> {
    this.asked.push(what);
    if (this.status !== 200) return Promise.reject(Object.assign(new Error(`status ${this.status}`), { status: this.status }));
    if (!this.hold) return Promise.resolve().then(body);
    return new Promise((resolve) => this.held.push(() => resolve(body())));
  }

  timeline(): Promise<SessionTimelineResponse> {
    return this.answer('timeline', () => ({
      session: this.summary,
      segments: this.stored.length ? [{ firstSeq: 1, lastSeq: this.stored.length, firstTime: this.stored[0].time, lastTime: this.stored.at(-1)!.time, eventCount: this.stored.length }] : [],
      markers: [], markersTruncated: false, keyframes: this.keyframes.map((k) => k.seq), indexedSeq: this.stored.length,
    }));
  }

  session(): Promise<SessionSummary> {
    return this.answer('session', () => this.summary);
  }

  seek(at: Moment): Promise<SeekResponse> {
    return this.answer('seq' in at ? `seek seq=${at.seq}` : `seek t=${at.ms / 1000}`, () => {
      const seq = 'seq' in at ? Math.min(at.seq, this.stored.length) : (this.stored.find((e) => Date.parse(e.time) - T0 >= at.ms)?.seq ?? this.stored.length);
      if (!seq) return { seq: null, keyframe: null, events: [], next: null };
      if (this.stored[0].protocol !== 'ssh') return { seq, keyframe: null, events: this.stored.slice(seq - 1, seq - 1 + 200), next: null };
      const keyframe = this.keyframes.filter((k) => k.seq <= seq).at(-1) ?? null;
      const from = (keyframe?.seq ?? 0) + 1;
      const events = this.stored.slice(from - 1, Math.min(seq, from - 1 + this.seekLimit));
      const last = events.at(-1)?.seq ?? from - 1;
      return { seq, keyframe, events, next: last < seq ? last + 1 : null };
    });
  }

  events(from: number, limit: number): Promise<SessionEventsResponse> {
    return this.answer(`events from=${from} limit=${limit}`, () => {
      const events = this.stored.slice(from - 1, from - 1 + limit);
      return { events, next: events.length === limit ? events.at(-1)!.seq + 1 : null };
    });
  }
}

/** Timers run by `advance`; `now` is theirs. */
export class ManualTime implements PlaybackEnv {
  t = 0;
  private timers = new Map<number, { at: number; every: number | null; fn: () => void }>();
  private ids = 0;

  now = () => this.t;
  wallClock = () => T0 + this.t;

  setInterval = (fn: () => void, ms: number) => this.add(fn, ms, ms);
  setTimeout = (fn: () => void, ms: number) => this.add(fn, ms, null);
  clearInterval = (h: unknown) => void this.timers.delete(h as number);
  clearTimeout = (h: unknown) => void this.timers.delete(h as number);

  private add(fn: () => void, ms: number, every: number | null): number {
    const id = ++this.ids;
    this.timers.set(id, { at: this.t + ms, every, fn });
    return id;
  }

  /** Moves time on, running each timer when due (and what its promises do, before the next). */
  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.t = Math.max(this.t, timer.at);
      if (timer.every === null) this.timers.delete(id);
      else timer.at += timer.every;
      timer.fn();
      await settle();
    }
    this.t = until;
    await settle();
  }
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A terminal that records what it was told. */
export class RecordingSink {
  readonly ops: string[] = [];
  reset() {
    this.ops.push('reset');
  }
  restore(k: KeyframeView) {
    this.ops.push('reset', `resize ${k.cols}x${k.rows}`, `write ${k.prelude}${k.screen}`);
  }
  resize(cols: number, rows: number) {
    this.ops.push(`resize ${cols}x${rows}`);
  }
  write(text: string) {
    this.ops.push(`write ${text}`);
  }
  /** What was written since the last reset. */
  screen(): string {
    const i = this.ops.lastIndexOf('reset');
    return this.ops.slice(i + 1).filter((o) => o.startsWith('write ')).map((o) => o.slice(6)).join('');
  }
}
