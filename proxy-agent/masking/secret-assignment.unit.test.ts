import { describe, expect, it } from 'vitest';
import { decodedBase64ValueAt, looksRandom, secretAssignmentAt, shannonEntropy } from './detectors/secret-assignment.ts';
import { defaultMasker, join, SAMPLE } from './test-support.ts';

const R = SAMPLE.random;
const HEX40 = join('9f86d081884c7d65', '9a2feaa0c55ad015', 'a3bf4f1b');
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** What secretAssignmentAt masks in `text`, called at every ':' and '=' as the engine does. */
function assigned(text: string): string[] {
  const out: string[] = [];
  for (let at = 0; at < text.length; at++) {
    const c = text[at];
    if (c !== ':' && c !== '=') continue;
    const span = secretAssignmentAt(text, at);
    if (span) out.push(text.slice(span[0], span[1]));
  }
  return out;
}

describe('secretAssignmentAt', () => {
  it.each([
    // cat .env
    [`API_KEY=${R}`, R],
    [`STRIPE_WEBHOOK_SECRET=${R}`, R],
    ['JWT_SECRET=notsorandom', 'notsorandom'],
    ['SESSION_SECRET="correct horse battery staple"', 'correct horse battery staple'],
    [`SECRET_KEY_BASE=${HEX40}${HEX40}`, HEX40 + HEX40],
    [`GITHUB_TOKEN=${R}`, R],
    ['AUTH_TOKEN=plainword', 'plainword'],
    ['DB_PASS=hunter22', 'hunter22'],
    ['MYSQL_PWD=hunter22', 'hunter22'],
    ['SSHPASS=hunter22', 'hunter22'],
    ['REDISCLI_AUTH=hunter22', 'hunter22'],
    ['smtp.pass = mailpass1', 'mailpass1'],
    // JSON, also inside a JSON string
    [`{"api_key": "${R}", "n": 1}`, R],
    ['{"client_secret":"abcdefgh12"}', 'abcdefgh12'],
    [`{"access_token" : "${R}"}`, R],
    [`{"msg":"{\\"api_key\\":\\"${R}\\"}"}`, R],
    [`{"dbPass": "hunter22"}`, 'hunter22'],
    // YAML
    [`token: ${R}`, R],
    ['  client_secret: abcdefgh1234', 'abcdefgh1234'],
    ["  secret: 'quoted value here'", 'quoted value here'],
    [`credentials: ${HEX40}`, HEX40],
    // shell
    [`export API_TOKEN=${R}`, R],
    [`export GITHUB_TOKEN="${R}"`, R],
    [`tool --token=${R} --verbose`, R],
    ['tool --token=abcdefgh1 --verbose', 'abcdefgh1'],
    ["tool --client-secret='abc def 123'", 'abc def 123'],
    // code
    [`const apiKey = "${R}";`, R],
    [`'api_key' => '${R}',`, R],
    [`apiKey := "${R}"`, R],
    [`x-api-key: ${R}`, R],
    // SQL text and URLs
    [`INSERT INTO audit VALUES ('token=${R}')`, R],
    ["UPDATE settings SET secret = 'abcdefgh123' WHERE id = 1", 'abcdefgh123'],
    [`GET /v1/items?access_token=${R}&page=2`, R],
  ])('when %j is read, then the value is the secret', (text, secret) => {
    expect(assigned(text)).toEqual([secret]);
  });

  it.each([
    // log lines
    'duration_ms=35', '2024-01-05 10:00:00', 'status=200', 'user=u1', 'token_count=42', 'key=user_id', 'max_tokens=4096',
    'ts=2024-01-05T10:00:00Z level=info msg="token refreshed" token_type=bearer expires_in=3600', 'url=https://example.com:8443/path',
    'monkey=banana hotkey=ctrl+c turkey: 3', 'bypass=true compass: north', 'PWD=/home/alice', 'OLDPWD=/tmp/build',
    // placeholders and values too plain for their key
    'API_KEY=', 'API_KEY=changeme', 'API_KEY=${API_KEY}', 'API_KEY=$API_KEY', 'API_KEY=<your-api-key>', 'API_KEY=your_api_key_here',
    'SECRET=***', 'SECRET=xxxxxxxx', 'SECRET=[REDACTED]', 'TOKEN=null', 'JWT_SECRET=short', 'GITHUB_TOKEN=notrandomatall', 'pass: 3',
    'GOOGLE_APPLICATION_CREDENTIALS=/etc/gcp/service-account.json', 'api_key: "{{ .Values.apiKey }}"', 'client_secret: %(secret)s',
    // JSON and YAML that name secrets without holding one
    '{"token_type": "bearer", "expires_in": 3600}', '{"secret": true}', '{"apiKey": null}', '{"tokens": 1234}', '{"secretName": "db-creds"}',
    'secrets:\n  - name: db', 'secret:\n  name: x', 'tokenizer: bert-base', 'secretRef: my-ref-name', 'secret: |\n  multi',
    // code
    'const apiKey = process.env.API_KEY;', 'api_key = os.getenv("API_KEY")', 'api_key = os.environ["API_KEY"]', "api_key: ENV['API_KEY']", 'clientSecret: config.clientSecret,', 'if (token == null)',
    "token != ''", 'Token::Secret', 'apiKey: string;', 'secret = "unterminated',
    // SQL handled elsewhere: a short literal
    "SELECT * FROM users WHERE api_token = 'x'",
  ])('when %j is read, then nothing is masked', (text) => {
    expect(assigned(text)).toEqual([]);
  });

  it('when called where there is no operator or the key is not a word, then it answers at once', () => {
    expect(secretAssignmentAt('api_key x', 7)).toBeNull();
    expect(secretAssignmentAt('12:34', 2)).toBeNull();
    expect(secretAssignmentAt(':', 0)).toBeNull();
    expect(secretAssignmentAt('=x', 0)).toBeNull();
  });

  it('when a quoted value is masked, then the quotes stay outside the span', () => {
    const text = `api_key = "${R}"`;
    const at = text.indexOf('=');
    expect(secretAssignmentAt(text, at)).toEqual([text.indexOf(R), text.indexOf(R) + R.length]);
  });

  it('when 1 MB of operators and secret keys is read, then every call stays short', () => {
    const text = 'token=token:"token='.repeat(60_000) + 'secret:'.repeat(100_000);
    let found = 0;
    for (let at = 0; at < text.length; at++) if ((text[at] === '=' || text[at] === ':') && secretAssignmentAt(text, at)) found++;
    expect(found).toBeGreaterThanOrEqual(0);
  });
});

