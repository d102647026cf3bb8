// SCRAM-SHA-256 client (RFC 5802, RFC 7677) for the agent's own login to the upstream. No channel
// binding: the GS2 header is "n,,". The last step matters most: verifyServerFinal() checks the
// server's signature, which only a server that knows the password (or its SCRAM secret) can
// produce. That is what stops a fake upstream from accepting the agent's login and recording or
// altering the session.
import crypto from 'node:crypto';
import { saslprep } from './saslprep.ts';

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';

const GS2_HEADER = 'n,,';
const GS2_HEADER_BASE64 = Buffer.from(GS2_HEADER).toString('base64'); // "biws"
/** Printable ASCII except ',' (RFC 5802 "printable"). */
const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/**
 * PBKDF2 runs synchronously: an upstream announcing a huge iteration count could stall the agent.
 * PostgreSQL's default is 4096.
 */
const DEFAULT_MAX_ITERATIONS = 1_000_000;

export class ScramError extends Error {
  override name = 'ScramError';
}

/** Picks the mechanism among those an AuthenticationSASL request offers. */
export function chooseMechanism(offered: string[]): 'SCRAM-SHA-256' {
  if (offered.includes(SCRAM_SHA_256)) return SCRAM_SHA_256;
  if (offered.includes('SCRAM-SHA-256-PLUS')) {
    throw new ScramError(
      'the server offers only SCRAM-SHA-256-PLUS (channel binding), which the agent does not support; ' +
        'allow SCRAM-SHA-256 on the target',
    );
  }
  throw new ScramError(`the server offers no supported SASL mechanism (offered: ${offered.join(', ') || 'none'})`);
}

export interface ScramOptions {
  /** The client nonce; random (18 bytes, base64) unless given. For tests. */
  nonce?: string;
  /** Refuse server-first messages asking for more PBKDF2 iterations. Default 1 000 000. */
  maxIterations?: number;
}

type State = 'initial' | 'first-sent' | 'final-sent' | 'done';

export class ScramClient {
  private readonly password: string;
  private readonly nonce: string;
  private readonly clientFirstBare: string;
  private readonly maxIterations: number;
  private state: State = 'initial';
  private expectedServerSignature: Buffer | null = null;

  /** user may be '' (as libpq sends it): PostgreSQL uses the user of the startup packet. */
  constructor(user: string, password: string, opts: ScramOptions = {}) {
    this.password = password;
    this.nonce = opts.nonce ?? crypto.randomBytes(18).toString('base64');
    if (!NONCE.test(this.nonce)) throw new ScramError('the client nonce must be printable ASCII without commas');
    this.maxIterations = opts.maxIterations ?? DEFAULT_MAX_ITERATIONS;
    this.clientFirstBare = `n=${saslName(user)},r=${this.nonce}`;
  }

  /** The client-first-message, sent in SASLInitialResponse. */
  clientFirst(): string {
    this.advance('initial', 'first-sent');
    return GS2_HEADER + this.clientFirstBare;
  }

  /** Takes the server-first-message (AuthenticationSASLContinue) and returns the client-final-message. */
  handleServerFirst(serverFirst: string): string {
    this.advance('first-sent', 'final-sent');
    const attrs = serverFirst.split(',');
    if (attrs[0]?.startsWith('m=')) throw new ScramError('the server requires a SCRAM extension the agent does not support');
    const serverNonce = attribute(attrs[0], 'r');
    const saltText = attribute(attrs[1], 's');
    const iterationText = attribute(attrs[2], 'i');

    if (!NONCE.test(serverNonce) || !serverNonce.startsWith(this.nonce) || serverNonce.length === this.nonce.length) {
      throw new ScramError('invalid server-first-message: the nonce does not extend the client nonce');
    }
    if (saltText === '' || !BASE64.test(saltText)) throw new ScramError('invalid server-first-message: the salt is not base64');
    if (!/^[1-9][0-9]{0,9}$/.test(iterationText)) {
      throw new ScramError('invalid server-first-message: the iteration count is not a positive integer');
    }
    const iterations = Number(iterationText);
    if (iterations > this.maxIterations) {
      throw new ScramError(`the server asks for ${iterations} PBKDF2 iterations, more than the limit of ${this.maxIterations}`);
    }

    const salt = Buffer.from(saltText, 'base64');
    const saltedPassword = crypto.pbkdf2Sync(saslprep(this.password), salt, iterations, 32, 'sha256');
    const clientKey = hmac(saltedPassword, 'Client Key');
    const storedKey = crypto.createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=${GS2_HEADER_BASE64},r=${serverNonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.allocUnsafe(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i] ^ clientSignature[i];
    this.expectedServerSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks the server-final-message (AuthenticationSASLFinal); throws unless the server proved it knows the password. */
  verifyServerFinal(serverFinal: string): void {
    this.advance('final-sent', 'done');
    const first = serverFinal.split(',')[0] ?? '';
    if (first.startsWith('e=')) throw new ScramError(`the server ended the SCRAM exchange: ${first.slice(2)}`);
    const signatureText = attribute(first, 'v');
    const signature = BASE64.test(signatureText) ? Buffer.from(signatureText, 'base64') : Buffer.alloc(0);
    const expected = this.expectedServerSignature!;
    this.expectedServerSignature = null;
    if (signature.length !== expected.length || !crypto.timingSafeEqual(signature, expected)) {
      throw new ScramError('the server signature does not match: the target did not prove it knows the password');
    }
  }

  private advance(from: State, to: State): void {
    if (this.state !== from) throw new ScramError(`unexpected SCRAM step: the exchange is at "${this.state}"`);
    this.state = to;
  }
}

/** RFC 5802 saslname: ',' and '=' escaped. */
function saslName(user: string): string {
  return user.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

function attribute(part: string | undefined, name: string): string {
  if (part === undefined || part.length < 2 || part[0] !== name || part[1] !== '=') {
    throw new ScramError(`invalid SCRAM message: expected attribute "${name}="`);
  }
  return part.slice(2);
}

function hmac(key: Buffer, text: string): Buffer {
  return crypto.createHmac('sha256', key).update(text).digest();
}
