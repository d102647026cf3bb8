// Starts one private Redis and one private PostgreSQL for the integration suite and hands their
// URLs to the tests (inject('redisUrl'), inject('postgresUrl')). Builds the dashboard once, before
// any test file, so that files which need it (vigil dev, the browser tests) never build it at the
// same time.
import type { TestProject } from 'vitest/node';
import { ensureDashboardBuilt } from '../server/http/dashboard.ts';
import { startPostgres, startRedis } from './support/services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres(), ensureDashboardBuilt()]);
  project.provide('redisUrl', redis.url);
  project.provide('postgresUrl', postgres.url);
  return async () => {
    await Promise.all([redis.stop(), postgres.stop()]);
  };
}
