// One recorded HTTP exchange (its http.request and what followed with its requestSeq) as a HAR 1.2
// entry. Only the recorded events are read: headers, query and bodies are as masked at the agent,
// and what the recording does not have (header sizes, the phases of the round trip) is -1 or 0,
// as HAR asks for information that is not available.
import { STATUS_CODES } from 'node:http';
import type { Content, Entry, Header, PostData, Request, Response } from 'har-format';
import type { EventData, EventOf } from '../../../common/events/index.ts';

/** The body parts of one direction, concatenated in seq order. */
export interface RecordedBody {
  contentType?: string;
  text: string;
  /** Some part had text: a body whose parts all lack it (binary) has no content to show. */
  hasText: boolean;
  bytes: number;
  binary: boolean;
  truncated: boolean;
}

export interface Exchange {
  request: EventOf<'http.request'>;
  /** The time of the last event of this exchange (ms since the epoch). */
  lastMs: number;
  requestBody: RecordedBody | null;
  responseBody: RecordedBody | null;
  response: EventData<'http.response'> | null;
  end: EventData<'http.end'> | null;
  messages: EventOf<'ws.message'>[];
  /** Said by other events about it (a guardrail's decision). */
  notes: string[];
  /** Why there is no http.end: the session ended first, or the recording stops before it. */
  cut: string | null;
}

/** Chrome's shape for a WebSocket's frames in a HAR (DevTools shows them in its Messages tab). */
interface WebSocketMessage {
  type: 'send' | 'receive';
  /** Seconds since the epoch. */
  time: number;
  opcode: 1 | 2 | 8;
  data: string;
}

const OPCODES = { text: 1, binary: 2, close: 8 } as const;

export function newExchange(request: EventOf<'http.request'>): Exchange {
  return { request, lastMs: Date.parse(request.time), requestBody: null, responseBody: null, response: null, end: null, messages: [], notes: [], cut: null };
}

export function addBodyPart(body: RecordedBody | null, part: EventData<'http.body'>): RecordedBody {
  const b = body ?? { text: '', hasText: false, bytes: 0, binary: false, truncated: false };
  b.contentType ??= part.contentType;
  if (part.text !== undefined) {
    b.text += part.text;
    b.hasText = true;
  }
  b.bytes += part.bytes;
  b.binary ||= part.binary === true;
  b.truncated ||= part.truncated === true;
  return b;
}

/** `base`: the target's URL (scheme, host, port) the recorded path and query are relative to. */
export function entryOf(x: Exchange, base: string): Entry {
  const req = x.request.data;
  const startMs = Date.parse(x.request.time);
  const time = x.end?.durationMs ?? Math.max(0, x.lastMs - startMs);
  const httpVersion = req.version === '2' ? 'HTTP/2' : `HTTP/${req.version}`;
  const websocket = x.end?.outcome === 'upgraded' || x.response?.status === 101 || x.messages.length > 0;
  const comments = [...commentsOf(x), ...x.notes];
  return {
    startedDateTime: x.request.time,
    time,
    request: requestOf(x, base, httpVersion),
    response: x.response ? responseOf(x, x.response, httpVersion) : unanswered(x),
    cache: {},
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: time, receive: 0 },
    ...(comments.length ? { comment: comments.join('; ') } : {}),
    ...(websocket ? { _resourceType: 'websocket', _webSocketMessages: x.messages.map(messageOf) } : {}),
  };
}

function requestOf(x: Exchange, base: string, httpVersion: string): Request {
  const req = x.request.data;
  const body = x.requestBody;
  const postData = body && !body.binary && body.hasText ? postDataOf(body, req.headers) : undefined;
  const binaryNote = body && !postData ? `binary body (${mimeOf(body, req.headers)}, ${body.bytes} bytes): its content is not recorded` : undefined;
  return {
    method: req.method,
    url: urlOf(base, req.path, req.query),
    httpVersion,
    cookies: [],
    headers: headersOf(req.headers),
    queryString: [...new URLSearchParams(req.query)].map(([name, value]) => ({ name, value })),
    ...(postData ? { postData } : {}),
    headersSize: -1,
    bodySize: x.end?.requestBytes ?? -1,
    ...(binaryNote ? { comment: binaryNote } : {}),
  };
}

