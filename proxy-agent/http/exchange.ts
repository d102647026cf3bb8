// One request through the agent and its answer: recorded (http.request, then http.body parts,
// http.response, http.end, paired by the request's seq), reviewed by the target's request rules
// (deny, or held for approvers while the client waits), sent on with the target's credential in
// place of the client's token, and streamed back as it comes. Every event of a step is in the
// recording before the step reaches the other side. Whatever fails ends this exchange only.
import http from 'node:http';
import https from 'node:https';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import type { EventData } from '../../common/events/index.ts';
import type { SessionLifecycle } from '../session/session-lifecycle.ts';
import type { AccessGate } from '../access/access-gate.ts';
import type { RecordingOutlet } from '../recording/session-event-sink.ts';
import { BodyRecorder } from './body-recorder.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from './hop-headers.ts';
import { recordedResponseHeaders, recordRequest } from './request-record.ts';
import type { HttpTargetRuntime } from './http-target.ts';
import { reviewRequest } from './request-review.ts';
import { answerError, recordErrorAnswer } from './agent-answers.ts';
import { followThrottle, ReadValve } from '../read-valve.ts';

export type ClientRequest = http.IncomingMessage | Http2ServerRequest;
export type ClientResponse = http.ServerResponse | Http2ServerResponse;

export interface ExchangeContext {
  target: HttpTargetRuntime;
  life: SessionLifecycle;
  access: AccessGate;
  outlet: RecordingOutlet;
}

type Outcome = EventData<'http.end'>['outcome'];

export class Exchange {
  private requestSeq = 0;
  private readonly startedAt = performance.now();
  private upstream: http.ClientRequest | null = null;
  private requestBody: BodyRecorder | null = null;
  private responseBody: BodyRecorder | null = null;
  private ended = false;
  /** The response has ended: what is recorded from here is committed once, with http.end. */
  private closing = false;
  private readonly unfollow: Array<() => void> = [];

  constructor(private readonly req: ClientRequest, private readonly res: ClientResponse, private readonly ctx: ExchangeContext, private readonly onDone: (x: Exchange) => void) {}

  /** Records the request, reviews it, and relays it (or answers it here). */
  async run(): Promise<void> {
    const { req, res, ctx } = this;
    const recorded = recordRequest(req, ctx);
    this.requestSeq = recorded.requestSeq;
    res.on('close', () => this.clientGone());
    const refusal = await reviewRequest(recorded.method, recorded.path, this.requestSeq, ctx);
    if (this.ended) return;
    if (refusal !== null) return this.answer(403, refusal, 'refused');
    let credential: [string, string] | null;
    try {
      credential = await ctx.target.credential.header();
    } catch (err) {
      ctx.life.log.warn({ err: (err as Error).message }, 'the target\'s credential could not be had');
      return this.answer(502, `Vigil could not get ${ctx.target.config.name}'s credential: ${(err as Error).message}`, 'aborted');
    }
    if (this.ended) return;
    this.relay(recorded.path, recorded.search, credential);
  }

  private relay(path: string, search: string, credential: [string, string] | null): void {
    const { req, ctx } = this;
    const { upstream } = ctx.target;
    const headers = upstreamRequestHeaders(req.headers);
    headers.host = upstream.host;
    if (credential) headers[credential[0]] = credential[1];
    const request = (upstream.protocol === 'https:' ? https : http).request({
      agent: ctx.target.agent,
      protocol: upstream.protocol,
      hostname: upstream.hostname.replace(/^\[|\]$/g, ''),
      port: upstream.port || (upstream.protocol === 'https:' ? 443 : 80),
      method: req.method,
      path: `${ctx.target.basePath}${path}${search}`,
      headers,
    });
    this.upstream = request;
    this.requestBody = this.bodyRecorder('request', req.headers);
    // Recorded before it goes on; read no faster than the target takes it, or than the recording keeps up.
    const valve = this.follow(req);
    req.on('data', (chunk: Buffer) => {
      this.requestBody!.push(chunk);
      ctx.life.countBytes(chunk.length, 0);
      valve.forward(request, chunk);
    });
    req.on('end', () => {
      this.requestBody!.end();
      request.end();
    });
    request.on('response', (response) => this.respond(response));
    request.on('error', (err) => {
      if (this.ended) return;
      if (!this.res.headersSent) {
        ctx.life.log.info({ err: err.message }, 'the target could not be reached');
        this.answer(502, `Vigil could not reach ${ctx.target.config.name}: ${err.message}`, 'aborted');
      } else this.finish('aborted', `the target failed: ${err.message}`);
    });
  }

