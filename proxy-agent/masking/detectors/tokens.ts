// Credentials that are strings of their own: JWTs, bearer/Authorization values, cloud and SaaS
// keys, PEM private keys. Each pattern starts on a literal prefix, so a regex scan only begins
// where that prefix occurs.
import type { SpanSink } from '../spans.ts';
import { type Detector, isWordCode, matchAt } from './detector.ts';

// header.payload.signature in base64url; the header of a JWT is JSON, so it starts with eyJ.
const JWT = /eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/y;

/** Not glued to a word or a dash before it (the scanner already knows no letter or digit is). */
const freeStart = (text: string, at: number) => at === 0 || (text.charCodeAt(at - 1) !== 95 && text.charCodeAt(at - 1) !== 45);

export const jwt: Detector = {
  name: 'JWT',
  prefixes: [{
    prefix: 'eyJ',
    at(text, at, out) {
      if (!freeStart(text, at)) return;
      const m = matchAt(JWT, text, at);
      if (m) out.add(at, at + m[0].length);
    },
  }],
};

// "Authorization: <scheme> <credentials>" masks the credentials and keeps the scheme word;
// "Bearer <token>" anywhere masks the token. The group ends where the match ends.
const AUTHORIZATION = /(?:proxy-)?authorization["']?\s{0,8}[:=]\s{0,8}["']?(?:[a-z][\w-]{0,30}\s+(?=[\w\-.~+/]))?([\w\-.~+/]+=*)/iy;
const BEARER = /bearer\s+([\w\-.~+/]{8,}=*)/iy;

function credentialsAt(re: RegExp, prose: boolean) {
  return (text: string, at: number, out: SpanSink) => {
    if (!freeStart(text, at)) return;
    const m = matchAt(re, text, at);
    if (m === null) return;
    const value = m[1];
    // After a bare "bearer", prose ("bearer instruments") is not a token: tokens carry a digit
    // or a symbol, or are long.
    if (prose && !/[\d\-.~+/=_]/.test(value) && value.length < 24) return;
    const end = at + m[0].length;
    out.add(end - value.length, end);
  };
}

export const bearer: Detector = {
  name: 'BEARER',
  prefixes: [
    { prefix: 'authorization', ignoreCase: true, at: credentialsAt(AUTHORIZATION, false) },
    { prefix: 'proxy-authorization', ignoreCase: true, at: credentialsAt(AUTHORIZATION, false) },
    { prefix: 'bearer', ignoreCase: true, at: credentialsAt(BEARER, true) },
  ],
};

const PEM_BEGIN = /-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----/y;
const PEM_END = /-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----/y;

/** From where no END line follows any more: later BEGINs run to the end without a search. */
const NO_END_FROM = Symbol('no END line from');

export const privateKey: Detector = {
  name: 'PRIVATE_KEY',
  // Where a token starts with "--": the run of dashes may have begun one character earlier.
  prefixes: [{
    prefix: '--',
    at(text, dashes, out) {
      const at = dashes > 0 && text.charCodeAt(dashes - 1) === 45 ? dashes - 1 : dashes;
      if (!text.startsWith('-----BEGIN ', at)) return;
      PEM_BEGIN.lastIndex = at;
      if (!PEM_BEGIN.test(text)) return;
      if (at >= (out.mark(NO_END_FROM) ?? Infinity)) return out.add(at, text.length);
      const end = pemEnd(text, PEM_BEGIN.lastIndex);
      if (end === text.length) out.setMark(NO_END_FROM, at);
      out.add(at, end);
    },
  }],
};

/** End of the END line after `from`; a block cut off before it runs to the end of the text. */
function pemEnd(text: string, from: number): number {
  for (let at = text.indexOf('-----END ', from); at >= 0; at = text.indexOf('-----END ', at + 1)) {
    PEM_END.lastIndex = at;
    if (PEM_END.test(text)) return PEM_END.lastIndex;
  }
  return text.length;
}
