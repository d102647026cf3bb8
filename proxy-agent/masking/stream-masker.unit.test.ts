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
