// Passwords typed on command lines in an SSH session: `mysql -pSECRET`, `curl -u user:SECRET`,
// `sshpass -p SECRET`. Each format starts at the command word (its prefix) and stays on that
// command: never past a line break, ';', '|' or '&'. Only the password is masked, so the command
// stays readable: `mysql -u root -p[PASSWORD] db`.
//
// Not here, because other rules already mask them: `--password=x` and `PGPASSWORD=x` (CONN_PASSWORD),
// `psql postgresql://u:p@h/db` (the URI's password), `export AWS_SECRET_ACCESS_KEY=...` (the catalog).
import type { CredentialFormat } from './credential-format.ts';
import { isPlaceholder } from './secret-assignment.ts';

/** Arguments before the password's flag, on the same command. */
const ARGS = String.raw`(?:[ \t]+[^\s;|&]{1,256}){0,16}?[ \t]+`;
/** What an unquoted shell word cannot contain. */
const UNQUOTED = String.raw`\s'"\x60;|&<>()`;

/** $VAR, TOKEN (help text), <password>: no password was typed. */
const typed = (value: string) => !isPlaceholder(value);

/**
 * The formats of a password after `head` (a regex source ending where the value starts), one per
 * way a shell passes it: '...' and "..." (masked inside the quotes) and unquoted. `lead` is what
 * precedes the password inside the same word (the user of user:password), given the characters
 * that word cannot contain.
 */
function command(prefixes: readonly string[], head: string, lead: (excluded: string) => string = () => ''): CredentialFormat[] {
  const sources = [
    String.raw`${head}'${lead(String.raw`'\n`)}(?<secret>[^'\n]{1,256})(?=')`,
    String.raw`${head}"${lead(String.raw`"\n`)}(?<secret>(?:[^"\\\n]|\\.){1,256})(?=")`,
    String.raw`${head}${lead(UNQUOTED)}(?<secret>(?!-)[^${UNQUOTED}]{1,256})(?![^\s;|&<>)])`,
  ];
  return sources.map((source) => ({ name: 'PASSWORD', prefixes, pattern: new RegExp(source, 'y'), valid: typed }));
}

// htpasswd takes the password from the command line with -b: `htpasswd -b[c|B|...] FILE USER PASS`,
// or `htpasswd -nb USER PASS` (no file with -n). Flags may come apart (-c -b), -C takes a number.
const FLAG = String.raw`[ \t]+-[A-Za-z]{1,8}(?:[ \t]+\d{1,3})?`;
const FLAG_WITHOUT_N = String.raw`[ \t]+-[A-MO-Za-mo-z]{1,8}(?:[ \t]+\d{1,3})?`;
const hasFlag = (letter: string) => String.raw`(?=(?:${FLAG}){0,4}[ \t]+-[A-Za-z]{0,7}${letter})`;
const POSITIONAL = String.raw`[ \t]+[^${UNQUOTED}-][^${UNQUOTED}]{0,255}`;

export const COMMAND_FORMATS: readonly CredentialFormat[] = [
  // The MySQL clients take the password glued to -p; `-p db` prompts, and -P is the port.
  ...command(['mysql', 'mariadb'], String.raw`(?:mysql(?:dump|admin|import|show|check|slap|binlog)?|mariadb(?:-?(?:dump|admin|import|show|check))?)${ARGS}-p`),
  // curl -u / --user (and the proxy's -U / --proxy-user) user:password; without a colon curl prompts.
  ...command(['curl'], String.raw`curl${ARGS}(?:-[sSLkfvi]{0,4}[uU][ \t]*|--(?:proxy-)?user(?:[ \t]+|=))`, (excluded) => String.raw`[^${excluded}:]{0,128}:`),
  ...command(['sshpass'], String.raw`sshpass${ARGS}-p[ \t]*`),
  ...command(['htpasswd'], String.raw`htpasswd${hasFlag('b')}(?:${FLAG_WITHOUT_N}){1,5}${POSITIONAL}${POSITIONAL}[ \t]+`),
  ...command(['htpasswd'], String.raw`htpasswd${hasFlag('b')}${hasFlag('n')}(?:${FLAG}){1,5}${POSITIONAL}[ \t]+`),
  ...command(['redis-cli'], String.raw`redis-cli${ARGS}(?:-a|--pass)[ \t]+`),
  ...command(
    ['docker', 'podman', 'nerdctl', 'buildah', 'helm'],
    String.raw`(?:(?:docker|podman|nerdctl|buildah)[ \t]+login|helm[ \t]+registry[ \t]+login)${ARGS}(?:-p[ \t]*|--password[ \t]+)`,
  ),
  // mongo, mongosh and the database tools: -p takes the next word.
  ...command(['mongo'], String.raw`mongo(?:sh|dump|restore|export|import|stat|top|files)?${ARGS}-p[ \t]+`),
  // SQL Server's sqlcmd and bcp: -P (capital) is the password.
  ...command(['sqlcmd', 'bcp'], String.raw`(?:sqlcmd|bcp)${ARGS}-P[ \t]*`),
  // OpenLDAP tools: -w is the bind password (-W prompts).
  ...command(['ldap'], String.raw`ldap(?:search|add|modify|delete|passwd|whoami|compare|modrdn|exop)${ARGS}-w[ \t]*`),
  // openssl -passin/-passout/-pass/-password pass:SECRET (env:, file: and fd: name no secret).
  ...command(['-pass'], String.raw`-pass(?:in|out|word)?[ \t]+`, () => 'pass:'),
  // Any tool's --password VALUE with a space (the = form is CONN_PASSWORD's or an assignment).
  ...command(
    ['--password', '--passwd', '--token', '--secret', '--api-key', '--apikey', '--client-secret', '--access-token', '--auth-token'],
    String.raw`--(?:password|passwd|token|secret(?:-access)?(?:-key)?|api-?key|client-secret|access-token|auth-token)[ \t]+`,
  ),
];
