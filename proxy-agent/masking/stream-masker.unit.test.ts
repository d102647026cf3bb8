import { describe, expect, it } from 'vitest';
import type { MaskCounts } from '../../common/events/schema.ts';
import { mergeCounts } from './masker.ts';
import { StreamMasker } from './stream-masker.ts';
import { defaultMasker, join, SAMPLE } from './test-support.ts';

const masker = defaultMasker();

const SECRETS = {
  email: 'alice.smith@example.com',
  card: '4111 1111 1111 1111',
  jwt: SAMPLE.jwt,
  pem: SAMPLE.pem,
  conn: 'Sup3r-S3cret',
  role: 'R0le p4ss',
  key: SAMPLE.awsKeyId,
  github: SAMPLE.github,
  slack: SAMPLE.slack,
  apiKey: join('q8Zr4T', 'mW2xLp9vB7nK3s'),
  mysql: 'My5ql-pw',
  yaml: Buffer.from('postgres://app:S3cret@db/app').toString('base64'),
};
const TEXT = [
  'COPY users (id, email, card) FROM stdin;',
  `1\t${SECRETS.email}\t${SECRETS.card}`,
  `2\tnobody\t\\N`,
  `token ${SECRETS.jwt} end`,
  SECRETS.pem,
  `url postgres://app:${SECRETS.conn}@db.example.com/app`,
  `CREATE ROLE r PASSWORD '${SECRETS.role}';`,
  `key ${SECRETS.key} done`,
  `export GITHUB_TOKEN=${SECRETS.github}; SLACK=${SECRETS.slack}`,
  `API_KEY=${SECRETS.apiKey}`,
  `mysql -u root -p${SECRETS.mysql} shop`,
  `data:\n  DATABASE_URL: ${SECRETS.yaml}`,
  '\\.',
].join('\n');

function run(chunks: string[], holdBack?: number): { text: string; counts: MaskCounts } {
  const stream = new StreamMasker(masker, holdBack === undefined ? {} : { holdBack });
  const counts: MaskCounts = {};
  let text = '';
  for (const c of chunks) {
    const r = stream.push(c);
    text += r.text;
    mergeCounts(counts, r.counts);
  }
  const r = stream.flush();
  mergeCounts(counts, r.counts);
  return { text: text + r.text, counts };
}

describe('StreamMasker', () => {
  const whole = masker.maskText(TEXT);

  it.each([undefined, 64, 48])('when the text is split in two at every offset (holdBack %s), then the output equals masking it whole', (holdBack) => {
    for (let at = 0; at <= TEXT.length; at++) {
      const out = run([TEXT.slice(0, at), TEXT.slice(at)], holdBack);
      expect(out.text, `split at ${at}`).toBe(whole.text);
      expect(out.counts, `split at ${at}`).toEqual(whole.counts);
    }
  });

  it('when a secret is split at every offset across two chunks, then the raw secret never appears', () => {
    for (const secret of Object.values(SECRETS)) {
      const start = TEXT.indexOf(secret);
      for (let at = start; at <= start + secret.length; at++) {
        const out = run([TEXT.slice(0, at), TEXT.slice(at)], 48).text;
        expect(out).not.toContain(secret);
      }
    }
  });

  it('when the text arrives one character at a time, then the output equals masking it whole', () => {
    expect(run([...TEXT], 48).text).toBe(whole.text);
  });

  it('when chunks keep arriving, then the unflushed tail stays bounded', () => {
    const stream = new StreamMasker(masker, { holdBack: 64 });
    let emitted = 0;
    const line = 'row 42 alice 2024-01-05 10:00:00 some text\n';
    for (let i = 0; i < 1000; i++) emitted += stream.push(line).text.length;
    expect(line.length * 1000 - emitted).toBeLessThanOrEqual(64 * 4);
  });

  it('when a private key is longer than the tail bound, then none of its body is emitted', () => {
    const body = Array.from({ length: 40 }, (_, i) => `Zm9vYmFy${String(i).padStart(4, '0')}abcdefghijklmnopqrstuvwxyz0123456789ABCD`).join('\n');
    const pem = `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`;
    const text = `before\n${pem}\nafter`;
    const chunks = text.match(/[\s\S]{1,50}/g) ?? [];
    const out = run(chunks, 32);
    expect(out.text).toBe('before\n[PRIVATE_KEY]\nafter');
    expect(out.counts).toEqual({ PRIVATE_KEY: 1 });
  });

  it('when flush is called mid-stream, then later chunks still see the left context', () => {
    const stream = new StreamMasker(masker, { holdBack: 16 });
    const a = stream.push('ALTER ROLE bob PASSWORD ');
    const b = stream.flush();
    const c = stream.push("'s3cr3t-value' LOGIN;");
    const d = stream.flush();
    expect(a.text + b.text + c.text + d.text).toBe("ALTER ROLE bob PASSWORD '[ROLE_PASSWORD]' LOGIN;");
  });

  it('when holdBack is not a positive integer, then construction fails clearly', () => {
    expect(() => new StreamMasker(masker, { holdBack: 0 })).toThrow(/holdBack must be a positive integer/);
  });

  it('when the stream pauses inside a token, then settle emits up to the last space and holds the token until its rest or a flush', () => {
    const sm = new StreamMasker(masker);
    const jwt = SECRETS.jwt;
    expect(sm.push(`token: ${jwt.slice(0, 30)}`).text).toBe('');
    expect(sm.settle().text).toBe('token: ');
    sm.push(`${jwt.slice(30)} done\n`);
    const rest = sm.settle();
    expect(rest.text).toBe('[JWT] done\n');
    expect(rest.counts).toEqual({ JWT: 1 });
    sm.push('ls -la');
    expect(sm.settle().text).toBe('ls ');
    expect(sm.flush().text).toBe('-la');
  });
});

