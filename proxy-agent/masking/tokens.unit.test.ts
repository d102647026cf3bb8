import { describe, expect, it } from 'vitest';
import { defaultMasker, join, SAMPLE } from './test-support.ts';

const masker = defaultMasker();
const mask = (text: string) => masker.maskText(text);

describe('JWT', () => {
  it('when a three-segment token starting eyJ appears, then it is masked whole', () => {
    expect(mask(`token=${SAMPLE.jwt}&x=1`)).toEqual({ text: 'token=[JWT]&x=1', counts: { JWT: 1 } });
  });

  it('when only a base64 JSON segment appears, then it is left alone', () => {
    const text = 'eyJhbGciOiJIUzI1NiJ9';
    expect(mask(text)).toEqual({ text, counts: null });
  });
});

describe('BEARER', () => {
  it('when a Bearer token appears, then the word stays and the token is masked', () => {
    expect(mask('Bearer abc123.def-456_ghi')).toEqual({ text: 'Bearer [BEARER]', counts: { BEARER: 1 } });
  });

  it('when an Authorization header holds a scheme and credentials, then only the credentials are masked', () => {
    expect(mask("curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA=='").text).toBe("curl -H 'Authorization: Basic [BEARER]'");
    expect(mask('{"authorization": "Token 0a1b2c3d4e5f"}').text).toBe('{"authorization": "Token [BEARER]"}');
    expect(mask('Authorization: s3cr3t-value').text).toBe('Authorization: [BEARER]');
  });

  it('when the bearer token is a JWT, then one marker replaces it, named after the JWT', () => {
    expect(mask(`Authorization: Bearer ${SAMPLE.jwt}`)).toEqual({ text: 'Authorization: Bearer [JWT]', counts: { JWT: 1 } });
  });

  it('when "bearer" is an ordinary word, then nothing is masked', () => {
    const text = 'the bearer instruments of a bearer bond';
    expect(mask(text)).toEqual({ text, counts: null });
  });
});

describe('CLOUD_KEY', () => {
  it.each([
    ['AWS access key id', SAMPLE.awsKeyId, 'AWS_ACCESS_KEY'],
    ['GitHub token', SAMPLE.github, 'GITHUB_TOKEN'],
    ['GitHub fine-grained token', SAMPLE.githubPat, 'GITHUB_TOKEN'],
    ['Slack token', SAMPLE.slack, 'SLACK_TOKEN'],
    ['Stripe live key', SAMPLE.stripe, 'STRIPE_KEY'],
    ['Stripe restricted key', SAMPLE.stripeRestricted, 'STRIPE_KEY'],
    ['GCP API key', SAMPLE.gcp, 'GOOGLE_API_KEY'],
    // Test-mode keys still open the account's test data and webhook settings (see the catalog).
    ['test-mode Stripe key', join('sk', '_test_', '51HxYzAbCdEfGhIjKlMnOpQrSt'), 'STRIPE_KEY'],
  ])('when a %s appears, then it is masked under its format\'s name', (_kind, key, name) => {
    expect(mask(`key: ${key} end`)).toEqual({ text: `key: [${name}] end`, counts: { [name]: 1 } });
  });

  it('when an AWS secret key is labelled, then only the key is masked', () => {
    expect(mask(`aws_secret_access_key = ${SAMPLE.awsSecret}`).text).toBe('aws_secret_access_key = [AWS_SECRET_KEY]');
    expect(mask(`"SecretAccessKey": "${SAMPLE.awsSecret}"`).text).toBe('"SecretAccessKey": "[AWS_SECRET_KEY]"');
  });

  it.each([
    ['an unlabelled 40-character string', SAMPLE.awsSecret],
    ['a too-short AWS id', join('AKIA', 'IOSFODNN7')],
    ['an AWS id inside a longer word', join('X', SAMPLE.awsKeyId)],
  ])('when %s appears, then it is left alone', (_kind, text) => {
    expect(mask(text)).toEqual({ text, counts: null });
  });
});

describe('PRIVATE_KEY', () => {
  it('when a PEM private key block appears, then the whole block becomes one marker', () => {
    const r = mask(`key:\n${SAMPLE.pem}\ndone`);
    expect(r).toEqual({ text: 'key:\n[PRIVATE_KEY]\ndone', counts: { PRIVATE_KEY: 1 } });
  });

  it.each(['PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'PGP PRIVATE KEY BLOCK'])(
    'when the block is a %s, then it is masked',
    (label) => {
      expect(mask(`-----BEGIN ${label}-----\nabc\n-----END ${label}-----`).text).toBe('[PRIVATE_KEY]');
    },
  );

  it('when the block is cut off before its END line, then everything from BEGIN is masked', () => {
    const cut = SAMPLE.pem.slice(0, 80);
    expect(mask(`cat id_rsa\n${cut}`).text).toBe('cat id_rsa\n[PRIVATE_KEY]');
  });

  it('when the block is a certificate or public key, then it is left alone', () => {
    const text = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----';
    expect(mask(text)).toEqual({ text, counts: null });
  });
});
