// The HTTP proxy with real clients (curl, node's fetch, ws) against a real upstream server: logins
// with a Vigil token as bearer or basic password, the target's own credential injected, headers
// and bodies as they are for the client and masked in the recording, streams that pass as they
// come, a WebSocket, guardrails by method and path, and bad input that closes only its connection.
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { VigilEvent } from '../../common/events/index.ts';
import { ofType } from '../support/recordings.ts';
import { PODS, startHttpHarness, type HttpHarness } from '../support/http-harness.ts';
import validateHar from 'har-validator';
import { harOf } from '../../server/recordings/export/har.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });
const run = promisify(execFile);

let h: HttpHarness;
beforeAll(async () => {
  h = await startHttpHarness({
    api: {
      guardrails: [
        { name: 'no-admin-deletes', request: 'DELETE /admin/**', action: 'deny', message: 'deleting through the admin API needs a change ticket' },
      ],
    },
  });
});
afterAll(async () => {
  await h?.stop();
});

/** curl through the agent: the body, then the status on the last line. */
async function curl(args: string[]): Promise<{ body: string; status: number; stderr: string }> {
  const { stdout, stderr } = await run('curl', ['-sS', '-w', '\n%{http_code}', ...args], { maxBuffer: 64 * 1024 * 1024, encoding: 'latin1' }).catch((err: { stdout: string; stderr: string }) => err);
  const cut = stdout.lastIndexOf('\n');
  return { body: stdout.slice(0, cut), status: Number(stdout.slice(cut + 1)), stderr };
}

/** `user`'s ended session whose requests include one to `path`. */
const sessionWith = (path: string, user: string) => h.sessionWhere((e) => e.type === 'http.request' && e.data.path === path && e.user === user);
/** An exchange is its session's and its request's seq: `events` may hold several sessions. */
const exchangeOf = (events: VigilEvent[], path: string) => {
  const request = ofType(events, 'http.request').find((e) => e.data.path === path)!;
  const ofRequest = (e: { sessionId: string; data: { requestSeq: number } }) => e.sessionId === request.sessionId && e.data.requestSeq === request.seq;
  return {
    request,
    bodies: ofType(events, 'http.body').filter(ofRequest),
    response: ofType(events, 'http.response').filter(ofRequest)[0],
    end: ofType(events, 'http.end').filter(ofRequest)[0],
  };
};