describe('StreamMasker holding multi-line secrets', () => {
  const begin = ['-----BEGIN RSA ', 'PRIVATE KEY-----'].join('');
  const end = ['-----END RSA ', 'PRIVATE KEY-----'].join('');
  const body = ['MIIEowIBAAKCAQEAvRKXmB0gqpKXlFJkR9yvQxM6TzNmm1pQb3BlbnNzaC1rZXktdjEA', 'AAAABG5vbmUAAAAEbm9uZQAAAAAAAAABb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE'];
  const clock = () => ({ now: 0 });

  it('when a key is open at a pause and at a flush, then the text before it goes out and none of the key until its END line', () => {
    const sm = new StreamMasker(masker);
    expect(sm.push(`$ cat key.pem\n${begin}\n${body[0]}\n`).text).toBe('');
    expect(sm.settle().text).toBe('$ cat key.pem\n');
    expect(sm.flush().text).toBe('');
    sm.push(`${body[1]}\n`);
    expect(sm.flush().text).toBe('');
    sm.push(`${end}\n$ `);
    const r = sm.settle();
    expect(r).toEqual({ text: '[PRIVATE_KEY]\n$ ', counts: { PRIVATE_KEY: 1 } });
    expect(sm.heldUntil()).toBeNull();
  });

  it('when a key is held, then heldUntil says when the time bound passes', () => {
    const c = clock();
    const sm = new StreamMasker(masker, { now: () => c.now, maxHeldMs: 5000 });
    sm.push(`${begin}\n`);
    expect(sm.heldUntil()).toBeNull(); // not looked at before a pause
    c.now = 100;
    sm.flush();
    expect(sm.heldUntil()).toBe(5100);
  });

  it('when a key stays open past the time bound, then it goes out as its marker and the rest of it is dropped up to its END line', () => {
    const c = clock();
    const sm = new StreamMasker(masker, { now: () => c.now, maxHeldMs: 30_000 });
    sm.push(`before\n${begin}\n${body[0]}\n`);
    expect(sm.flush().text).toBe('before\n');
    c.now = 30_000;
    expect(sm.flush()).toEqual({ text: '[PRIVATE_KEY]', counts: { PRIVATE_KEY: 1 } });
    expect(sm.heldUntil()).toBeNull();
    sm.push(`${body[1]}\n`);
    expect(sm.flush().text).toBe('');
    c.now = 40_000;
    sm.push(`${body[0]}\n${end}\nafter\n`);
    expect(sm.flush()).toEqual({ text: '\nafter\n', counts: null });
  });

  it('when a key grows past the size bound, then what is held goes out as its marker, never as text', () => {
    const sm = new StreamMasker(masker, { maxHeld: 200 });
    let out = sm.push(`${begin}\n`).text + sm.flush().text;
    for (let i = 0; i < 20; i++) out += sm.push(`${body[i % 2]}\n`).text + sm.settle().text;
    expect(out).toBe('[PRIVATE_KEY]');
    out += sm.push(`${end}\nafter\n`).text + sm.flush().text;
    expect(out).toBe('[PRIVATE_KEY]\nafter\n');
  });

  it('when a BEGIN line has no key after it, then the bound ends the hold and what follows is recorded again', () => {
    const c = clock();
    const sm = new StreamMasker(masker, { now: () => c.now, maxHeldMs: 30_000 });
    sm.push(`$ grep -r BEGIN keys/\nkeys/a.pem:${begin}\n$ ls\nnotes.txt\n`);
    expect(sm.flush().text).toBe('$ grep -r BEGIN keys/\nkeys/a.pem:');
    c.now = 30_000;
    expect(sm.flush()).toEqual({ text: '[PRIVATE_KEY]', counts: { PRIVATE_KEY: 1 } });
    sm.push('$ pwd\n/root\n');
    expect(sm.flush()).toEqual({ text: '$ pwd\n/root\n', counts: null });
  });

  it('when the stream ends inside the rest of a key masked as it stood, then none of it is emitted', () => {
    const c = clock();
    const sm = new StreamMasker(masker, { now: () => c.now, maxHeldMs: 1000 });
    sm.push(`${begin}\n${body[0]}\n`);
    sm.flush();
    c.now = 1000;
    expect(sm.flush().text).toBe('[PRIVATE_KEY]');
    sm.push(`${body[1]}\n-----END RSA PRIV`);
    expect(sm.flush().text).toBe('');
    expect(sm.end().text).toBe('');
  });

  it('when the END line is split where a bound cut the key, then it still closes the key', () => {
    const c = clock();
    const sm = new StreamMasker(masker, { now: () => c.now, maxHeld: 300 });
    let out = sm.push(`${begin}\n${body[0]}\n${body[1]}\n${body[0]}\n${body[1]}\n${body[0]}\n${end.slice(0, 12)}`).text;
    out += sm.flush().text;
    out += sm.push(`${end.slice(12)}\nafter\n`).text + sm.flush().text;
    expect(out).toBe('[PRIVATE_KEY]\nafter\n');
  });

  it('when the stream ends with a key still open, then it goes out as its marker', () => {
    const sm = new StreamMasker(masker);
    sm.push(`x\n${begin}\n${body[0]}`);
    expect(sm.flush().text).toBe('x\n');
    expect(sm.end()).toEqual({ text: '[PRIVATE_KEY]', counts: { PRIVATE_KEY: 1 } });
  });

  it('when a BEGIN line is cut by a pause, then it is held until it is whole; a certificate then goes out', () => {
    const sm = new StreamMasker(masker);
    sm.push('ok\n-----BEGIN RSA PRIV');
    expect(sm.settle().text).toBe('ok\n');
    expect(sm.flush().text).toBe('');
    sm.push(`ATE KEY-----\n${body[0]}\n${end}\n`);
    expect(sm.flush().text).toBe('[PRIVATE_KEY]\n');
    sm.push('-----BEGIN CERTIF');
    expect(sm.flush().text).toBe('');
    sm.push('ICATE-----\nMIIB\n');
    expect(sm.flush().text).toBe('-----BEGIN CERTIFICATE-----\nMIIB\n');
  });

  it('when a BEGIN line stays cut past the time bound, then it is masked as the start of a key (fail closed)', () => {
    const c = clock();
    const sm = new StreamMasker(masker, { now: () => c.now, maxHeldMs: 1000 });
    sm.push('ok\n-----BEGIN RSA PRIV');
    expect(sm.flush().text).toBe('ok\n');
    c.now = 1000;
    expect(sm.flush()).toEqual({ text: '[PRIVATE_KEY]', counts: { PRIVATE_KEY: 1 } });
    sm.push(`ATE KEY-----\n${body[0]}\n${end}\nnext\n`);
    expect(sm.flush()).toEqual({ text: '\nnext\n', counts: null });
  });

  it('when a password literal is still open at a flush, then it is held until its closing quote', () => {
    const sm = new StreamMasker(masker);
    sm.push("ALTER ROLE r PASSWORD 'first line\n");
    expect(sm.flush().text).toBe("ALTER ROLE r PASSWORD '");
    sm.push("second line';\n");
    expect(sm.flush()).toEqual({ text: "[ROLE_PASSWORD]';\n", counts: { ROLE_PASSWORD: 1 } });
  });

  it('when a YAML password block scalar waits for its value line, then its opener is held', () => {
    const sm = new StreamMasker(masker);
    sm.push('db:\n  password: |\n');
    expect(sm.flush().text).toBe('db:\n  password: ');
    sm.push('    hunter2-value\n  user: app\n');
    expect(sm.flush()).toEqual({ text: '|\n    [CONN_PASSWORD]\n  user: app\n', counts: { CONN_PASSWORD: 1 } });
  });

  it('when a one-line secret ends the output at a flush, then it goes out as its marker: only secrets that span lines are held', () => {
    const sm = new StreamMasker(masker);
    sm.push(`echo '${SAMPLE.github}`);
    expect(sm.flush()).toEqual({ text: "echo '[GITHUB_TOKEN]", counts: { GITHUB_TOKEN: 1 } });
    expect(sm.heldUntil()).toBeNull();
  });

  it('when the private key detector is off, then nothing is held for it', () => {
    const sm = new StreamMasker(defaultMasker({ detectors: ['EMAIL'] }));
    sm.push(`${begin}\n${body[0]}\n`);
    expect(sm.flush().text).toBe(`${begin}\n${body[0]}\n`);
    sm.push('-----BEGIN RSA PRIV');
    expect(sm.flush().text).toBe('-----BEGIN RSA PRIV');
  });

  it('when a number printed in groups pauses after a group, then its groups wait for the rest', () => {
    const sm = new StreamMasker(masker);
    sm.push('card 4111 ');
    expect(sm.settle().text).toBe('card ');
    sm.push('1111 1111 1111 ok\n');
    expect(sm.settle().text).toBe('[CARD] ok\n');
    sm.push('total 42 files ');
    expect(sm.settle().text).toBe('total 42 files ');
  });

  it('when the hold bounds are not positive, then construction fails clearly', () => {
    expect(() => new StreamMasker(masker, { maxHeld: 0 })).toThrow(/maxHeld must be a positive integer/);
    expect(() => new StreamMasker(masker, { maxHeldMs: 0 })).toThrow(/maxHeldMs must be positive/);
  });
});
