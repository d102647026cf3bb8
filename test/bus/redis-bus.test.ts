import crypto from 'node:crypto';
import { inject } from 'vitest';
import { createRedisBus } from '../../common/bus/redis-bus.ts';
import { describeEventBusContract } from './bus-contract.ts';

describeEventBusContract('redis', () => {
  // Each test gets its own keys on the shared private Redis.
  const prefix = `t:${crypto.randomBytes(6).toString('hex')}:`;
  const open = () => createRedisBus(inject('redisUrl'), { keyPrefix: prefix });
  return { open, reopen: open };
});
