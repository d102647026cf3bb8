// Messages the agent sends UPSTREAM that pg-protocol's `serialize` does not build as needed:
// - its startup() always appends client_encoding=UTF8 after the given parameters, so a client's
//   own client_encoding would be overridden (the server takes the last one);
// - its cancel() takes the secret as an int32, but a protocol 3.2 key is up to 256 bytes.
// Everything else (password, SASL, SSLRequest, Terminate) comes from pg-protocol's serialize.
import { StartupCode } from './client-messages.ts';
import { BufferWriter } from './buffer-writer.ts';

export { serialize } from 'pg-protocol';

const writer = new BufferWriter();

/** A StartupMessage with exactly these parameters, in this order. */
export function startupMessage(params: Record<string, string>, protocolVersion: number = StartupCode.ProtocolV3): Buffer {
  writer.int32(protocolVersion);
  for (const [name, value] of Object.entries(params)) writer.cstring(name).cstring(value);
  return writer.cstring('').flush();
}

/** A CancelRequest carrying the whole secret key (4 bytes, or longer under protocol 3.2). */
export function cancelRequest(processId: number, secretKey: Buffer): Buffer {
  return writer.int32(StartupCode.CancelRequest).int32(processId).bytes(secretKey).flush();
}
