// Values larger than the agent holds whole, on the targets that read what they relay: guardrails
// (a statement is read whole before it goes on) and client masking (a row is re-encoded). Large
// values still pass; the recording keeps their masked start, a marker, their size and their hash;
// a secret cut in two by the cut is never kept; no other session waits on them.
import crypto from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { ofType } from '../support/recordings.ts';

const MIB = 1024 * 1024;
const sha = (v: string | Buffer) => crypto.createHash('sha256').update(v).digest('hex');
const marker = (v: string | Buffer) => `[TRUNCATED ${Buffer.byteLength(v)} bytes sha256:${sha(v)}]`;

let guarded: Harness;
let masked: Harness;

beforeAll(async () => {
  const postgresUrl = inject('postgresUrl');
  [guarded, masked] = await Promise.all([
    startHarness({
      postgresUrl,
      seed: 'CREATE TABLE docs (id serial PRIMARY KEY, v text); CREATE TABLE keep (id int);',
      target: { guardrails: [{ name: 'no-drops', statements: ['DROP'], action: 'deny' }] },
    }),
    startHarness({ postgresUrl, target: { masking: { client: true } } }),
  ]);
});
afterAll(async () => {
  await Promise.all([guarded?.stop(), masked?.stop()]);
});

async function connect(h: Harness): Promise<pg.Client> {
  const client = await h.client();
  client.on('error', () => undefined);
  return client;
}

describe('large values on a target with guardrails', () => {
  it('when a 20 MB parameter is bound, then it passes whole and the recording keeps its masked start', async () => {
    // A secret at the start is masked; a card number cut in two by the cut must not be kept at all.
    const head = 'contact alice@example.com ';
    const cut = 64 * 1024;
    const card = '4111 1111 1111 1111';
    const value = head + 'a'.repeat(cut - head.length - 8) + card + 'b'.repeat(20 * MIB);
    const c = await connect(guarded);
    const { rows } = await c.query('insert into docs (v) values ($1) returning id, length(v) as n', [value]);
    expect(rows[0].n).toBe(value.length);
    await c.end();
    const events = await guarded.sessionWhere((e) => e.type === 'db.query' && e.data.sql.startsWith('insert into docs'));
    const param = ofType(events, 'db.query').find((e) => e.data.sql.startsWith('insert'))!.data.params![0].value!;
    expect(param.startsWith('contact [EMAIL] aaaa')).toBe(true);
    expect(param.endsWith(marker(value))).toBe(true);
    expect(param).not.toContain('4111');
    expect(param).not.toContain('alice@');
  });

  it('when a statement is longer than 1 MiB but within what guardrails read, then it is still reviewed whole', async () => {
    const c = await connect(guarded);
    const long = `select length('${'x'.repeat(2 * MIB)}') as n`;
    expect((await c.query(long)).rows[0].n).toBe(2 * MIB);
    const hidden = `/* ${'y'.repeat(2 * MIB)} */ DROP TABLE keep`;
    await expect(c.query(hidden)).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('no-drops') });
    await c.end();
    expect((await guarded.psql(['-At', '-c', "select to_regclass('keep') is not null"])).stdout).toBe('t\n');
  });

  it('when a statement is longer than guardrails read, then it is refused naming why and the session goes on', async () => {
    const c = await connect(guarded);
    const huge = `select length('${'z'.repeat(17 * MIB)}') as n`;
    const err = await c.query(huge).then(() => null, (e: { code?: string; message: string }) => e);
    expect(err).toMatchObject({ code: '42501', message: expect.stringContaining('statement-size') });
    expect((await c.query('select 6 * 7 as n')).rows[0].n).toBe(42);
    await c.end();
    const events = await guarded.sessionWhere((e) => e.type === 'guardrail.hit' && e.data.rule === 'statement-size');
    const query = ofType(events, 'db.query').find((e) => e.data.sql.startsWith('select length'))!;
    expect(query.data.sql.endsWith(marker(huge))).toBe(true);
    expect(ofType(events, 'guardrail.hit')[0].data).toMatchObject({ action: 'deny', querySeq: query.seq });
  });

  it('when one session moves a large value, then other sessions are answered meanwhile', async () => {
    const c = await connect(guarded);
    const big = c.query('select repeat($1::text, $2) as v', ['w', 60 * MIB]);
    const other = await connect(guarded);
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = Date.now();
      expect((await other.query('select 1 as one')).rows[0].one).toBe(1);
      latencies.push(Date.now() - t);
    }
    console.log(`small queries while a 60 MiB value streams: ${latencies.join(', ')} ms`);
    expect((await big).rows[0].v.length).toBe(60 * MIB);
    await Promise.all([c.end(), other.end()]);
  });
});

describe('large values on a target that masks what the client sees', () => {
  it('when a row is within what is masked whole, then the client gets every value, masked, and the recording its start', async () => {
    const c = await connect(masked);
    const tail = 'y'.repeat(2 * MIB);
    const { rows } = await c.query(`select 'mail alice@example.com ' || repeat('y', ${2 * MIB}) as v`);
    expect(rows[0].v).toBe(`mail [EMAIL] ${tail}`);
    await c.end();
    const events = await masked.sessionWhere((e) => e.type === 'db.query' && e.data.sql.includes("'mail [EMAIL] '"));
    const cell = ofType(events, 'db.result')[0].data.rows[0][0]!;
    expect(cell.startsWith('mail [EMAIL] yyy')).toBe(true);
    expect(cell.endsWith(marker(`mail alice@example.com ${tail}`))).toBe(true);
  });

  it('when a row is too large to mask whole, then a value past the limit reaches the client as the recording keeps it', async () => {
    const c = await connect(masked);
    const value = 'z'.repeat(20 * MIB);
    const { rows } = await c.query(`select repeat('z', ${20 * MIB}) as v, 'bob@example.org' as e, 7 as n`);
    expect(rows[0].e).toBe('[EMAIL]');
    expect(rows[0].n).toBe(7);
    expect(rows[0].v.endsWith(marker(value))).toBe(true);
    expect(rows[0].v.length).toBeLessThan(70_000);
    expect((await c.query('select 1 as one')).rows[0].one).toBe(1);
    await c.end();
  });
});
