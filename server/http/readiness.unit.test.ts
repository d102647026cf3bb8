import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { readinessHandler, type ReadinessBody, type ReadinessCheck } from './readiness.ts';

async function ask(handler: ReturnType<typeof readinessHandler>): Promise<{ status: number; body: ReadinessBody }> {
  const answer = { status: 0, body: undefined as unknown as ReadinessBody };
  const res = {
    status(code: number) { answer.status = code; return res; },
    json(body: ReadinessBody) { answer.body = body; return res; },
  };
  await handler({} as Request, res as unknown as Response, () => undefined);
  return answer;
}

describe('readinessHandler', () => {
  it('when every check passes, then 200 and each dependency up', async () => {
    const handler = readinessHandler({ store: async () => undefined, redis: () => true });
    expect(await ask(handler)).toEqual({ status: 200, body: { status: 'up', checks: { store: 'up', redis: 'up' } } });
  });

  it('when a check fails, returns false or throws, then 503 and only up or down per dependency (no error text)', async () => {
    const handler = readinessHandler({
      store: async () => { throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2'); },
      redis: () => false,
      idp: async () => true,
    });
    const answer = await ask(handler);
    expect(answer).toEqual({ status: 503, body: { status: 'down', checks: { store: 'down', redis: 'down', idp: 'up' } } });
    expect(JSON.stringify(answer.body)).not.toMatch(/ECONNREFUSED|10\.0\.0\.7|hunter2/);
  });

  it('when a check hangs, then it is down after the timeout, and callers meanwhile share the one probe in flight', async () => {
    let started = 0;
    let release!: () => void;
    const hanging: ReadinessCheck = () => {
      started++;
      return new Promise<void>((resolve) => { release = resolve; });
    };
    const handler = readinessHandler({ store: hanging }, 30);
    const answers = await Promise.all([ask(handler), ask(handler), ask(handler)]);
    expect(answers.map((a) => a.body.checks.store)).toEqual(['down', 'down', 'down']);
    expect((await ask(handler)).status).toBe(503);
    expect(started).toBe(1);
    release();
    await new Promise((r) => setTimeout(r, 5));
    // Settled: the next call probes again.
    const next = ask(handler);
    await new Promise((r) => setTimeout(r, 1));
    release();
    expect((await next).status).toBe(200);
    expect(started).toBe(2);
  });
});
