// The secret that signs dashboard session cookies: from the environment variable the config names
// (every hub behind one URL must share it), else generated once and kept in dataDir.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function sessionSecret(dataDir: string, envName: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[envName];
  if (fromEnv !== undefined) {
    if (fromEnv.length < 32) throw new Error(`${envName} must hold at least 32 characters`);
    return fromEnv;
  }
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
