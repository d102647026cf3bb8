// The row limiter driven by hand: client messages as the session reviews them, server answers as
// bytes, and a host that records what the limiter sends, hands the client and asks approvers.
import { describe, expect, it } from 'vitest';
import { serialize } from 'pg-protocol';
import type { RowLimit } from '../guardrails/guardrail-policy.ts';
import type { Verdict } from './guardrail-gate.ts';
import type { ClientMessage } from './protocol/client-messages.ts';
import { RowLimiter } from './row-limit.ts';
import { StatementRefusals } from './statement-refusals.ts';
import { byte, coded, cstr } from './protocol/test-wire.ts';

const ready = (status: 'I' | 'T' | 'E') => coded('Z', byte(status));
const complete = (tag: string) => coded('C', cstr(tag));
const serverError = (message: string) => coded('E', byte('S'), cstr('ERROR'), byte('C'), cstr('42P01'), byte('M'), cstr(message), byte(0));
const PARSE_COMPLETE = coded('1');
const BIND_COMPLETE = coded('2');
const NO_DATA = coded('n');

const limit = (over: Partial<RowLimit> = {}): RowLimit => ({ rule: 'bounded', maxRows: 3, action: 'deny', kind: 'DELETE', ...over });
const limitVerdict = (over: Partial<RowLimit> = {}): Verdict => ({ kind: 'limit', limit: limit(over), statement: 'DELETE FROM t' });

/** Names a message the way it is asserted on: `Q:BEGIN`, `P:name:text`, `H`... */
function names(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < bytes.length;) {
    const code = String.fromCharCode(bytes[at]);
    const length = bytes.readUInt32BE(at + 1);
    const body = bytes.subarray(at + 5, at + 1 + length);
    if (code === 'Q') out.push(`Q:${body.toString('utf8', 0, body.length - 1)}`);
    else if (code === 'P') {
      const [name, text] = body.toString('utf8').split('\0');
      out.push(`P:${name}:${text}`);
    } else out.push(code);
    at += 1 + length;
  }
  return out;
}

/** What the client reads of a server message (E: its text). */
function read(message: Buffer): string {
  const code = String.fromCharCode(message[0]);
  if (code === 'C') return `C:${message.toString('utf8', 5, message.length - 1)}`;
  if (code === 'Z') return `Z:${String.fromCharCode(message[5])}`;
  if (code === 'E') return `E:${/M([^\0]*)\0/.exec(message.toString('utf8', 5))![1]}`;
  return code;
}

function session(approveWith?: () => Promise<string | null>) {
  const sent: string[] = [];
  const delivered: string[] = [];
  const hits: { action: string; rows?: number }[] = [];
  const asked: number[] = [];
  const refusals = new StatementRefusals();
  let resumed = 0;
  const limiter = new RowLimiter({
    send: (bytes) => sent.push(...names(bytes)),
    deliver: (messages) => delivered.push(...messages.map(read)),
    resume: () => resumed++,
    refuse: (msg, refusal) => refusals.refuse(msg, refusal),
    hit: (_run, action, rows) => hits.push({ action, ...(rows !== undefined ? { rows } : {}) }),
    approve: (_run, rows) => {
      asked.push(rows);
      return approveWith ? approveWith() : Promise.resolve(null);
    },
  });
  /** A client message as the session reviews it: what goes upstream for it. */
  const client = (msg: ClientMessage, raw: Buffer, verdict: Verdict = null): Buffer | Promise<Buffer> => limiter.review(msg, raw, verdict, 7) ?? raw;
  /** Server messages: what the client reads for them (refusals' errors rewritten as the session does). */
  const server = (...messages: Buffer[]): string[] => messages.flatMap((m) => {
    const out = limiter.fromServer(m[0], m, null) ?? [m];
    return out.map((x) => read(refusals.rewrite(x[0], x) ?? x));
  });
  return { limiter, sent, delivered, hits, asked, client, server, resumed: () => resumed };
}

const query = (sql: string) => ({ msg: { type: 'query', sql } as ClientMessage, raw: serialize.query(sql) });
const DELETE_ALL = query('DELETE FROM t');

