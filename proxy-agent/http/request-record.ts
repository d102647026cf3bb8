// The heads of an exchange as the recording keeps them: masked (credentials always; query values
// and header values by the masking engine), HTTP/2 pseudo-headers left out (method and path are
// fields of their own).
import type http from 'node:http';
import type { MaskCounts } from '../../common/events/index.ts';
import { mergeCounts } from '../masking/masker.ts';
import type { SessionLifecycle } from '../session/session-lifecycle.ts';
import { headerPairs } from './hop-headers.ts';
import type { HttpTargetRuntime } from './http-target.ts';
import { maskHeaders, maskQuery } from './masking/index.ts';

export interface RecordedRequest {
  requestSeq: number;
  method: string;
  path: string;
  /** `?query` as the client sent it ('' for none): what goes upstream. */
  search: string;
}

export function recordRequest(req: { method?: string; url?: string; httpVersion: string; rawHeaders: string[] }, ctx: { target: HttpTargetRuntime; life: SessionLifecycle }): RecordedRequest {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const method = req.method ?? 'GET';
  const query = maskQuery(q < 0 ? '' : url.slice(q + 1), ctx.target.masker);
  const head = maskedHead(req.rawHeaders.length ? headerPairs(req.rawHeaders).filter(([name]) => !name.startsWith(':')) : [], ctx.target);
  // A path may carry a secret too (/reset/<token>): what the detectors find in it is masked.
  const maskedPath = ctx.target.masker.maskText(path);
  const counts: MaskCounts = {};
  mergeCounts(counts, maskedPath.counts);
  mergeCounts(counts, query.counts);
  mergeCounts(counts, head.counts);
  const version = req.httpVersion === '2.0' ? '2' : req.httpVersion;
  const requestSeq = ctx.life.emit('http.request', { method, path: maskedPath.text, query: query.text, version, headers: head.headers }, Object.keys(counts).length ? counts : null);
  return { requestSeq, method, path, search: q < 0 ? '' : url.slice(q) };
}

/** A response head for http.response. */
export function recordedResponseHeaders(response: http.IncomingMessage, target: HttpTargetRuntime): { headers: [string, string][]; counts: MaskCounts | null } {
  return maskedHead(headerPairs(response.rawHeaders), target);
}

function maskedHead(pairs: [string, string][], target: HttpTargetRuntime) {
  return maskHeaders(pairs, { masker: target.masker, extra: target.config.maskHeaders });
}
