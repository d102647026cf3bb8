// CopyData messages the agent writes to the client in place of the server's, under client masking.
import { BackendCode } from '../protocol/backend-codes.ts';

/** A COPY TO STDOUT's data on its way to the client, masked. */
export interface CopyOutStream {
  /** The CopyData messages to send for this piece of the data (empty while a row is incomplete). */
  push(data: Buffer): Buffer;
  /** What is still held, masked, once the data has ended (before CopyDone). */
  end(): Buffer;
}

export const NOTHING = Buffer.alloc(0);

/** One CopyData message ('d', int32 length, the data). */
export function copyData(body: Buffer): Buffer {
  const message = Buffer.allocUnsafe(5 + body.length);
  message[0] = BackendCode.CopyData;
  message.writeUInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return message;
}

/** The data of a COPY row or tuple grew past what the agent holds to mask it whole. */
export class CopyRowTooLarge extends Error {
  override name = 'CopyRowTooLarge';
  constructor(limit: number) {
    super(`a COPY row over ${Math.round(limit / (1024 * 1024))} MiB cannot be held to be masked for the client`);
  }
}
