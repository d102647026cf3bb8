// One body (a request's or a response's) recorded as it passes, never holding up the bytes: the
// first `limit` bytes are kept and, once the body is complete (or the limit is reached, or the
// other side's head arrives first), decoded (Content-Encoding), masked (masking/) and emitted as
// http.body; past the limit bytes are only counted. A stream (server-sent events, ndjson) is
// masked and emitted piece by piece as it passes instead, so a live viewer sees it as it comes.
import zlib from 'node:zlib';
import type { EventData, MaskCounts } from '../../common/events/index.ts';
import type { Masker } from '../masking/masker.ts';
import { BodyStreamMasker, maskBody, streamKind } from './masking/index.ts';

export interface BodyRecorderOptions {
  direction: 'request' | 'response';
  requestSeq: number;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  limit: number;
  masker: Masker;
  emit(data: EventData<'http.body'>, masked: MaskCounts | null): void;
}

/** A stream quiet this long has what it holds recorded (a live viewer sees each event as it comes). */
const STREAM_QUIET_MS = 50;

export class BodyRecorder {
  /** Bytes of the body so far (as sent, encoded). */
  total = 0;
  private kept: Buffer[] = [];
  private keptBytes = 0;
  /** The kept part was emitted: the rest is counted only. */
  private emitted = false;
  private readonly stream: BodyStreamMasker | null;
  /** A stream's held text goes out when the stream pauses (or when a held secret must be decided). */
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: BodyRecorderOptions) {
    const kind = identity(opts.contentEncoding) ? streamKind(opts.contentType) : null;
    this.stream = kind && opts.limit > 0 ? new BodyStreamMasker({ masker: opts.masker, kind }) : null;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.emitted) return;
    if (this.stream) return this.pushStream(chunk);
    const room = this.opts.limit - this.keptBytes;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      // (A chunk from an HTTP stream is its own buffer: kept as it is, not copied.)
      this.kept.push(part);
      this.keptBytes += part.length;
    }
    if (this.total > this.opts.limit) this.flush(false);
  }

  /** The body ended: what is kept goes into the recording. */
  end(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.stream && !this.emitted) {
      const { text, counts } = this.stream.end();
      if (text) this.put({ text, bytes: 0 }, counts);
      this.emitted = true;
      return;
    }
    this.flush(true);
  }

  /** The other side answered before this body ended: what is kept goes now, the rest is counted. */
  cut(): void {
    if (!this.stream) this.flush(false);
  }

  private pushStream(chunk: Buffer): void {
    const before = this.total - chunk.length;
    const room = this.opts.limit - before;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, Math.max(room, 0));
    const { text, counts } = this.stream!.push(part);
    const truncated = this.total > this.opts.limit;
    if (text || truncated) this.put({ text, bytes: chunk.length, ...(truncated ? { truncated: true } : {}) }, counts);
    if (truncated) this.emitted = true;
    else this.flushWhenQuiet();
  }

  private flushWhenQuiet(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    const held = this.stream!.heldUntil();
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      if (this.emitted) return;
      const { text, counts } = this.stream!.flush();
      if (text) this.put({ text, bytes: 0 }, counts);
      if (this.stream!.heldUntil() !== null) this.flushWhenQuiet();
    }, Math.max((held ?? 0) - Date.now(), STREAM_QUIET_MS));
    this.flushTimer.unref();
  }

  private flush(complete: boolean): void {
    if (this.emitted) return;
    this.emitted = true;
    if (this.total === 0) return;
    const raw = Buffer.concat(this.kept);
    this.kept = [];
    const truncated = !complete || this.total > this.keptBytes;
    const decoded = decode(raw, this.opts.contentEncoding, this.opts.limit);
    if (decoded === null) {
      this.put({ binary: true, bytes: this.total, ...(truncated ? { truncated: true } : {}) }, null);
      return;
    }
    const cutAt = Math.min(decoded.length, this.opts.limit);
    const masked = maskBody(this.opts.contentType, decoded.subarray(0, cutAt), { masker: this.opts.masker, complete: !truncated && cutAt === decoded.length });
    this.put({
      ...(masked.binary ? { binary: true } : { text: masked.text }),
      bytes: this.total,
      ...(truncated || cutAt < decoded.length ? { truncated: true } : {}),
    }, masked.counts);
  }

  private put(part: { text?: string; binary?: boolean; bytes: number; truncated?: boolean }, counts: MaskCounts | null): void {
    this.opts.emit({
      requestSeq: this.opts.requestSeq,
      direction: this.opts.direction,
      ...(this.opts.contentType ? { contentType: this.opts.contentType.slice(0, 300) } : {}),
      ...part,
    }, counts);
  }
}

function identity(encoding: string | undefined): boolean {
  return !encoding || encoding.trim().toLowerCase() === 'identity';
}

/**
 * The kept bytes without their Content-Encoding (up to a bounded size: a small compressed body
 * may expand enormously); null when they cannot be decoded (an encoding not known here).
 */
function decode(raw: Buffer, encoding: string | undefined, limit: number): Buffer | null {
  if (identity(encoding)) return raw;
  const options = { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(limit, 1) * 4 };
  try {
    switch (encoding!.trim().toLowerCase()) {
      case 'gzip':
      case 'x-gzip':
        return zlib.gunzipSync(raw, options);
      case 'deflate':
        return zlib.inflateSync(raw, options);
      case 'br':
        return zlib.brotliDecompressSync(raw, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH, maxOutputLength: options.maxOutputLength });
      default:
        return null;
    }
  } catch {
    return null;
  }
}