function postDataOf(body: RecordedBody, headers: [string, string][]): PostData {
  return { mimeType: mimeOf(body, headers), text: body.text, ...(body.truncated ? { comment: TRUNCATED } : {}) };
}

function responseOf(x: Exchange, res: EventData<'http.response'>, httpVersion: string): Response {
  return {
    status: res.status,
    statusText: STATUS_CODES[res.status] ?? '',
    httpVersion,
    cookies: [],
    headers: headersOf(res.headers),
    content: contentOf(x, res.headers),
    redirectURL: header(res.headers, 'location') ?? '',
    headersSize: -1,
    bodySize: x.end?.responseBytes ?? -1,
  };
}

function contentOf(x: Exchange, headers: [string, string][]): Content {
  const body = x.responseBody;
  const size = x.end?.responseBytes ?? body?.bytes ?? 0;
  const mimeType = body ? mimeOf(body, headers) : (header(headers, 'content-type') ?? 'x-unknown');
  if (!body) return { size, mimeType };
  if (body.binary || !body.hasText) return { size, mimeType, comment: 'binary content: its size and type are recorded, not its bytes' };
  return { size, mimeType, text: body.text, ...(body.truncated ? { comment: TRUNCATED } : {}) };
}

const TRUNCATED = 'truncated: the recording keeps a body up to the target\'s body limit and counts the rest';

/** No response head was recorded: HAR viewers take status 0 as a request that got no answer. */
function unanswered(x: Exchange): Response {
  return {
    status: 0, statusText: '', httpVersion: '', cookies: [], headers: [], content: { size: 0, mimeType: 'x-unknown' },
    redirectURL: '', headersSize: -1, bodySize: -1, comment: `no response: ${whyUnanswered(x)}`,
  };
}

function whyUnanswered(x: Exchange): string {
  if (x.end?.outcome === 'aborted') return `the exchange was aborted${x.end.detail ? ` (${x.end.detail})` : ''}`;
  if (x.end?.outcome === 'refused') return `the request was refused${x.end.detail ? ` (${x.end.detail})` : ''}`;
  if (x.end) return `none was recorded (the exchange ended ${x.end.outcome})`;
  return x.cut ?? 'none was recorded';
}

function commentsOf(x: Exchange): string[] {
  const out: string[] = [];
  if (x.response?.by === 'vigil') out.push('answered by Vigil, not the target');
  const end = x.end;
  if (!x.response) out.push(`no response: ${whyUnanswered(x)}`);
  else if (end && (end.outcome === 'aborted' || end.outcome === 'refused')) out.push(`${end.outcome}${end.detail ? `: ${end.detail}` : ''}`);
  else if (x.cut) out.push(x.cut);
  return out;
}

function messageOf(m: EventOf<'ws.message'>): WebSocketMessage {
  return { type: m.data.direction === 'client' ? 'send' : 'receive', time: Date.parse(m.time) / 1000, opcode: OPCODES[m.data.kind], data: m.data.text ?? '' };
}

const headersOf = (headers: [string, string][]): Header[] => headers.map(([name, value]) => ({ name, value }));

const header = (headers: [string, string][], name: string): string | undefined => headers.find(([n]) => n.toLowerCase() === name)?.[1];

const mimeOf = (body: RecordedBody, headers: [string, string][]): string => body.contentType ?? header(headers, 'content-type') ?? 'application/octet-stream';

/**
 * The recorded path (its dot segments kept: they are evidence, which URL parsing would resolve
 * away) and masked query on the target's base URL. Characters a URL cannot hold raw are
 * percent-encoded so that viewers parse it.
 */
function urlOf(base: string, path: string, query: string): string {
  const target = /^[a-z][a-z0-9+.-]*:\/\//i.test(path) ? path : `${base}${path.startsWith('/') ? '' : '/'}${path}`;
  return encodeUnsafe(query ? `${target}?${query}` : target);
}

const UNSAFE = /[^\x21-\x7e]|["<>\\^`{|}]/gu;

const encodeUnsafe = (text: string): string =>
  text.replace(UNSAFE, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
