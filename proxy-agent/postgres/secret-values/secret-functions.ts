// Functions that take keys and passwords as arguments (pgcrypto, dblink, set_config), and which of
// their arguments are secret; and the functions whose result is a secret (pgcrypto's decryptions,
// a secret setting's value). Arguments are matched by name so that positional and named notation
// (`pgp_sym_decrypt(msg, psw => 'x')`) go through one rule; the names are the ones the PostgreSQL
// documentation gives.
import type { Node } from 'libpg-query';

/** Words that make a setting or option name secret (SET, set_config, OPTIONS (...)). */
export const SECRET_SETTING_WORDS = ['password', 'passwd', 'secret', 'key', 'token'] as const;

export function isSecretSettingName(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_SETTING_WORDS.some((word) => lower.includes(word));
}

interface SecretFunction {
  /** The documented parameter names of the overload called with `argc` arguments. */
  params(argc: number): readonly string[];
  /** The names of the secret parameters. */
  secret: readonly string[];
  /**
   * dblink's first argument is a connection name or a connection string: only a string is secret
   * (or a bound parameter, whose value is not known here).
   */
  connectionStringOnly?: true;
  /** set_config: the value is secret only when the setting's name is. */
  applies?(argument: (name: string) => Node | undefined, isSecretName: (name: string) => boolean): boolean;
}

const fixed = (params: readonly string[], secret: readonly string[]): SecretFunction => ({ params: () => params, secret });
const connectionFirst = (params: readonly string[]): SecretFunction => ({
  params: () => params,
  secret: [params[0]],
  connectionStringOnly: true,
});

const DBLINK_CONNECT: SecretFunction = {
  params: (argc) => (argc >= 2 ? ['connname', 'connstr'] : ['connstr']),
  secret: ['connstr'],
};

/** A setting named by a constant: a bound or computed name is not known here. */
function namesSecretSetting(argument: (name: string) => Node | undefined, isSecretName: (name: string) => boolean): boolean {
  const setting = stringConstant(argument('setting_name'));
  return setting !== undefined && (isSecretSettingName(setting) || isSecretName(setting));
}

const SET_CONFIG: SecretFunction = {
  params: () => ['setting_name', 'new_value', 'is_local'],
  secret: ['new_value'],
  applies: namesSecretSetting,
};

/** Takes nothing secret; returns the setting's value, secret when its name is. */
const CURRENT_SETTING: SecretFunction = {
  params: () => ['setting_name', 'missing_ok'],
  secret: [],
  applies: namesSecretSetting,
};

/** pgcrypto's decryptions return the plaintext. */
const PLAINTEXT_RESULTS = new Set(['pgp_sym_decrypt', 'pgp_sym_decrypt_bytea', 'pgp_pub_decrypt', 'pgp_pub_decrypt_bytea', 'decrypt', 'decrypt_iv']);

/** By the function's last name (any schema), lower-case. */
const SECRET_FUNCTIONS = new Map<string, SecretFunction>([
  ['crypt', fixed(['password', 'salt'], ['password'])],
  ['pgp_sym_encrypt', fixed(['data', 'psw', 'options'], ['data', 'psw'])],
  ['pgp_sym_encrypt_bytea', fixed(['data', 'psw', 'options'], ['data', 'psw'])],
  ['pgp_sym_decrypt', fixed(['msg', 'psw', 'options'], ['psw'])],
  ['pgp_sym_decrypt_bytea', fixed(['msg', 'psw', 'options'], ['psw'])],
  ['pgp_pub_encrypt', fixed(['data', 'key', 'options'], ['data'])],
  ['pgp_pub_encrypt_bytea', fixed(['data', 'key', 'options'], ['data'])],
  ['pgp_pub_decrypt', fixed(['msg', 'key', 'psw', 'options'], ['key', 'psw'])],
  ['pgp_pub_decrypt_bytea', fixed(['msg', 'key', 'psw', 'options'], ['key', 'psw'])],
  ['hmac', fixed(['data', 'key', 'type'], ['key'])],
  ['encrypt', fixed(['data', 'key', 'type'], ['data', 'key'])],
  ['encrypt_iv', fixed(['data', 'key', 'iv', 'type'], ['data', 'key'])],
  ['decrypt', fixed(['data', 'key', 'type'], ['key'])],
  ['decrypt_iv', fixed(['data', 'key', 'iv', 'type'], ['key'])],
  ['dblink_connect', DBLINK_CONNECT],
  ['dblink_connect_u', DBLINK_CONNECT],
  ['dblink', connectionFirst(['connname', 'sql', 'fail_on_error'])],
  ['dblink_exec', connectionFirst(['connname', 'sql', 'fail_on_error'])],
  ['dblink_send_query', connectionFirst(['connname', 'sql'])],
  ['dblink_open', connectionFirst(['connname', 'cursorname', 'sql', 'fail_on_error'])],
  ['set_config', SET_CONFIG],
]);

