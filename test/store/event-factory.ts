// Builds valid events for store tests: one builder per session hands out gapless seqs and
// increasing times, and every event is checked against the schema and canonically encoded.
import { randomUUID } from 'node:crypto';
import { encodeEvent, VigilEvent, type SessionEndReason } from '../../common/events/index.ts';
import type { StoredEvent } from '../../server/recordings/store/recording-store.ts';

export interface SessionOptions {
  user?: string;
  target?: string;
  /** ISO time of seq 1; later seqs are one second apart. */
  startedAt?: string;
  client?: string;
  agent?: string;
}

export class SessionEvents {
  readonly sessionId = randomUUID();
  readonly user: string;
  readonly target: string;
  readonly client: string;
  readonly agent: string;
  readonly #t0: number;
  #seq = 0;

  constructor(opts: SessionOptions = {}) {
    this.user = opts.user ?? 'alice';
    this.target = opts.target ?? 'orders-db';
    this.client = opts.client ?? '10.0.0.7:52114';
    this.agent = opts.agent ?? 'agent-1';
    this.#t0 = Date.parse(opts.startedAt ?? '2030-01-01T09:00:00.000Z');
  }

  /** The time the event with this seq carries. */
  timeOf(seq: number): string {
    return new Date(this.#t0 + (seq - 1) * 1000).toISOString();
  }

  start(): StoredEvent {
    return this.#make('session.start', {
      database: 'orders', upstream: 'db.internal:5432', recording: 'required', clientMasking: true,
    });
  }

  query(sql = 'select 1'): StoredEvent {
    return this.#make('db.query', { protocol: 'simple', sql });
  }

  result(querySeq: number, rows: (string | null)[][] = [['1']]): StoredEvent {
    return this.#make('db.result', {
      querySeq, statementIndex: 0, columns: [{ name: 'x', typeOid: 25, format: 'text' }],
      rows, rowCount: rows.length, truncated: false, command: `SELECT ${rows.length}`, durationUs: 120,
    });
  }

  error(querySeq?: number): StoredEvent {
    return this.#make('db.error', {
      ...(querySeq === undefined ? {} : { querySeq }), severity: 'ERROR', code: '42P01', message: 'relation "nope" does not exist',
    });
  }

  notice(message: string): StoredEvent {
    return this.#make('db.notice', { severity: 'NOTICE', code: '00000', message });
  }

  end(reason: SessionEndReason = 'client_terminate'): StoredEvent {
    return this.#make('session.end', { reason, durationMs: 1000 * this.#seq, bytesDown: 10, bytesUp: 20 });
  }

  /** n queries in a row. */
  queries(n: number): StoredEvent[] {
    return Array.from({ length: n }, (_, i) => this.query(`select ${i}`));
  }

  #make(type: VigilEvent['type'], data: unknown): StoredEvent {
    this.#seq += 1;
    const event = VigilEvent.parse({
      v: 1, id: randomUUID(), sessionId: this.sessionId, seq: this.#seq, time: this.timeOf(this.#seq),
      user: this.user, target: this.target, protocol: 'postgres',
      connection: { client: this.client, agent: this.agent }, type, data,
    });
    return { event, body: encodeEvent(event) };
  }
}

/** A fresh name, so tests sharing one store never see each other's sessions. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
