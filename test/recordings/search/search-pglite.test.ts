// The search contract on embedded PGlite, opened with pg_trgm loaded. PgliteSqlClient.open() takes
// no extensions yet, so the client is built here around a PGlite opened as open() opens one plus
// the extension: the same client code the store runs, over the database the store will open once
// open() passes `extensions: { pg_trgm }` (see docs in search-index.ts).
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PgliteSqlClient } from '../../../server/store/pglite-sql-client.ts';
import { parseInt8, type SqlClient } from '../../../server/store/sql-client.ts';
import { describeSearchContract } from './search-contract.ts';

const INT8_OID = 20;

async function openPgliteWithTrigrams(): Promise<SqlClient> {
  const db = new PGlite({ parsers: { [INT8_OID]: parseInt8 }, extensions: { pg_trgm } });
  await db.waitReady;
  // The constructor is private to keep callers on open(); this stands in for open() with extensions.
  return Reflect.construct(PgliteSqlClient, [db]) as SqlClient;
}

describeSearchContract('PGlite', openPgliteWithTrigrams);