/**
 * Text stems that find every function above in a prefilter (crypt covers encrypt and decrypt).
 * current_setting needs none: it returns a secret only when named by a constant that holds a
 * secret setting word or a column needle, which the prefilter finds anyway.
 */
export const SECRET_FUNCTION_STEMS = ['crypt', 'pgp_', 'hmac', 'dblink', 'set_config'] as const;

export function isSecretFunctionName(name: string): boolean {
  return SECRET_FUNCTIONS.has(name.toLowerCase());
}

/**
 * The argument nodes of a call to `functionName` that are secret places. A named argument whose name
 * is not documented makes every argument secret (the mapping is unknown).
 */
export function secretArguments(functionName: string, args: readonly Node[], isSecretName: (name: string) => boolean): Node[] {
  const fn = SECRET_FUNCTIONS.get(functionName.toLowerCase());
  if (!fn || args.length === 0) return [];
  const named = argumentsByName(fn, args);
  if (!named) return [...args];
  if (fn.applies && !fn.applies((name) => named.get(name), isSecretName)) return [];
  return fn.secret.flatMap((name) => {
    const arg = named.get(name);
    if (!arg) return [];
    if (fn.connectionStringOnly && !('ParamRef' in arg) && !isConnectionString(stringConstant(arg))) return [];
    return [arg];
  });
}

/**
 * Whether a call's result is a secret: plaintext out of pgcrypto, or the value of a secret setting
 * (current_setting reads it, set_config returns the value it sets).
 */
export function returnsSecret(functionName: string, args: readonly Node[], isSecretName: (name: string) => boolean): boolean {
  const name = functionName.toLowerCase();
  if (PLAINTEXT_RESULTS.has(name)) return true;
  const fn = name === 'current_setting' ? CURRENT_SETTING : name === 'set_config' ? SET_CONFIG : undefined;
  const named = fn && argumentsByName(fn, args);
  return named !== undefined && fn?.applies !== undefined && fn.applies((param) => named.get(param), isSecretName);
}

/** The arguments by parameter name; undefined when a named argument is not one of the function's. */
function argumentsByName(fn: SecretFunction, args: readonly Node[]): Map<string, Node> | undefined {
  const params = fn.params(args.length);
  const named = new Map<string, Node>();
  for (const [i, arg] of args.entries()) {
    const name = 'NamedArgExpr' in arg ? arg.NamedArgExpr.name : params[i];
    if (name === undefined) continue; // an extra positional argument
    if ('NamedArgExpr' in arg && !params.includes(name)) return undefined;
    named.set(name, 'NamedArgExpr' in arg ? (arg.NamedArgExpr.arg ?? arg) : arg);
  }
  return named;
}

/**
 * A libpq connection string: key=value pairs or a postgres:// URI. Anchored at the start so that
 * dblink's SQL argument (`select ... where a = 1`) is not taken for one.
 */
function isConnectionString(text: string | undefined): boolean {
  return text !== undefined && (/^\s*[A-Za-z_]+\s*=/.test(text) || /^\s*[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text));
}

function stringConstant(node: Node | undefined): string | undefined {
  return node && 'A_Const' in node ? node.A_Const.sval?.sval : undefined;
}
