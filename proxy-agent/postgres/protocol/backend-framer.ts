// Frames the server -> client direction into whole messages without decoding them: the relay
// looks at the code byte and decodes only what it records (backend-decoder.ts). Framing rules (no
// mutation, zero copy, early length checks) live in framer.ts. The unframed one-byte answer to an
// SSLRequest/GSSENCRequest must be consumed before bytes reach this framer.
import { KNOWN_BACKEND_CODES } from './backend-codes.ts';
import { ProtocolError, describeCode, formatByteLimit } from './errors.ts';
import { Framer } from './framer.ts';

export type BackendMessageHandler = (code: number, message: Buffer) => void;

export interface BackendFramerOptions {
  /** Largest accepted message (the length field's value); default 64 MiB. */
  maxMessageBytes?: number;
}

const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export class BackendFramer extends Framer {
  private readonly maxMessageBytes: number;
  private onMessage: BackendMessageHandler | null = null;

  constructor(opts: BackendFramerOptions = {}) {
    super();
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Delivers every complete message in chunk (after what earlier chunks left over). */
  push(chunk: Buffer, onMessage: BackendMessageHandler): void {
    this.onMessage = onMessage;
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

  protected deliver(message: Buffer): void {
    this.onMessage!(message[0], message);
  }
}
