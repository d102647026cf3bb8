// The recorder under client masking, fed hand-built messages: COPY TO STDOUT data and computed
// result values reach the client masked, and the recording keeps nothing the client did not get.
import { beforeAll, describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../../common/events/index.ts';
import { defaultMasker } from '../../masking/test-support.ts';
import { SessionEventSink } from '../../recording/session-event-sink.ts';
import { dataRowCells } from '../protocol/backend-decoder.ts';
import { PIECE } from '../protocol/backend-framer.ts';
import { coded, cstr, i16, i32, u32, byte, value } from '../protocol/test-wire.ts';
import { loadSecretValueParser } from '../secret-values/secret-values.ts';
import { StatementMasker } from '../statement-masker.ts';
import { PostgresRecorder } from './postgres-recorder.ts';

const EMAIL = 'grace.hopper@navy.example.com';
const SSN = '123-45-6789';

beforeAll(async () => {
  await loadSecretValueParser();
});

function recorder() {
  const events: VigilEvent[] = [];
  const sink = new SessionEventSink(
    { sessionId: 's', user: 'u', target: 't', protocol: 'postgres', connection: { client: 'c', agent: 'a' } },
    { publish: (e) => { events.push(JSON.parse(e.body) as VigilEvent); return true; } },
  );
  const masker = defaultMasker({ columns: ['ssn'] });
  const r = new PostgresRecorder(sink, new StatementMasker(masker, null), { maxRows: 10, maxCopyBytes: 4096, maxValueBytes: 1024, clientMasking: true });
  return { r, events, of: <T extends VigilEvent['type']>(type: T) => events.filter((e): e is Extract<VigilEvent, { type: T }> => e.type === type) };
}

const copyOut = (binary = false) => coded('H', byte(binary ? 1 : 0), i16(2), i16(binary ? 1 : 0), i16(binary ? 1 : 0));
const copyData = (s: string) => coded('d', Buffer.from(s));
const COPY_DONE = coded('c');
const complete = (tag: string) => coded('C', cstr(tag));
/** Result columns: [name, table oid, attnum]; text values. */
const rowDescription = (...fields: [string, number, number][]) =>
  coded('T', i16(fields.length), ...fields.flatMap(([n, table, attnum]) => [cstr(n), u32(table), i16(attnum), u32(25), i16(-1), i32(-1), i16(0)]));
const dataRow = (...cells: string[]) => coded('D', i16(cells.length), ...cells.map(value));
/** The CopyData bodies in what the recorder hands back to forward. */
const bodies = (out: Buffer | undefined) => {
  const found: string[] = [];
  for (let at = 0; out && at < out.length; at += 1 + out.readUInt32BE(at + 1)) if (out[at] === 0x64) found.push(out.toString('utf8', at + 5, at + 1 + out.readUInt32BE(at + 1)));
  return found;
};

describe('PostgresRecorder with client masking', () => {
  it('when one string runs two COPYs, then each one\'s data is masked by its own columns, for the client and the recording', () => {
    const { r, of } = recorder();
    r.onClientMessage({ type: 'query', sql: 'COPY a (id, ssn) TO STDOUT; COPY b (ssn_note, id) TO STDOUT (FORMAT csv)' });
    r.onServerMessage(0x48, copyOut());
    const first = bodies(r.onServerMessage(0x64, copyData(`1\t${SSN}\n2\t`)));
    const rest = bodies(r.onServerMessage(0x64, copyData(`x\n`)));
    r.onServerMessage(0x63, COPY_DONE);
    r.onServerMessage(0x43, complete('COPY 2'));
    r.onServerMessage(0x48, copyOut());
    const second = bodies(r.onServerMessage(0x64, copyData(`"${EMAIL}, hi",7\n`)));
    r.onServerMessage(0x63, COPY_DONE);
    r.onServerMessage(0x43, complete('COPY 1'));
    expect([...first, ...rest]).toEqual(['1\t[SECRET_COLUMN]\n', '2\t[SECRET_COLUMN]\n']);
    expect(second).toEqual(['[SECRET_COLUMN],7\n']);
    expect(of('db.copy').map((e) => e.data.content)).toEqual(['1\t[SECRET_COLUMN]\n2\t[SECRET_COLUMN]\n', '[SECRET_COLUMN],7\n']);
  });

  it('when a CopyData streams in pieces, then the pieces go nowhere and the masked rows go instead', () => {
    const { r } = recorder();
    r.onClientMessage({ type: 'query', sql: 'COPY (SELECT id, note FROM t) TO STDOUT' });
    r.onServerMessage(0x48, copyOut());
    expect(r.masksCopyOut).toBe(true);
    const out = [`1\tmail ${EMAIL.slice(0, 9)}`, `${EMAIL.slice(9)} ok\n2\t${Buffer.from(SSN).toString('base64')}`, '\n'].flatMap((piece) =>
      bodies(r.onServerMessage(0x64, copyData(piece), PIECE)),
    );
    expect(out).toEqual(['1\tmail [EMAIL] ok\n', '2\t[SSN]\n']);
    // A last row without its line end goes out before CopyDone.
    expect(bodies(r.onServerMessage(0x64, copyData(`3\t${EMAIL}`)))).toEqual([]);
    const done = r.onServerMessage(0x63, COPY_DONE)!;
    expect(bodies(done)).toEqual(['3\t[EMAIL]']);
    expect(done.subarray(-5)).toEqual(COPY_DONE);
  });

  it('when a result column is computed, then what it encodes is read; a table\'s own column is not decoded', () => {
    const { r, of } = recorder();
    r.onClientMessage({ type: 'query', sql: 'select encode(x) as e, stored from t' });
    r.onServerMessage(0x54, rowDescription(['e', 0, 0], ['stored', 16384, 2]));
    const encoded = Buffer.from(EMAIL).toString('base64');
    const out = r.onServerMessage(0x44, dataRow(encoded, encoded));
    expect(dataRowCells(out!).map(String)).toEqual(['[EMAIL]', encoded]);
    r.onServerMessage(0x43, complete('SELECT 1'));
    expect(of('db.result')[0]).toMatchObject({ data: { rows: [['[EMAIL]', encoded]] }, masked: { EMAIL: 1 } });
  });

  it('when a whole row is a value (a column of a table with no attribute), then it is read through too', () => {
    const { r } = recorder();
    // (The statement's text shows no whole row: the server's description is what says so.)
    r.onClientMessage({ type: 'query', sql: 'select v from t' });
    r.onServerMessage(0x54, rowDescription(['p', 16384, 0]));
    const out = r.onServerMessage(0x44, dataRow(`(1,"\\\\x${Buffer.from(EMAIL).toString('hex')}")`));
    expect(dataRowCells(out!).map(String)).toEqual(['[EMAIL]']);
  });
});
