// The access service (just-in-time access, the hub's side) against a real store (an in-memory
// PGlite) and the in-process control bus: who may ask, approve, deny and revoke, the targets'
// approval settings (approver groups, minimum approvals, reasons, durations, self-approval), expiry
// of stale requests and ended grants, the audit trail, who sees which request, and the request
// states the agents read from the control bus. One in-memory database for the file (opening one
// takes seconds), emptied before each test.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../common/config/load-config.ts';
import type { AccessState, ControlBus, ControlMessage } from '../../common/control/control-bus.ts';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { silentLogger } from '../../common/log.ts';
import type { Actor } from '../../server/access/access-policy.ts';
import { AccessService, type Origin } from '../../server/access/access-service.ts';
import { AppError } from '../../server/http/errors.ts';
import { SqlAccessStore, type AccessRequest, type AccessStore } from '../../server/access/access-store.ts';
import { PgliteSqlClient } from '../../server/store/pglite-sql-client.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { SqlRecordingStore } from '../../server/recordings/store/sql-recording-store.ts';

const target = (name: string, listen: string, extra: Record<string, unknown> = {}) => ({
  name, protocol: 'postgres', listen, upstream: { host: '127.0.0.1', database: 'app', user: 'app' }, ...extra,
});

const config = parseConfig({
  targets: [
    // Defaults: one approval, a reason required, 1h by default and 8h at most, 1h to decide.
    target('basic', '127.0.0.1:15401', { access: 'jit' }),
    target('two-man', '127.0.0.1:15402', { access: 'jit', approval: { minApprovals: 2 } }),
    target('dba-only', '127.0.0.1:15403', { access: 'jit', approval: { approverGroups: ['dba'] } }),
    target('self-ok', '127.0.0.1:15404', { access: 'jit', approval: { adminSelfApproval: true } }),
    target('quick', '127.0.0.1:15405', { access: 'jit', approval: { pendingTtl: '1s', reasonRequired: false } }),
    target('bounded', '127.0.0.1:15406', { access: 'jit', approval: { maxDuration: '30m', defaultDuration: '10m' } }),
    target('open-db', '127.0.0.1:15407'),
  ],
});

const alice: Actor = { subject: 'alice', roles: ['engineer'], groups: ['devs'] };
const bob: Actor = { subject: 'bob', roles: ['engineer'], groups: ['devs'] };
const aaron: Actor = { subject: 'aaron', roles: ['approver'], groups: ['leads'] };
const adele: Actor = { subject: 'adele', roles: ['approver'], groups: ['leads'] };
const dana: Actor = { subject: 'dana', roles: ['approver'], groups: ['dba'] };
const rita: Actor = { subject: 'rita', roles: ['reviewer'], groups: [] };
const ada: Actor = { subject: 'ada', roles: ['admin'], groups: ['ops'] };
const from: Origin = { from: '10.0.0.7' };
const HOUR = 3_600_000;

let client: PgliteSqlClient;
let store: RecordingStore;
let access: AccessStore;
let control: ControlBus;
let service: AccessService;
let published: ControlMessage[];

beforeAll(async () => {
  // What createMemoryStore() does, keeping the client to empty the tables between tests.
  client = await PgliteSqlClient.open();
  store = new SqlRecordingStore(client);
  await store.migrate();
  access = new SqlAccessStore(client);
});

afterAll(async () => {
  await store?.close();
});

beforeEach(async () => {
  await client.query('TRUNCATE access_decisions, access_requests, audit_log RESTART IDENTITY');
  control = createInProcessControlBus();
  published = [];
  await control.subscribe((m) => published.push(m));
  service = new AccessService({ config, store: access, control, logger: silentLogger });
});

afterEach(async () => {
  await service?.stop();
  await control?.close();
});

/** The AppError a call fails with (the test fails when it does not). */
async function refusal(call: Promise<unknown>): Promise<AppError> {
  const err = await call.then(() => null, (e: unknown) => e);
  expect(err, 'expected the call to be refused').toBeInstanceOf(AppError);
  return err as AppError;
}

