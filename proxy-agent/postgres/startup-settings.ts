// What a client's startup packet may set on the target. A client sets run-time settings at
// startup as parameters of the packet (`statement_timeout=5s`) or inside `options`
// (`-c statement_timeout=5s`, `--statement-timeout=5s`), as libpq's PGOPTIONS does. The target
// allows a list of them (`startupSettings`); those go into the agent's own startup packet to the
// target, every other one is refused with an error naming it (PostgreSQL would apply it, so
// dropping it silently would change what the client's session does). `client_encoding` is always
// accepted: the client needs it to read text (guardrails then allow UTF8 only).
// `user` and `database` are the agent's business (the token names the user, the target the
// database); `_pq_.*` names are protocol options, answered like PostgreSQL answers those it does
// not know (NegotiateProtocolVersion).

export class StartupRefusal extends Error {
  override name = 'StartupRefusal';
  constructor(message: string, readonly sqlstate: string) {
    super(message);
  }
}

export interface StartupSettings {
  /** Settings for the target's startup packet, by lower-case name (as PostgreSQL reads names). */
  settings: Record<string, string>;
  /** `_pq_.*` options, which the agent does not support: named back to the client. */
  protocolOptions: string[];
}

const OWN_PARAMS = new Set(['user', 'database']);
const ALWAYS_ALLOWED = new Set(['client_encoding']);
const OFF = /^(false|off|no|0)$/i;

/** Reads a startup packet's parameters against the target's allowlist; throws StartupRefusal. */
export function readStartupSettings(params: Record<string, string>, allowed: readonly string[], target: string): StartupSettings {
  const allow = new Set([...ALWAYS_ALLOWED, ...allowed.map(settingName)]);
  const settings: Record<string, string> = Object.create(null);
  const protocolOptions: string[] = [];
  const set = (name: string, value: string, via: string) => {
    const key = settingName(name);
    if (!allow.has(key)) {
      throw new StartupRefusal(
        `the start-up setting "${name}"${via} is not allowed on target "${target}" (allowed: ${[...allow].sort().join(', ')})`,
        '42501', // insufficient_privilege
      );
    }
    settings[key] = value;
  };
  // As PostgreSQL does: `options` first, the packet's own parameters over them.
  if (params.options !== undefined) for (const [name, value] of optionSettings(params.options)) set(name, value, ' (in options)');
  for (const [name, value] of Object.entries(params)) {
    if (OWN_PARAMS.has(name) || name === 'options') continue;
    if (name.startsWith('_pq_.')) protocolOptions.push(name);
    else if (name === 'replication') {
      if (!OFF.test(value)) throw new StartupRefusal('replication connections cannot be made through the Vigil agent', '08004');
    } else set(name, value, '');
  }
  return { settings, protocolOptions };
}

/** PostgreSQL reads setting names case-insensitively, with `-` for `_` in options. */
function settingName(name: string): string {
  return name.toLowerCase();
}

/**
 * The settings in an `options` string: `-c name=value`, `-cname=value` or `--name=value`, split
 * on whitespace with `\` escaping the next character (pg_split_opts). Any other switch (those
 * set server internals) is refused.
 */
export function optionSettings(options: string): [string, string][] {
  const args = splitOptions(options);
  const out: [string, string][] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    let pair: string | undefined;
    if (arg === '-c') pair = args[++i];
    else if (arg.startsWith('-c')) pair = arg.slice(2);
    else if (arg.startsWith('--')) pair = arg.slice(2);
    else throw new StartupRefusal(`the start-up option "${arg}" is not allowed through the Vigil agent: only -c name=value settings are`, '42501');
    const eq = pair?.indexOf('=') ?? -1;
    if (pair === undefined || eq < 1) throw new StartupRefusal(`invalid start-up option "${pair ?? arg}": expected -c name=value`, '08P01');
    out.push([pair.slice(0, eq).replaceAll('-', '_'), pair.slice(eq + 1)]);
  }
  return out;
}

function splitOptions(options: string): string[] {
  const args: string[] = [];
  let current: string | null = null;
  let escaped = false;
  for (const ch of options) {
    if (!escaped && /\s/.test(ch)) {
      if (current !== null) args.push(current);
      current = null;
      continue;
    }
    current ??= '';
    if (!escaped && ch === '\\') escaped = true;
    else {
      escaped = false;
      current += ch;
    }
  }
  if (current !== null) args.push(current);
  return args;
}

/**
 * The client asks for no encoding but UTF-8. (Left to the server, the default is the database's
 * encoding; the encodings that could hide SQL from a UTF-8 reader, SJIS, GBK, BIG5 and the like,
 * exist only on the client side.)
 */
export function utf8Session(settings: Record<string, string>): boolean {
  const encoding = settings.client_encoding?.replace(/[-_]/g, '').toLowerCase();
  return encoding === undefined || encoding === 'utf8' || encoding === 'unicode';
}
