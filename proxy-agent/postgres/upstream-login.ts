// Opens the agent's own connection to the target and logs in with the target's credentials
// (cleartext, MD5 or SCRAM-SHA-256, optionally over TLS). The user never sees these credentials;
// they are never recorded or logged. Returns the connection ready for queries, with the messages
// the client must see (ParameterStatus, ReadyForQuery) and the upstream's cancel key.
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import { serialize, startupMessage, cancelRequest } from './protocol/frontend-messages.ts';
import { BackendFramer } from './protocol/backend-framer.ts';
import { BackendCode, decodeBackend } from './protocol/backend-decoder.ts';
import { ScramClient, chooseMechanism } from './auth/scram-client.ts';
import { md5Password } from './auth/md5.ts';

export interface UpstreamSettings {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  tls: 'disable' | 'prefer' | 'require' | 'verify-full';
  caFile?: string;
}

export interface UpstreamKey {
  processId: number;
  /** 4 bytes, or up to 256 under protocol 3.2. */
  secretKey: Buffer;
}

export interface UpstreamSession {
  socket: net.Socket;
  /** Raw ParameterStatus and NoticeResponse messages to pass to the client, in order. */
  greeting: Buffer[];
  /** The raw ReadyForQuery that ends the login. */
  readyForQuery: Buffer;
  key: UpstreamKey | null;
  /** Bytes after ReadyForQuery (none expected: the server waits for a query). */
  leftover: Buffer;
  serverVersion?: string;
}

/** A failure the client may be told about (no credentials in the message). */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  constructor(message: string, readonly sqlstate = '08006') {
    super(message);
  }
}

const LOGIN_TIMEOUT_MS = 15_000;

/** Opens a TCP (and, as configured, TLS) connection to the upstream, after SSL negotiation. */
export async function connectUpstream(settings: UpstreamSettings): Promise<net.Socket> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: settings.host, port: settings.port });
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  }).catch((err: Error) => {
    throw new UpstreamError(`cannot reach the target at ${settings.host}:${settings.port}: ${err.message}`);
  });
  socket.setNoDelay(true);
  if (settings.tls === 'disable') return socket;

  socket.write(serialize.requestSsl());
  const answer = await new Promise<number>((resolve, reject) => {
    socket.once('data', (chunk) => resolve(chunk[0]));
    socket.once('error', reject);
    socket.once('close', () => reject(new UpstreamError('the target closed the connection during TLS negotiation')));
  });
  if (answer !== 0x53 /* S */) {
    if (settings.tls === 'prefer') return socket;
    socket.destroy();
    throw new UpstreamError('the target does not accept TLS, and the target config requires it');
  }
  const secure = tls.connect({
    socket,
    // The name the certificate must carry (verify-full); over a socket of our own, Node would
    // otherwise check it against "localhost". SNI only for a host name, never an address.
    host: settings.host,
    servername: net.isIP(settings.host) ? undefined : settings.host,
    rejectUnauthorized: settings.tls === 'verify-full',
    ca: settings.caFile ? fs.readFileSync(settings.caFile) : undefined,
  });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', (err) => reject(new UpstreamError(`TLS to the target failed: ${err.message}`)));
  });
  secure.setNoDelay(true);
  return secure;
}

