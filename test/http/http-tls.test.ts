// TLS on both sides of an HTTP target, and credentials the agent fetches: the listener speaks
// HTTP/2 and HTTP/1.1 over TLS (curl and node's http2 client check it against the test CA); the
// upstream is HTTPS checked against its CA file (a target whose certificate another CA signed is
// refused with 502); an OAuth2 client-credentials token is fetched once, used, and never recorded.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeTestCa, type TestCa } from '../support/test-ca.ts';
import { startHttpHarness, type HttpHarness } from '../support/http-harness.ts';
import { ofType } from '../support/recordings.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });
const run = promisify(execFile);

let dir: string;
let listenerCa: TestCa;
let upstreamCa: TestCa;
let otherCa: TestCa;
let secure: https.Server;
let secureUrl: string;
let tokenServer: http.Server;
let tokenUrl: string;
let tokensIssued = 0;
const oauthAccess = `oauth-access-${crypto.randomBytes(8).toString('hex')}`;
let h: HttpHarness;
let stopped = false;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-http-tls-'));
  listenerCa = makeTestCa(dir, 'listener');
  upstreamCa = makeTestCa(dir, 'upstream');
  otherCa = makeTestCa(dir, 'other');
  // An HTTPS upstream that wants the OAuth2 token the provider below issues.
  secure = https.createServer({ cert: fs.readFileSync(upstreamCa.cert), key: fs.readFileSync(upstreamCa.key) }, (req, res) => {
    const ok = req.headers.authorization === `Bearer ${oauthAccess}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ secure: true, ok }));
  });
  await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
  secureUrl = `https://127.0.0.1:${(secure.address() as net.AddressInfo).port}`;
  tokenServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':');
      if (id !== 'vigil-agent' || secret !== 'client-secret-xyz' || !body.includes('grant_type=client_credentials')) {
        res.writeHead(401).end();
        return;
      }
      tokensIssued += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: oauthAccess, token_type: 'Bearer', expires_in: 3600 }));
    });
  });
  await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
  tokenUrl = `http://127.0.0.1:${(tokenServer.address() as net.AddressInfo).port}/oauth/token`;
  process.env.VIGIL_TEST_OAUTH_SECRET = 'client-secret-xyz';
  const oauth = { type: 'oauth2', tokenUrl, clientId: 'vigil-agent', clientSecretEnv: 'VIGIL_TEST_OAUTH_SECRET', scopes: ['read'] };
  h = await startHttpHarness({
    api: { tls: { certFile: listenerCa.cert, keyFile: listenerCa.key } },
    targets: [
      { name: 'secure', upstream: { url: secureUrl, caFile: upstreamCa.ca, credential: oauth } },
      { name: 'mistrusted', upstream: { url: secureUrl, caFile: otherCa.ca, credential: oauth } },
    ],
  });
});

afterAll(async () => {
  if (!stopped) await h?.stop();
  secure?.close();
  tokenServer?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('HTTP targets over TLS', () => {
  it('when curl speaks HTTP/2 to a TLS listener, then it is answered over HTTP/2 and the recording says so; HTTP/1.1 over TLS works too', async () => {
    const token = await h.token('alice');
    const two = await run('curl', ['-sS', '--http2', '--cacert', listenerCa.ca, '-w', '\n%{http_version}', '-H', `Authorization: Bearer ${token}`, `${h.url()}/api/v1/namespaces/default/pods`]);
    const [body, version] = two.stdout.split('\n');
    expect(version).toBe('2');
    expect(JSON.parse(body).kind).toBe('PodList');
    const one = await run('curl', ['-sS', '--http1.1', '--cacert', listenerCa.ca, '-w', '\n%{http_version}', '-H', `Authorization: Bearer ${token}`, `${h.url()}/public`]);
    expect(one.stdout.split('\n')[1]).toBe('1.1');

    const events = await h.userEvents('alice', 2);
    const versions = ofType(events, 'http.request').map((e) => [e.data.path, e.data.version]);
    expect(versions).toEqual([['/api/v1/namespaces/default/pods', '2'], ['/public', '1.1']]);
    // HTTP/2 pseudo-headers are fields of their own, not headers.
    expect(ofType(events, 'http.request')[0].data.headers.some(([name]) => name.startsWith(':'))).toBe(false);
  });

  it('when node\'s http2 client sends a POST with a body, then the target gets it and the answer streams back', async () => {
    const token = await h.token('bob');
    const client = http2.connect(h.url(), { ca: fs.readFileSync(listenerCa.ca) });
    try {
      const req = client.request({ ':method': 'POST', ':path': '/echo', authorization: `Bearer ${token}`, 'content-type': 'text/plain' });
      req.end('hello over h2');
      let status = 0;
      let text = '';
      req.on('response', (headers) => (status = Number(headers[':status'])));
      req.on('data', (d) => (text += d));
      await new Promise((resolve) => req.on('end', resolve));
      expect(status).toBe(200);
      expect(JSON.parse(text)).toMatchObject({ method: 'POST', body: 'hello over h2' });
    } finally {
      client.close();
    }
  });

  it('when the upstream is HTTPS signed by the configured CA, then an OAuth2 token is fetched once and used, and never recorded', async () => {
    const token = await h.token('carol', 'secure');
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${h.url('secure')}/x`, { headers: { authorization: `Bearer ${token}` } });
      expect(await res.json()).toEqual({ secure: true, ok: true });
    }
    expect(tokensIssued).toBe(1);
    const events = await h.sessionWhere((e) => e.type === 'session.start' && e.target === 'secure');
    expect(JSON.stringify(events)).not.toContain(oauthAccess);
  });

  it('when the upstream\'s certificate is not signed by the configured CA, then the client gets 502 saying why and nothing goes there', async () => {
    const token = await h.token('dan', 'mistrusted');
    const res = await fetch(`${h.url('mistrusted')}/x`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(502);
    expect((await res.json()).error).toMatch(/Vigil could not reach mistrusted: .*certificate/i);
    const events = await h.sessionWhere((e) => e.type === 'session.start' && e.target === 'mistrusted');
    expect(ofType(events, 'http.response')[0].data).toMatchObject({ status: 502, by: 'vigil' });
    expect(ofType(events, 'http.end')[0].data.outcome).toBe('aborted');
  });

  it('when a client keeps its HTTP/2 connection open, then the agent still stops, and promptly', async () => {
    const harness = h;
    const token = await harness.token('erin');
    const client = http2.connect(harness.url(), { ca: fs.readFileSync(listenerCa.ca) });
    const closed = new Promise((resolve) => client.once('close', resolve));
    client.on('error', () => undefined);
    const req = client.request({ ':path': '/public', authorization: `Bearer ${token}` });
    req.resume();
    await new Promise((resolve) => req.on('end', resolve));
    stopped = true;
    const started = Date.now();
    await harness.stop();
    expect(Date.now() - started).toBeLessThan(10_000);
    await closed;
  });
});
