import { describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../../common/events/index.ts';
import { EventScript } from '../search/test-support.ts';
import { markerOf, SLOW_STATEMENT_MS } from './timeline-markers.ts';

/** An HTTP session with one request recorded: its events go on from there. */
function exchange(): { s: EventScript; requestSeq: number } {
  const s = new EventScript({ protocol: 'http' });
  s.event('session.start', { upstream: 'https://api.internal', auth: 'bearer', recording: 'required', clientMasking: false }, 0);
  const request = s.event('http.request', { method: 'GET', path: '/orders', query: '', version: '1.1', headers: [] });
  return { s, requestSeq: request.seq };
}

const response = (s: EventScript, requestSeq: number, status: number, by?: 'vigil'): VigilEvent =>
  s.event('http.response', { requestSeq, status, headers: [], ...(by ? { by } : {}) });

const end = (s: EventScript, requestSeq: number, outcome: 'complete' | 'aborted' | 'refused' | 'upgraded', durationMs: number, detail?: string): VigilEvent =>
  s.event('http.end', { requestSeq, outcome, ...(detail ? { detail } : {}), durationMs, requestBytes: 0, responseBytes: 0 });

describe('markerOf', () => {
  it('when a statement takes the slow threshold or longer, then it is marked slow with its duration', () => {
    const s = new EventScript({ protocol: 'postgres' });
    const q = s.query('select pg_sleep(1)');
    const slow = s.result(q.seq, { command: 'SELECT 1', durationUs: SLOW_STATEMENT_MS * 1000 });
    expect(markerOf(slow)).toEqual({ seq: slow.seq, time: slow.time, kind: 'slow', label: 'SELECT 1 in 1000 ms', durationMs: SLOW_STATEMENT_MS });
    expect(markerOf(s.result(q.seq, { durationUs: SLOW_STATEMENT_MS * 1000 - 1 }))).toBeNull();
  });

  it('when the target answers with a 5xx, then the response is an error marked with its status', () => {
    const { s, requestSeq } = exchange();
    const failed = response(s, requestSeq, 503);
    expect(markerOf(failed)).toEqual({ seq: failed.seq, time: failed.time, kind: 'error', label: 'HTTP 503' });
  });

  it('when Vigil answers with a 5xx, then the label says Vigil answered', () => {
    const { s, requestSeq } = exchange();
    expect(markerOf(response(s, requestSeq, 502, 'vigil'))).toMatchObject({ kind: 'error', label: 'HTTP 502 from Vigil' });
  });

  it('when a response is below 500, then it is not marked', () => {
    const { s, requestSeq } = exchange();
    for (const status of [200, 301, 404, 499]) expect(markerOf(response(s, requestSeq, status))).toBeNull();
  });

  it('when an exchange is aborted or refused, then its end is an error labelled with the outcome and why', () => {
    const { s, requestSeq } = exchange();
    const aborted = end(s, requestSeq, 'aborted', 20, 'the client went away');
    expect(markerOf(aborted)).toEqual({ seq: aborted.seq, time: aborted.time, kind: 'error', label: 'aborted: the client went away' });
    expect(markerOf(end(s, requestSeq, 'refused', 5, 'denied by rule  "no-deletes"\n'))).toMatchObject({ kind: 'error', label: 'refused: denied by rule "no-deletes"' });
    expect(markerOf(end(s, requestSeq, 'aborted', 5))).toMatchObject({ kind: 'error', label: 'aborted' });
  });

  it('when an aborted exchange gives a long reason, then the label is clipped', () => {
    const { s, requestSeq } = exchange();
    const label = markerOf(end(s, requestSeq, 'aborted', 5, `the target failed: ${'x'.repeat(400)}`))!.label;
    expect(label).toHaveLength(200);
    expect(label.endsWith('…')).toBe(true);
  });

  it('when an aborted exchange also took long, then it is marked an error, not slow', () => {
    const { s, requestSeq } = exchange();
    expect(markerOf(end(s, requestSeq, 'aborted', SLOW_STATEMENT_MS * 5, 'the target\'s response broke off'))?.kind).toBe('error');
  });

  it('when an exchange completes in the slow threshold or longer, then it is marked slow with its duration', () => {
    const { s, requestSeq } = exchange();
    const slow = end(s, requestSeq, 'complete', 1234.5);
    expect(markerOf(slow)).toEqual({ seq: slow.seq, time: slow.time, kind: 'slow', label: `request #${requestSeq} in 1235 ms`, durationMs: 1234.5 });
    expect(markerOf(end(s, requestSeq, 'complete', SLOW_STATEMENT_MS))?.kind).toBe('slow');
    expect(markerOf(end(s, requestSeq, 'complete', SLOW_STATEMENT_MS - 0.5))).toBeNull();
  });

  it('when a WebSocket exchange ends after a long time, then it is not marked slow (it lasted as long as the socket)', () => {
    const { s, requestSeq } = exchange();
    expect(markerOf(end(s, requestSeq, 'upgraded', 60_000))).toBeNull();
  });

  it('when an exchange carries a request, a body or a WebSocket message, then none is marked', () => {
    const s = new EventScript({ protocol: 'http' });
    const request = s.event('http.request', { method: 'POST', path: '/orders', query: '', version: '1.1', headers: [] });
    expect(markerOf(request)).toBeNull();
    expect(markerOf(s.event('http.body', { requestSeq: request.seq, direction: 'request', text: '{}', bytes: 2 }))).toBeNull();
    expect(markerOf(s.event('ws.message', { requestSeq: request.seq, direction: 'client', kind: 'text', text: 'hi', bytes: 2 }))).toBeNull();
  });
});