const ask = (actor: Actor, targetName: string, extra: { reason?: string; durationMs?: number } = {}) =>
  service.request(actor, { target: targetName, reason: extra.reason ?? 'INC-42 investigate', origin: 'dashboard', ...(extra.durationMs !== undefined ? { durationMs: extra.durationMs } : {}) }, from);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The access states published for one request, in order. */
const statesOf = (id: number) => published.filter((m): m is AccessState => m.kind === 'access' && m.requestId === id);

describe('deciding access requests', () => {
  it('when an engineer asks for a jit target, then the request is pending with the defaults and its state is published', async () => {
    const request = await ask(alice, 'basic');
    expect(request).toMatchObject({ scope: 'connect', user: 'alice', target: 'basic', status: 'pending', reason: 'INC-42 investigate', durationMs: HOUR, minApprovals: 1, origin: 'dashboard', decisions: [] });
    expect(Date.parse(request.pendingUntil) - Date.parse(request.createdAt)).toBe(HOUR);
    await expect.poll(() => statesOf(request.id).map((s) => s.status)).toEqual(['pending']);
    expect(statesOf(request.id)[0]).toMatchObject({ kind: 'access', scope: 'connect', user: 'alice', target: 'basic' });
    // Only jit targets, only known ones, only people who use targets.
    expect((await refusal(ask(alice, 'open-db'))).status).toBe(400);
    expect((await refusal(ask(alice, 'nowhere'))).status).toBe(404);
    expect((await refusal(ask(aaron, 'basic'))).status).toBe(403);
  });

  it('when the requester approves their own request, then it is refused with 403, and an admin may only where adminSelfApproval is set', async () => {
    const own = await ask(alice, 'basic');
    // An engineer who is also an approver still cannot approve their own request.
    const aliceApprover: Actor = { ...alice, roles: ['engineer', 'approver'] };
    const self = await refusal(service.decide(aliceApprover, own.id, 'approve', '', from));
    expect(self.status).toBe(403);
    expect(self.message).toContain('your own request');

    const adminOwn = await ask(ada, 'basic');
    expect((await refusal(service.decide(ada, adminOwn.id, 'approve', '', from))).status).toBe(403);
    expect((await access.get(adminOwn.id))!.status).toBe('pending');

    const adminSelfOk = await ask(ada, 'self-ok');
    const granted = await service.decide(ada, adminSelfOk.id, 'approve', 'break-glass', from);
    expect(granted).toMatchObject({ status: 'granted', decisions: [{ approver: 'ada', decision: 'approve', comment: 'break-glass' }] });

    // adminSelfApproval is for admins: an approver asking on that target still cannot approve their own.
    const approverOwn = await ask({ ...alice, subject: 'eve', roles: ['engineer', 'approver'] }, 'self-ok');
    expect((await refusal(service.decide({ ...alice, subject: 'eve', roles: ['engineer', 'approver'] }, approverOwn.id, 'approve', '', from))).status).toBe(403);
  });

  it('when a target needs two approvals, then the first leaves it pending, the same approver again is refused, and a second approver grants it', async () => {
    const request = await ask(alice, 'two-man');
    expect(request.minApprovals).toBe(2);
    const first = await service.decide(aaron, request.id, 'approve', 'ok', from);
    expect(first).toMatchObject({ status: 'pending', expiresAt: null, decisions: [{ approver: 'aaron', decision: 'approve' }] });
    expect(await control.grantFor('alice', 'two-man')).toBeNull();

    const again = await refusal(service.decide(aaron, request.id, 'approve', 'still ok', from));
    expect(again.status).toBe(403);
    expect(again.message).toContain('already');
    expect((await access.get(request.id))!.decisions).toHaveLength(1);

    const second = await service.decide(adele, request.id, 'approve', '', from);
    expect(second.status).toBe('granted');
    expect(second.decisions.map((d) => d.approver).sort()).toEqual(['aaron', 'adele']);
    expect(Date.parse(second.expiresAt!) - Date.parse(second.decidedAt!)).toBe(HOUR);
    const grant = await control.grantFor('alice', 'two-man');
    expect(grant).toMatchObject({ requestId: request.id, status: 'granted', expiresAt: second.expiresAt });
    expect(grant!.by!.split(', ').sort()).toEqual(['aaron', 'adele']);
    // Decided: a third approver is told it is not pending any more.
    expect((await refusal(service.decide(ada, request.id, 'approve', '', from))).status).toBe(409);
  });

  it('when an approver denies a request, then it ends denied, with who and why, even after another approval', async () => {
    const request = await ask(alice, 'two-man');
    await service.decide(aaron, request.id, 'approve', '', from);
    const denied = await service.decide(adele, request.id, 'deny', 'not during the freeze', from);
    expect(denied).toMatchObject({ status: 'denied', endedBy: 'adele', endReason: 'not during the freeze', expiresAt: null });
    await expect.poll(() => statesOf(request.id).at(-1)).toMatchObject({ status: 'denied', by: 'adele', reason: 'not during the freeze' });
    expect(await control.grantFor('alice', 'two-man')).toBeNull();
    // It is over: nobody decides it any more.
    expect((await refusal(service.decide(ada, request.id, 'approve', '', from))).status).toBe(409);
    expect((await service.get(alice, request.id)).status).toBe('denied');
  });

  it('when a target names approver groups, then an approver outside them is refused and a member approves', async () => {
    const request = await ask(alice, 'dba-only');
    // An approver outside the group does not even see the request; an admin outside it sees it but may not decide.
    expect((await refusal(service.decide(aaron, request.id, 'approve', '', from))).status).toBe(404);
    const adminOutside = await refusal(service.decide(ada, request.id, 'approve', '', from));
    expect(adminOutside.status).toBe(403);
    expect(adminOutside.message).toContain('not an approver for dba-only');
    expect(service.view(ada, await access.get(request.id) as AccessRequest).canDecide).toBe(false);
    expect(service.view(dana, await access.get(request.id) as AccessRequest).canDecide).toBe(true);
    expect((await access.get(request.id))!.status).toBe('pending');

    const granted = await service.decide(dana, request.id, 'approve', '', from);
    expect(granted).toMatchObject({ status: 'granted', decisions: [{ approver: 'dana' }] });
    // An admin in the group decides too.
    const other = await ask(bob, 'dba-only');
    expect((await service.decide({ ...ada, groups: ['dba'] }, other.id, 'deny', '', from)).status).toBe('denied');
  });

  it('when a reason is missing or the duration is longer than the target allows, then the request is refused with 400', async () => {
    const noReason = await refusal(ask(alice, 'basic', { reason: '   ' }));
    expect(noReason.status).toBe(400);
    expect(noReason.message).toContain('reason');
    const tooLong = await refusal(ask(alice, 'bounded', { durationMs: 30 * 60_000 + 1 }));
    expect(tooLong.status).toBe(400);
    expect(tooLong.message).toContain('30m');
    expect(await access.list()).toEqual([]);

    // Within bounds it is taken; without a duration the target's default applies; without a reason where none is required.
    expect((await ask(alice, 'bounded', { durationMs: 30 * 60_000 })).durationMs).toBe(30 * 60_000);
    expect((await ask(bob, 'bounded')).durationMs).toBe(10 * 60_000);
    expect((await ask(alice, 'quick', { reason: '' })).reason).toBe('');
  });
});

