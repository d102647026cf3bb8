// Frames the server -> client direction into whole messages without decoding them: the relay
// looks at the code byte and decodes only what it records (backend-decoder.ts). Framing rules (no
// mutation, zero copy, early length checks, streaming of large messages) live in framer.ts. The
// unframed one-byte answer to an SSLRequest/GSSENCRequest must be consumed before bytes reach
// this framer.
//
// A message above wholeMessageBytes is streamed: its raw bytes go to onRaw as they arrive, then
// onMessage gets a bounded stand-in with `cut` saying which values it holds only the start of
// (a DataRow's cells by column). A streamed CopyData reaches onMessage as several CopyData
// messages, one per piece of its body, each with the PIECE cut (their boundaries mean nothing).
import { BackendCode, KNOWN_BACKEND_CODES } from './backend-codes.ts';
import { ProtocolError, describeCode, formatByteLimit } from './errors.ts';
import { Framer } from './framer.ts';
import { Field, PIECE, type MessageCut } from './message-cutter.ts';

export { PIECE } from './message-cutter.ts';

/** cut: null for a whole message (its exact bytes); otherwise `message` is not the server's bytes. */
export type BackendMessageHandler = (code: number, message: Buffer, cut: MessageCut | null) => void;
/** The raw bytes of a streamed message, in order, as they arrive (views: copy to keep). */
export type BackendRawHandler = (bytes: Buffer, code: number) => void;

export interface BackendFramerOptions {
  /** Largest accepted message (the length field's value); default 1 GiB, PostgreSQL's own limit. */
  maxMessageBytes?: number;
  /** Messages up to this size are delivered whole, larger ones streamed. Default 1 MiB. */
  wholeMessageBytes?: number | ((code: number) => number);
  /** Bytes kept of each value of a streamed message. Default 64 KiB. */
  keepValueBytes?: number;
  /** False: a streamed message is only passed on (onRaw), never read (no stand-in, no pieces). */
  readStreamed?: boolean;
}

const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 * 1024;
const DEFAULT_WHOLE_MESSAGE_BYTES = 1024 * 1024;

const LAYOUTS: Partial<Record<number, readonly Field[]>> = {
  [BackendCode.DataRow]: [Field.Values],
  [BackendCode.FunctionCallResponse]: [Field.Value],
  [BackendCode.ErrorResponse]: [Field.Fields],
  [BackendCode.NoticeResponse]: [Field.Fields],
  [BackendCode.NotificationResponse]: [Field.Int32, Field.CString, Field.CString],
  [BackendCode.CommandComplete]: [Field.CString],
  [BackendCode.ParameterStatus]: [Field.CString, Field.CString],
};

export class BackendFramer extends Framer {
  private readonly maxMessageBytes: number;
  private readonly wholeMessageBytes: (code: number) => number;
  private onMessage: BackendMessageHandler | null = null;
  private onRaw: BackendRawHandler | null = null;
  private readonly readStreamed: boolean;

  constructor(opts: BackendFramerOptions = {}) {
    super();
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const whole = opts.wholeMessageBytes ?? DEFAULT_WHOLE_MESSAGE_BYTES;
    this.wholeMessageBytes = typeof whole === 'number' ? () => whole : whole;
    if (opts.keepValueBytes !== undefined) this.keepValueBytes = opts.keepValueBytes;
    this.readStreamed = opts.readStreamed ?? true;
  }

  /** Delivers every complete message in chunk (after what earlier chunks left over). */
  push(chunk: Buffer, onMessage: BackendMessageHandler, onRaw: BackendRawHandler | null = null): void {
    this.onMessage = onMessage;
    this.onRaw = onRaw;
    this.frame(chunk);
  }

  protected headerSize(): number {
    return 5;
  }

  protected messageSize(bytes: Buffer, offset: number): number {
    const code = bytes[offset];
    if (KNOWN_BACKEND_CODES[code] === 0) throw new ProtocolError(`unknown server message code ${describeCode(code)}`);
    const length = bytes.readUInt32BE(offset + 1);
    if (length < 4) throw new ProtocolError(`message length ${length} is too short (code ${describeCode(code)})`);
    if (length > this.maxMessageBytes) {
      throw new ProtocolError(`message length ${length} exceeds the ${formatByteLimit(this.maxMessageBytes)} limit`);
    }
    return length + 1;
  }

  protected streams(code: number, size: number): boolean {
    return size > this.wholeMessageBytes(code);
  }

  protected layoutOf(code: number): readonly Field[] | null {
    if (!this.readStreamed || code === BackendCode.CopyData) return null;
    return LAYOUTS[code] ?? [Field.Rest];
  }

  protected deliver(message: Buffer, cut: MessageCut | null): void {
    this.onMessage!(message[0], message, cut);
  }

  protected deliverRaw(bytes: Buffer, code: number): void {
    this.onRaw?.(bytes, code);
  }

  protected deliverBodyPiece(code: number, body: Buffer): void {
    if (!this.readStreamed) return;
    const message = Buffer.allocUnsafe(5 + body.length);
    message[0] = code;
    message.writeUInt32BE(4 + body.length, 1);
    body.copy(message, 5);
    this.onMessage!(code, message, PIECE);
  }
}
