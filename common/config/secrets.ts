// Secrets the config names by environment variable (upstream passwords, the OIDC client secret,
// the session-signing secret). An unset or empty variable is a configuration error naming the
// variable and the setting that points at it: an empty password would otherwise reach the upstream
// as a login that fails far from its cause, and an empty signing secret would sign nothing.
import { ConfigError, configProblems } from './load-config.ts';
import type { Config, HttpCredential, HubAuth, OidcSettings, PostgresTarget, SshTarget, Target } from './schema.ts';

export interface EnvSecret {
  /** Who reads it: `target billing`, `hub`. */
  owner: string;
  /** The setting that names the variable, e.g. `upstream.passwordEnv`. */
  setting: string;
  variable: string;
  /** Which process reads it. */
  role: 'hub' | 'agent';
  /** Unset is fine (the hub then makes a session secret of its own); empty is not. */
  optional?: boolean;
  minLength?: number;
}

export const upstreamPassword = (target: PostgresTarget | SshTarget): EnvSecret | undefined =>
  target.upstream?.passwordEnv ? { owner: `target ${target.name}`, setting: 'upstream.passwordEnv', variable: target.upstream.passwordEnv, role: 'agent' } : undefined;

/** The variable an HTTP target's injected credential is read from. */
export function credentialVariable(credential: HttpCredential): { setting: string; variable: string } {
  switch (credential.type) {
    case 'bearer': return { setting: 'upstream.credential.tokenEnv', variable: credential.tokenEnv };
    case 'basic': return { setting: 'upstream.credential.passwordEnv', variable: credential.passwordEnv };
    case 'header': return { setting: 'upstream.credential.valueEnv', variable: credential.valueEnv };
    case 'oauth2': return { setting: 'upstream.credential.clientSecretEnv', variable: credential.clientSecretEnv };
  }
}

/** The secret a target's upstream login reads from the environment, if any. */
export function targetSecret(target: Target): EnvSecret | undefined {
  if (target.protocol !== 'http') return upstreamPassword(target);
  const credential = target.upstream?.credential;
  return credential ? { owner: `target ${target.name}`, ...credentialVariable(credential), role: 'agent' } : undefined;
}

export const oidcClientSecret = (oidc: OidcSettings): EnvSecret => ({
  owner: 'hub', setting: 'hub.auth.oidc.clientSecretEnv', variable: oidc.clientSecretEnv, role: 'hub',
});

// Every hub behind one URL signs with it, so it must be as strong as a generated one (32 bytes).
export const sessionSecretOf = (auth: HubAuth): EnvSecret & { optional: true } => ({
  owner: 'hub', setting: 'hub.auth.sessionSecretEnv', variable: auth.sessionSecretEnv, role: 'hub', optional: true, minLength: 32,
});

/** Every secret the processes would read from the environment for this config. */
export function envSecrets(config: Config): EnvSecret[] {
  const found = config.targets.map(targetSecret).filter((s) => s !== undefined);
  const { oidc } = config.hub.auth;
  // The session secret signs dashboard logins, so only a hub with OIDC reads it.
  if (oidc) found.push(oidcClientSecret(oidc), sessionSecretOf(config.hub.auth));
  return found;
}

/** What is wrong with the secret in `env`, or undefined when it is fine. */
export function secretProblem(secret: EnvSecret, env: NodeJS.ProcessEnv): string | undefined {
  const value = env[secret.variable];
  const named = `${secret.owner}: environment variable ${secret.variable} (${secret.setting})`;
  if (value === undefined) return secret.optional ? undefined : `${named} is not set`;
  if (value === '') return `${named} is empty`;
  if (secret.minLength && value.length < secret.minLength) return `${named} must hold at least ${secret.minLength} characters`;
  return undefined;
}

/** The secret's value; undefined only for an optional secret that is not set. */
export function readSecret(secret: EnvSecret & { optional: true }, env?: NodeJS.ProcessEnv): string | undefined;
export function readSecret(secret: EnvSecret, env?: NodeJS.ProcessEnv): string;
export function readSecret(secret: EnvSecret, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const problem = secretProblem(secret, env);
  if (problem) throw new ConfigError(problem);
  return env[secret.variable];
}

/**
 * The secrets a process in `role` (both when omitted) reads, checked all at once so start-up and
 * `vigil config check` list every problem, not the first.
 */
export function checkSecrets(config: Config, source: string, role?: EnvSecret['role'], env: NodeJS.ProcessEnv = process.env): EnvSecret[] {
  const secrets = envSecrets(config).filter((s) => !role || s.role === role);
  const problems = secrets.map((s) => secretProblem(s, env)).filter((p) => p !== undefined);
  if (problems.length) throw configProblems(source, problems);
  return secrets;
}
