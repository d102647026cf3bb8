// Connection tokens: short-lived EdDSA JWTs issued by the hub, naming the user, the target and an
// expiry. Agents verify them offline with the hub's public key. A token is a secret: it is the
// user's password towards the agent and is never recorded or logged.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT, importPKCS8, importSPKI, jwtVerify, errors } from 'jose';

export const TOKEN_ISSUER = 'vigil-hub';
export const CONNECT_AUDIENCE = 'vigil-connect';
export const API_AUDIENCE = 'vigil-api';
const ALG = 'EdDSA';

export interface ConnectionClaims {
  user: string;
  target: string;
  /** Token id, unique per issue. */
  jti: string;
  expiresAt: Date;
}

export class TokenError extends Error {
  override name = 'TokenError';
}

export function keyPaths(dataDir: string) {
  return {
    privateKey: path.join(dataDir, 'hub-token-key.pem'),
    publicKey: path.join(dataDir, 'hub-token-key.pub.pem'),
  };
}

/** Creates the hub's Ed25519 signing key pair in dataDir once; later calls keep the existing one. */
export function ensureSigningKey(dataDir: string): { privateKeyPem: string; publicKeyPem: string } {
  const paths = keyPaths(dataDir);
  if (!fs.existsSync(paths.privateKey)) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    // wx: never overwrite a key another process created meanwhile.
    try {
      fs.writeFileSync(paths.privateKey, priv, { mode: 0o600, flag: 'wx' });
      fs.writeFileSync(paths.publicKey, pub, { mode: 0o644 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return {
    privateKeyPem: fs.readFileSync(paths.privateKey, 'utf8'),
    publicKeyPem: fs.readFileSync(paths.publicKey, 'utf8'),
  };
}

export class TokenSigner {
  private constructor(private readonly key: CryptoKey) {}

  static async fromPem(privateKeyPem: string): Promise<TokenSigner> {
    return new TokenSigner(await importPKCS8(privateKeyPem, ALG));
  }

  async connectionToken(user: string, target: string, ttlMs: number): Promise<string> {
    return new SignJWT({ tgt: target })
      .setProtectedHeader({ alg: ALG, typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(CONNECT_AUDIENCE)
      .setSubject(user)
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime(new Date(Date.now() + ttlMs))
      .sign(this.key);
  }

  /** A token for the hub's API, used by the CLI on the hub's host (holding the key makes it an admin). */
  async apiToken(subject: string, role: string, ttlMs = 60_000): Promise<string> {
    return new SignJWT({ role })
      .setProtectedHeader({ alg: ALG, typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(API_AUDIENCE)
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime(new Date(Date.now() + ttlMs))
      .sign(this.key);
  }
}

export class TokenVerifier {
  private constructor(private readonly key: CryptoKey) {}

  static async fromPem(publicKeyPem: string): Promise<TokenVerifier> {
    return new TokenVerifier(await importSPKI(publicKeyPem, ALG));
  }

  /** Verifies a connection token; throws TokenError with a message fit to show the user. */
  async verifyConnection(token: string): Promise<ConnectionClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: TOKEN_ISSUER,
        audience: CONNECT_AUDIENCE,
        algorithms: [ALG],
        requiredClaims: ['sub', 'exp', 'jti'],
      });
      if (typeof payload.tgt !== 'string') throw new TokenError('token names no target');
      return { user: payload.sub!, target: payload.tgt, jti: payload.jti!, expiresAt: new Date(payload.exp! * 1000) };
    } catch (err) {
      throw toTokenError(err);
    }
  }

  async verifyApi(token: string): Promise<{ subject: string; role: string }> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: TOKEN_ISSUER, audience: API_AUDIENCE, algorithms: [ALG] });
      return { subject: String(payload.sub), role: String(payload.role) };
    } catch (err) {
      throw toTokenError(err);
    }
  }
}

function toTokenError(err: unknown): TokenError {
  if (err instanceof TokenError) return err;
  if (err instanceof errors.JWTExpired) return new TokenError('the Vigil token has expired: get a new one with `vigil token`');
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenError('the Vigil token was not signed by this hub');
  if (err instanceof errors.JWTClaimValidationFailed) return new TokenError(`the Vigil token is not valid here (${err.claim})`);
  return new TokenError('the password is not a valid Vigil token');
}
