// A segment's body: the canonical bytes of a run of consecutive events of one session, joined by
// newlines (canonical JSON never holds a raw newline), then compressed as a whole. Compressing a
// run instead of each event is what makes a recording small: its events repeat the same keys, the
// same session id and much of the same text.
import { promisify } from 'node:util';
import zlib from 'node:zlib';

/** How a segment's body is stored: `none` for the open tail of a live session, `deflate` once sealed. */
export type SegmentCodec = 'none' | 'deflate';

const deflateRaw = promisify(zlib.deflateRaw);
const inflateRaw = promisify(zlib.inflateRaw);

// Raw deflate at level 6: on recorded terminal output as events it kept about a fifth of the
// bytes, as brotli at quality 6 did, in a quarter of brotli's time, and it inflates at hundreds of
// MB/s (scripts/bench/seek.ts prints the stored/raw ratio). Runs on libuv's thread pool, not on
// the hub's event loop.
const DEFLATE_LEVEL = 6;

/** The bodies as one text; throws if one could not be told apart from the next. */
export function joinBodies(bodies: readonly string[]): string {
  for (const body of bodies) {
    if (body.includes('\n')) throw new Error('an event body holds a newline: it is not canonical JSON');
  }
  return bodies.join('\n');
}

export async function encodeSegment(text: string, codec: SegmentCodec): Promise<Buffer> {
  const raw = Buffer.from(text, 'utf8');
  if (codec === 'none') return raw;
  return deflateRaw(raw, { level: DEFLATE_LEVEL });
}

/** The bodies of a stored segment, in seq order. */
export async function decodeSegment(body: Uint8Array, codec: string): Promise<string[]> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let raw: Buffer;
  if (codec === 'none') raw = bytes;
  else if (codec === 'deflate') raw = await inflateRaw(bytes);
  else throw new Error(`unknown segment codec ${codec}`);
  const text = raw.toString('utf8');
  return text.length === 0 ? [] : text.split('\n');
}