/** clientSettings: what the client may set at startup (startup-settings.ts), passed on as they are. */
export async function loginUpstream(settings: UpstreamSettings, clientSettings: Record<string, string>): Promise<UpstreamSession> {
  const socket = await connectUpstream(settings);
  try {
    return await runLogin(socket, settings, clientSettings);
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

function runLogin(socket: net.Socket, settings: UpstreamSettings, clientSettings: Record<string, string>): Promise<UpstreamSession> {
  return new Promise((resolve, reject) => {
    const framer = new BackendFramer();
    const greeting: Buffer[] = [];
    let key: UpstreamKey | null = null;
    let scram: ScramClient | null = null;
    let serverVersion: string | undefined;
    const timer = setTimeout(() => fail(new UpstreamError('the target did not complete the login in time')), LOGIN_TIMEOUT_MS);

    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onSocketError);
      socket.off('close', onClose);
    };
    const fail = (err: Error) => {
      cleanup();
      reject(err);
    };
    const password = () => {
      if (settings.password === undefined) throw new UpstreamError('the target asks for a password and none is configured for it', '28000');
      return settings.password;
    };
    const onMessage = (code: number, message: Buffer) => {
      switch (code) {
        case BackendCode.Authentication: {
          const auth = decodeBackend(message) as unknown as { name: string; salt?: Buffer; mechanisms?: string[]; data?: string };
          switch (auth.name) {
            case 'authenticationOk':
              break;
            case 'authenticationCleartextPassword':
              socket.write(serialize.password(password()));
              break;
            case 'authenticationMD5Password':
              socket.write(serialize.password(md5Password(settings.user, password(), auth.salt!)));
              break;
            case 'authenticationSASL':
              chooseMechanism(auth.mechanisms ?? []);
              scram = new ScramClient(settings.user, password());
              socket.write(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', scram.clientFirst()));
              break;
            case 'authenticationSASLContinue':
              if (!scram) throw new UpstreamError('the target sent an unexpected SASL message');
              socket.write(serialize.sendSCRAMClientFinalMessage(scram.handleServerFirst(auth.data ?? '')));
              break;
            case 'authenticationSASLFinal':
              if (!scram) throw new UpstreamError('the target sent an unexpected SASL message');
              scram.verifyServerFinal(auth.data ?? '');
              break;
            default:
              throw new UpstreamError(`the target asks for an authentication method the agent does not support (${auth.name})`);
          }
          break;
        }
        case BackendCode.ParameterStatus: {
          const p = decodeBackend(message) as unknown as { parameterName: string; parameterValue: string };
          if (p.parameterName === 'server_version') serverVersion = p.parameterValue;
          greeting.push(Buffer.from(message));
          break;
        }
        case BackendCode.NoticeResponse:
          greeting.push(Buffer.from(message));
          break;
        case BackendCode.BackendKeyData: {
          const k = decodeBackend(message);
          if (k.name === 'backendKeyData') key = { processId: k.processID, secretKey: Buffer.from(k.secretKey) };
          break;
        }
        case BackendCode.ErrorResponse: {
          const e = decodeBackend(message) as unknown as { message?: string; code?: string };
          throw new UpstreamError(`the target refused the agent's login: ${e.message ?? 'unknown error'}`, e.code ?? '28000');
        }
        case BackendCode.ReadyForQuery:
          cleanup();
          resolve({ socket, greeting, readyForQuery: Buffer.from(message), key, leftover: framer.pendingBytes(), serverVersion });
          return;
        default:
          throw new UpstreamError(`the target sent an unexpected message during login (code ${String.fromCharCode(code)})`);
      }
    };
    const onData = (chunk: Buffer) => {
      try {
        framer.push(chunk, onMessage);
      } catch (err) {
        fail(err instanceof UpstreamError ? err : new UpstreamError(`login to the target failed: ${(err as Error).message}`));
      }
    };
    const onSocketError = (err: Error) => fail(new UpstreamError(`connection to the target failed: ${err.message}`));
    const onClose = () => fail(new UpstreamError('the target closed the connection during login'));
    socket.on('data', onData);
    socket.on('error', onSocketError);
    socket.on('close', onClose);

    // User and database are the target's; the client's settings were checked against its allowlist.
    socket.write(startupMessage({ ...clientSettings, user: settings.user, database: settings.database }));
  });
}

/** Sends a CancelRequest for `key` on a new upstream connection (as the protocol requires). */
export async function cancelUpstream(settings: UpstreamSettings, key: UpstreamKey): Promise<void> {
  const socket = await connectUpstream(settings);
  await new Promise<void>((resolve) => {
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.end(cancelRequest(key.processId, key.secretKey));
  });
}
