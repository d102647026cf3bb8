import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { silentLogger } from '../../common/log.ts';
import { ensureDemoCertificate } from '../../proxy-agent/demo/demo-certificate.ts';
import { DEMO_API_SECRET, startDemoHttpApi, type DemoHttpApi } from '../../proxy-agent/demo/demo-http-api.ts';

let api: DemoHttpApi;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-demo-api-'));
  api = await startDemoHttpApi({ logger: silentLogger, eventIntervalMs: 20 });
});

afterAll(async () => {
  await api?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const withKey = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { authorization: `Bearer ${api.key}`, ...init.headers } });

describe('the demo API of vigil dev', () => {
  it('when a request lacks the key made at start, then it gets 401 on every route, WebSocket too', async () => {
    expect(api.url).toBe(`http://127.0.0.1:${api.port}`);
    for (const route of ['/', '/api/v1/namespaces/default/secrets/db-credentials', '/no-such-route']) {
      expect((await fetch(`${api.url}${route}`)).status).toBe(401);
      expect((await fetch(`${api.url}${route}`, { headers: { authorization: 'Bearer not-the-key' } })).status).toBe(401);
    }
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${api.url.replace('http', 'ws')}/ws`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
  });

  it('when a request carries the key, then it reads pods, the secret, users by e-mail and whether the key matched (never the key)', async () => {
    const get = async (route: string) => (await fetch(`${api.url}${route}`, withKey())).json();
    expect(await get('/api/v1/namespaces/default/pods')).toMatchObject({ kind: 'PodList', items: expect.arrayContaining([expect.objectContaining({ status: expect.objectContaining({ phase: 'Running' }) })]) });
    expect(await get('/api/v1/namespaces/default/secrets/db-credentials')).toMatchObject({ kind: 'Secret', data: DEMO_API_SECRET });
    expect(await get('/api/v1/users?email=grace.hopper@example.com')).toMatchObject({ items: [{ id: 2, name: 'Grace Hopper' }] });
    const whoami = await fetch(`${api.url}/api/v1/whoami`, withKey());
    const text = await whoami.text();
    expect(JSON.parse(text)).toMatchObject({ keyMatched: true });
    expect(text).not.toContain(api.key);
  });

  it('when a user is created, then the answer echoes the password sent; a DELETE under /admin/ answers 204', async () => {
    const created = await fetch(`${api.url}/api/v1/users`, withKey({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'new@example.com', password: 'pw-sent' }) }));
    expect(created.status).toBe(201);
    const user = await created.json();
    expect(user).toMatchObject({ email: 'new@example.com', password: 'pw-sent' });
    expect((await fetch(`${api.url}/api/v1/users`, withKey({ method: 'POST', body: 'not json' }))).status).toBe(400);
    expect((await fetch(`${api.url}/admin/users/${user.id}`, withKey({ method: 'DELETE' }))).status).toBe(204);
    expect(await (await fetch(`${api.url}/api/v1/users?email=new@example.com`, withKey())).json()).toMatchObject({ items: [] });
  });

  it('when /events is read, then a few server-sent events arrive and the stream ends', async () => {
    const res = await fetch(`${api.url}/events`, withKey());
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const body = await res.text();
    expect(body.match(/^event: /gm)).toHaveLength(4);
    expect(body).toContain('"token":');
  });

  it('when a WebSocket opens /ws with the key, then every message comes back', async () => {
    const ws = new WebSocket(`${api.url.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${api.key}` } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    ws.send('hello');
    expect(await echoed).toBe('hello');
    ws.close();
  });

  it('when the certificate is asked for twice, then it is made once, for 127.0.0.1 and localhost, and a TLS client trusting it connects', async () => {
    const files = { certFile: path.join(dir, 'tls', 'cert.pem'), keyFile: path.join(dir, 'tls', 'key.pem') };
    expect(await ensureDemoCertificate(files)).toBe(true);
    const pem = fs.readFileSync(files.certFile, 'utf8');
    expect(await ensureDemoCertificate(files)).toBe(false);
    expect(fs.readFileSync(files.certFile, 'utf8')).toBe(pem);
    expect(fs.statSync(files.keyFile).mode & 0o777).toBe(0o600);
    const cert = new crypto.X509Certificate(pem);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('localhost')).toBe('localhost');

    const server = https.createServer({ cert: pem, key: fs.readFileSync(files.keyFile) }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, ca: pem }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d)).on('end', () => resolve(text));
      }).on('error', reject);
    });
    server.close();
    expect(body).toBe('ok');
  });
});
