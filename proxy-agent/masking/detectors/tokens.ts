// Credentials that are strings of their own: JWTs, bearer/Authorization values, cloud and SaaS
// keys, PEM private keys. Each pattern starts on a literal prefix, so a regex scan only begins
// where that prefix occurs.
import { T_BEARER, T_CLOUD, T_JWT, T_PEM } from '../triggers.ts';
import { type Detector, eachMatch } from './detector.ts';

// header.payload.signature in base64url; the header of a JWT is JSON, so it starts with eyJ.
// The look-behind keeps "eyJeyJeyJ..." from restarting the scan inside one run (quadratic).
const JWT = /(?<![\w-])eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g;

export const jwt: Detector = {
  name: 'JWT',
  trigger: T_JWT,
  find(text, out) {
    eachMatch(JWT, text, (m) => out.add(m.index, m.index + m[0].length));
  },
};

// "Authorization: <scheme> <credentials>" masks the credentials and keeps the scheme word;
// "Bearer <token>" anywhere masks the token. Group 1 and 2 end where the match ends.
const BEARER = /(?<![\w-])(?:(?:proxy-)?authorization["']?\s{0,8}[:=]\s{0,8}["']?(?:[a-z][\w-]{0,30}\s+(?=[\w\-.~+/]))?([\w\-.~+/]+=*)|bearer\s+([\w\-.~+/]{8,}=*))/gi;

export const bearer: Detector = {
  name: 'BEARER',
  trigger: T_BEARER,
  find(text, out) {
    eachMatch(BEARER, text, (m) => {
      const value = m[1] ?? m[2];
      // After a bare "bearer", prose ("bearer instruments") is not a token: tokens carry a digit
      // or a symbol, or are long.
      if (m[1] === undefined && !/[\d\-.~+/=_]/.test(value) && value.length < 24) return;
      const end = m.index + m[0].length;
      out.add(end - value.length, end);
    });
  },
};

// Key formats with a fixed prefix: AWS access key ids, Google API keys, GitHub tokens, Slack
// tokens, Stripe secret/restricted live keys.
const CLOUD_TOKENS = new RegExp(
  '(?<![A-Za-z0-9])(?:' +
    [
      '(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])',
      'AIza[\\w-]{35}(?![\\w-])',
      'gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])',
      'github_pat_\\w{22,255}(?!\\w)',
      'xox[abpr]-[A-Za-z0-9-]{10,255}',
      '[sr]k_live_[A-Za-z0-9]{16,255}(?![A-Za-z0-9])',
    ].join('|') +
    ')',
  'g',
);
// AWS secret access keys have no prefix: only a label makes 40 base64 characters one.
const AWS_SECRET = /(?:aws_?)?secret_?(?:access_?)?key["']?\s{0,8}[:=]\s{0,8}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/gi;

export const cloudKey: Detector = {
  name: 'CLOUD_KEY',
  trigger: T_CLOUD,
  find(text, out) {
    eachMatch(CLOUD_TOKENS, text, (m) => out.add(m.index, m.index + m[0].length));
    eachMatch(AWS_SECRET, text, (m) => {
      const end = m.index + m[0].length;
      out.add(end - m[1].length, end);
    });
  },
};

const PEM_BEGIN = /-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----/y;
const PEM_END = /-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----/y;

export const privateKey: Detector = {
  name: 'PRIVATE_KEY',
  trigger: T_PEM,
  find(text, out) {
    for (let begin = text.indexOf('-----BEGIN '); begin >= 0; begin = text.indexOf('-----BEGIN ', begin + 1)) {
      PEM_BEGIN.lastIndex = begin;
      if (!PEM_BEGIN.test(text)) continue;
      const end = pemEnd(text, PEM_BEGIN.lastIndex);
      out.add(begin, end);
      if (end === text.length) return;
      begin = end - 1;
    }
  },
};

/** End of the END line after `from`; a block cut off before it runs to the end of the text. */
function pemEnd(text: string, from: number): number {
  for (let at = text.indexOf('-----END ', from); at >= 0; at = text.indexOf('-----END ', at + 1)) {
    PEM_END.lastIndex = at;
    if (PEM_END.test(text)) return PEM_END.lastIndex;
  }
  return text.length;
}
