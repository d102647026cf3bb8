// Cuts a byte stream into whole messages; shared by the client parser and the backend framer.
// What it guarantees (the relay forwards the same chunks byte-exact):
// - chunks handed in are never written to, and are not retained after the call returns;
// - a message inside one chunk is delivered as a subarray of it (zero copy);
// - a message split across chunks is joined into a buffer of its own (a copy; above 64 KiB the
//   buffer doubles as bytes arrive);
// - the length field is checked as soon as the header is complete, before any body is buffered,
//   and the buffer for a split body grows with what has arrived rather than with what the header
//   claims (a header claiming 60 MiB costs at most 64 KiB until more bytes arrive);
// - a message larger than the subclass holds whole is never joined: its raw bytes are handed on
//   in pieces as they arrive (deliverRaw), and its reader gets either a bounded stand-in once the
//   last byte has passed (message-cutter.ts) or, for CopyData, its body in pieces. So a message of
//   any size PostgreSQL allows costs a bounded amount of memory.
// After an error (a ProtocolError, or an exception from the message callback) the framer refuses
// further input: the stream position is no longer known.
// A callback that hands the connection over to a plain relay calls stop(): framing ends after
// that message and stop() returns every byte not yet delivered, including the rest of the chunk
// being processed.
import { ProtocolError } from './errors.ts';
import { MessageCutter, type Field, type MessageCut } from './message-cutter.ts';

/** Room for the longest header: a code byte and an int32 length, or a startup packet's length and code. */
const MAX_HEADER = 8;
/** First allocation for a split message whose length is larger. */
const INITIAL_SPLIT_CAPACITY = 64 * 1024;
/** Bytes a stand-in keeps of all its values together, at most. */
const STAND_IN_BUDGET = 1024 * 1024;

interface Stream {
  code: number;
  size: number;
  received: number;
  /** Null: the body is handed on in pieces (deliverBodyPiece). */
  cutter: MessageCutter | null;
}

export abstract class Framer {
  private readonly head = Buffer.allocUnsafe(MAX_HEADER);
  private headLength = 0;
  /** The message being joined, its final size and how much of it has arrived. */
  private split: Buffer | null = null;
  private splitSize = 0;
  private splitFilled = 0;
  private failure: Error | null = null;
  private stopped = false;
  /** While a message is being delivered: its chunk, and where the next message starts in it. */
  private chunk: Buffer | null = null;
  private next = 0;
  /** The message being streamed, if any. */
  private stream: Stream | null = null;

  /** Bytes kept of each value of a streamed message's stand-in. */
  protected keepValueBytes = 64 * 1024;

  /** Bytes needed before messageSize() can decide (5 coded, 4 for a startup packet's length). */
  protected abstract headerSize(): number;
  /** Validates the header at bytes[offset...] and returns the whole message's size; throws ProtocolError. */
  protected abstract messageSize(bytes: Buffer, offset: number): number;
  /** Whether a message of this code and size is streamed rather than held whole. */
  protected abstract streams(code: number, size: number): boolean;
  /** The layout a streamed message's stand-in is built from; null to hand its body on in pieces. */
  protected abstract layoutOf(code: number): readonly Field[] | null;
  /** Receives one whole message (cut null), or the stand-in of a streamed one. */
  protected abstract deliver(message: Buffer, cut: MessageCut | null): void;
  /** Receives the raw bytes of a streamed message, header included, in order, as they arrive. */
  protected abstract deliverRaw(bytes: Buffer, code: number): void;
  /** Receives the body of a streamed message without a layout, in pieces. */
  protected abstract deliverBodyPiece(code: number, body: Buffer): void;

  /**
   * Bytes received but not yet delivered, whole or as raw pieces of a streamed message (a copy).
   * Called from inside a callback, this includes the rest of the chunk being processed.
   */
  pendingBytes(): Buffer {
    if (this.chunk) return Buffer.from(this.chunk.subarray(this.next));
    if (this.split) return Buffer.from(this.split.subarray(0, this.splitFilled));
    return Buffer.from(this.head.subarray(0, this.headLength));
  }

  /**
   * Ends framing: no further message is delivered (not even the rest of the current chunk) and
   * later input is refused. Returns what pendingBytes() would, for the caller to relay as is.
   */
  stop(): Buffer {
    const rest = this.pendingBytes();
    this.stopped = true;
    this.split = null;
    this.stream = null;
    this.headLength = 0;
    return rest;
  }

