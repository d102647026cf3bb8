// Builds valid events of one session for unit tests (search, exports): gapless seqs, times a given number
// of milliseconds apart, every event checked against the schema.
import { randomUUID } from 'node:crypto';
import { VigilEvent, type EventData, type EventType } from '../../../common/events/index.ts';

export class EventScript {
  readonly sessionId: string;
  #seq = 0;
  #ms: number;

  constructor(opts: { sessionId?: string; startedAt?: string; protocol?: 'postgres' | 'ssh' | 'http' } = {}) {
    this.sessionId = opts.sessionId ?? randomUUID();
    this.#ms = Date.parse(opts.startedAt ?? '2030-01-01T09:00:00.000Z');
    this.protocol = opts.protocol ?? 'ssh';
  }

  readonly protocol: 'postgres' | 'ssh' | 'http';

  /** The seq the next event gets. */
  get nextSeq(): number {
    return this.#seq + 1;
  }

  /** An event `afterMs` after the previous one. */
  event<T extends EventType>(type: T, data: EventData<T>, afterMs = 100): VigilEvent {
    this.#seq += 1;
    this.#ms += afterMs;
    return VigilEvent.parse({
      v: 1, id: randomUUID(), sessionId: this.sessionId, seq: this.#seq, time: new Date(this.#ms).toISOString(),
      user: 'alice', target: 'box', protocol: this.protocol, connection: { client: '10.0.0.7:52114', agent: 'agent-1' },
      type, data,
    });
  }

  start(): VigilEvent {
    return this.event('session.start', { upstream: 'db.internal:5432', recording: 'required', clientMasking: false }, 0);
  }

  end(): VigilEvent {
    return this.event('session.end', { reason: 'client_terminate', durationMs: 1000, bytesDown: 1, bytesUp: 1 });
  }

  input(text: string, channel = 0, afterMs = 100): VigilEvent {
    return this.event('term.input', { channel, text }, afterMs);
  }

  output(text: string, channel = 0, afterMs = 100): VigilEvent {
    return this.event('term.output', { channel, text }, afterMs);
  }

  query(sql: string, protocol: 'simple' | 'extended' | 'function' = 'simple'): VigilEvent {
    return this.event('db.query', { protocol, sql });
  }

  result(querySeq: number, opts: { rows?: string[][]; command?: string; statementIndex?: number; durationUs?: number } = {}): VigilEvent {
    const rows = opts.rows ?? [];
    const command = opts.command ?? `SELECT ${rows.length}`;
    // As the agent counts: the rows seen, else the number the tag ends with.
    const rowCount = rows.length || Number(/(\d+)$/.exec(command)?.[1] ?? 0);
    return this.event('db.result', {
      querySeq, statementIndex: opts.statementIndex ?? 0,
      columns: rows.length > 0 ? rows[0].map((_, i) => ({ name: `c${i}`, typeOid: 25, format: 'text' as const })) : [],
      rows, rowCount, truncated: false, command, durationUs: opts.durationUs ?? 1500,
    });
  }

  error(querySeq: number | undefined, message = 'relation "nope" does not exist', afterMs = 100): VigilEvent {
    return this.event('db.error', { ...(querySeq ? { querySeq } : {}), severity: 'ERROR', code: '42P01', message }, afterMs);
  }
}
