import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ControlBus } from '../../common/control/control-bus.ts';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import type { Lock } from '../../common/locks.ts';
import { silentLogger } from '../../common/log.ts';
import { LockGuard } from './lock-guard.ts';

const lock = (id: string, user: string): Lock => ({ id, user, by: 'rita', reason: 'why', createdAt: '2026-12-07T09:00:00.000Z' });
const settle = () => new Promise((r) => setTimeout(r, 10));

describe('the agent\'s lock guard', () => {
  it('when lists come, then it applies the newest, hears each change once, and never goes back to an older one', async () => {
    const bus = createInProcessControlBus();
    await bus.publish({ kind: 'locks', at: '2026-12-07T09:00:00.000Z', locks: [lock('L-1', 'bob')] });
    const guard = new LockGuard(bus, silentLogger);
    const heard: string[][] = [];
    guard.onChange((locks) => heard.push(locks.map((l) => l.id)));
    await guard.start();
    expect(guard.refusal({ user: 'bob', target: 'db' })).toContain('bob is locked by rita: why (lock L-1');
    expect(guard.refusal({ user: 'alice', target: 'db' })).toBeNull();

    await bus.publish({ kind: 'locks', at: '2026-12-07T09:00:15.000Z', locks: [lock('L-1', 'bob')] });
    await bus.publish({ kind: 'locks', at: '2026-12-07T09:00:20.000Z', locks: [lock('L-2', 'alice')] });
    await bus.publish({ kind: 'locks', at: '2026-12-07T09:00:10.000Z', locks: [lock('L-1', 'bob')] });
    await settle();
    expect(heard).toEqual([['L-1'], ['L-2']]);
    expect(guard.refusal({ user: 'bob', target: 'db' })).toBeNull();
    expect(guard.lockFor({ user: 'alice', target: 'db' })?.id).toBe('L-2');
    await guard.stop();
    await bus.close();
  });

  it('when a target is strict, then it takes new sessions only while the list is fresh; a lenient one always', async () => {
    const bus = createInProcessControlBus();
    const strict = (target: string) => (target === 'vault' ? 60_000 : null);
    const guard = new LockGuard(bus, silentLogger, undefined, strict);
    await guard.start();
    const at = Date.parse('2026-12-07T09:00:00.000Z');
    expect(guard.refusal({ user: 'alice', target: 'vault' }, at)).toContain('vault takes no new sessions now: its locks are strict and this agent has not received the list of locks');
    expect(guard.refusal({ user: 'alice', target: 'db' }, at)).toBeNull();

    await bus.publish({ kind: 'locks', at: '2026-12-07T09:00:00.000Z', locks: [lock('L-1', 'bob')] });
    await settle();
    expect(guard.refusal({ user: 'alice', target: 'vault' }, at + 60_000)).toBeNull();
    expect(guard.refusal({ user: 'alice', target: 'vault' }, at + 61_000)).toContain('has not heard the list of locks for 61 s');
    expect(guard.refusal({ user: 'alice', target: 'db' }, at + 3_600_000)).toBeNull();
    // A lock says so itself, fresh list or not.
    expect(guard.refusal({ user: 'bob', target: 'vault' }, at + 61_000)).toContain('bob is locked by rita');
    await guard.stop();
    await bus.close();
  });

  it('when the agent has no control path, then nothing is locked', async () => {
    const guard = new LockGuard(undefined, silentLogger);
    await guard.start();
    expect(guard.refusal({ user: 'bob', target: 'db' })).toBeNull();
  });

  it('when the agent starts again while the control bus cannot be read, then it applies the list it kept on disk', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-locks-'));
    const file = path.join(dir, 'locks-agent-1.json');
    try {
      const bus = createInProcessControlBus();
      const first = new LockGuard(bus, silentLogger, file);
      await first.start();
      await bus.publish({ kind: 'locks', at: '2026-12-07T09:00:00.000Z', locks: [lock('L-1', 'bob')] });
      await settle();
      await first.stop();
      await bus.close();

      const unreachable = { ...createInProcessControlBus(), locks: () => Promise.reject(new Error('Redis is away')) } as ControlBus;
      const second = new LockGuard(unreachable, silentLogger, file);
      await second.start();
      expect(second.lockFor({ user: 'bob', target: 'db' })?.id).toBe('L-1');
      await second.stop();

      fs.writeFileSync(file, '{"kind":"locks","at":"not a time"');
      const third = new LockGuard(unreachable, silentLogger, file);
      await third.start();
      expect(third.lockFor({ user: 'bob', target: 'db' })).toBeNull();
      await third.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
