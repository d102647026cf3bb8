// Governance of HTTP sessions end to end, with real parts: curl and fetch through the agent, a real
// upstream, Redis as the control path between hub and agent (each with its own connection), the
// hub's API as the demo people. A kill cuts a live stream and the token's later requests are
// refused; a jit target admits only under a grant, and a revocation cuts what is under way; a
// request an `approve` rule holds waits for an approver, then gets the target's answer or 403.
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ControlBus } from '../../common/control/control-bus.ts';
import { createRedisControlBus } from '../../common/control/redis-control-bus.ts';
import { startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';
import { apiAs, type ApiCall } from '../support/oidc-login-client.ts';
import { startHttpHarness, type HttpHarness } from '../support/http-harness.ts';
import { liveSessionOf, ofType } from '../support/recordings.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const prefix = `http-gov-${process.pid}-${Date.now()}:`;
const controls: ControlBus[] = [];
let h: HttpHarness;
let web: HubWithLogin;
let alice: ApiCall;
let aaron: ApiCall;
let rita: ApiCall;

const control = async () => {
  const bus = await createRedisControlBus(inject('redisUrl'), prefix);
  controls.push(bus);
  return bus;
};

beforeAll(async () => {
  h = await startHttpHarness({
    control: await control(),
    api: {
      idleTimeout: '30s',
      guardrails: [{ name: 'payouts-need-approval', request: 'POST /echo/payouts/**', action: 'approve' }],
    },
    targets: [{ name: 'gated', access: 'jit', idleTimeout: '30s' }],
  });
  web = await startHubWithLogin({ dataDir: h.dir, targets: h.config.targets, bus: h.bus, stores: h.stores, control: await control() });
  [alice, aaron, rita] = await Promise.all([apiAs(web.hub.url, 'alice'), apiAs(web.hub.url, 'aaron'), apiAs(web.hub.url, 'rita')]);
});

afterAll(async () => {
  await web?.stop();
  await h?.stop();
  for (const c of controls) await c.close();
});

/** Reads a server-sent event stream until it ends or breaks; what arrived, and how it ended. */
async function readStream(res: Response): Promise<{ text: string; broken: boolean }> {
  const reader = res.body!.getReader();
  let text = '';
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    return { text, broken: false };
  } catch {
    return { text, broken: true };
  }
}

async function pending(api: ApiCall, scope: 'connect' | 'statement') {
  const { body } = await api('GET', '/api/access-requests?status=pending');
  return (body.requests as Array<{ id: number; scope: string; statement: string | null }>).filter((r) => r.scope === scope);
}

