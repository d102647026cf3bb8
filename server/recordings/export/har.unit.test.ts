import validate from 'har-validator';
import type { Entry, Har } from 'har-format';
import { describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../../common/events/index.ts';
import { EventScript } from '../search/test-support.ts';
import { harOf, HarWriter } from './har.ts';

const UPSTREAM = 'https://api.internal:8443';

/** An HTTP session's script, its session.start naming the target's base URL. */
function session(): { s: EventScript; events: VigilEvent[] } {
  const s = new EventScript({ protocol: 'http', startedAt: '2030-01-01T09:00:00.000Z' });
  return { s, events: [s.event('session.start', { upstream: UPSTREAM, auth: 'bearer', recording: 'required', clientMasking: false }, 0)] };
}

/** The HAR of these events, checked against the HAR 1.2 schema: the test fails on an invalid one. */
async function validHar(events: VigilEvent[]): Promise<Har> {
  const har = harOf(events);
  const json = JSON.parse(JSON.stringify(har)) as Har;
  await validate.har(json).catch((err: { errors?: unknown }) => {
    throw new Error(`invalid HAR: ${JSON.stringify(err.errors ?? err)}`);
  });
  // What the schema leaves unchecked (its `min` is no JSON Schema keyword): times are not negative
  // and an entry's time is the sum of its timings, as HAR 1.2 defines it.
  for (const e of json.log.entries) {
    const { send, wait, receive, ...others } = e.timings;
    for (const t of [send, wait, receive]) expect(t).toBeGreaterThanOrEqual(0);
    for (const t of Object.values(others)) expect(t).toBeGreaterThanOrEqual(-1);
    expect(e.time).toBe(send! + wait + receive);
  }
  // The streamed document is the same document.
  const w = new HarWriter();
  const text = [...events.flatMap((e) => w.push(e)), ...w.end()].join('\n');
  expect(JSON.parse(text)).toEqual(json);
  return json;
}

const only = (har: Har): Entry => {
  expect(har.log.entries).toHaveLength(1);
  return har.log.entries[0];
};

describe('HAR export', () => {
  it('when a JSON GET and a POST were recorded, then each is an entry with its URL, masked headers, query and bodies', async () => {
    const { s, events } = session();
    const getSeq = s.nextSeq;
    events.push(
      s.event('http.request', {
        method: 'GET', path: '/v1/customers', query: 'email=[EMAIL]&limit=10&tag=a%20b', version: '1.1',
        headers: [['Host', 'api.internal'], ['Authorization', 'Bearer [VIGIL_TOKEN]'], ['Cookie', 'sid=[SECRET]'], ['Accept', 'application/json']],
      }),
      s.event('http.response', { requestSeq: getSeq, status: 200, headers: [['Content-Type', 'application/json'], ['Set-Cookie', '[SECRET]']] }, 40),
      s.event('http.body', { requestSeq: getSeq, direction: 'response', contentType: 'application/json', text: '[{"id":1,"email":"[EMAIL]"}]', bytes: 31 }, 5),
      s.event('http.end', { requestSeq: getSeq, outcome: 'complete', durationMs: 47.5, requestBytes: 0, responseBytes: 31 }, 2),
    );
    const postSeq = s.nextSeq;
    events.push(
      s.event('http.request', { method: 'POST', path: '/v1/customers', query: '', version: '2', headers: [[':authority', 'api.internal'], ['content-type', 'application/json']] }),
      s.event('http.body', { requestSeq: postSeq, direction: 'request', contentType: 'application/json', text: '{"email":"[EMAIL]","card":"[CARD]"}', bytes: 52 }, 1),
      s.event('http.response', { requestSeq: postSeq, status: 201, headers: [['location', '/v1/customers/2'], ['content-type', 'application/json; charset=utf-8']] }, 30),
      s.event('http.body', { requestSeq: postSeq, direction: 'response', text: '{"id":2}', bytes: 8 }, 1),
      s.event('http.end', { requestSeq: postSeq, outcome: 'complete', durationMs: 33, requestBytes: 52, responseBytes: 8 }, 1),
      s.end(),
    );
    const har = await validHar(events);
    expect(har.log).toMatchObject({ version: '1.2', creator: { name: 'Vigil' } });
    expect(har.log.comment).toContain('alice on box from 10.0.0.7:52114');
    const [get, post] = har.log.entries;

    expect(get.startedDateTime).toBe(events[1].time);
    expect(get.time).toBe(47.5);
    expect(get.timings).toEqual({ blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 47.5, receive: 0 });
    expect(get.request).toMatchObject({
      method: 'GET', url: `${UPSTREAM}/v1/customers?email=[EMAIL]&limit=10&tag=a%20b`, httpVersion: 'HTTP/1.1', cookies: [], headersSize: -1, bodySize: 0,
      queryString: [{ name: 'email', value: '[EMAIL]' }, { name: 'limit', value: '10' }, { name: 'tag', value: 'a b' }],
    });
    // Masked values stay as recorded: names, values and order.
    expect(get.request.headers).toEqual([
      { name: 'Host', value: 'api.internal' }, { name: 'Authorization', value: 'Bearer [VIGIL_TOKEN]' },
      { name: 'Cookie', value: 'sid=[SECRET]' }, { name: 'Accept', value: 'application/json' },
    ]);
    expect(get.request.postData).toBeUndefined();
    expect(get.response).toMatchObject({
      status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', cookies: [], redirectURL: '', headersSize: -1, bodySize: 31,
      headers: [{ name: 'Content-Type', value: 'application/json' }, { name: 'Set-Cookie', value: '[SECRET]' }],
      content: { size: 31, mimeType: 'application/json', text: '[{"id":1,"email":"[EMAIL]"}]' },
    });
    expect(get.comment).toBeUndefined();

    expect(post.request).toMatchObject({ method: 'POST', url: `${UPSTREAM}/v1/customers`, httpVersion: 'HTTP/2', queryString: [], bodySize: 52 });
    expect(post.request.postData).toEqual({ mimeType: 'application/json', text: '{"email":"[EMAIL]","card":"[CARD]"}' });
    expect(post.response).toMatchObject({ status: 201, statusText: 'Created', httpVersion: 'HTTP/2', redirectURL: '/v1/customers/2' });
    // A part without a type takes the response's Content-Type.
    expect(post.response.content).toEqual({ size: 8, mimeType: 'application/json; charset=utf-8', text: '{"id":2}' });
  });

  it('when a response was streamed in several parts, then its content is their text in seq order', async () => {
    const { s, events } = session();
    const seq = s.nextSeq;
    events.push(
      s.event('http.request', { method: 'GET', path: '/v1/events', query: '', version: '1.1', headers: [['Accept', 'text/event-stream']] }),
      s.event('http.response', { requestSeq: seq, status: 200, headers: [['Content-Type', 'text/event-stream']] }),
      s.event('http.body', { requestSeq: seq, direction: 'response', contentType: 'text/event-stream', text: 'data: one\n\n', bytes: 11 }, 500),
      s.event('http.body', { requestSeq: seq, direction: 'response', contentType: 'text/event-stream', text: 'data: [EMAIL]\n\n', bytes: 21 }, 500),
      s.event('http.body', { requestSeq: seq, direction: 'response', contentType: 'text/event-stream', text: 'data: th', bytes: 8, truncated: true }, 500),
      s.event('http.end', { requestSeq: seq, outcome: 'complete', durationMs: 9000, requestBytes: 0, responseBytes: 4096 }, 7400),
    );
    const entry = only(await validHar(events));
    expect(entry.response.content).toMatchObject({ size: 4096, mimeType: 'text/event-stream', text: 'data: one\n\ndata: [EMAIL]\n\ndata: th' });
    expect(entry.response.content.comment).toMatch(/truncated.*body limit/);
    expect(entry.time).toBe(9000);
  });

  it('when bodies were binary, then their size and type are there and no content', async () => {
    const { s, events } = session();
    const seq = s.nextSeq;
    events.push(
      s.event('http.request', { method: 'PUT', path: '/v1/avatars/7', query: '', version: '1.1', headers: [['Content-Type', 'image/png']] }),
      s.event('http.body', { requestSeq: seq, direction: 'request', contentType: 'image/png', bytes: 2048, binary: true }),
      s.event('http.response', { requestSeq: seq, status: 200, headers: [['Content-Type', 'application/octet-stream']] }),
      s.event('http.body', { requestSeq: seq, direction: 'response', contentType: 'application/octet-stream', bytes: 512, binary: true }),
      s.event('http.end', { requestSeq: seq, outcome: 'complete', durationMs: 120, requestBytes: 2048, responseBytes: 512 }),
    );
    const entry = only(await validHar(events));
    expect(entry.request.postData).toBeUndefined();
    expect(entry.request.bodySize).toBe(2048);
    expect(entry.request.comment).toBe('binary body (image/png, 2048 bytes): its content is not recorded');
    expect(entry.response.content).toEqual({ size: 512, mimeType: 'application/octet-stream', comment: expect.stringContaining('binary') });
  });

  it('when an exchange was aborted before a response, then its status is 0 and a comment says why', async () => {
    const { s, events } = session();
    const seq = s.nextSeq;
    events.push(
      s.event('http.request', { method: 'GET', path: '/v1/slow', query: '', version: '1.1', headers: [] }),
      s.event('http.end', { requestSeq: seq, outcome: 'aborted', detail: 'the client went away', durationMs: 2500, requestBytes: 0, responseBytes: 0 }, 2500),
    );
    const entry = only(await validHar(events));
    expect(entry.response).toMatchObject({ status: 0, statusText: '', headers: [], bodySize: -1, content: { size: 0 } });
    expect(entry.comment).toBe('no response: the exchange was aborted (the client went away)');
    expect(entry.time).toBe(2500);
  });

  it('when Vigil refused a request itself, then the entry has its answer and says Vigil gave it', async () => {
    const { s, events } = session();
    const seq = s.nextSeq;
    events.push(
      s.event('http.request', { method: 'DELETE', path: '/v1/customers', query: '', version: '1.1', headers: [['Authorization', 'Bearer [VIGIL_TOKEN]']] }),
      s.event('guardrail.hit', { rule: 'no-bulk-delete', action: 'deny', querySeq: seq, statement: 'DELETE /v1/customers' }, 1),
      s.event('http.response', { requestSeq: seq, status: 403, headers: [['Content-Type', 'application/json']], by: 'vigil' }, 1),
      s.event('http.body', { requestSeq: seq, direction: 'response', contentType: 'application/json', text: '{"error":"refused by no-bulk-delete"}', bytes: 37 }, 0),
      s.event('http.end', { requestSeq: seq, outcome: 'refused', detail: 'guardrail no-bulk-delete', durationMs: 2, requestBytes: 0, responseBytes: 37 }, 0),
    );
    const entry = only(await validHar(events));
    expect(entry.response).toMatchObject({ status: 403, statusText: 'Forbidden', content: { text: '{"error":"refused by no-bulk-delete"}' } });
    expect(entry.comment).toBe('answered by Vigil, not the target; refused: guardrail no-bulk-delete; guardrail no-bulk-delete: deny');
  });

  it('when a WebSocket was recorded, then its entry is a 101 with its messages as Chrome writes them', async () => {
    const { s, events } = session();
    const seq = s.nextSeq;
    events.push(
      s.event('http.request', { method: 'GET', path: '/v1/live', query: 'room=7', version: '1.1', headers: [['Upgrade', 'websocket'], ['Connection', 'Upgrade'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==']] }),
      s.event('http.response', { requestSeq: seq, status: 101, headers: [['Upgrade', 'websocket'], ['Connection', 'Upgrade']] }),
      s.event('ws.message', { requestSeq: seq, direction: 'client', kind: 'text', text: '{"subscribe":"[EMAIL]"}', bytes: 23 }, 250),
      s.event('ws.message', { requestSeq: seq, direction: 'target', kind: 'binary', bytes: 64 }, 250),
      s.event('ws.message', { requestSeq: seq, direction: 'target', kind: 'close', text: 'bye', bytes: 5 }, 500),
      s.event('http.end', { requestSeq: seq, outcome: 'upgraded', durationMs: 1100, requestBytes: 23, responseBytes: 69 }),
      s.end(),
    );
    const entry = only(await validHar(events));
    expect(entry.response).toMatchObject({ status: 101, statusText: 'Switching Protocols' });
    expect(entry.request.url).toBe(`${UPSTREAM}/v1/live?room=7`);
    expect(entry._resourceType).toBe('websocket');
    const t = (i: number) => Date.parse(events[i].time) / 1000;
    expect(entry._webSocketMessages).toEqual([
      { type: 'send', time: t(3), opcode: 1, data: '{"subscribe":"[EMAIL]"}' },
      { type: 'receive', time: t(4), opcode: 2, data: '' },
      { type: 'receive', time: t(5), opcode: 8, data: 'bye' },
    ]);
  });

  it('when a WebSocket message comes after the exchange\'s http.end, then it is still in the entry', async () => {
    const { s, events } = session();
    const seq = s.nextSeq;
    events.push(
      s.event('http.request', { method: 'GET', path: '/ws', query: '', version: '1.1', headers: [['Upgrade', 'websocket']] }),
      s.event('http.response', { requestSeq: seq, status: 101, headers: [] }),
      s.event('http.end', { requestSeq: seq, outcome: 'upgraded', durationMs: 3, requestBytes: 0, responseBytes: 0 }),
      s.event('ws.message', { requestSeq: seq, direction: 'client', kind: 'text', text: 'ping', bytes: 4 }),
      s.end(),
    );
    expect(only(await validHar(events))._webSocketMessages).toHaveLength(1);
  });

  it('when the session ended before an exchange did, then it is there, with what was recorded and why it has no end', async () => {
    const { s, events } = session();
    const answered = s.nextSeq;
    events.push(
      s.event('http.request', { method: 'GET', path: '/v1/export', query: '', version: '1.1', headers: [] }),
      s.event('http.response', { requestSeq: answered, status: 200, headers: [['Content-Type', 'text/csv']] }, 100),
      s.event('http.body', { requestSeq: answered, direction: 'response', contentType: 'text/csv', text: 'id,email\n1,[EMAIL]\n', bytes: 20 }, 100),
    );
    const unanswered = s.nextSeq;
    events.push(
      s.event('http.request', { method: 'GET', path: '/v1/other', query: '', version: '1.1', headers: [] }, 50),
      s.event('session.end', { reason: 'killed', durationMs: 1000 }, 300),
    );
    const [first, second] = (await validHar(events)).log.entries;
    expect(first.request.url).toBe(`${UPSTREAM}/v1/export`);
    expect(first.response).toMatchObject({ status: 200, bodySize: -1, content: { size: 20, text: 'id,email\n1,[EMAIL]\n' } });
    expect(first.comment).toBe('the session ended (killed) before this exchange did');
    // Its time runs to the last thing recorded of it.
    expect(first.time).toBe(200);
    expect(second.request.url).toBe(`${UPSTREAM}/v1/other`);
    expect(second.response.status).toBe(0);
    expect(second.comment).toBe('no response: the session ended (killed) before this exchange did');
    expect(second.time).toBe(0);
    expect([answered, unanswered]).toEqual([2, 5]);
  });

  it('when exchanges end out of order, then entries stay in request order and each is written once the ones before it ended', () => {
    const { s, events } = session();
    const a = s.nextSeq;
    const w = new HarWriter();
    const pushed = (e: VigilEvent) => {
      events.push(e);
      return w.push(e);
    };
    pushed(events[0]);
    pushed(s.event('http.request', { method: 'GET', path: '/a', query: '', version: '2', headers: [] }));
    const b = s.nextSeq;
    pushed(s.event('http.request', { method: 'GET', path: '/b', query: '', version: '2', headers: [] }));
    expect(pushed(s.event('http.end', { requestSeq: b, outcome: 'aborted', durationMs: 1, requestBytes: 0, responseBytes: 0 }))).toEqual([]);
    const lines = pushed(s.event('http.end', { requestSeq: a, outcome: 'aborted', durationMs: 5, requestBytes: 0, responseBytes: 0 }));
    expect(lines).toHaveLength(2); // the head, and /a (held until /b shows it needs a comma)
    expect(harOf(events).log.entries.map((e) => e.request.url)).toEqual([`${UPSTREAM}/a`, `${UPSTREAM}/b`]);
  });

  it('when a live session is exported, then its exchange in progress says the recording stops before its end', async () => {
    const { s, events } = session();
    events.push(s.event('http.request', { method: 'GET', path: '/v1/wait', query: '', version: '1.1', headers: [] }));
    expect(only(await validHar(events)).comment).toBe('no response: the recording stops before this exchange ended');
  });

  it('when a session has no HTTP exchange, then the HAR is valid and empty', async () => {
    const { s, events } = session();
    events.push(s.end());
    expect((await validHar(events)).log.entries).toEqual([]);
  });

  it('when a path holds characters a URL cannot, then they are percent-encoded and dot segments are kept', async () => {
    const { s, events } = session();
    events.push(s.event('http.request', { method: 'GET', path: '/files/../etc/pass wd', query: 'q=ä b', version: '1.1', headers: [] }));
    const entry = only(await validHar(events));
    expect(entry.request.url).toBe(`${UPSTREAM}/files/../etc/pass%20wd?q=%C3%A4%20b`);
    expect(entry.request.queryString).toEqual([{ name: 'q', value: 'ä b' }]);
  });
});
