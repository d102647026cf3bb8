// The secret that signs dashboard session cookies: from the environment variable the config names
// (every hub behind one URL must share it), else generated once and kept in dataDir.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readSecret, type EnvSecret } from '../../common/config/secrets.ts';

export function sessionSecret(dataDir: string, secret: EnvSecret & { optional: true }, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = readSecret(secret, env);
  if (fromEnv !== undefined) return fromEnv;
  const file = path.join(dataDir, 'session-secret');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      // wx: never overwrite a secret another process created meanwhile.
      fs.writeFileSync(file, crypto.randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return fs.readFileSync(file, 'utf8').trim();
}