describe('expiry', () => {
  it('when nobody decides a request within pendingTtl, then the sweep expires it, publishes expired and audits it', async () => {
    const request = await ask(alice, 'quick');
    await service.sweep();
    expect((await access.get(request.id))!.status).toBe('pending');
    await sleep(1200);
    // Past its time, it cannot be approved any more, even before the sweep.
    expect((await refusal(service.decide(aaron, request.id, 'approve', '', from))).status).toBe(409);
    await service.sweep();
    const after = (await access.get(request.id))!;
    expect(after).toMatchObject({ status: 'expired', expiresAt: null });
    await expect.poll(() => statesOf(request.id).map((s) => s.status)).toEqual(['pending', 'expired']);
    const audit = await access.auditLog({ requestId: request.id });
    expect(audit[0]).toMatchObject({ actor: 'vigil', action: 'access.request_expired', requestId: request.id });
    // Expired once: a second sweep finds nothing more.
    await service.sweep();
    expect(statesOf(request.id)).toHaveLength(2);
    // And the person may ask again.
    expect((await ask(alice, 'quick')).id).not.toBe(request.id);
  });

  it('when a stale request is replaced by a new one before the sweep ran, then its expiry is still audited and published', async () => {
    const stale = await ask(alice, 'quick');
    await sleep(1200);
    const fresh = await ask(alice, 'quick');
    expect(fresh.id).not.toBe(stale.id);
    expect((await access.get(stale.id))!.status).toBe('expired');
    await service.sweep();
    // Every change of state is audited and published, whoever noticed it first.
    expect((await access.auditLog({ requestId: stale.id })).map((a) => a.action)).toContain('access.request_expired');
    await expect.poll(() => statesOf(stale.id).map((s) => s.status)).toEqual(['pending', 'expired']);
  });

  it('when a grant runs out, then the sweep marks it expired, publishes it and the grant is gone from the control bus', async () => {
    const request = await ask(alice, 'basic', { durationMs: 2000 });
    await service.decide(aaron, request.id, 'approve', '', from);
    expect(await control.grantFor('alice', 'basic')).not.toBeNull();
    await sleep(2200);
    // Ended by time already; the sweep makes it official.
    expect(await control.grantFor('alice', 'basic')).toBeNull();
    await service.sweep();
    expect((await access.get(request.id))!.status).toBe('expired');
    await expect.poll(() => statesOf(request.id).map((s) => s.status)).toEqual(['pending', 'granted', 'expired']);
    expect((await access.auditLog({ requestId: request.id }))[0]).toMatchObject({ actor: 'vigil', action: 'access.grant_expired' });
    expect((await control.accessStates([request.id]))[0]).toMatchObject({ status: 'expired' });
    // Nothing left to revoke.
    expect((await refusal(service.revoke(aaron, request.id, '', from))).status).toBe(409);
  });
});

