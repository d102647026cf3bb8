// What `vigil dev` runs when no config says otherwise. `vigil token`, `vigil sessions` and
// `vigil export` read the same defaults, so without --config they talk to what `vigil dev` serves.
// Environment overrides apply on top (VIGIL_DATA_DIR, VIGIL__HUB__LISTEN,
// VIGIL__TARGETS__DEMO__LISTEN, REDIS_URL, DATABASE_URL...; see common/config/load-config.ts).

/** The demo target: no upstream, so `vigil dev` serves its embedded demo database behind it. */
export const DEMO_TARGET = {
  name: 'demo',
  protocol: 'postgres',
  listen: '127.0.0.1:15432',
  recording: 'required',
} as const;

/**
 * The demo just-in-time target: the same demo database, but only under a grant an approver gave
 * (request it as alice on the dashboard's Access page or with `vigil request payments`, approve it
 * as aaron), and a DROP or TRUNCATE waits for an approver even then.
 */
export const DEMO_JIT_TARGET = {
  name: 'payments',
  protocol: 'postgres',
  listen: '127.0.0.1:15433',
  recording: 'required',
  access: 'jit',
  approval: { defaultDuration: '30m', maxDuration: '4h', pendingTtl: '30m', holdTimeout: '5m' },
  guardrails: [
    { name: 'drops-need-approval', statements: ['DROP', 'TRUNCATE'], action: 'approve' },
    { name: 'no-unbounded-writes', statements: ['DELETE_WITHOUT_WHERE', 'UPDATE_WITHOUT_WHERE'], action: 'deny', message: 'add a WHERE clause' },
  ],
} as const;

/**
 * The demo SSH target: no upstream, so `vigil dev` serves a shell in a pseudo-terminal behind it.
 * Its guardrail refuses deleting directory trees, however the command is written or typed.
 */
export const DEMO_SHELL_TARGET = {
  name: 'demo-shell',
  protocol: 'ssh',
  recording: 'required',
  guardrails: [
    { name: 'no-tree-deletes', command: 'rm -r|-R|--recursive -f|--force', action: 'deny', message: 'delete directory trees from a reviewed script' },
  ],
} as const;

/**
 * The demo HTTP target: no upstream, so `vigil dev` serves its demo API behind it, an internal admin
 * API that wants a key of its own, which only the agent is given (the user's Vigil token stops at
 * the agent). The listener speaks TLS with a self-signed certificate `vigil dev` makes once: the
 * demo API's TLS files are read from dataDir when relative (`curl --cacert DATADIR/demo-api-tls/cert.pem`).
 * Its settings from the environment keep the hyphen: `env 'VIGIL__TARGETS__DEMO-API__LISTEN=127.0.0.1:18444'`.
 */
export const DEMO_API_TARGET = {
  name: 'demo-api',
  protocol: 'http',
  listen: '127.0.0.1:18443',
  recording: 'required',
  tls: { certFile: 'demo-api-tls/cert.pem', keyFile: 'demo-api-tls/key.pem' },
  guardrails: [
    { name: 'no-admin-deletes', request: 'DELETE /admin/**', action: 'deny', message: 'deleting through the admin API needs a change ticket' },
  ],
} as const;

/** The user `vigil dev` issues a ready-to-paste connection string for. */
export const DEMO_USER = 'alice';

/** A raw config (validated by the schema like a file would be). */
export function devDefaults(): Record<string, unknown> {
  return {
    dataDir: '.vigil',
    hub: { listen: '127.0.0.1:8080' },
    agent: { ssh: { listen: '127.0.0.1:2222' } },
    targets: demoTargets(),
  };
}

/** The demo targets, fresh copies. */
export function demoTargets(): Record<string, unknown>[] {
  return [{ ...DEMO_TARGET }, { ...DEMO_JIT_TARGET }, { ...DEMO_SHELL_TARGET }, { ...DEMO_API_TARGET }];
}
