import { describe, expect, it } from 'vitest';
import type { AgentAuditEntry } from '../../common/control/control-bus.ts';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { silentLogger } from '../../common/log.ts';
import { hostOf, LoginGuard } from './login-guard.ts';

const login = (client: string) => ({ protocol: 'postgres' as const, client, target: 'pg', user: 'mallory', reason: 'the Vigil token has expired' });

describe('LoginGuard', () => {
  it('when logins are refused, then each reaches the audit intake with its address; past the budget the address is refused at once and the flood is one entry a minute with its count', async () => {
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const control = createInProcessControlBus();
    const audited: AgentAuditEntry[] = [];
    await control.serveAudit(async (entries) => void audited.push(...entries));
    const guard = new LoginGuard({ agentId: 'a1', control, logger: silentLogger, failuresPerMinute: 3, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(guard.admit(login('10.0.0.9:4000')).ok).toBe(true);
      guard.refused(login(`10.0.0.9:${4000 + i}`));
    }
    expect(guard.admit(login('10.0.0.9:5000'))).toMatchObject({ ok: false });
    expect(guard.admit(login('10.0.0.10:5000')).ok).toBe(true);
    for (let i = 0; i < 49; i++) expect(guard.admit(login(`10.0.0.9:${6000 + i}`)).ok).toBe(false);
    now += 61_000;
    // A minute on, the budget has room again; the next failure past it reports the flood.
    for (let i = 0; i < 3; i++) guard.refused(login('10.0.0.9:7000'));
    expect(guard.admit(login('10.0.0.9:7001')).ok).toBe(false);
    await expect.poll(() => audited.length).toBe(8);
    expect(audited.slice(0, 3)).toEqual([0, 1, 2].map((i) => ({
      at: '2030-01-01T00:00:00.000Z', agent: 'a1', action: 'login.refused', protocol: 'postgres', client: `10.0.0.9:${4000 + i}`, target: 'pg', user: 'mallory', reason: 'the Vigil token has expired',
    })));
    expect(audited[3]).toMatchObject({ action: 'login.rate_limited' });
    expect(audited[3].count).toBeUndefined();
    expect(audited.slice(4, 7).map((a) => a.action)).toEqual(['login.refused', 'login.refused', 'login.refused']);
    expect(audited[7]).toMatchObject({ action: 'login.rate_limited', count: 50 });
    guard.stop();
  });

  it('when the control bus cannot take a report, then it is sent again later', async () => {
    const control = createInProcessControlBus();
    let fail = true;
    const audited: AgentAuditEntry[] = [];
    const real = control.reportAudit.bind(control);
    control.reportAudit = async (entries) => {
      if (fail) throw new Error('down');
      return real(entries);
    };
    await control.serveAudit(async (entries) => void audited.push(...entries));
    const guard = new LoginGuard({ agentId: 'a1', control, logger: silentLogger });
    guard.refused(login('10.0.0.9:1'));
    fail = false;
    await expect.poll(() => audited.length, { timeout: 5000 }).toBe(1);
    guard.stop();
  });

  it('when an address has a port, then the budget is per host', () => {
    expect(hostOf('10.0.0.1:5432')).toBe('10.0.0.1');
    expect(hostOf('[::1]:5432')).toBe('::1');
    expect(hostOf('::ffff:127.0.0.1:5000')).toBe('::ffff:127.0.0.1');
  });
});