describe('revoking', () => {
  it('when an approver revokes a grant, then it ends revoked with who and why, and the grant is gone', async () => {
    const request = await ask(alice, 'basic');
    await service.decide(aaron, request.id, 'approve', '', from);
    const revoked = await service.revoke(adele, request.id, 'incident closed', from);
    expect(revoked).toMatchObject({ status: 'revoked', endedBy: 'adele', endReason: 'incident closed' });
    expect(Date.parse(revoked.expiresAt!)).toBeLessThanOrEqual(Date.now());
    expect(await control.grantFor('alice', 'basic')).toBeNull();
    await expect.poll(() => statesOf(request.id).at(-1)).toMatchObject({ status: 'revoked', by: 'adele', reason: 'incident closed' });
    // Once is enough.
    expect((await refusal(service.revoke(adele, request.id, '', from))).status).toBe(409);
  });

  it('when the holder gives up their grant, then it is revoked by them', async () => {
    const request = await ask(alice, 'basic');
    await service.decide(aaron, request.id, 'approve', '', from);
    expect(service.view(alice, (await access.get(request.id))!).canRevoke).toBe(true);
    expect(await service.revoke(alice, request.id, '', from)).toMatchObject({ status: 'revoked', endedBy: 'alice' });
    expect(await control.grantFor('alice', 'basic')).toBeNull();
  });

  it('when another engineer or a reviewer tries to revoke someone else\'s grant, then it is refused and the grant stays', async () => {
    const request = await ask(alice, 'basic');
    await service.decide(aaron, request.id, 'approve', '', from);
    // Bob does not see Alice's request at all; Rita sees it but is no approver.
    expect((await refusal(service.revoke(bob, request.id, '', from))).status).toBe(404);
    expect((await refusal(service.revoke(rita, request.id, '', from))).status).toBe(403);
    expect(service.view(rita, (await access.get(request.id))!).canRevoke).toBe(false);
    expect((await access.get(request.id))!.status).toBe('granted');
    expect(await control.grantFor('alice', 'basic')).toMatchObject({ requestId: request.id });
  });
});

