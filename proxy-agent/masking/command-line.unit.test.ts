import { describe, expect, it } from 'vitest';
import { COMMAND_FORMATS } from './detectors/command-line.ts';
import { isTokenStart, matchFormatAt } from './detectors/credential-format.ts';
import { defaultMasker, SAMPLE } from './test-support.ts';

/** The passwords COMMAND_FORMATS mask in `text`, run at every prefix where a token starts, as the engine does. */
function passwords(text: string): string[] {
  const spans = new Set<string>();
  for (const format of COMMAND_FORMATS) {
    for (const prefix of format.prefixes) {
      for (let at = text.indexOf(prefix); at >= 0; at = text.indexOf(prefix, at + 1)) {
        if (!isTokenStart(text, at)) continue;
        const span = matchFormatAt(format, text, at);
        if (span) spans.add(`${span[0]},${span[1]}`);
      }
    }
  }
  return [...spans].map((s) => s.split(',').map(Number)).sort((a, b) => a[0] - b[0]).map(([start, end]) => text.slice(start, end));
}

describe('COMMAND_FORMATS', () => {
  it('when the table is checked, then every format is a sticky PASSWORD pattern on prefixes of 2+ characters', () => {
    for (const format of COMMAND_FORMATS) {
      expect(format.name).toBe('PASSWORD');
      expect(format.pattern.sticky).toBe(true);
      for (const prefix of format.prefixes) expect(prefix.length).toBeGreaterThanOrEqual(2);
    }
  });

  it.each([
    // MySQL and MariaDB clients
    ['mysql -u root -phunter2 db', 'hunter2'],
    ["mysql -u root -p'hunt er2' db", 'hunt er2'],
    ['mysql -u root -p"hunt\\"er2" db', 'hunt\\"er2'],
    ['mysqldump -h db -u app -pS3cr3t! app > dump.sql', 'S3cr3t!'],
    ['mysqladmin -uroot -phunter2 status', 'hunter2'],
    ['mariadb -e "select 1" -phunter2', 'hunter2'],
    ['/usr/bin/mysql -phunter2; ls', 'hunter2'],
    // curl
    ['curl -u bob:s3cret https://api.example.com', 's3cret'],
    ['curl -ubob:s3cret https://api.example.com', 's3cret'],
    ['curl -sS --user bob:s3cret https://api.example.com', 's3cret'],
    ['curl --user=bob:s3cret https://api.example.com', 's3cret'],
    ["curl -X POST -u 'bob:s3 cret' https://api.example.com", 's3 cret'],
    ['curl -su :tok3n https://api.example.com | jq .', 'tok3n'],
    ['curl -x proxy:3128 -U alice:pr0xy https://x', 'pr0xy'],
    // sshpass
    ['sshpass -p s3cret ssh admin@host', 's3cret'],
    ['sshpass -ps3cret ssh admin@host', 's3cret'],
    ["sshpass -p 'with space' scp f host:", 'with space'],
    // htpasswd
    ['htpasswd -b /etc/nginx/.htpasswd alice s3cret', 's3cret'],
    ['htpasswd -bc .htpasswd alice s3cret', 's3cret'],
    ['htpasswd -c -b .htpasswd alice s3cret', 's3cret'],
    ['htpasswd -B -C 12 -b .htpasswd alice s3cret', 's3cret'],
    ['htpasswd -nb alice s3cret > out', 's3cret'],
    ['htpasswd -nbB alice s3cret 2>/dev/null', 's3cret'],
    // redis-cli
    ['redis-cli -h cache -a s3cret ping', 's3cret'],
    ['redis-cli --user app --pass s3cret info', 's3cret'],
    // registry logins
    ['docker login -u bob -p s3cret registry.example.com', 's3cret'],
    ['docker login --username bob --password s3cret', 's3cret'],
    ['podman login -ps3cret quay.io', 's3cret'],
    ['helm registry login reg.io -u bob --password s3cret', 's3cret'],
    // other clients
    ['mongosh -u root -p s3cret --authenticationDatabase admin', 's3cret'],
    ['sqlcmd -S db -U sa -P s3cret -Q "select 1"', 's3cret'],
    ['ldapsearch -x -D cn=admin,dc=example -w s3cret -b dc=example', 's3cret'],
    ['openssl pkcs12 -export -passout pass:s3cret -out k.p12', 's3cret'],
    ["openssl enc -d -pass 'pass:s3 cret' -in f", 's3 cret'],
    // any tool
    ['vault write auth/x --password s3cret', 's3cret'],
    ['gh auth --token abc123 --hostname x', 'abc123'],
    ['cli login --api-key k3y-value', 'k3y-value'],
    ['az login --service-principal -u app --client-secret "a b c" --tenant t', 'a b c'],
    [`tool --secret ${SAMPLE.random}`, SAMPLE.random],
  ])('when %j is typed, then the password is found', (text, secret) => {
    expect(passwords(text)).toEqual([secret]);
  });

  it.each([
    'mysql -h host -P 3306', 'mysql -u root -p db', 'mysql -u root -p', 'curl -u bob https://api.example.com', 'curl --user-agent a:b https://x',
    'ls -p', 'grep -p pattern file', 'sshpass -f ~/.pw ssh host', 'htpasswd -D .htpasswd alice', 'htpasswd -n alice', 'redis-cli --askpass',
    'docker login --password-stdin', 'docker run -p 8080:80 nginx', 'openssl enc -pass env:PASS', 'openssl enc -pass file:/run/pw',
    'mysql -p$MYSQL_PWD db', 'tool --token $TOKEN', 'tool --password "$DB_PASSWORD"', '  --token string   API token to use', '  --password PASSWORD',
    'tool --token --verbose', "mysql -p'unterminated", 'mysql\n-phunter2', 'echo mysql; ls -phunter2',
  ])('when %j is typed, then nothing is found', (text) => {
    expect(passwords(text)).toEqual([]);
  });

  it.each(COMMAND_FORMATS.flatMap((f) => f.prefixes).filter((p, i, all) => all.indexOf(p) === i))(
    'when %j is repeated to 1 MB, then reading it completes',
    (prefix) => {
      const text = `${prefix} `.repeat(Math.ceil((1 << 20) / (prefix.length + 1)));
      expect(passwords(text)).toEqual([]);
    },
  );
});

