import { describe, expect, it } from 'vitest';
import { VigilEvent } from '../../../../common/events/schema.ts';
import {
  bodyText, ExchangeFold, failed, foldExchanges, formatDuration, PlayheadExchanges, statusOf, target, WS_MESSAGES_MAX,
} from './exchanges.ts';
import { body, end, guardrail, httpEnd, recording, request, response, start, wsMessage } from './fake-recording.ts';

/**
 * An HTTP session: a JSON GET (seq 2–5), a POST whose response streams in two parts (6–11), a
 * DELETE a guardrail refused (12–15), a WebSocket upgrade with two messages (16–20), a download
 * aborted mid-way (21–24), a request still running at the end (25).
 */
const http = recording('http', [
  start(0),
  request(1000, 'GET', '/api/users', 'limit=10&token=[MASKED]', [['accept', 'application/json'], ['authorization', '[MASKED]']]),
  response(1040, 2, 200, [['content-type', 'application/json']]),
  body(1041, 2, 'response', { contentType: 'application/json', text: '{"users":[{"email":"[EMAIL]"}]}' }),
  httpEnd(1042, 2, 'complete', 42, 0, 31),
  request(2000, 'POST', '/api/stream', ''),
  body(2001, 6, 'request', { contentType: 'application/json', text: '{"q":1}' }),
  response(2010, 6, 200, [['content-type', 'application/x-ndjson']]),
  body(2100, 6, 'response', { contentType: 'application/x-ndjson', text: '{"a":1}\n' }),
  body(2200, 6, 'response', { contentType: 'application/x-ndjson', text: '{"a":2}\n', truncated: true }),
  httpEnd(2300, 6, 'complete', 300, 7, 5000),
  request(3000, 'DELETE', '/api/users/7'),
  guardrail(3001, 12, 'no-deletes', 'deny', 'DELETE /api/users/7'),
  response(3002, 12, 403, [], 'vigil'),
  httpEnd(3003, 12, 'refused', 3, 0, 60),
  request(4000, 'GET', '/ws'),
  response(4010, 16, 101),
  wsMessage(4100, 16, 'client', 'hello'),
  wsMessage(4200, 16, 'target', null, 512),
  httpEnd(5000, 16, 'upgraded', 1000, 0, 0),
  request(6000, 'GET', '/big.bin'),
  response(6010, 21, 200, [['content-type', 'application/octet-stream']]),
  body(6020, 21, 'response', { contentType: 'application/octet-stream', binary: true, bytes: 65536 }),
  httpEnd(6030, 21, 'aborted', 30, 0, 65536, 'client went away'),
  request(7000, 'GET', '/slow'),
  end(8000),
]);

