// Recorded sessions built by hand for API and CLI tests: valid events of the real contract, with
// their canonical bodies, ready for RecordingStore.append or EventBus.append.
import crypto from 'node:crypto';
import { encodeEvent, type VigilEvent } from '../../common/events/index.ts';
import { eventHash } from '../../common/events/chain.ts';
import type { StoredEvent } from '../../server/recordings/store/recording-store.ts';

export interface FakeSessionOptions {
  user?: string;
  target?: string;
  /** Time of session.start; later events follow a second apart. */
  start?: Date;
  /** Number of db.query/db.result pairs. */
  queries?: number;
  /** End the session with session.end (default true). */
  ended?: boolean;
  /** Values to put in the result rows (default masked markers). */
  cells?: string[];
  /** Each event carries its predecessor's hash, as an agent chains them (default false: as recorded before chaining). */
  chained?: boolean;
  /** The agent that served it (default agent-1). */
  agent?: string;
}

export function fakeSession(opts: FakeSessionOptions = {}): { sessionId: string; events: StoredEvent[] } {
  const sessionId = crypto.randomUUID();
  const start = opts.start ?? new Date('2025-01-01T10:00:00.000Z');
  let seq = 0;
  const meta = () => {
    seq += 1;
    return {
      v: 1 as const,
      id: crypto.randomUUID(),
      sessionId,
      seq,
      time: new Date(start.getTime() + (seq - 1) * 1000).toISOString(),
      user: opts.user ?? 'alice',
      target: opts.target ?? 'demo',
      protocol: 'postgres' as const,
      connection: { client: '127.0.0.1:50000', agent: opts.agent ?? 'agent-1' },
    };
  };
  const events: VigilEvent[] = [{
    ...meta(),
    type: 'session.start',
    data: { database: 'demo', applicationName: 'psql', upstream: '127.0.0.1:5432/postgres', recording: 'required', clientMasking: false },
  }];
  for (let i = 0; i < (opts.queries ?? 1); i++) {
    const query = { ...meta(), type: 'db.query' as const, data: { protocol: 'simple' as const, sql: `select email from customers limit ${i + 1}` } };
    events.push(query);
    events.push({
      ...meta(),
      type: 'db.result',
      masked: { EMAIL: 1 },
      data: {
        querySeq: query.seq,
        statementIndex: 0,
        columns: [{ name: 'email', typeOid: 25, format: 'text' }],
        rows: (opts.cells ?? ['[EMAIL]']).map((c) => [c]),
        rowCount: (opts.cells ?? ['[EMAIL]']).length,
        truncated: false,
        command: `SELECT ${(opts.cells ?? ['[EMAIL]']).length}`,
        durationUs: 1234,
      },
    });
  }
  if (opts.ended ?? true) {
    events.push({ ...meta(), type: 'session.end', data: { reason: 'client_terminate', durationMs: 5000, bytesDown: 100, bytesUp: 50 } });
  }
  if (!opts.chained) return { sessionId, events: events.map((event) => ({ event, body: encodeEvent(event) })) };
  let prev: string | undefined;
  return {
    sessionId,
    events: events.map((e) => {
      const event = (prev ? { ...e, prev } : e) as VigilEvent;
      const body = encodeEvent(event);
      prev = eventHash(body);
      return { event, body };
    }),
  };
}

/** A terminal session built by hand: a shell with a pty, then one term.output per text given. */
export function fakeTerminalSession(opts: { user?: string; cols: number; rows: number; outputs: string[] }): { sessionId: string; events: StoredEvent[]; more(texts: string[]): StoredEvent[] } {
  const sessionId = crypto.randomUUID();
  let seq = 0;
  const make = (type: string, data: unknown): VigilEvent => {
    seq += 1;
    return {
      v: 1, id: crypto.randomUUID(), sessionId, seq, time: new Date(Date.UTC(2025, 0, 1, 10) + seq * 10).toISOString(),
      user: opts.user ?? 'bob', target: 'box', protocol: 'ssh', connection: { client: '127.0.0.1:50000', agent: 'agent-1' }, type, data,
    } as VigilEvent;
  };
  const stored = (e: VigilEvent) => ({ event: e, body: encodeEvent(e) });
  const events = [
    make('session.start', { upstream: 'box:22', recording: 'required', clientMasking: false }),
    make('ssh.shell', { channel: 0, pty: { term: 'xterm', cols: opts.cols, rows: opts.rows } }),
    ...opts.outputs.map((text) => make('term.output', { channel: 0, text })),
  ].map(stored);
  return { sessionId, events, more: (texts) => texts.map((text) => stored(make('term.output', { channel: 0, text }))) };
}
