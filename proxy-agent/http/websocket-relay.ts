// A WebSocket through the agent: the upgrade is recorded and reviewed like any request, the agent
// opens its own WebSocket to the target (with the target's credential, the client's subprotocols,
// no compression), and only once the target accepted does it accept the client (with the
// subprotocol the target chose). Then each message is relayed and recorded (masked; binary ones
// as their size), and a close on either side closes the other. Ending the session closes both.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import type { AccessGate } from '../access/access-gate.ts';
import type { RecordingOutlet } from '../recording/session-event-sink.ts';
import type { SessionLifecycle } from '../session/session-lifecycle.ts';
import { upstreamRequestHeaders } from './hop-headers.ts';
import type { HttpTargetRuntime } from './http-target.ts';
import { maskBody } from './masking/index.ts';
import { recordedResponseHeaders, recordRequest } from './request-record.ts';
import { reviewRequest } from './request-review.ts';
import { answerErrorOnSocket, recordErrorAnswer } from './agent-answers.ts';

export interface WebSocketRelay {
  end(message: string): void;
}

export interface WebSocketContext {
  target: HttpTargetRuntime;
  life: SessionLifecycle;
  access: AccessGate;
  outlet: RecordingOutlet;
}

/** How long one side of a WebSocket has to close after the other did. */
const CLOSE_WAIT_MS = 2000;

/** Accepts clients once the target has: no server of its own, no compression (messages are read as they are). */
const acceptor = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });

export function relayWebSocket(req: http.IncomingMessage, socket: Duplex, head: Buffer, ctx: WebSocketContext, onDone: () => void): WebSocketRelay {
  const startedAt = performance.now();
  const recorded = recordRequest(req, ctx);
  let client: WebSocket | null = null;
  let upstream: WebSocket | null = null;
  let done = false;
  let bytesUp = 0;
  let bytesDown = 0;
  const finish = (outcome: 'upgraded' | 'refused' | 'aborted', detail?: string) => {
    if (done) return;
    done = true;
    ctx.life.emit('http.end', { requestSeq: recorded.requestSeq, outcome, ...(detail ? { detail: detail.slice(0, 500) } : {}), durationMs: Math.round(performance.now() - startedAt), requestBytes: bytesUp, responseBytes: bytesDown });
    ctx.outlet.commit();
    onDone();
  };
  /** Refused before the upgrade: a plain HTTP answer on the raw socket. */
  const refuse = (status: number, message: string, outcome: 'refused' | 'aborted') => {
    recordErrorAnswer(ctx.life, recorded.requestSeq, status, message);
    answerErrorOnSocket(socket, status, message);
    finish(outcome, message);
  };
  socket.on('error', () => {
    upstream?.terminate();
    finish('aborted', 'the client went away');
  });

  const record = (direction: 'client' | 'target', data: RawData | string, isBinary: boolean, kind: 'text' | 'binary' | 'close' = isBinary ? 'binary' : 'text') => {
    const bytes = toBuffer(data);
    if (direction === 'client') bytesUp += bytes.length;
    else bytesDown += bytes.length;
    ctx.life.countBytes(direction === 'client' ? bytes.length : 0, direction === 'target' ? bytes.length : 0);
    const limit = ctx.target.config.maxBodyBytes;
    const kept = bytes.length > limit ? bytes.subarray(0, limit) : bytes;
    const masked = kind === 'binary' ? null : maskBody(undefined, kept, { masker: ctx.target.masker, complete: kept.length === bytes.length });
    ctx.life.emit('ws.message', {
      requestSeq: recorded.requestSeq,
      direction,
      kind,
      ...(masked?.text !== undefined ? { text: masked.text } : {}),
      bytes: bytes.length,
      ...(kept.length < bytes.length ? { truncated: true } : {}),
    }, masked?.counts ?? null);
  };

  void (async () => {
    const refusal = await reviewRequest(recorded.method, recorded.path, recorded.requestSeq, ctx);
    if (done) return;
    if (refusal !== null) return refuse(403, refusal, 'refused');
    const credential = await ctx.target.credential.header().catch((err: Error) => err);
    if (done) return;
    if (credential instanceof Error) return refuse(502, `Vigil could not get ${ctx.target.config.name}'s credential: ${credential.message}`, 'aborted');
    const headers = upstreamRequestHeaders(req.headers);
    for (const name of Object.keys(headers)) if (name.startsWith('sec-websocket-')) delete headers[name];
    if (credential) headers[credential[0]] = credential[1];
    const base = new URL(ctx.target.upstream);
    base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    const target = new WebSocket(`${base.origin}${ctx.target.basePath}${recorded.path}${recorded.search}`, protocols, {
      headers: headers as Record<string, string>,
      perMessageDeflate: false,
      agent: ctx.target.agent,
      handshakeTimeout: 30_000,
    });
    upstream = target;
    target.on('unexpected-response', (_request, response) => {
      const head = recordedResponseHeaders(response, ctx.target);
      ctx.life.emit('http.response', { requestSeq: recorded.requestSeq, status: response.statusCode ?? 502, headers: head.headers }, head.counts);
      response.resume();
      if (socket.writable) socket.end(`HTTP/1.1 ${response.statusCode} ${http.STATUS_CODES[response.statusCode ?? 502] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      finish('refused', `the target answered the upgrade with ${response.statusCode}`);
    });
    target.on('upgrade', (response) => {
      const head = recordedResponseHeaders(response, ctx.target);
      ctx.life.emit('http.response', { requestSeq: recorded.requestSeq, status: 101, headers: head.headers }, head.counts);
      ctx.outlet.commit();
    });
    target.on('error', (err) => {
      if (!client) refuse(502, `Vigil could not open a WebSocket to ${ctx.target.config.name}: ${err.message}`, 'aborted');
      else client.terminate();
    });
    target.on('open', () => {
      if (done) return target.terminate();
      acceptor.handleUpgrade(req, socket, head, (accepted) => {
        client = accepted;
        accepted.on('message', (data, isBinary) => {
          record('client', data, isBinary);
          ctx.outlet.commit();
          target.send(data, { binary: isBinary });
        });
        target.on('message', (data, isBinary) => {
          record('target', data, isBinary);
          ctx.outlet.commit();
          accepted.send(data, { binary: isBinary });
        });
        // The exchange ends once both sides have closed, so the recording holds both close frames
        // (the client may have its close answered before the target's arrives); a side that does
        // not close within CLOSE_WAIT_MS of the other is cut off, which closes it too.
        const closed = new Set<'client' | 'target'>();
        const closedSide = (side: 'client' | 'target', other: WebSocket, code: number, reason: Buffer) => {
          record(side, reason, false, 'close');
          closed.add(side);
          if (closed.size === 2) return finish('upgraded');
          closeWith(other, code, reason);
          setTimeout(() => other.terminate(), CLOSE_WAIT_MS).unref();
        };
        accepted.on('close', (code, reason) => closedSide('client', target, code, reason));
        target.on('close', (code, reason) => closedSide('target', accepted, code, reason));
        accepted.on('error', () => target.terminate());
      });
    });
  })().catch((err: Error) => {
    ctx.life.log.error({ err: err.stack }, 'a WebSocket relay failed');
    upstream?.terminate();
    socket.destroy();
    finish('aborted', err.message);
  });

  return {
    end(message: string) {
      if (done) return;
      if (!client) return refuse(403, message, 'aborted');
      // 1008: policy violation. The reason is at most 123 bytes.
      client.close(1008, Buffer.from(message).subarray(0, 123).toString());
      upstream?.close(1000);
      setTimeout(() => {
        client?.terminate();
        upstream?.terminate();
      }, 1000).unref();
      finish('upgraded', message);
    },
  };
}

/** Closes `ws` as the other side closed (codes a peer may not send are replaced by a normal close). */
function closeWith(ws: WebSocket, code: number, reason: Buffer): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  const sendable = code >= 1000 && code <= 4999 && ![1004, 1005, 1006, 1015].includes(code);
  ws.close(sendable ? code : 1000, reason.subarray(0, 123));
}

function toBuffer(data: RawData | string): Buffer {
  if (typeof data === 'string') return Buffer.from(data);
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