describe('a limited simple Query outside a transaction block', () => {
  it('when it writes no more than the limit, then the agent wraps it in BEGIN and COMMIT and the client reads only its own result', () => {
    const s = session();
    const first = s.client(DELETE_ALL.msg, DELETE_ALL.raw, limitVerdict());
    expect(names(first as Buffer)).toEqual(['Q:BEGIN']);
    expect(s.limiter.busy).toBe(true);
    expect(s.server(complete('BEGIN'), ready('T'))).toEqual([]);
    expect(s.sent).toEqual(['Q:DELETE FROM t']);
    expect(s.server(complete('DELETE 2'), ready('T'))).toEqual([]);
    expect(s.sent).toEqual(['Q:DELETE FROM t', 'Q:COMMIT']);
    expect(s.resumed()).toBe(1);
    expect(s.server(complete('COMMIT'), ready('I'))).toEqual(['C:DELETE 2', 'Z:I']);
    expect(s.hits).toEqual([]);
  });

  it('when it writes past the limit, then it is rolled back and the client reads the refusal in place of its result', () => {
    const s = session();
    s.client(DELETE_ALL.msg, DELETE_ALL.raw, limitVerdict());
    s.server(complete('BEGIN'), ready('T'));
    // RETURNING rows pass as they come.
    expect(s.server(coded('D', Buffer.from([0, 0])), complete('DELETE 10'), ready('T'))).toEqual(['D']);
    expect(s.sent.at(-1)).toBe('Q:ROLLBACK');
    expect(s.hits).toEqual([{ action: 'deny', rows: 10 }]);
    expect(s.server(complete('ROLLBACK'), ready('I'))).toEqual(['E:Vigil guardrail bounded: this DELETE would remove 10 rows; the limit is 3', 'Z:I']);
  });

  it('when the statement fails by itself, then the client reads its error and ReadyForQuery idle', () => {
    const s = session();
    s.client(DELETE_ALL.msg, DELETE_ALL.raw, limitVerdict());
    s.server(complete('BEGIN'), ready('T'));
    expect(s.server(serverError('boom'), ready('E'))).toEqual(['E:boom']);
    expect(s.sent.at(-1)).toBe('Q:ROLLBACK');
    expect(s.server(complete('ROLLBACK'), ready('I'))).toEqual(['Z:I']);
  });

  it('when COMMIT fails (a deferred constraint), then the client reads its error in place of the result', () => {
    const s = session();
    s.client(DELETE_ALL.msg, DELETE_ALL.raw, limitVerdict());
    s.server(complete('BEGIN'), ready('T'), complete('DELETE 1'), ready('T'));
    expect(s.server(serverError('violates foreign key constraint'), ready('I'))).toEqual(['E:violates foreign key constraint', 'Z:I']);
  });

  it('when statements sent before it are unanswered, then it waits for them (with a Flush) and reads the status they leave', async () => {
    const s = session();
    const begin = query('BEGIN');
    s.client(begin.msg, begin.raw);
    const pending = s.client(DELETE_ALL.msg, DELETE_ALL.raw, limitVerdict());
    expect(pending).toBeInstanceOf(Promise);
    await Promise.resolve();
    expect(s.sent).toEqual(['H']);
    s.server(complete('BEGIN'), ready('T'));
    // Inside the client's block it goes as it is.
    expect(names(await pending)).toEqual(['Q:DELETE FROM t']);
  });
});

describe('a limited simple Query inside a transaction block', () => {
  const inBlock = () => {
    const s = session();
    const begin = query('BEGIN');
    s.client(begin.msg, begin.raw);
    s.server(complete('BEGIN'), ready('T'));
    return s;
  };

  it('when it writes no more than the limit, then its answer passes untouched', () => {
    const s = inBlock();
    expect(s.client(DELETE_ALL.msg, DELETE_ALL.raw, limitVerdict())).toBe(DELETE_ALL.raw);
    expect(s.server(complete('DELETE 3'))).toEqual(['C:DELETE 3']);
    expect(s.limiter.busy).toBe(false);
    expect(s.server(ready('T'))).toEqual(['Z:T']);
  });

  it('when it writes past the limit, then a refusal the server fails takes its place and the block is aborted', () => {
    const s = inBlock();
    s.client(DELETE_ALL.msg, DELETE_ALL.raw, limitVerdict());
    expect(s.server(complete('DELETE 4'), ready('T'))).toEqual([]);
    expect(s.sent.at(-1)).toMatch(/^Q:SELECT FROM "vigil_denied_/);
    const table = /"(vigil_denied_[^"]+)"/.exec(s.sent.at(-1)!)![1];
    expect(s.server(serverError(`relation "${table}" does not exist`), ready('E'))).toEqual([
      'E:Vigil guardrail bounded: this DELETE would remove 4 rows; the limit is 3',
      'Z:E',
    ]);
  });

  it('when the block is already aborted, then it goes as it is and nothing waits', () => {
    const s = session();
    const bad = query('SELECT 1/0');
    s.client(bad.msg, bad.raw);
    s.server(serverError('division by zero'), ready('E'));
    expect(s.client(DELETE_ALL.msg, DELETE_ALL.raw, limitVerdict())).toBe(DELETE_ALL.raw);
    expect(s.limiter.busy).toBe(false);
  });
});

