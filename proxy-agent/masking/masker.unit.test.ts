import { describe, expect, it } from 'vitest';
import { Masker, mergeCounts } from './masker.ts';
import { defaultMasker, join, SAMPLE } from './test-support.ts';

describe('Masker.maskText', () => {
  const masker = defaultMasker();

  it('when a text holds several kinds of secrets, then counts are kept per rule', () => {
    const text = `a@example.com b@example.com 4111111111111111 123-45-6789 ${SAMPLE.awsKeyId}`;
    const r = masker.maskText(text);
    expect(r.text).toBe('[EMAIL] [EMAIL] [CARD] [SSN] [AWS_ACCESS_KEY]');
    expect(r.counts).toEqual({ EMAIL: 2, CARD: 1, SSN: 1, AWS_ACCESS_KEY: 1 });
  });

  it('when nothing matches, then the same string comes back with null counts', () => {
    const text = 'select id, name from users where id = 42';
    const r = masker.maskText(text);
    expect(r.text).toBe(text);
    expect(r.counts).toBeNull();
  });

  it.each(['42', 'alice', '2024-01-05 10:00:00', '2024-01-05 10:00:00.5+00', '3.14', 'Müller', ''])(
    'when a typical cell %j is masked, then it takes the fast path',
    (cell) => {
      expect(masker.isFastPath(cell)).toBe(true);
      expect(masker.maskText(cell)).toEqual({ text: cell, counts: null });
    },
  );

  it('when custom rules exist, then no cell can skip them', () => {
    expect(defaultMasker({ rules: [{ name: 'X', pattern: 'x', flags: '' }] }).isFastPath('42')).toBe(false);
  });

  it('when every known secret is masked, then none of the raw secrets survives in the output', () => {
    const secrets = [
      'alice@example.com', '4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005', '123-45-6789',
      'GB82WEST12345698765432', 'DE89370400440532013000', '(555) 123-4567', '+44 20 7946 0958', SAMPLE.jwt,
      SAMPLE.awsKeyId, SAMPLE.github, SAMPLE.slack, SAMPLE.stripe, SAMPLE.gcp, SAMPLE.pem,
    ];
    const text = [
      ...secrets,
      `Authorization: Bearer tok_${'9'.repeat(20)}`,
      `aws_secret_access_key=${SAMPLE.awsSecret}`,
      'postgres://app:Sup3rS3cret@db/app',
      "CREATE ROLE r PASSWORD 'R0leS3cret'",
    ].join(' | ');
    const out = masker.maskText(text).text;
    for (const s of [...secrets, `tok_${'9'.repeat(20)}`, SAMPLE.awsSecret, 'Sup3rS3cret', 'R0leS3cret']) expect(out).not.toContain(s);
    expect(out).not.toMatch(/\[[A-Z_]*\[/); // no nested markers
  });

  it('when two detectors match overlapping text, then one marker covers the union', () => {
    const r = masker.maskText(`Bearer ${SAMPLE.jwt}`);
    expect(r).toEqual({ text: 'Bearer [JWT]', counts: { JWT: 1 } });
  });

  it('when only some detectors are enabled, then the others do not mask', () => {
    const m = defaultMasker({ detectors: ['EMAIL'] });
    expect(m.maskText('a@example.com 123-45-6789').text).toBe('[EMAIL] 123-45-6789');
  });

  it('when a custom rule matches, then it masks with its own marker and count', () => {
    const m = defaultMasker({ rules: [{ name: 'EMPLOYEE_ID', pattern: 'EMP-\\d{6}', flags: '' }] });
    expect(m.maskText('EMP-123456 and emp-123456')).toEqual({ text: '[EMPLOYEE_ID] and emp-123456', counts: { EMPLOYEE_ID: 1 } });
    const ci = defaultMasker({ rules: [{ name: 'EMPLOYEE_ID', pattern: 'EMP-\\d{6}', flags: 'i' }] });
    expect(ci.maskText('emp-123456').text).toBe('[EMPLOYEE_ID]');
  });

  it('when a custom rule overlaps a built-in match, then the built-in names the single marker', () => {
    const m = defaultMasker({ rules: [{ name: 'ACME', pattern: 'alice@example\\.com', flags: '' }] });
    expect(m.maskText('alice@example.com')).toEqual({ text: '[EMAIL]', counts: { EMAIL: 1 } });
  });

  it('when a custom rule can match the empty string, then empty matches are skipped and real ones masked', () => {
    const m = defaultMasker({ rules: [{ name: 'X', pattern: 'x*', flags: '' }] });
    expect(m.maskText('abxxc')).toEqual({ text: 'ab[X]c', counts: { X: 1 } });
  });

  it('when a custom pattern does not compile, then the constructor names the rule', () => {
    expect(() => defaultMasker({ rules: [{ name: 'BROKEN_RULE', pattern: '([a-z', flags: '' }] })).toThrow(/masking rule BROKEN_RULE .*does not compile/);
  });

  it.each([
    ['a'.repeat(1 << 20) + '@'],
    ['a@'.repeat(1 << 19)],
    ['1-'.repeat(1 << 19)],
    ['eyJ'.repeat(350_000)],
    ['://'.repeat(350_000) + '@'],
    ["password '".repeat(100_000)],
    ['-----BEGIN PRIVATE KEY-----'.repeat(40_000)],
    ['+1 '.repeat(350_000)],
    ['authorization:'.repeat(75_000)],
    ['AB12 '.repeat(200_000)],
  ])('when a 1 MB adversarial text is masked, then it completes (#%#)', (text) => {
    const r = masker.maskText(text);
    expect(typeof r.text).toBe('string');
  });
});

describe('Masker columns and rows', () => {
  const masker = defaultMasker({ columns: ['password', 'API_KEY'] });

  it('when a column name contains a configured substring in any case, then it is secret', () => {
    expect(masker.isSecretColumn('user_password')).toBe(true);
    expect(masker.isSecretColumn('Api_Key_Hash')).toBe(true);
    expect(masker.isSecretColumn('username')).toBe(false);
    expect(defaultMasker({ columns: [] }).isSecretColumn('password')).toBe(false);
  });

  it('when a row is clean, then maskRow returns the same array instance and counts nothing', () => {
    const row = ['42', 'alice', '2024-01-05 10:00:00', null];
    const counts = {};
    expect(masker.maskRow(row, [false, false, false, false], counts)).toBe(row);
    expect(masker.maskRow(row, null, counts)).toBe(row);
    expect(counts).toEqual({});
  });

  it('when a row has a secret column and a detected value, then a new array is returned and the input is untouched', () => {
    const row = ['1', 'hunter2', 'mail me at bob@example.com', null];
    const counts = { EMAIL: 1 };
    const out = masker.maskRow(row, [false, true, false, true], counts);
    expect(out).not.toBe(row);
    expect(out).toEqual(['1', masker.columnMarker, 'mail me at [EMAIL]', null]);
    expect(row[1]).toBe('hunter2');
    expect(counts).toEqual({ EMAIL: 2, SECRET_COLUMN: 1 });
    expect(masker.columnMarker).toBe('[SECRET_COLUMN]');
  });
});

describe('mergeCounts', () => {
  it('when counts are merged, then per-rule numbers add up and null adds nothing', () => {
    const into = { EMAIL: 1 };
    mergeCounts(into, { EMAIL: 2, CARD: 1 });
    mergeCounts(into, null);
    expect(into).toEqual({ EMAIL: 3, CARD: 1 });
  });
});

describe('Masker construction', () => {
  it('when the config lists an unknown detector, then construction fails clearly', () => {
    expect(() => new Masker({ detectors: ['NOPE' as 'EMAIL'], columns: [], rules: [], client: false })).toThrow(/unknown masking detector NOPE/);
  });

  it('when the secret is built from parts, then the test data is what the detectors expect', () => {
    expect(join('a', 'b')).toBe('ab');
    expect(SAMPLE.github.length).toBe(40);
  });
});