describe('opening requests', () => {
  it('when an engineer asks twice, then the second ask returns the same open request', async () => {
    const first = await ask(alice, 'basic', { reason: 'first' });
    const second = await ask(alice, 'basic', { reason: 'second', durationMs: 2 * HOUR });
    expect(second.id).toBe(first.id);
    expect(second).toMatchObject({ status: 'pending', reason: 'first', durationMs: HOUR });
    expect(await access.list({ user: 'alice' })).toHaveLength(1);
    expect((await access.auditLog({ requestId: first.id })).map((a) => a.action)).toEqual(['access.requested']);
    // Someone else, or another target, is another request, with the next number (asking again used none up).
    expect((await ask(bob, 'basic')).id).toBe(first.id + 1);
    expect((await ask(alice, 'two-man')).id).not.toBe(first.id);
  });

  it('when an agent opens a request for someone who connected, then their explicit request fills in its reason and duration', async () => {
    await service.start();
    const receipt = await control.requestAccess({ scope: 'connect', user: 'alice', target: 'bounded', client: '10.1.2.3:5555', sessionId: 'sess-1' });
    expect(receipt).toMatchObject({ status: 'pending' });
    const id = (receipt as { requestId: number }).requestId;
    expect(await access.get(id)).toMatchObject({ origin: 'connection', reason: '', durationMs: 10 * 60_000, client: '10.1.2.3:5555', sessionId: 'sess-1', status: 'pending' });
    // Connecting again finds the same request.
    expect(await service.openFromAgent({ scope: 'connect', user: 'alice', target: 'bounded' })).toEqual({ requestId: id, status: 'pending' });

    const explicit = await ask(alice, 'bounded', { reason: 'INC-7 slow queries', durationMs: 20 * 60_000 });
    expect(explicit).toMatchObject({ id, origin: 'dashboard', reason: 'INC-7 slow queries', durationMs: 20 * 60_000, status: 'pending' });
    const audit = await access.auditLog({ requestId: id });
    expect(audit.map((a) => a.action).reverse()).toEqual(['access.requested', 'access.request_updated']);
    expect(audit[1]).toMatchObject({ actor: 'alice', origin: '10.1.2.3:5555' });
    expect(audit[0]).toMatchObject({ actor: 'alice', origin: from.from, detail: { reason: 'INC-7 slow queries', durationMs: 20 * 60_000 } });
    await expect.poll(() => statesOf(id).map((s) => s.status)).toEqual(['pending', 'pending']);

    // Once an approver has decided part of it, the person's words no longer change it.
    const twoMan = await service.openFromAgent({ scope: 'connect', user: 'bob', target: 'two-man' });
    const twoManId = (twoMan as { requestId: number }).requestId;
    await service.decide(aaron, twoManId, 'approve', '', from);
    expect(await ask(bob, 'two-man', { reason: 'later words' })).toMatchObject({ id: twoManId, reason: '', origin: 'connection' });

    // Agents get an error receipt for targets the hub does not gate.
    expect(await service.openFromAgent({ scope: 'connect', user: 'alice', target: 'open-db' })).toHaveProperty('error');
    expect(await service.openFromAgent({ scope: 'connect', user: 'alice', target: 'nowhere' })).toHaveProperty('error');
  });
});