describe('a limited Execute', () => {
  const parse = (name: string, verdict: Verdict = limitVerdict()) => ({ msg: { type: 'parse', statement: name, sql: 'DELETE FROM t WHERE id > $1', paramTypes: [] } as ClientMessage, raw: serialize.parse({ name, text: 'DELETE FROM t WHERE id > $1' }), verdict });
  const bind = (statement: string, portal = '') => ({ msg: { type: 'bind', portal, statement, paramFormats: [], params: [], resultFormats: [] } as ClientMessage, raw: serialize.bind({ portal, statement }) });
  const execute = (portal = '', maxRows = 0) => ({ msg: { type: 'execute', portal, maxRows } as ClientMessage, raw: serialize.execute({ portal, rows: maxRows }) });
  const sync = { msg: { type: 'sync' } as ClientMessage, raw: serialize.sync() };
  const send = (s: ReturnType<typeof session>, ...messages: { msg: ClientMessage; raw: Buffer; verdict?: Verdict }[]) =>
    messages.map((m) => s.client(m.msg, m.raw, m.verdict ?? null));

  it('when it writes no more than the limit, then it goes with a Flush, the line waits for its count, and the count passes', () => {
    const s = session();
    const [, , out] = send(s, parse(''), bind(''), execute());
    expect(names(out as Buffer)).toEqual(['E', 'H']);
    expect(s.limiter.blocks({ type: 'sync' })).toBe(true);
    expect(s.server(PARSE_COMPLETE, BIND_COMPLETE, complete('DELETE 2'))).toEqual(['1', '2', 'C:DELETE 2']);
    expect(s.limiter.blocks({ type: 'sync' })).toBe(false);
    expect(s.resumed()).toBe(1);
  });

  it('when it writes past the limit, then a refusal Parse under a name of the agent\'s fails in place of its CommandComplete', () => {
    const s = session();
    send(s, parse(''), bind(''), execute());
    expect(s.server(PARSE_COMPLETE, BIND_COMPLETE, complete('DELETE 9'))).toEqual(['1', '2']);
    expect(s.sent).toHaveLength(2);
    expect(s.sent[0]).toMatch(/^P:vigil_row_limit_[0-9a-f]+_1:SELECT FROM "vigil_denied_/);
    expect(s.sent[1]).toBe('H');
    expect(s.hits).toEqual([{ action: 'deny', rows: 9 }]);
    const table = /"(vigil_denied_[^"]+)"/.exec(s.sent[0])![1];
    expect(s.server(serverError(`relation "${table}" does not exist`))).toEqual(['E:Vigil guardrail bounded: this DELETE would remove 9 rows; the limit is 3']);
    // The client's Sync then comes: the server skipped what came before it.
    s.client(sync.msg, sync.raw);
    expect(s.server(ready('I'))).toEqual(['Z:I']);
  });

  it('when a named statement is bound again later, then its Execute is limited again; once closed, the name is free', () => {
    const s = session();
    send(s, parse('del'), bind('del'), execute());
    s.server(PARSE_COMPLETE, BIND_COMPLETE, complete('DELETE 1'));
    send(s, sync);
    s.server(ready('I'));
    const [, again] = send(s, bind('del'), execute());
    expect(names(again as Buffer)).toEqual(['E', 'H']);
    s.server(BIND_COMPLETE, complete('DELETE 0'));
    const close = { msg: { type: 'close', target: 'S', name: 'del' } as ClientMessage, raw: serialize.close({ type: 'S', name: 'del' }) };
    send(s, sync, close, parse('del', null), bind('del'));
    const [plain] = send(s, execute());
    expect(names(plain as Buffer)).toEqual(['E']);
  });

  it('when a Parse reusing a limited name fails, then the name keeps its limit', () => {
    const s = session();
    send(s, parse('del'), sync);
    s.server(PARSE_COMPLETE, ready('I'));
    send(s, parse('del', null), sync);
    s.server(serverError('prepared statement "del" already exists'), ready('I'));
    const [, out] = send(s, bind('del'), execute());
    expect(names(out as Buffer)).toEqual(['E', 'H']);
  });

  it('when a message before it fails, then the skipped Execute is over and the line goes on', () => {
    const s = session();
    send(s, parse('del'), sync);
    s.server(PARSE_COMPLETE, ready('I'));
    send(s, parse('', null), bind('del'), execute());
    expect(s.limiter.busy).toBe(true);
    expect(s.server(serverError('syntax error'))).toEqual(['E:syntax error']);
    expect(s.limiter.busy).toBe(false);
    expect(s.resumed()).toBe(1);
  });

  it('when it asks for a row count, then it is refused (its first rows would go before the count)', () => {
    const s = session();
    const [, , out] = send(s, parse(''), bind(''), execute('', 2));
    expect(names(out as Buffer)[0]).toMatch(/^P:vigil_row_limit_/);
    expect(s.hits).toEqual([{ action: 'deny' }]);
    expect(s.limiter.busy).toBe(false);
  });

  it('when the server asks for COPY data, then the client\'s CopyData goes on while the rest waits', () => {
    const s = session();
    send(s, parse(''), bind(''), execute());
    s.server(PARSE_COMPLETE, BIND_COMPLETE, coded('G', Buffer.from([0, 0, 0])));
    expect(s.limiter.blocks({ type: 'copy-data', data: Buffer.from('1\n') })).toBe(false);
    expect(s.limiter.blocks(undefined)).toBe(false);
    expect(s.limiter.blocks({ type: 'sync' })).toBe(true);
    s.server(complete('COPY 1'));
    expect(s.limiter.busy).toBe(false);
  });

  it('when a name is reused for another command, then its tag is not counted as the write', () => {
    const s = session();
    send(s, parse(''), bind(''), execute());
    expect(s.server(PARSE_COMPLETE, BIND_COMPLETE, complete('SELECT 50'))).toEqual(['1', '2', 'C:SELECT 50']);
  });
});