describe('the HTTP proxy', () => {
  it('when curl sends a request with the token as a bearer token, then it gets the API\'s answer and the recording has the exchange, its credentials masked', async () => {
    const token = await h.token();
    const r = await curl(['-H', `Authorization: Bearer ${token}`, `${h.url()}/api/v1/namespaces/default/pods`]);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual(PODS);

    const events = await sessionWith('/api/v1/namespaces/default/pods', 'alice');
    expect(events[0]).toMatchObject({ type: 'session.start', protocol: 'http', user: 'alice', target: 'api', data: { auth: 'bearer', upstream: h.upstream.url } });
    const x = exchangeOf(events, '/api/v1/namespaces/default/pods');
    expect(x.request.data).toMatchObject({ method: 'GET', query: '', version: '1.1' });
    expect(x.request.data.headers).toContainEqual(['Authorization', 'Bearer [CREDENTIAL]']);
    expect(x.response.data.status).toBe(200);
    expect(JSON.parse(x.bodies.find((b) => b.data.direction === 'response')!.data.text!)).toEqual(PODS);
    expect(x.end.data).toMatchObject({ outcome: 'complete', requestBytes: 0, responseBytes: Buffer.byteLength(JSON.stringify(PODS)) });
    expect(events.at(-1)).toMatchObject({ type: 'session.end', data: { reason: 'idle' } });
    const text = JSON.stringify(events);
    expect(text).not.toContain(token.split('.')[2]);
    expect(text).not.toContain(h.upstream.apiKey);
  });

  it('when a session with JSON, a stream and a WebSocket is exported as HAR, then a HAR validator accepts it, one entry per exchange', async () => {
    const token = await h.token('hal');
    const auth = { authorization: `Bearer ${token}` };
    await (await fetch(`${h.url()}/api/v1/namespaces/default/pods?limit=5`, { headers: auth })).text();
    await (await fetch(`${h.url()}/echo`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"password":"har-secret-1"}' })).text();
    await (await fetch(`${h.url()}/events?count=2&gap=50`, { headers: auth })).text();
    const ws = new WebSocket(`${h.url().replace('http', 'ws')}/ws`, { headers: auth });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send('ping');
    await new Promise((resolve) => ws.once('message', resolve));
    ws.close();
    await new Promise((resolve) => ws.once('close', resolve));

    const har = harOf(await h.userEvents('hal', 4));
    await expect(validateHar.har(har)).resolves.toBeTruthy();
    expect(har.log.entries.map((e) => [e.request.method, new URL(e.request.url).pathname, e.response.status])).toEqual([
      ['GET', '/api/v1/namespaces/default/pods', 200], ['POST', '/echo', 200], ['GET', '/events', 200], ['GET', '/ws', 101],
    ]);
    expect(har.log.entries[1].request.postData?.text).toBe('{"password":"[SECRET_COLUMN]"}');
    expect(JSON.stringify(har)).not.toContain('har-secret-1');
  });

  it('when a request goes through, then the target gets its own credential and never the client\'s token, Host or hop-by-hop headers', async () => {
    const token = await h.token();
    // (curl: fetch refuses to send a Connection header of its own)
    const r = await curl(['-H', `Authorization: Bearer ${token}`, '-H', 'X-Trace: abc', '-H', 'Cookie: theme=dark; vigil_api=leftover', '-H', 'Connection: keep-alive, x-hop', '-H', 'X-Hop: drop-me', `${h.url()}/headers`]);
    expect(r.status).toBe(200);
    const seen = h.upstream.seen.at(-1)!;
    expect(seen.credentialOk).toBe(true);
    expect(seen.headers['x-trace']).toBe('abc');
    expect(seen.headers.cookie).toBe('theme=dark');
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers.host).toBe(new URL(h.upstream.url).host);
    expect(JSON.stringify(h.upstream.seen)).not.toContain(token);
  });

  it('when the token is the basic-auth password, then it logs in as its user; another user\'s name, a bad token or none gets 401', async () => {
    const token = await h.token('bob');
    expect((await curl(['-u', `bob:${token}`, `${h.url()}/public`])).status).toBe(200);
    expect((await curl(['-u', `:${token}`, `${h.url()}/public`])).status).toBe(200);
    const other = await curl(['-u', `alice:${token}`, `${h.url()}/public`]);
    expect(other.status).toBe(401);
    expect(JSON.parse(other.body).error).toContain('issued to bob, not alice');
    const none = await curl(['-i', `${h.url()}/public`]);
    expect(none.status).toBe(401);
    expect(none.body).toMatch(/www-authenticate: Bearer realm="vigil"/i);
    expect((await curl(['-H', 'Authorization: Bearer not-a-token', `${h.url()}/public`])).status).toBe(401);
    const foreign = await h.token('bob', 'elsewhere');
    expect(JSON.parse((await curl(['-H', `Authorization: Bearer ${foreign}`, `${h.url()}/public`])).body).error).toContain('for target elsewhere');
  });

  it('when a response carries secrets and a request writes one, then the client sees them as they are and the recording has them masked', async () => {
    const token = await h.token('carol');
    const auth = { authorization: `Bearer ${token}` };
    const secret = await fetch(`${h.url()}/api/v1/namespaces/default/secrets/db`, { headers: auth });
    expect((await secret.json()).data.password).toBe('hunter2-upstream-secret');
    expect(secret.headers.get('set-cookie')).toContain('sess-abc123');
    const written = await fetch(`${h.url()}/echo?api_key=k-123456&page=2`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ user: 'dan', password: 'written-secret-77', note: 'mail ada@example.com' }) });
    expect((await written.json()).body).toContain('written-secret-77');

    const events = await h.userEvents('carol', 2);
    const text = JSON.stringify(events);
    for (const leaked of ['hunter2-upstream-secret', 'sess-abc123', 'written-secret-77', 'k-123456', 'ada@example.com']) expect(text).not.toContain(leaked);
    const echo = exchangeOf(events, '/echo');
    expect(echo.request.data.query).toBe('api_key=[SECRET_COLUMN]&page=2');
    expect(JSON.parse(echo.bodies.find((b) => b.data.direction === 'request')!.data.text!)).toEqual({ user: 'dan', password: '[SECRET_COLUMN]', note: 'mail [EMAIL]' });
    const db = exchangeOf(events, '/api/v1/namespaces/default/secrets/db');
    expect(db.response.data.headers).toContainEqual(['set-cookie', 'upstream_session=[CREDENTIAL]; Path=/; HttpOnly']);
  });

  it('when the API streams server-sent events, then each reaches the client as it is sent, and the recording has them as they came, masked', async () => {
    const token = await h.token('dora');
    const res = await fetch(`${h.url()}/events?count=3&gap=400`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const first = await reader.read();
    // The first event arrives while the server still holds the stream open (two more to come).
    expect(new TextDecoder().decode(first.value)).toContain('"n":1');
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toContain('"n":3');

    const events = await sessionWith('/events', 'dora');
    const parts = exchangeOf(events, '/events').bodies.filter((b) => b.data.direction === 'response');
    expect(parts.length).toBeGreaterThanOrEqual(3);
    const recorded = parts.map((p) => p.data.text ?? '').join('');
    expect(recorded).toContain('"n":1');
    expect(recorded).toContain('"n":3');
    expect(recorded).not.toContain('sse-secret');
  });

  it('when a 4 MB body goes through, then it arrives whole and the recording keeps its size, not its bytes', async () => {
    const token = await h.token('erin');
    const size = 4 * 1024 * 1024;
    const res = await fetch(`${h.url()}/big?size=${size}`, { headers: { authorization: `Bearer ${token}` } });
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(size);
    const upload = crypto.randomBytes(2 * 1024 * 1024);
    const echoed = await fetch(`${h.url()}/echo`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: upload });
    expect(echoed.status).toBe(200);
    await echoed.arrayBuffer(); // the exchange is over once the client has read the answer

    const events = await h.userEvents('erin', 2);
    const big = exchangeOf(events, '/big');
    expect(big.end.data.responseBytes).toBe(size);
    expect(big.bodies).toEqual([expect.objectContaining({ data: expect.objectContaining({ binary: true, truncated: true }) })]);
    const put = exchangeOf(events, '/echo');
    expect(put.end.data.requestBytes).toBe(upload.length);
    expect(JSON.stringify(events).length).toBeLessThan(200_000);
  });

  it('when a response is compressed, then the client gets it as sent and the recording has its text, masked', async () => {
    const token = await h.token('finn');
    const r = await curl(['--compressed', '-H', `Authorization: Bearer ${token}`, `${h.url()}/gzip`]);
    expect(JSON.parse(r.body)).toEqual({ compressed: true, email: 'ada@example.com' });
    const events = await sessionWith('/gzip', 'finn');
    const body = exchangeOf(events, '/gzip').bodies.find((b) => b.data.direction === 'response')!;
    expect(JSON.parse(body.data.text!)).toEqual({ compressed: true, email: '[EMAIL]' });
  });

  it('when a client opens a WebSocket, then its messages are echoed through the agent and recorded both ways', async () => {
    const token = await h.token('gus');
    const ws = new WebSocket(`${h.url().replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    ws.send('hello card 4111 1111 1111 1111');
    expect(await reply).toBe('echo: hello card 4111 1111 1111 1111');
    ws.close(1000, 'bye');
    await new Promise((resolve) => ws.once('close', resolve));
    expect(h.upstream.seen.filter((s) => s.url === '/ws').every((s) => s.credentialOk)).toBe(true);

    const events = await sessionWith('/ws', 'gus');
    const x = exchangeOf(events, '/ws');
    expect(x.response.data.status).toBe(101);
    const messages = ofType(events, 'ws.message').filter((m) => m.data.requestSeq === x.request.seq);
    expect(messages.map((m) => [m.data.direction, m.data.kind, m.data.text])).toEqual([
      ['client', 'text', 'hello card [CARD]'],
      ['target', 'text', 'echo: hello card [CARD]'],
      ['client', 'close', 'bye'],
      ['target', 'close', 'bye'],
    ]);
    expect(x.end.data.outcome).toBe('upgraded');
  });

  it('when a request matches a deny rule in any spelling of its path, then it gets 403 with the rule\'s message and never reaches the target', async () => {
    const token = await h.token('hank');
    const before = h.upstream.seen.length;
    for (const path of ['/admin/users/1', '/x/../admin/users/1', '/%61dmin/users/1', '/admin//users/1']) {
      const r = await curl(['-X', 'DELETE', '--path-as-is', '-H', `Authorization: Bearer ${token}`, `${h.url()}${path}`]);
      expect(r.status, path).toBe(403);
      expect(JSON.parse(r.body).error).toBe('Vigil guardrail no-admin-deletes: deleting through the admin API needs a change ticket');
    }
    expect((await curl(['-X', 'DELETE', '-H', `Authorization: Bearer ${token}`, `${h.url()}/admin%2fusers/1`])).status).toBe(403);
    expect(h.upstream.seen.length).toBe(before);
    // The rule names DELETE only.
    expect((await curl(['-H', `Authorization: Bearer ${token}`, `${h.url()}/admin/users/1`])).status).toBe(204);

    // hank's requests, across his sessions (a slow run may let one go idle between two requests).
    let events: VigilEvent[] = [];
    await expect.poll(async () => {
      events = (await h.sessions()).filter((s) => s.events[0]?.user === 'hank').flatMap((s) => s.events);
      return ofType(events, 'http.end').length;
    }, { timeout: 20_000 }).toBe(6);
    const hits = ofType(events, 'guardrail.hit');
    expect(hits[0].data).toMatchObject({ rule: 'no-admin-deletes', action: 'deny', statement: 'DELETE /admin/users/1' });
    const refused = ofType(events, 'http.end').filter((e) => e.data.outcome === 'refused');
    expect(refused).toHaveLength(5);
    expect(ofType(events, 'http.response').filter((e) => e.data.by === 'vigil').every((e) => e.data.status === 403)).toBe(true);
  });

  it('when a client sends a malformed request, conflicting lengths or headers too large, then that connection gets 400 (431) and closes, and another client is not disturbed', async () => {
    const token = await h.token('ivy');
    const port = h.agent.listeners.get('api')!.port;
    const raw = (text: string) => new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
      let got = '';
      socket.on('data', (d) => (got += d));
      socket.on('close', () => resolve(got));
      socket.on('error', () => resolve(got));
    });
    const streaming = fetch(`${h.url()}/events?count=4&gap=300`, { headers: { authorization: `Bearer ${token}` } });
    const smuggled = await raw(`POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin/users/1 HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(smuggled).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw('NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40 * 1024)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
    const res = await streaming;
    expect(await res.text()).toContain('"n":4');
  });
});
