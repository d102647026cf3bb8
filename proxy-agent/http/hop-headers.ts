// Headers that belong to one connection (hop-by-hop, RFC 9110 7.6.1) or to the client's login at
// the agent: none of them goes on. What remains is what the other side should see.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { withoutVigilCookies } from './client-token.ts';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings',
]);

/** The client's headers as they go upstream: hop-by-hop ones, HTTP/2 pseudo-headers, the client's own credentials (and Vigil's cookies) and Host dropped. */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionNamed(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':') || HOP_BY_HOP.has(name) || named.has(name)) continue;
    // The client's Vigil token (bearer or basic) never goes upstream; the target's own is injected.
    if (name === 'authorization' || name === 'host') continue;
    if (name === 'cookie') {
      const kept = withoutVigilCookies(Array.isArray(value) ? value.join('; ') : value);
      if (kept) out.cookie = kept;
      continue;
    }
    out[name] = value;
  }
  return out;
}

/** The target's response headers as they go to the client (HTTP/1.1 or HTTP/2). */
export function clientResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionNamed(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Headers as [name, value] pairs in order (repeated ones once each), for the recording. */
export function headerPairs(raw: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
  return pairs;
}

/** Headers the Connection header names are hop-by-hop too. */
function connectionNamed(connection: string | string[] | undefined): Set<string> {
  if (!connection) return new Set();
  const text = Array.isArray(connection) ? connection.join(',') : connection;
  return new Set(text.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean));
}