describe('exchanges of an HTTP recording', () => {
  it('when events are folded, then each request carries its response, bodies, end, WebSocket messages and guardrail', () => {
    const list = foldExchanges(http);
    expect(list.map((x) => [x.seq, x.method, target(x), x.status, x.outcome, x.lastSeq])).toEqual([
      [2, 'GET', '/api/users?limit=10&token=[MASKED]', 200, 'complete', 5],
      [6, 'POST', '/api/stream', 200, 'complete', 11],
      [12, 'DELETE', '/api/users/7', 403, 'refused', 15],
      [16, 'GET', '/ws', 101, 'upgraded', 20],
      [21, 'GET', '/big.bin', 200, 'aborted', 24],
      [25, 'GET', '/slow', null, null, 25],
    ]);
    const [get, post, del, ws, big, slow] = list;
    expect(get.requestHeaders).toEqual([['accept', 'application/json'], ['authorization', '[MASKED]']]);
    expect(get.responseHeaders).toEqual([['content-type', 'application/json']]);
    expect(get.responseBody).toMatchObject({ contentType: 'application/json', text: '{"users":[{"email":"[EMAIL]"}]}', binary: false, truncated: false, parts: 1 });
    expect([get.durationMs, get.responseBytes]).toEqual([42, 31]);
    expect(post.requestBody?.text).toBe('{"q":1}');
    expect(post.responseBody).toMatchObject({ text: '{"a":1}\n{"a":2}\n', parts: 2, truncated: true });
    // http.end's totals count what went past the body limit too.
    expect(post.responseBytes).toBe(5000);
    expect(del.guardrail).toMatchObject({ rule: 'no-deletes', action: 'deny' });
    expect(del.by).toBe('vigil');
    expect(ws.wsMessages.map((m) => [m.seq, m.direction, m.kind, m.text, m.bytes])).toEqual([
      [18, 'client', 'text', 'hello', 5],
      [19, 'target', 'binary', null, 512],
    ]);
    expect(big.responseBody).toMatchObject({ binary: true, bytes: 65536, text: '' });
    expect(big.detail).toBe('client went away');
    expect([slow.status, slow.durationMs, slow.responseBody]).toEqual([null, null, null]);
  });

  it('when the first events held answer requests read before them, then those answers are left out', () => {
    expect(foldExchanges(http.slice(6)).map((x) => x.seq)).toEqual([12, 16, 21, 25]);
  });

  it('when only the events up to a seq count, then the exchanges are as they were then', () => {
    const at9 = foldExchanges(http, 9);
    expect(at9.map((x) => [x.seq, x.status, x.outcome])).toEqual([[2, 200, 'complete'], [6, 200, null]]);
    expect(at9[1].responseBody?.text).toBe('{"a":1}\n');
    // Before its end, the sizes are what the body parts counted.
    expect(at9[1].responseBytes).toBe(8);
    expect(foldExchanges(http, 2)[0]).toMatchObject({ status: null, outcome: null, responseBody: null });
  });

  it('when events come batch by batch, then the fold ends as a fold of them all, a repeated event taken once', () => {
    const fold = new ExchangeFold();
    for (let i = 0; i < http.length; i += 4) fold.add(http.slice(Math.max(0, i - 2), i + 4));
    expect(fold.list()).toEqual(foldExchanges(http));
  });

  it('when an event changes an exchange, then that exchange is a new value and the others stay as they were', () => {
    const fold = new ExchangeFold();
    fold.add(http.slice(0, 8));
    const before = fold.list();
    expect(fold.add([http[8]])).toBe(true);
    const after = fold.list();
    expect(after[0]).toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(before[1].responseBody).toBeNull();
    expect(fold.add([http[8]])).toBe(false);
  });

  it('when a WebSocket sends more messages than are kept, then the latest are kept and the rest counted', () => {
    const events = recording('http', [
      start(0), request(1, 'GET', '/ws'),
      ...Array.from({ length: WS_MESSAGES_MAX + 3 }, (_, i) => wsMessage(10 + i, 2, 'target', `m${i}`)),
    ]);
    const [ws] = foldExchanges(events);
    expect(ws.wsMessages).toHaveLength(WS_MESSAGES_MAX);
    expect(ws.wsMessages[0].text).toBe('m3');
    expect(ws.wsDropped).toBe(3);
  });

  it('when the fake events are read through the schema, then they are valid events', () => {
    for (const e of http) expect(() => VigilEvent.parse(e)).not.toThrow();
  });
});

describe('exchanges at the playhead', () => {
  it('when the playhead moves forward, back, and to other events, then the exchanges are those up to it, the later requests upcoming', () => {
    const at = new PlayheadExchanges();
    const a = at.at(http, 8);
    expect(a.played.map((x) => [x.seq, x.status])).toEqual([[2, 200], [6, 200]]);
    expect(a.upcoming.map((x) => [x.seq, x.upcoming, x.status])).toEqual([[12, true, null], [16, true, null], [21, true, null], [25, true, null]]);
    expect(a.current).toBe(6);
    const b = at.at(http, 14);
    expect(b.played.at(-1)).toMatchObject({ seq: 12, status: 403, outcome: null });
    expect(b.played.at(-1)?.guardrail?.rule).toBe('no-deletes');
    expect(b.played.slice(0, 2)).toEqual(foldExchanges(http, 14).slice(0, 2));
    // Back: folded again up to the playhead.
    const c = at.at(http, 3);
    expect(c.played).toEqual(foldExchanges(http, 3));
    expect(c.current).toBe(2);
    expect(c.upcoming.map((x) => x.seq)).toEqual([6, 12, 16, 21, 25]);
    expect(at.at(http, 1)).toMatchObject({ played: [], current: null });
    expect(at.at(http.slice(10), 30).played.map((x) => x.seq)).toEqual([12, 16, 21, 25]);
  });

  it('when the playhead is on an event of an earlier exchange, then that exchange is the current one', () => {
    const interleaved = recording('http', [
      start(0), request(1, 'GET', '/a'), request(2, 'GET', '/b'), response(3, 2, 200), response(4, 3, 204),
    ]);
    const at = new PlayheadExchanges();
    expect(at.at(interleaved, 3).current).toBe(3);
    expect(at.at(interleaved, 4).current).toBe(2);
    expect(at.at(interleaved, 5).current).toBe(3);
  });

  it('when asked where an exchange is whole, then it is its last event held; and whose an event held is, whatever the playhead', () => {
    const at = new PlayheadExchanges();
    at.at(http, 1);
    expect([at.endOf(2), at.endOf(6), at.endOf(25), at.endOf(99)]).toEqual([5, 11, 25, 99]);
    expect([at.exchangeOf(13), at.exchangeOf(19), at.exchangeOf(12), at.exchangeOf(1), at.exchangeOf(26)]).toEqual([12, 16, 12, null, null]);
  });
});

