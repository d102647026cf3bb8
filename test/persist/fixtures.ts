// Valid events for pipeline tests, encoded the way the agent encodes them.
import crypto from 'node:crypto';
import type { BusEvent } from '../../common/bus/event-bus.ts';
import { encodeEvent, type VigilEvent } from '../../common/events/index.ts';

export function makeEvent(sessionId: string, seq: number): VigilEvent {
  return {
    v: 1,
    id: crypto.randomUUID(),
    sessionId,
    seq,
    time: new Date().toISOString(),
    user: 'alice',
    target: 'pg',
    protocol: 'postgres',
    connection: { client: '127.0.0.1:50000', agent: 'agent-test' },
    type: 'db.query',
    data: { protocol: 'simple', sql: `select ${seq}` },
  };
}

export function busEvent(sessionId: string, seq: number): BusEvent {
  return { sessionId, seq, body: encodeEvent(makeEvent(sessionId, seq)) };
}

export function busEvents(sessionId: string, from: number, to: number): BusEvent[] {
  const out: BusEvent[] = [];
  for (let seq = from; seq <= to; seq++) out.push(busEvent(sessionId, seq));
  return out;
}

export const newSessionId = (): string => crypto.randomUUID();

/** Polls until check() returns true, or throws after timeoutMs. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