  protected frame(chunk: Buffer): void {
    if (this.failure) {
      throw new ProtocolError(`the stream is unusable after an earlier error: ${this.failure.message}`);
    }
    if (this.stopped) throw new ProtocolError('framing was stopped; input is no longer parsed');
    this.chunk = chunk;
    try {
      const length = chunk.length;
      let offset = this.headLength > 0 || this.split !== null || this.stream !== null ? this.resume(chunk) : 0;
      if (this.stopped) return;
      while (offset < length) {
        const available = length - offset;
        if (available < this.headerSize()) {
          chunk.copy(this.head, 0, offset, length);
          this.headLength = available;
          return;
        }
        const size = this.messageSize(chunk, offset);
        if (this.streams(chunk[offset], size)) {
          this.openStream(chunk[offset], size);
          offset = this.feedStream(chunk, offset);
          if (this.stopped) return;
          continue;
        }
        if (available < size) {
          this.startSplit(size, chunk, offset);
          return;
        }
        const end = offset + size;
        this.next = end;
        this.deliver(chunk.subarray(offset, end), null);
        if (this.stopped) return;
        offset = end;
      }
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      this.split = null;
      this.stream = null;
      throw err;
    } finally {
      this.chunk = null;
    }
  }

  /** Continues a message begun in an earlier chunk; returns the offset in chunk after it. */
  private resume(chunk: Buffer): number {
    if (this.stream !== null) return this.feedStream(chunk, 0);
    let offset = 0;
    if (this.split === null) {
      const wanted = this.headerSize() - this.headLength;
      const take = Math.min(wanted, chunk.length);
      chunk.copy(this.head, this.headLength, 0, take);
      this.headLength += take;
      offset = take;
      if (take < wanted) return chunk.length;
      const size = this.messageSize(this.head, 0);
      // A copy: the head buffer takes the next partial header, maybe before a consumer is done.
      const header = Buffer.from(this.head.subarray(0, this.headLength));
      this.headLength = 0;
      if (this.streams(header[0], size)) {
        this.openStream(header[0], size);
        this.feedStream(header, 0);
        return this.feedStream(chunk, offset);
      }
      this.startSplit(size, header, 0);
    }
    const take = Math.min(this.splitSize - this.splitFilled, chunk.length - offset);
    this.append(chunk, offset, offset + take);
    offset += take;
    if (this.splitFilled < this.splitSize) return chunk.length;
    const message = this.split!;
    this.split = null;
    this.next = offset;
    this.deliver(message, null);
    return offset;
  }

  private openStream(code: number, size: number): void {
    const layout = this.layoutOf(code);
    const cutter = layout === null ? null : new MessageCutter(code, size, layout, { keep: this.keepValueBytes, budget: STAND_IN_BUDGET });
    this.stream = { code, size, received: 0, cutter };
  }

  /** Passes on what bytes[offset...] holds of the streamed message; returns the offset after it. */
  private feedStream(bytes: Buffer, offset: number): number {
    const stream = this.stream!;
    const take = Math.min(stream.size - stream.received, bytes.length - offset);
    // A streamed message is larger than its header: it never ends on an empty piece.
    if (take === 0) return offset;
    const end = offset + take;
    const piece = bytes.subarray(offset, end);
    const bodyStart = Math.max(0, 5 - stream.received);
    stream.received += take;
    const done = stream.received === stream.size;
    if (bytes === this.chunk) this.next = end;
    this.deliverRaw(piece, stream.code);
    if (this.stopped) return end;
    if (bodyStart < piece.length) {
      const body = piece.subarray(bodyStart);
      if (stream.cutter) stream.cutter.write(body);
      else this.deliverBodyPiece(stream.code, body);
    }
    if (done && !this.stopped) {
      this.stream = null;
      if (stream.cutter) {
        const { message, cut } = stream.cutter.finish();
        this.deliver(message, cut);
      }
    }
    return end;
  }

  private startSplit(size: number, bytes: Buffer, offset: number): void {
    const available = bytes.length - offset;
    this.split = Buffer.allocUnsafe(Math.min(size, Math.max(INITIAL_SPLIT_CAPACITY, available)));
    this.splitSize = size;
    this.splitFilled = 0;
    this.append(bytes, offset, bytes.length);
  }

  private append(bytes: Buffer, start: number, end: number): void {
    const needed = this.splitFilled + (end - start);
    let split = this.split!;
    if (needed > split.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.splitSize, Math.max(needed, split.length * 2)));
      split.copy(grown, 0, 0, this.splitFilled);
      this.split = split = grown;
    }
    bytes.copy(split, this.splitFilled, start, end);
    this.splitFilled = needed;
  }
}
