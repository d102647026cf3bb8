// A short secret (the provider's access token) kept inside a login session, which may live in
// Redis: sealed with AES-256-GCM under a key derived from the hub's session secret, which never
// goes there. Whoever reads the session store learns nothing they could call the provider with.
import crypto from 'node:crypto';

export interface TextSealer {
  seal(text: string): string;
  /** The text, or null when the sealed value is damaged or was sealed under another secret. */
  open(sealed: string): string | null;
}

export function textSealer(secret: string, purpose: string): TextSealer {
  const key = Buffer.from(crypto.hkdfSync('sha256', secret, 'vigil', purpose, 32));
  return {
    seal(text) {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
    },
    open(sealed) {
      const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
      if (!iv || !tag || !body || iv.length !== 12 || tag.length !== 16) return null;
      try {
        const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        return null;
      }
    },
  };
}
