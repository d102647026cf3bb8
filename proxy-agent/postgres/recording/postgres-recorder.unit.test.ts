// The recorder with long values and binary COPY, fed hand-built messages.
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../../common/events/index.ts';
import { defaultMasker } from '../../masking/test-support.ts';
import { SessionEventSink } from '../../recording/session-event-sink.ts';
import { dataRowCells } from '../protocol/backend-decoder.ts';
import { coded, cstr, i16, i32, u32, byte, value } from '../protocol/test-wire.ts';
import { StatementMasker } from '../statement-masker.ts';
import { PostgresRecorder } from './postgres-recorder.ts';

const LIMIT = 8 * 1024;
const sha = (v: string | Buffer) => crypto.createHash('sha256').update(v).digest('hex');

function recorder(opts: { clientMasking?: boolean; columns?: string[] } = {}) {
  const events: VigilEvent[] = [];
  const sink = new SessionEventSink(
    { sessionId: 's', user: 'u', target: 't', protocol: 'postgres', connection: { client: 'c', agent: 'a' } },
    { publish: (e) => { events.push(JSON.parse(e.body) as VigilEvent); return true; } },
  );
  const masker = defaultMasker({ columns: opts.columns ?? ['password'] });
  const r = new PostgresRecorder(sink, new StatementMasker(masker, null), { maxRows: 10, maxCopyBytes: 1024, maxValueBytes: LIMIT, clientMasking: opts.clientMasking ?? false });
  return { r, events, of: <T extends VigilEvent['type']>(type: T) => events.filter((e): e is Extract<VigilEvent, { type: T }> => e.type === type) };
}

const rowDescription = (...names: string[]) => coded('T', i16(names.length), ...names.flatMap((n) => [cstr(n), u32(0), i16(0), u32(25), i16(-1), i32(-1), i16(0)]));

describe('PostgresRecorder with values over the value limit', () => {
  it('when a statement is longer than the limit, then its masked start and a marker with size and hash are kept', () => {
    const { r, of } = recorder();
    const sql = `select 'mail bob@example.org' || '${'q '.repeat(3 * LIMIT)}'`;
    r.onClientMessage({ type: 'query', sql });
    const kept = of('db.query')[0].data.sql;
    expect(kept.startsWith("select 'mail [EMAIL]' || 'q q q")).toBe(true);
    expect(kept.endsWith(`[TRUNCATED ${sql.length} bytes sha256:${sha(sql)}]`)).toBe(true);
    // The last 4 KiB before the cut, where a secret may have been cut in two, are not kept.
    expect(kept.length).toBeLessThan(LIMIT - 4096 + 100);
    expect(kept.length).toBeGreaterThan(LIMIT - 4096 - 100);
  });

  it('when a statement arrives already cut, then the cut\'s size and hash are the ones recorded', () => {
    const { r, of } = recorder();
    r.onClientMessage({ type: 'query', sql: 'x'.repeat(LIMIT), sqlCut: { size: 104857600, sha256: 'ab'.repeat(32) } });
    expect(of('db.query')[0].data.sql.endsWith(`[TRUNCATED 104857600 bytes sha256:${'ab'.repeat(32)}]`)).toBe(true);
  });

  it('when a secret is cut in two by the limit, then none of it is kept', () => {
    const { r, of } = recorder();
    const card = '4111 1111 1111 1111';
    const sql = 'a '.repeat((LIMIT - 8) / 2) + card + ' tail'.repeat(LIMIT);
    r.onClientMessage({ type: 'query', sql });
    expect(of('db.query')[0].data.sql).not.toContain('4111');
  });

  it('when a result cell is longer than the limit, then the row keeps its start and a marker; a secret column only its marker', () => {
    const { r, of } = recorder();
    r.onClientMessage({ type: 'query', sql: 'select' });
    const long = 'z'.repeat(2 * LIMIT);
    r.onServerMessage(0x54, rowDescription('v', 'password', 'n'));
    r.onServerMessage(0x44, coded('D', i16(3), value(long), value(long), value('1')));
    r.onServerMessage(0x43, coded('C', cstr('SELECT 1')));
    const [row] = of('db.result')[0].data.rows;
    expect(row[0]!.endsWith(`[TRUNCATED ${long.length} bytes sha256:${sha(long)}]`)).toBe(true);
    expect(row.slice(1)).toEqual(['[SECRET_COLUMN]', '1']);
  });

  it('when a streamed row reaches a client-masking recorder, then the client gets a re-encoded row with the cut cell as recorded', () => {
    const { r, of } = recorder({ clientMasking: true });
    r.onClientMessage({ type: 'query', sql: 'select' });
    r.onServerMessage(0x54, rowDescription('v', 'e'));
    const standIn = coded('D', i16(2), value('w'.repeat(LIMIT)), value('eve@example.com'));
    const cut = { size: 999, values: [{ size: 50_000_000, sha256: 'cd'.repeat(32) }] };
    const replacement = r.onServerMessage(0x44, standIn, cut);
    const cells = dataRowCells(replacement!).map((c) => c?.toString());
    expect(cells[0]!.endsWith(`[TRUNCATED 50000000 bytes sha256:${'cd'.repeat(32)}]`)).toBe(true);
    expect(cells[1]).toBe('[EMAIL]');
    r.onServerMessage(0x43, coded('C', cstr('SELECT 1')));
    expect(of('db.result')[0].data.rows[0]).toEqual(cells);
  });
});

describe('PostgresRecorder with binary COPY', () => {
  const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
  const data = Buffer.concat([
    SIGNATURE, i32(0), i32(0),
    ...[1, 2, 3].flatMap((n) => [i16(2), value(i32(n)), value(`row ${n}`)]),
    i16(-1),
  ]);
  const copyOut = coded('H', byte(1), i16(2), i16(1), i16(1));

  it('when a binary COPY TO STDOUT is split into arbitrary CopyData messages, then the rows are counted, and the server\'s count holds', () => {
    for (const [tag, rows] of [['COPY 3', 3], ['COPY 7', 7]] as const) {
      const { r, of } = recorder();
      r.onClientMessage({ type: 'query', sql: 'copy t to stdout (format binary)' });
      r.onServerMessage(0x48, copyOut);
      for (let i = 0; i < data.length; i += 5) r.onServerMessage(0x64, coded('d', data.subarray(i, i + 5)));
      r.onServerMessage(0x63, coded('c'));
      r.onServerMessage(0x43, coded('C', cstr(tag)));
      expect(of('db.copy')[0].data).toMatchObject({ direction: 'out', format: 'binary', rows, bytes: data.length, outcome: 'done' });
    }
  });

  it('when a binary COPY FROM STDIN fails half way, then the rows sent so far are counted and it is recorded as failed', () => {
    const { r, of } = recorder();
    r.onClientMessage({ type: 'query', sql: 'copy t from stdin (format binary)' });
    r.onServerMessage(0x47, coded('G', byte(1), i16(2), i16(1), i16(1)));
    const half = data.subarray(0, data.length - 10); // inside the third row
    for (let i = 0; i < half.length; i += 7) r.onClientMessage({ type: 'copy-data', data: half.subarray(i, i + 7) });
    r.onServerMessage(0x45, coded('E', byte('S'), cstr('ERROR'), byte('C'), cstr('22P04'), byte('M'), cstr('bad copy'), Buffer.from([0])));
    expect(of('db.copy')[0].data).toMatchObject({ direction: 'in', format: 'binary', rows: 3, outcome: 'failed' });
  });
});