  private respond(response: http.IncomingMessage): void {
    const { res, ctx } = this;
    if (this.ended) {
      response.destroy();
      return;
    }
    this.requestBody?.cut();
    const status = response.statusCode ?? 502;
    const head = recordedResponseHeaders(response, ctx.target);
    ctx.life.emit('http.response', { requestSeq: this.requestSeq, status, headers: head.headers }, head.counts);
    ctx.outlet.commit();
    this.responseBody = this.bodyRecorder('response', response.headers);
    try {
      res.writeHead(status, clientResponseHeaders(response.headers) as http.OutgoingHttpHeaders);
    } catch (err) {
      // A header the client's protocol cannot carry (HTTP/2 refuses some): the exchange fails, not the session.
      response.destroy();
      return this.finish('aborted', `the target's response could not be passed on: ${(err as Error).message}`);
    }
    const valve = this.follow(response);
    response.on('data', (chunk: Buffer) => {
      this.responseBody!.push(chunk);
      ctx.life.countBytes(0, chunk.length);
      valve.forward(res as Writable, chunk);
    });
    response.on('end', () => {
      // The body's last part and the end go to the outbox in one write, before the client's end.
      this.closing = true;
      this.responseBody!.end();
      this.finish('complete');
      res.end();
    });
    response.on('error', (err) => this.finish('aborted', `the target's response broke off: ${err.message}`));
    response.on('aborted', () => this.finish('aborted', 'the target\'s response broke off'));
  }

  /** Records a body of this exchange; a response's parts are made durable before they reach the client. */
  private bodyRecorder(direction: 'request' | 'response', headers: http.IncomingHttpHeaders): BodyRecorder {
    const { life, outlet, target } = this.ctx;
    return new BodyRecorder({
      direction,
      requestSeq: this.requestSeq,
      contentType: headers['content-type'],
      contentEncoding: headers['content-encoding'],
      limit: target.config.maxBodyBytes,
      masker: target.masker,
      emit: (data, masked) => {
        life.emit('http.body', data, masked);
        // A stream's parts are durable before the client reads on (the last one goes with the end).
        if (direction === 'response' && !this.closing) outlet.commit();
      },
    });
  }

  /** A valve on `stream` that the recording's throttle holds too (released when the exchange ends). */
  private follow(stream: Readable): ReadValve {
    const valve = new ReadValve(stream);
    this.unfollow.push(followThrottle(this.ctx.outlet, [valve]));
    return valve;
  }

  /** Answered by the agent itself (a guardrail, an unreachable target): recorded as Vigil's answer. */
  private answer(status: number, message: string, outcome: Outcome): void {
    const { res, req, ctx } = this;
    recordErrorAnswer(ctx.life, this.requestSeq, status, message);
    ctx.outlet.commit();
    // The request's body is not read: the client is done with this exchange once it has the answer.
    req.resume();
    answerError(res, status, message);
    this.finish(outcome, message);
  }

  /** The session ends (kill, revoke, its grant's end): an exchange still waiting is told why, one under way is cut. */
  endFor(status: number, message: string): void {
    if (this.ended) return;
    if (!this.res.headersSent) return this.answer(status, message, 'aborted');
    this.upstream?.destroy();
    this.res.destroy();
    this.finish('aborted', message);
  }

  private clientGone(): void {
    if (this.ended) return;
    if (this.res.writableFinished) return;
    this.upstream?.destroy();
    this.finish('aborted', 'the client went away');
  }

  private finish(outcome: Outcome, detail?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.requestBody?.cut();
    if (outcome !== 'complete') this.responseBody?.end();
    this.ctx.life.emit('http.end', {
      requestSeq: this.requestSeq,
      outcome,
      ...(detail ? { detail: detail.slice(0, 500) } : {}),
      durationMs: Math.round((performance.now() - this.startedAt) * 1000) / 1000,
      requestBytes: this.requestBody?.total ?? 0,
      responseBytes: this.responseBody?.total ?? 0,
    });
    this.ctx.outlet.commit();
    for (const off of this.unfollow) off();
    this.onDone(this);
  }
}
