// The secret corpus of the masking tests: one text per kind of secret the detectors know, each as
// a program would print it, with ordinary text around it, so a test can print it in pieces (a
// stream, a terminal) and compare with masking it whole. Secrets are built at run time (a private
// key is generated) so no file of the repository holds one a secret scanner would flag.
import crypto from 'node:crypto';
import { join, SAMPLE } from './test-support.ts';

export interface SecretFixture {
  name: string;
  text: string;
  /** Parts of `text` that must never be recorded in clear. */
  secrets: string[];
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A real 2048-bit RSA key in both PEM forms (PKCS#1 "RSA PRIVATE KEY", PKCS#8 "PRIVATE KEY"). */
function rsaKeys(): { pkcs1: string; pkcs8: string } {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    pkcs1: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString().trimEnd(),
    pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trimEnd(),
  };
}

/** The base64 lines of a PEM block (what must never be recorded). */
export function pemBody(pem: string): string[] {
  return pem.split(/\r?\n/).filter((line) => line && !line.startsWith('-----'));
}

function ecKey(): string {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'sec1', format: 'pem' }).toString().trimEnd();
}

/** An OpenSSH-format block: the shape `ssh-keygen` writes (70-character lines). */
function opensshLikeKey(): string {
  const body = crypto.randomBytes(1200).toString('base64').match(/.{1,70}/g) ?? [];
  return [join('-----BEGIN ', 'OPENSSH PRIVATE KEY-----'), ...body, join('-----END ', 'OPENSSH PRIVATE KEY-----')].join('\n');
}

const crlf = (text: string) => text.replace(/\n/g, '\r\n');

function build(): SecretFixture[] {
  const rsa = rsaKeys();
  const ec = ecKey();
  const openssh = opensshLikeKey();
  const apiKey = join('q8Zr4T', 'mW2xLp9vB7nK3s');
  const yamlSecret = b64('postgres://app:S3cret@db/app');
  const pem = (name: string, key: string, around = (k: string) => `$ cat key.pem\n${k}\n$ `) => ({
    name,
    text: around(key),
    secrets: pemBody(key),
  });
  return [
    pem('RSA key, PKCS#1', rsa.pkcs1),
    pem('RSA key, PKCS#8, terminal line ends', rsa.pkcs8, (k) => crlf(`$ while read l; do echo "$l"; sleep 0.2; done < key.pem\n${k}\n$ `)),
    pem('EC key with its parameters first', ec, (k) => `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${k}\ndone`),
    pem('OpenSSH key', openssh),
    pem('two keys in a row', `${rsa.pkcs1}\n${ec}`, (k) => `keys:\n${k}\n`),
    pem('a key in the middle of a log', rsa.pkcs8, (k) => `2026-01-05 10:00:00 INFO loading key\n${k}\n2026-01-05 10:00:01 INFO loaded\n`),
    pem('a key cut off before its END line', rsa.pkcs1.split('\n').slice(0, 12).join('\n'), (k) => `$ head -12 key.pem\n${k}`),
    { name: 'a certificate (no secret)', text: '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n', secrets: [] },
    { name: 'e-mail', text: 'user: alice.smith@example.com (admin)\n', secrets: ['alice.smith@example.com'] },
    { name: 'card in groups', text: '1\talice\t4111 1111 1111 1111\t12/29\n', secrets: ['4111 1111 1111 1111'] },
    { name: 'card in one run', text: 'card=4111111111111111 ok\n', secrets: ['4111111111111111'] },
    { name: 'phone', text: 'call +1 555 123 4567 today\n', secrets: ['555 123 4567'] },
    { name: 'IBAN in groups', text: 'iban GB82 WEST 1234 5698 7654 32 end\n', secrets: ['5698 7654'] },
    { name: 'SSN', text: 'ssn 123-45-6789\n', secrets: ['123-45-6789'] },
    { name: 'JWT', text: `token ${SAMPLE.jwt} end\n`, secrets: [SAMPLE.jwt.split('.')[2]] },
    { name: 'bearer header', text: `Authorization: Bearer ${SAMPLE.github}\n`, secrets: [SAMPLE.github] },
    { name: 'AWS keys', text: `aws_access_key_id = ${SAMPLE.awsKeyId}\naws_secret_access_key = ${SAMPLE.awsSecret}\n`, secrets: [SAMPLE.awsKeyId, SAMPLE.awsSecret] },
    { name: 'exported tokens', text: `export GITHUB_TOKEN=${SAMPLE.github}; SLACK=${SAMPLE.slack}\n`, secrets: [SAMPLE.github, SAMPLE.slack] },
    { name: 'cloud keys', text: `stripe ${SAMPLE.stripe} gcp ${SAMPLE.gcp} pat ${SAMPLE.githubPat}\n`, secrets: [SAMPLE.stripe, SAMPLE.gcp, SAMPLE.githubPat] },
    { name: 'env file', text: `DB_PASSWORD=Env-pa55-word\nAPI_KEY=${apiKey}\nLOG_LEVEL=info\n`, secrets: ['Env-pa55-word', apiKey] },
    { name: 'connection URI', text: 'url postgres://app:Sup3r-S3cret@db.example.com/app\n', secrets: ['Sup3r-S3cret'] },
    { name: 'role password', text: "CREATE ROLE r PASSWORD 'R0le p4ss';\n", secrets: ['R0le p4ss'] },
    { name: 'role password over two lines', text: "ALTER ROLE r PASSWORD 'first-half\nsecond-half' LOGIN;\n", secrets: ['first-half', 'second-half'] },
    { name: 'role password dollar-quoted', text: 'ALTER ROLE r PASSWORD $pw$Dollar-s3cret$pw$;\n', secrets: ['Dollar-s3cret'] },
    { name: 'YAML block scalar', text: 'db:\n  password: |\n    Block-s3cret-value\n  user: app\n', secrets: ['Block-s3cret-value'] },
    { name: 'Kubernetes secret', text: `data:\n  DATABASE_URL: ${yamlSecret}\ntype: Opaque\n`, secrets: [yamlSecret] },
    { name: 'JSON client secret', text: '{\n  "client_id": "vigil-app",\n  "client_secret": "Cs-9xKq2LmPz7RtW4vNb"\n}\n', secrets: ['Cs-9xKq2LmPz7RtW4vNb'] },
    { name: 'mysql on a command line', text: '$ mysql -u root -pMy5ql-pw shop\n', secrets: ['My5ql-pw'] },
    { name: 'curl user', text: '$ curl -s -u deploy:Curl-s3cret https://x/\n', secrets: ['Curl-s3cret'] },
    { name: 'unicode around a secret', text: `café ✓ ${SAMPLE.awsKeyId} naïve\n`, secrets: [SAMPLE.awsKeyId] },
  ];
}

let corpus: SecretFixture[] | undefined;

/** Built once per test file (a key pair takes a moment to generate). */
export function secretCorpus(): SecretFixture[] {
  return (corpus ??= build());
}