describe('command lines masked by other rules', () => {
  const masker = defaultMasker();

  it.each([
    ['mysql --password=hunter2 db', 'mysql --password=[CONN_PASSWORD] db', 'CONN_PASSWORD'],
    ['PGPASSWORD=hunter2 psql -h db app', 'PGPASSWORD=[CONN_PASSWORD] psql -h db app', 'CONN_PASSWORD'],
    ['psql "postgresql://app:hunter2@db/app"', 'psql "postgresql://app:[CONN_PASSWORD]@db/app"', 'CONN_PASSWORD'],
    [`export AWS_SECRET_ACCESS_KEY=${SAMPLE.awsSecret}`, 'export AWS_SECRET_ACCESS_KEY=[AWS_SECRET_KEY]', 'AWS_SECRET_KEY'],
  ])('when %j is typed, then its password is already masked', (text, expected, name) => {
    expect(masker.maskText(text)).toEqual({ text: expected, counts: { [name]: 1 } });
  });
});

describe('command lines through the masker', () => {
  // Run once the engine registers COMMAND_FORMATS.
  const masker = defaultMasker();

  it.each([
    ['mysql -u root -phunter2 db', 'mysql -u root -p[PASSWORD] db'],
    ['curl -u bob:s3cret https://api.example.com', 'curl -u bob:[PASSWORD] https://api.example.com'],
    ["sshpass -p 'with space' ssh host", "sshpass -p '[PASSWORD]' ssh host"],
    ['htpasswd -bc .htpasswd alice s3cret', 'htpasswd -bc .htpasswd alice [PASSWORD]'],
    ['redis-cli -a s3cret ping', 'redis-cli -a [PASSWORD] ping'],
    ['docker login -u bob -p s3cret reg.io', 'docker login -u bob -p [PASSWORD] reg.io'],
    ['tool --token abc123', 'tool --token [PASSWORD]'],
  ])('when %j is typed, then the command stays readable around [PASSWORD]', (text, expected) => {
    expect(masker.maskText(text)).toEqual({ text: expected, counts: { PASSWORD: 1 } });
  });

  it.each(['mysql -h host -P 3306', 'curl -u bob https://x', 'ls -p', 'grep -p x f'])('when %j is typed, then it is left alone', (text) => {
    expect(masker.maskText(text)).toEqual({ text, counts: null });
  });
});
