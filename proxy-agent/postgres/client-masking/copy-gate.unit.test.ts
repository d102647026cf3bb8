import { beforeAll, describe, expect, it } from 'vitest';
import { defaultMasker } from '../../masking/test-support.ts';
import { TableColumns } from '../catalog/table-columns.ts';
import type { ClientMessage } from '../protocol/client-messages.ts';
import { loadSecretValueParser } from '../secret-values/secret-values.ts';
import { StatementMasker } from '../statement-masker.ts';
import { ClientCopyGate } from './copy-gate.ts';

beforeAll(async () => {
  await loadSecretValueParser();
});

const TABLES: Record<string, string[]> = { people: ['id', 'email', 'ssn'], notes: ['id', 'body'] };

function gate() {
  const tables = new TableColumns(async (_schema, table) => TABLES[table] ?? null);
  return { gate: new ClientCopyGate(new StatementMasker(defaultMasker({ columns: ['ssn'] }), tables), tables), tables };
}

const query = (sql: string): ClientMessage => ({ type: 'query', sql });

describe('ClientCopyGate', () => {
  it('when a COPY TO STDOUT names a table whose columns are not known yet, then it waits for the catalog, and is read again after', async () => {
    const { gate: g } = gate();
    const first = g.review(query('COPY people TO STDOUT (FORMAT binary)'));
    expect(first?.kind).toBe('wait');
    await (first as { ready: Promise<void> }).ready;
    const again = g.review(query('COPY people TO STDOUT (FORMAT binary)'), true);
    expect(again).toMatchObject({ kind: 'refuse', refusal: { code: '42501' } });
    expect(again?.kind === 'refuse' && again.refusal.message).toMatch(/column "ssn" is covered by the masking rule "ssn"/);
    expect(again?.kind === 'refuse' && again.refusal.hint).toMatch(/FORMAT text\) or \(FORMAT csv\)/);
  });

  it('when a binary COPY copies no covered column, then it goes on; text and CSV always go on', async () => {
    const { gate: g, tables } = gate();
    g.review(query('COPY notes TO STDOUT; COPY people TO STDOUT'));
    await tables.settled();
    expect(g.review(query('COPY notes TO STDOUT (FORMAT binary)'))).toBeNull();
    expect(g.review(query('COPY (SELECT id FROM notes) TO STDOUT WITH BINARY'))).toBeNull();
    expect(g.review(query('COPY people TO STDOUT (FORMAT csv)'))).toBeNull();
    expect(g.review(query('COPY people TO STDOUT'))).toBeNull();
  });

  it('when a binary COPY of a query computes a value from a covered column, then it is refused', () => {
    const { gate: g } = gate();
    const verdict = g.review({ type: 'parse', statement: 's', sql: 'COPY (SELECT id, ssn::bytea AS raw FROM people p) TO STDOUT (FORMAT binary)', paramTypes: [] });
    expect(verdict?.kind === 'refuse' && verdict.refusal.message).toMatch(/column "raw" comes from a column a masking rule covers/);
  });

  it('when the columns of a binary COPY cannot be resolved even after waiting, then it is refused', () => {
    const { gate: g } = gate();
    const verdict = g.review(query('COPY (SELECT * FROM generate_series(1, 3)) TO STDOUT (FORMAT binary)'), true);
    expect(verdict?.kind === 'refuse' && verdict.refusal.message).toMatch(/could not be resolved/);
  });

  it('when a string holds several COPYs, then a binary one of a covered table is refused whichever it is', async () => {
    const { gate: g, tables } = gate();
    g.review(query('COPY notes TO STDOUT; COPY people TO STDOUT'));
    await tables.settled();
    expect(g.review(query('COPY notes TO STDOUT; COPY people TO STDOUT (FORMAT binary)'))?.kind).toBe('refuse');
  });

  it('when a statement is not a COPY TO STDOUT, then it goes on without being parsed', () => {
    const { gate: g } = gate();
    expect(g.review(query('SELECT ssn FROM people'))).toBeNull();
    expect(g.review(query('COPY people FROM STDIN (FORMAT binary)'))).toBeNull();
    expect(g.review({ type: 'sync' })).toBeNull();
  });
});
