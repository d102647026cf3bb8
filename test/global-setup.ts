// Starts one private Redis and one private PostgreSQL for the integration suite and hands their
// URLs to the tests (inject('redisUrl'), inject('postgresUrl')).
import type { TestProject } from 'vitest/node';
import { startPostgres, startRedis } from './support/services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  project.provide('redisUrl', redis.url);
  project.provide('postgresUrl', postgres.url);
  return async () => {
    await Promise.all([redis.stop(), postgres.stop()]);
  };
}