describe('the record', () => {
  it('when a request is asked, approved, granted and revoked, then the audit log has each step with its actor and origin', async () => {
    const request = await ask(alice, 'basic');
    await service.decide(aaron, request.id, 'approve', 'ok for the incident', { from: '10.0.0.8' });
    await service.revoke(aaron, request.id, 'done', { from: '10.0.0.9' });
    const audit = (await access.auditLog({ requestId: request.id })).reverse();
    expect(audit.map((a) => [a.action, a.actor])).toEqual([
      ['access.requested', 'alice'],
      ['access.approved', 'aaron'],
      ['access.granted', 'vigil'],
      ['access.revoked', 'aaron'],
    ]);
    expect(audit.every((a) => a.target === 'basic' && a.requestId === request.id)).toBe(true);
    expect(audit.map((a) => a.origin)).toEqual(['10.0.0.7', '10.0.0.8', '10.0.0.8', '10.0.0.9']);
    expect(audit[0].detail).toMatchObject({ user: 'alice', scope: 'connect', reason: 'INC-42 investigate', durationMs: HOUR });
    expect(audit[1].detail).toMatchObject({ user: 'alice', comment: 'ok for the incident' });
    expect(audit[2].detail).toMatchObject({ approvers: ['aaron'] });
    expect(typeof audit[2].detail.until).toBe('string');
    expect(audit[3].detail).toMatchObject({ reason: 'done' });
    // A denial is audited too.
    const denied = await ask(bob, 'basic');
    await service.decide(adele, denied.id, 'deny', 'no', from);
    expect((await access.auditLog({ requestId: denied.id }))[0]).toMatchObject({ action: 'access.denied', actor: 'adele', detail: { comment: 'no' } });
  });

  it('when people look at requests, then another engineer gets 404 for someone else\'s, while approvers, reviewers and admins see it', async () => {
    const request = await ask(alice, 'basic');
    const dbaRequest = await ask(alice, 'dba-only');
    expect((await refusal(service.get(bob, request.id))).status).toBe(404);
    expect((await refusal(service.get(bob, 9999))).status).toBe(404);
    expect(await service.list(bob)).toEqual([]);

    for (const who of [alice, aaron, rita, ada]) expect((await service.get(who, request.id)).id).toBe(request.id);
    expect((await service.list(alice)).map((r) => r.id)).toEqual([dbaRequest.id, request.id]);
    expect((await service.list(rita)).map((r) => r.id)).toEqual([dbaRequest.id, request.id]);
    // Approvers see the targets they decide for only.
    expect((await service.list(aaron)).map((r) => r.id)).toEqual([request.id]);
    expect((await refusal(service.get(aaron, dbaRequest.id))).status).toBe(404);
    expect((await service.list(dana)).map((r) => r.id)).toEqual([dbaRequest.id, request.id]);
    // The caller-specific flags.
    const [forAaron] = await service.list(aaron);
    expect(forAaron).toMatchObject({ canDecide: true, canRevoke: false });
    const forAlice = await service.list(alice);
    expect(forAlice.every((r) => !r.canDecide && !r.canRevoke)).toBe(true);
    expect((await service.list(rita)).every((r) => !r.canDecide)).toBe(true);
    expect(await service.list(rita, { mine: true })).toEqual([]);
  });
});

describe('what the agents hear', () => {
  it('when a request is approved and then revoked, then the control bus carries each state and grantFor follows it', async () => {
    const heard: AccessState[] = [];
    const unsubscribe = await control.subscribe((m) => { if (m.kind === 'access') heard.push(m); });
    const request = await ask(alice, 'basic');
    expect(await control.grantFor('alice', 'basic')).toBeNull();

    const granted = await service.decide(aaron, request.id, 'approve', '', from);
    const grant = await control.grantFor('alice', 'basic');
    expect(grant).toMatchObject({ kind: 'access', requestId: request.id, scope: 'connect', user: 'alice', target: 'basic', status: 'granted', by: 'aaron', expiresAt: granted.expiresAt });
    expect(await control.grantFor('bob', 'basic')).toBeNull();
    expect(await control.grantFor('alice', 'two-man')).toBeNull();

    await service.revoke(aaron, request.id, 'done', from);
    expect(await control.grantFor('alice', 'basic')).toBeNull();
    await expect.poll(() => heard.map((s) => s.status)).toEqual(['pending', 'granted', 'revoked']);
    expect(heard.every((s) => s.requestId === request.id && s.user === 'alice' && s.target === 'basic')).toBe(true);
    expect(heard[2]).toMatchObject({ by: 'aaron', reason: 'done' });
    expect(await control.accessStates([request.id])).toEqual([heard[2]]);
    await unsubscribe();
  });

  it('when a hub starts, then it restates the grants in force to the agents', async () => {
    const request = await ask(alice, 'basic');
    await service.decide(aaron, request.id, 'approve', '', from);
    // Another hub, with a fresh control path that heard nothing yet.
    const freshControl = createInProcessControlBus();
    const other = new AccessService({ config, store: access, control: freshControl, logger: silentLogger });
    try {
      expect(await freshControl.grantFor('alice', 'basic')).toBeNull();
      await other.start();
      expect(await freshControl.grantFor('alice', 'basic')).toMatchObject({ requestId: request.id, status: 'granted' });
    } finally {
      await other.stop();
      await freshControl.close();
    }
  });
});
