// Answers the agent gives itself rather than the target (no login, a guardrail, an unreachable
// target, a malformed request): a small JSON error body, on a response or on a raw socket (an
// upgrade or what the HTTP parser refused), and, inside a session, recorded as Vigil's answer.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { SessionLifecycle } from '../session/session-lifecycle.ts';
import type { ClientResponse } from './exchange.ts';

export function errorBody(message: string): string {
  return `${JSON.stringify({ error: message })}\n`;
}

/** The head of an error answer, as sent and as recorded. */
export function errorHeaders(body: string): [string, string][] {
  return [['content-type', 'application/json'], ['content-length', String(Buffer.byteLength(body))]];
}

/** On a response that has sent nothing yet; a client already gone is left alone. */
export function answerError(res: ClientResponse, status: number, message: string, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded) return;
  const body = errorBody(message);
  try {
    res.writeHead(status, { ...Object.fromEntries(errorHeaders(body)), ...extra });
    res.end(body);
  } catch {
    // The client is gone.
  }
}

/** On a raw HTTP/1.1 socket, which then closes. */
export function answerErrorOnSocket(socket: Duplex, status: number, message: string): void {
  if (!socket.writable) return;
  const body = errorBody(message);
  const head = errorHeaders(body).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nconnection: close\r\n${head}\r\n${body}`);
}

/** Records an error answer of the agent's own on the exchange it ends. */
export function recordErrorAnswer(life: SessionLifecycle, requestSeq: number, status: number, message: string): void {
  const body = errorBody(message);
  life.emit('http.response', { requestSeq, status, headers: errorHeaders(body), by: 'vigil' });
  life.emit('http.body', { requestSeq, direction: 'response', contentType: 'application/json', text: body, bytes: Buffer.byteLength(body) });
}
