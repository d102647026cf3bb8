import { describe, expect, it } from 'vitest';
import { AnswerQueue, type AnswerKind } from './answer-queue.ts';
import { byte, coded, cstr } from './protocol/test-wire.ts';

const ready = (status: 'I' | 'T' | 'E') => coded('Z', byte(status));
const complete = (tag: string) => coded('C', cstr(tag));
const error = coded('E', byte('S'), cstr('ERROR'), byte(0));

function queue() {
  const q = new AnswerQueue();
  const ended: string[] = [];
  const push = (kind: AnswerKind, name: string = kind) => q.push({ kind, unanswered: () => ended.push(name) });
  const server = (...messages: Buffer[]) => {
    for (const m of messages) q.consume(m[0], m);
  };
  return { q, ended, push, server };
}

describe('what the server owes a session', () => {
  it('when a pipelined batch is answered in order, then each answer ends its entry and ReadyForQuery gives the status', async () => {
    const { q, push, server } = queue();
    for (const k of ['parse', 'bind', 'describe', 'execute', 'sync'] as const) push(k);
    let drained = false;
    void q.drained().then(() => (drained = true));
    server(coded('1'), coded('2'), coded('T', Buffer.from([0, 0])), coded('D', Buffer.from([0, 0])), complete('SELECT 1'));
    expect(q.head?.kind).toBe('sync');
    server(ready('T'));
    expect(q.idle).toBe(true);
    expect(q.status).toBe('T');
    await Promise.resolve();
    expect(drained).toBe(true);
  });

  it('when a simple Query holds several statements, then only its ReadyForQuery ends it', () => {
    const { q, push, server } = queue();
    push('query');
    server(complete('INSERT 0 1'), complete('DELETE 2'), error);
    expect(q.head?.kind).toBe('query');
    server(ready('I'));
    expect(q.idle).toBe(true);
  });

  it('when an extended message fails, then everything up to the Sync is unanswered (latest first) and nothing is skipped after it', () => {
    const { q, ended, push, server } = queue();
    push('parse', 'p1');
    push('bind', 'b1');
    push('execute', 'e1');
    push('sync');
    push('parse', 'p2');
    server(error);
    expect(ended).toEqual(['e1', 'b1', 'p1']);
    expect(q.skipping).toBe(false);
    expect(q.head?.kind).toBe('sync');
    server(ready('I'), coded('1'));
    expect(q.idle).toBe(true);
  });

  it('when an extended message fails with no Sync sent yet, then the server skips what comes until one', () => {
    const { q, push, server } = queue();
    push('parse');
    server(error);
    expect(q.skipping).toBe(true);
    expect(push('bind')).toBe(false);
    expect(push('query')).toBe(false);
    expect(q.idle).toBe(true);
    expect(push('sync')).toBe(true);
    expect(q.skipping).toBe(false);
    server(ready('E'));
    expect(q.status).toBe('E');
  });

  it('when a Describe of a statement is answered, then its RowDescription or NoData ends it, not its ParameterDescription', () => {
    const { q, push, server } = queue();
    push('describe');
    push('describe');
    server(coded('t', Buffer.from([0, 0])));
    expect(q.head?.kind).toBe('describe');
    server(coded('n'), coded('T', Buffer.from([0, 0])));
    expect(q.idle).toBe(true);
  });
});
