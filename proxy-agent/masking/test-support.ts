// Shared by the masking unit tests: a masker with the default configuration, and secrets
// assembled at run time so no file of the repository holds a token a secret scanner would flag.
import { Masking } from '../../common/config/schema.ts';
import { Masker } from './masker.ts';

export function defaultMasker(overrides: Partial<Masking> = {}): Masker {
  // Rules reach the Masker as given: the schema refuses a pattern that does not compile, and the
  // Masker's own check of it (for configs built in code) is under test too.
  const { rules = [], ...rest } = overrides;
  return new Masker({ ...Masking.parse(rest), rules: rules.map((rule) => ({ ...rule, flags: rule.flags ?? '' })) });
}

export const join = (...parts: string[]) => parts.join('');

export const SAMPLE = {
  jwt: join('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9', '.', 'eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFsaWNlIn0', '.', 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'),
  awsKeyId: join('AKIA', 'IOSFODNN7EXAMPLE'),
  awsSecret: join('wJalrXUtnFEMI/K7MDENG', '/bPxRfiCYEXAMPLEKEY'),
  github: join('ghp', '_', 'x7Yq2Lm9Pz4Rt8Wk1Nv6Bc3Hd5Fg0Js2Ua9Q'),
  githubPat: join('github', '_pat_', '11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'),
  slack: join('xox', 'b-', '123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'),
  stripe: join('sk', '_live_', '51HxYzAbCdEfGhIjKlMnOpQrSt'),
  stripeRestricted: join('rk', '_live_', '51HxYzAbCdEfGhIjKlMnOpQrSt'),
  gcp: join('AIza', 'SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY'),
  /** A generated secret of no known format: 32 base62 characters. */
  random: join('q7Zr', 'X2mLp9Tk', '4Wn8VbE1', 'sHd6Gy3Jc0Fa'),
  pem: ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEAvRKXmB0gqpKXlFJkR9yvQxM6TzNmm1pQ', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB', '-----END RSA PRIVATE KEY-----'].join('\n'),
};