describe('how an exchange reads', () => {
  it('when the status is known, then its class colours it; while pending a dash; when it failed before one, the outcome', () => {
    expect(statusOf({ status: 204, outcome: null })).toEqual({ label: '204', tone: 'ok' });
    expect(statusOf({ status: 101, outcome: 'upgraded' })).toEqual({ label: '101', tone: 'info' });
    expect(statusOf({ status: 302, outcome: 'complete' })).toEqual({ label: '302', tone: 'redirect' });
    expect(statusOf({ status: 404, outcome: 'complete' })).toEqual({ label: '404', tone: 'client-error' });
    expect(statusOf({ status: 503, outcome: 'complete' })).toEqual({ label: '503', tone: 'server-error' });
    expect(statusOf({ status: null, outcome: null })).toEqual({ label: '—', tone: 'pending' });
    expect(statusOf({ status: null, outcome: 'aborted' })).toEqual({ label: 'aborted', tone: 'failed' });
    expect(statusOf({ status: null, outcome: 'refused' })).toEqual({ label: 'refused', tone: 'failed' });
    expect(statusOf({ status: 403, outcome: 'refused', by: 'vigil' })).toEqual({ label: '403 · vigil · refused', tone: 'client-error' });
    expect(statusOf({ status: 200, outcome: 'aborted' })).toEqual({ label: '200 · aborted', tone: 'ok' });
    expect(failed({ status: 200, outcome: 'aborted' })).toBe(true);
    expect(failed({ status: 404, outcome: 'complete' })).toBe(false);
  });

  it('when a body is JSON, then it is pretty-printed; otherwise as recorded; binary is described', () => {
    const b = { contentType: 'application/json', bytes: 10, binary: false, truncated: false, parts: 1 };
    expect(bodyText({ ...b, text: '{"a":[1,{"b":"<script>"}]}' })).toBe('{\n  "a": [\n    1,\n    {\n      "b": "<script>"\n    }\n  ]\n}');
    expect(bodyText({ ...b, text: '{"a":1}\n{"a":2}\n' })).toBe('{"a":1}\n{"a":2}\n');
    expect(bodyText({ ...b, text: '{"cut":"the limit was rea', truncated: true })).toBe('{"cut":"the limit was rea');
    expect(bodyText({ ...b, contentType: 'text/plain', text: '[1,2]' })).toBe('[\n  1,\n  2\n]');
    expect(bodyText({ ...b, contentType: 'text/html', text: '<b>hi</b>' })).toBe('<b>hi</b>');
    expect(bodyText({ ...b, contentType: 'image/png', text: '', binary: true, bytes: 2048 })).toBe('[binary, 2048 bytes, image/png]');
    expect(bodyText({ ...b, contentType: null, text: '', binary: true, bytes: 3 })).toBe('[binary, 3 bytes]');
  });

  it('when a duration is shown, then it reads in ms or s, and … while running', () => {
    expect([formatDuration(null), formatDuration(3.25), formatDuration(42), formatDuration(1500)]).toEqual(['…', '3.3 ms', '42 ms', '1.50 s']);
  });
});
