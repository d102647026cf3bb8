import { describe, expect, it } from 'vitest';
import { metaCommandLabel, metaCommandOf, readsOnlyCatalog } from './catalog-queries.ts';
import { PSQL15_META_COMMANDS, PSQL15_TAB_COMPLETION } from './fixtures/psql15-meta-commands.ts';

describe('catalog queries psql sends for its meta-commands', () => {
  it('when psql 15 describes, lists or completes, then every query it sends reads only the catalog', () => {
    for (const [command, queries] of Object.entries(PSQL15_META_COMMANDS)) {
      for (const sql of queries) expect({ command, sql, catalog: readsOnlyCatalog(sql) }).toEqual({ command, sql, catalog: true });
    }
    for (const sql of PSQL15_TAB_COMPLETION) expect(readsOnlyCatalog(sql)).toBe(true);
  });

  it('when the first query of a meta-command is read, then the meta-command is named, with its pattern', () => {
    const named = Object.fromEntries(Object.entries(PSQL15_META_COMMANDS).map(([command, queries]) => [command, metaCommandOf(queries[0])]));
    expect(named).toEqual({
      '\\d customers': '\\d customers',
      '\\dt': '\\dt',
      '\\l': '\\l',
      '\\du': '\\du',
      '\\d public.orders': '\\d public.orders',
      '\\dt cust*': '\\dt cust*',
      '\\d nosuch': '\\d nosuch',
      '\\sf touch': '\\sf touch',
      '\\dn': '\\dn',
      '\\df': '\\df',
      '\\dx': '\\dx',
    });
    expect(metaCommandOf(PSQL15_TAB_COMPLETION[0])).toBe('tab completion');
  });

  it('when a later query of a meta-command is read, then it starts none (it continues the one before)', () => {
    for (const queries of Object.values(PSQL15_META_COMMANDS)) {
      for (const sql of queries.slice(1)) expect(metaCommandOf(sql)).toBeNull();
    }
  });

  it('when psql patterns hold wildcards, then they read back as typed', () => {
    const lookup = (relname: string, nspname?: string) => `SELECT c.oid,\n  n.nspname,\n  c.relname\nFROM pg_catalog.pg_class c\n     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\nWHERE c.relname OPERATOR(pg_catalog.~) '^(${relname})$' COLLATE pg_catalog.default\n${nspname ? `  AND n.nspname OPERATOR(pg_catalog.~) '^(${nspname})$' COLLATE pg_catalog.default\n` : '  AND pg_catalog.pg_table_is_visible(c.oid)\n'}ORDER BY 2, 3;`;
    expect(metaCommandOf(lookup('cust.mers', 'public'))).toBe('\\d public.cust?mers');
    expect(metaCommandOf(lookup('Customers'))).toBe('\\d Customers');
    expect(metaCommandOf(lookup('a\\$b.*'))).toBe('\\d a$b*');
  });

  it('when a statement reads data, calls a function with effects or a made-up operator, then it is not a catalog query', () => {
    const ordinary = [
      'select 1',
      'select name, email from customers',
      'SELECT * FROM pg_class', // not qualified: psql always qualifies
      "SELECT c.oid FROM pg_catalog.pg_class c, customers x WHERE c.relname = 'x'",
      'SELECT c.oid FROM pg_catalog.pg_class c JOIN public.customers x ON true',
      'SELECT c.oid FROM pg_catalog.pg_class c WHERE c.oid IN (SELECT id FROM customers)',
      'SELECT (SELECT card_number FROM customers LIMIT 1) FROM pg_catalog.pg_class',
      'SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity',
      'SELECT pg_catalog.set_config(\'search_path\', \'\', false) FROM pg_catalog.pg_class',
      "SELECT pg_catalog.pg_read_file('/etc/passwd')",
      'SELECT rolpassword FROM pg_catalog.pg_authid',
      'SELECT * INTO copy_of_class FROM pg_catalog.pg_class',
      'SELECT * FROM pg_catalog.pg_class FOR UPDATE',
      'SELECT 1 FROM pg_catalog.pg_class; DROP TABLE customers',
      "SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(public.=) 'x'",
      "SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname === 'x'",
      "SELECT 'x'::public.evil FROM pg_catalog.pg_class",
      'SELECT public.f(c.oid) FROM pg_catalog.pg_class c',
      'SELECT nextval(\'s\') FROM pg_catalog.pg_class',
      'WITH x AS (DELETE FROM customers RETURNING *) SELECT * FROM pg_catalog.pg_class',
      "SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname = 'unterminated",
    ];
    for (const sql of ordinary) expect({ sql, catalog: readsOnlyCatalog(sql) }).toEqual({ sql, catalog: false });
  });

  it('when a hand-written query reads the catalog only, then it is one (it is grouped only next to others, see watch-rows)', () => {
    expect(readsOnlyCatalog('select c.relname from pg_catalog.pg_class c where c.relname like \'cust%\'')).toBe(true);
    expect(readsOnlyCatalog('SELECT table_name FROM information_schema.tables')).toBe(true);
    expect(metaCommandOf('select c.relname from pg_catalog.pg_class c')).toBeNull();
  });

  it('when a group is labelled, then it says the meta-command and how many queries', () => {
    expect(metaCommandLabel('\\d customers', 13)).toBe('psql \\d customers — 13 catalog queries');
    expect(metaCommandLabel(null, 1)).toBe('psql meta-command — 1 catalog query');
    expect(metaCommandLabel('tab completion', 2)).toBe('psql tab completion — 2 catalog queries');
  });
});