describe('governing HTTP sessions', () => {
  it('when a reviewer kills a session in the middle of a stream, then the stream is cut, the token\'s next request is refused with who and why, and the recording says killed', async () => {
    const token = await h.token('alice');
    const auth = { authorization: `Bearer ${token}` };
    const res = await fetch(`${h.url()}/events?count=100&gap=200`, { headers: auth });
    const reading = readStream(res);
    const sessionId = await liveSessionOf(h.store, 'alice');
    // Not for engineers.
    expect((await alice('POST', `/api/sessions/${sessionId}/kill`, {})).status).toBe(403);
    expect((await rita('POST', `/api/sessions/${sessionId}/kill`, { reason: 'exfiltration suspected' })).status).toBe(202);
    const read = await reading;
    expect(read.text).toContain('"n":1');
    expect(read.text).not.toContain('"n":100');
    const again = await fetch(`${h.url()}/public`, { headers: auth });
    expect(again.status).toBe(403);
    expect((await again.json()).error).toBe('this session was ended by rita: exfiltration suspected');

    const events = await h.sessionWhere((e) => e.type === 'session.end' && e.sessionId === sessionId);
    expect(events.at(-1)).toMatchObject({ type: 'session.end', data: { reason: 'killed', message: 'this session was ended by rita: exfiltration suspected' } });
    expect(ofType(events, 'http.end')).toEqual([expect.objectContaining({ data: expect.objectContaining({ outcome: 'aborted', detail: 'this session was ended by rita: exfiltration suspected' }) })]);
  });

  it('when alice calls a jit target without a grant, then she gets 403 naming the request; once approved she gets through, and a revocation cuts her stream', async () => {
    const token = await h.token('alice', 'gated');
    const auth = { authorization: `Bearer ${token}` };
    const first = await fetch(`${h.url('gated')}/public`, { headers: auth });
    expect(first.status).toBe(403);
    const m = /request #(\d+) is waiting for an approver/.exec((await first.json()).error);
    expect(m).not.toBeNull();
    const id = Number(m![1]);
    expect((await aaron('POST', `/api/access-requests/${id}/approve`, {})).body.request.status).toBe('granted');

    const res = await fetch(`${h.url('gated')}/events?count=100&gap=200`, { headers: auth });
    expect(res.status).toBe(200);
    const reading = readStream(res);
    await expect.poll(() => liveSessionOf(h.store, 'alice').catch(() => null), { timeout: 10_000 }).not.toBeNull();
    expect((await aaron('POST', `/api/access-requests/${id}/revoke`, { reason: 'done' })).status).toBe(200);
    const read = await reading;
    expect(read.text).not.toContain('"n":100');
    const again = await fetch(`${h.url('gated')}/public`, { headers: auth });
    expect(again.status).toBe(403);
    expect((await again.json()).error).toContain(`access grant #${id} was revoked by aaron: done`);
    const events = await h.sessionWhere((e) => e.type === 'access' && e.data.action === 'revoked' && e.data.requestId === id);
    expect(events.at(-1)).toMatchObject({ type: 'session.end', data: { reason: 'revoked' } });
  });

  it('when a reviewer locks a user, then her live stream ends with the lock\'s message, her logins are refused, and lifting the lock lets a new login in', async () => {
    const token = await h.token('dora');
    const auth = { authorization: `Bearer ${token}` };
    const reading = readStream(await fetch(`${h.url()}/events?count=100&gap=200`, { headers: auth }));
    const sessionId = await liveSessionOf(h.store, 'dora');
    const made = await rita('POST', '/api/locks', { user: 'dora', reason: 'INC-9: token leaked' });
    expect(made.status).toBe(201);
    const lock = (made.body as { lock: { id: string } }).lock;
    const message = `dora is locked by rita: INC-9: token leaked (lock ${lock.id}, until it is lifted)`;
    expect((await reading).text).not.toContain('"n":100');
    const again = await fetch(`${h.url()}/public`, { headers: auth });
    expect(again.status).toBe(403);
    expect((await again.json()).error).toBe(message);
    const fresh = { authorization: `Bearer ${await h.token('dora')}` };
    const refused = await fetch(`${h.url()}/public`, { headers: fresh });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toBe(message);
    const events = await h.sessionWhere((e) => e.type === 'session.end' && e.sessionId === sessionId);
    expect(events.at(-1)).toMatchObject({ data: { reason: 'locked', message } });

    expect((await rita('DELETE', `/api/locks/${lock.id}`)).status).toBe(200);
    await expect.poll(async () => (await fetch(`${h.url()}/public`, { headers: fresh })).status, { timeout: 10_000 }).toBe(200);
  });

  it('when a request an approve rule holds is sent, then the client waits and gets the target\'s answer once approved, or 403 once denied', async () => {
    const token = await h.token('bob');
    const send = () => fetch(`${h.url()}/echo/payouts/7`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"amount":100}' });
    const held = send();
    await expect.poll(async () => (await pending(aaron, 'statement')).length, { timeout: 10_000 }).toBe(1);
    const [request] = await pending(aaron, 'statement');
    expect(request.statement).toBe('POST /echo/payouts/7');
    expect((await aaron('POST', `/api/access-requests/${request.id}/approve`, {})).status).toBe(200);
    const approved = await held;
    expect(approved.status).toBe(404); // the target's own answer: it has no such route
    expect((await approved.json()).reason).toBe('NotFound');

    const second = send();
    await expect.poll(async () => (await pending(aaron, 'statement')).length, { timeout: 10_000 }).toBe(1);
    const [next] = await pending(aaron, 'statement');
    expect((await aaron('POST', `/api/access-requests/${next.id}/deny`, { comment: 'not today' })).status).toBe(200);
    const denied = await second;
    expect(denied.status).toBe(403);
    expect((await denied.json()).error).toContain('Vigil guardrail payouts-need-approval held this request and it was not approved');
    const seen = h.upstream.seen.filter((s) => s.url === '/echo/payouts/7');
    expect(seen).toHaveLength(1);
  });
});
