// The answer to AuthenticationMD5Password: "md5" + md5(md5(password + user) + salt), in hex.
import crypto from 'node:crypto';

export function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = crypto.createHash('md5').update(password, 'utf8').update(user, 'utf8').digest('hex');
  const outer = crypto.createHash('md5').update(inner, 'latin1').update(salt).digest('hex');
  return `md5${outer}`;
}
