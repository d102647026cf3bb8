// The search contract on a real PostgreSQL: the suite's private server (test/global-setup.ts), in a
// database of its own that is dropped afterwards.
import { afterAll, inject } from 'vitest';
import { PgSqlClient } from '../../../server/store/pg-sql-client.ts';
import { createFreshDatabase } from '../../hub/fresh-database.ts';
import { describeSearchContract } from './search-contract.ts';

const databases: { drop(): Promise<void> }[] = [];

afterAll(async () => {
  for (const db of databases) await db.drop();
});

describeSearchContract('PostgreSQL', async () => {
  const db = await createFreshDatabase(inject('postgresUrl'), 'vigil_search');
  databases.push(db);
  return new PgSqlClient({ connectionString: db.url });
});
