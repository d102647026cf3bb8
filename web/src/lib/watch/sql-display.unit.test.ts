import { describe, expect, it } from 'vitest';
import { loadSqlFormatter, previewOf, shownSql, type SqlFormat } from './sql-display.ts';
import { PSQL15_META_COMMANDS } from './fixtures/psql15-meta-commands.ts';

const format: SqlFormat = await loadSqlFormatter();

describe('how SQL is shown', () => {
  it('when SQL is short, then it is shown as sent', () => {
    expect(shownSql('select 1 as warmup;', format)).toEqual({ text: 'select 1 as warmup;', long: false, formatted: false });
  });

  it('when SQL is one long line, then it is laid out on lines, its words unchanged', () => {
    const sql = `select id, name, email, card_number, billing_address, shipping_address, created_at, updated_at from customers c join orders o on o.customer_id = c.id where c.created_at > now() - interval '30 days' and o.total > 100 and c.name like 'A%' and o.status in ('paid', 'shipped', 'refunded') order by o.total desc, c.name limit 50`;
    const shown = shownSql(sql, format);
    expect(shown.long).toBe(true);
    expect(shown.formatted).toBe(true);
    expect(shown.text.split('\n').length).toBeGreaterThan(5);
    expect(shown.text.replace(/\s+/g, ' ')).toBe(sql.replace(/\s+/g, ' '));
  });

  it('when psql\'s own SQL (OPERATOR(pg_catalog.~), E-strings) is long, then it is shown, formatted or as sent, never lost', () => {
    for (const sql of PSQL15_META_COMMANDS['\\d customers']) {
      const shown = shownSql(sql, format);
      expect(shown.text.replace(/\s+/g, '')).toBe(sql.replace(/\s+/g, ''));
    }
  });

  it('when the formatter is not loaded yet, then long SQL is shown as sent', () => {
    const sql = 'select 1 as x,\n2 as y,\n3 as z,\n4 as w';
    expect(shownSql(sql, null)).toEqual({ text: sql, long: true, formatted: false });
  });

  it('when SQL the formatter cannot read is long, then it is shown as sent', () => {
    const sql = `${'select '.repeat(60)} $$ unterminated`;
    expect(shownSql(sql, format)).toEqual({ text: sql, long: true, formatted: false });
  });

  it('when long SQL is collapsed, then it is squeezed onto as few lines as it takes, and cut', () => {
    expect(previewOf('SELECT c.oid,\n  n.nspname\nFROM pg_catalog.pg_class c')).toBe('SELECT c.oid, n.nspname FROM pg_catalog.pg_class c');
    expect(previewOf('x'.repeat(500))).toBe(`${'x'.repeat(400)}…`);
  });
});