describe('looksRandom', () => {
  it.each([
    R, HEX40, '550e8400-e29b-41d4-a716-446655440000', b64('sixteen random bytes..'), 'JBSWY3DPEHPK3PXPKZ4GC2LNN5XXG3TF', 'a1b2c3d4e5f6a7b8',
  ])('when %j is judged, then it looks random', (value) => {
    expect(looksRandom(value)).toBe(true);
  });

  it.each([
    ['a date', '2024-01-05T10:00:00Z'],
    ['a dotted reference', 'process.env.GITHUB_TOKEN_V2'],
    ['a hyphenated name', 'my-service-account-v2'],
    ['a camel-case name', 'MyApplicationName2'],
    ['a repeated pattern', 'abc123abc123abc123'],
    ['letters only', 'abcdefghijklmnopqrstuvwxyz'],
    ['digits only', '12345678901234567890'],
    ['too short', 'q7ZrX2mLp9Tk4Wn'],
    ['a value with spaces', 'correct horse battery staple 1'],
    ['too long', R.repeat(17)],
  ])('when %s is judged, then it does not look random', (_kind, value) => {
    expect(looksRandom(value)).toBe(false);
  });

  it('when entropy is measured, then it is in bits per character', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
    expect(shannonEntropy('0123456789abcdef')).toBe(4);
  });
});

describe('decodedBase64ValueAt', () => {
  const at = (text: string) => decodedBase64ValueAt(text, text.indexOf(':'));

  it.each([
    ['kubectl get secret -o yaml', `data:\n  DATABASE_URL: ${b64('postgres://app:S3cret@db/app')}\n`, 'postgres://app:S3cret@db/app'],
    ['a YAML password', `  password: ${b64('hunter2-and-more')}`, 'hunter2-and-more'],
    ['kubectl get secret -o json', `"DB_PASSWORD": "${b64('p4ssw0rd with spaces')}",`, 'p4ssw0rd with spaces'],
    ['an env file', `CONFIG_B64=${b64('{"token": "abc", "n": 1}')}`, '{"token": "abc", "n": 1}'],
    ['UTF-8 text', `note: ${b64('mot de passe: été')}`, 'mot de passe: été'],
  ])('when %s holds base64 text, then the decoded text and the value span come back', (_kind, text, decoded) => {
    const value = text.indexOf(b64(decoded));
    const op = Math.max(text.lastIndexOf(':', value), text.lastIndexOf('=', value));
    const r = decodedBase64ValueAt(text, op);
    expect(r?.decoded).toBe(decoded);
    expect(text.slice(r!.start, r!.end)).toBe(b64(decoded));
  });

  it.each([
    ['binary bytes', `key: ${Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254, 255, 7, 8]).toString('base64')}`],
    ['hex', `sha: ${HEX40}`],
    ['a plain word', 'name: abcdefghijklmnop'],
    ['short base64', `x: ${b64('hi there')}`],
    ['missing padding', `x: ${b64('hunter2-and-more!').replace(/=+$/, '')}`],
    ['a time', '10:00:00'],
    ['base64 glued to more text', `x: ${b64('hunter2-and-more')}!more`],
    ['no key', `: ${b64('hunter2-and-more')}`],
  ])('when %s is read, then nothing comes back', (_kind, text) => {
    expect(at(text)).toBeNull();
  });
});

describe('secret assignments through the masker', () => {
  // Run once the engine calls secretAssignmentAt and decodedBase64ValueAt at ':' and '='; the
  // marker's name is the engine's choice, so only its shape is checked.
  const masker = defaultMasker();
  const mask = (text: string) => masker.maskText(text).text;
  const MARKER = String.raw`\[[A-Z_]+\]`;

  it.each([
    [`API_KEY=${R}`, `^API_KEY=${MARKER}$`],
    [`{"client_secret": "abcdefgh12", "n": 1}`, `^\\{"client_secret": "${MARKER}", "n": 1\\}$`],
    [`token: ${R}`, `^token: ${MARKER}$`],
    [`export DB_PASS=hunter22 && run`, `^export DB_PASS=${MARKER} && run$`],
    [`data:\n  DATABASE_URL: ${b64('postgres://app:S3cret@db/app')}`, `^data:\\n  DATABASE_URL: ${MARKER}$`],
  ])('when %j is masked, then the key stays and the value becomes a marker', (text, expected) => {
    expect(mask(text)).toMatch(new RegExp(expected));
  });

  it.each(['duration_ms=35 status=200 user=u1 token_count=42 key=user_id', '2024-01-05 10:00:00', `name: ${b64('just a plain note')}`])(
    'when %j is masked, then it is left alone',
    (text) => {
      expect(masker.maskText(text)).toEqual({ text, counts: null });
    },
  );
});