describe('a write past its limit under an approve rule', () => {
  it('when approvers let it through, then the client gets its result late; when they do not, it is refused', async () => {
    let decide: (why: string | null) => void = () => undefined;
    const s = session(() => new Promise((resolve) => (decide = resolve)));
    s.client({ type: 'parse', statement: '', sql: 'DELETE FROM t', paramTypes: [] }, serialize.parse({ text: 'DELETE FROM t' }), limitVerdict({ action: 'approve' }));
    s.client({ type: 'bind', portal: '', statement: '', paramFormats: [], params: [], resultFormats: [] }, serialize.bind({}));
    s.client({ type: 'execute', portal: '', maxRows: 0 }, serialize.execute({}));
    expect(s.server(PARSE_COMPLETE, BIND_COMPLETE, complete('DELETE 5'))).toEqual(['1', '2']);
    expect(s.asked).toEqual([5]);
    expect(s.hits).toEqual([{ action: 'approve', rows: 5 }]);
    expect(s.limiter.busy).toBe(true);
    decide(null);
    await new Promise((r) => setImmediate(r));
    expect(s.delivered).toEqual(['C:DELETE 5']);
    expect(s.limiter.busy).toBe(false);

    // Wrapped, refused: rolled back, and the client reads why.
    s.client({ type: 'sync' }, serialize.sync());
    s.server(ready('I'));
    s.client(DELETE_ALL.msg, DELETE_ALL.raw, limitVerdict({ action: 'approve' }));
    s.server(complete('BEGIN'), ready('T'), complete('DELETE 6'), ready('T'));
    decide('request #3 was denied by aaron');
    await new Promise((r) => setImmediate(r));
    expect(s.sent.at(-1)).toBe('Q:ROLLBACK');
    expect(s.server(complete('ROLLBACK'), ready('I'))).toEqual([
      'E:Vigil guardrail bounded: this DELETE would remove 6 rows (the limit is 3) and it was not approved: request #3 was denied by aaron',
      'Z:I',
    ]);
  });

  it('when approvers let a wrapped write through, then it commits and the client reads its result; in a block, its result and ReadyForQuery come late', async () => {
    let decide: (why: string | null) => void = () => undefined;
    const s = session(() => new Promise((resolve) => (decide = resolve)));
    s.client(DELETE_ALL.msg, DELETE_ALL.raw, limitVerdict({ action: 'approve' }));
    s.server(complete('BEGIN'), ready('T'), complete('DELETE 6'), ready('T'));
    expect(s.sent.at(-1)).toBe('Q:DELETE FROM t');
    decide(null);
    await new Promise((r) => setImmediate(r));
    expect(s.sent.at(-1)).toBe('Q:COMMIT');
    expect(s.server(complete('COMMIT'), ready('I'))).toEqual(['C:DELETE 6', 'Z:I']);

    const begin = query('BEGIN');
    s.client(begin.msg, begin.raw);
    s.server(complete('BEGIN'), ready('T'));
    s.client(DELETE_ALL.msg, DELETE_ALL.raw, limitVerdict({ action: 'approve' }));
    expect(s.server(complete('DELETE 4'), ready('T'))).toEqual([]);
    expect(s.asked).toEqual([6, 4]);
    decide(null);
    await new Promise((r) => setImmediate(r));
    expect(s.delivered).toEqual(['C:DELETE 4', 'Z:T']);
    expect(s.limiter.busy).toBe(false);
  });
});
