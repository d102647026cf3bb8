// The one configuration file (YAML) of hub, agent and `vigil dev`, as a schema. Every setting can
// be overridden from the environment (see load-config.ts); types are derived from here.
import { z } from 'zod';
import { ROLES } from '../roles.ts';
import { Guardrail } from '../guardrails.ts';
import { regexError } from './regex.ts';

const HOST_PORT = /^[^\s:]+:(\d{1,5})$|^\[[0-9a-fA-F:]+\]:(\d{1,5})$/;

/** An address to listen on: port 0 asks the OS for a free port (tests, `vigil dev` on a busy host). */
const hostPort = z
  .string()
  .regex(HOST_PORT, 'expected host:port, e.g. 127.0.0.1:15432')
  .superRefine((text, ctx) => {
    const m = HOST_PORT.exec(text);
    const port = m && Number(m[1] ?? m[2]);
    if (port !== null && port > 65535) ctx.addIssue({ code: 'custom', message: `port ${port} is out of range: expected 0 (any free port) to 65535` });
  });

/** The name of an environment variable that holds a secret (common/config/secrets.ts reads it). */
const envName = z.string().min(1, 'empty: name the environment variable that holds the secret');

const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h)$/, 'expected a duration such as 500ms, 30s, 15m or 1h');

const MASK_FLAGS = /^[imsu]*$/;

export const MaskRule = z
  .object({
    /** Marker name: a match is replaced by `[NAME]`. */
    name: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'rule names are UPPER_SNAKE_CASE'),
    pattern: z.string().min(1),
    flags: z.string().regex(MASK_FLAGS, 'flags are some of i, m, s and u').default(''),
  })
  .superRefine((rule, ctx) => {
    // Flags outside the allowed set already have their own issue; the pattern is judged with valid ones.
    if (!MASK_FLAGS.test(rule.flags)) return;
    const flagsError = regexError('', rule.flags);
    if (flagsError) return ctx.addIssue({ code: 'custom', path: ['flags'], message: flagsError });
    const error = regexError(rule.pattern, rule.flags);
    if (error) ctx.addIssue({ code: 'custom', path: ['pattern'], message: `not a valid regular expression: ${error}` });
  });
export type MaskRule = z.infer<typeof MaskRule>;

export const BUILTIN_DETECTORS = [
  'EMAIL', 'CARD', 'SSN', 'IBAN', 'PHONE', 'JWT', 'BEARER', 'CLOUD_KEY', 'PRIVATE_KEY',
  'CONN_PASSWORD', 'ROLE_PASSWORD', 'SECRET_ASSIGNMENT', 'COMMAND_LINE',
] as const;

export const Masking = z
  .object({
    /** Built-in detectors to run ('all' or a list of names). */
    detectors: z.union([z.literal('all'), z.array(z.enum(BUILTIN_DETECTORS))]).default('all'),
    /** Column names (case-insensitive substrings) whose values are masked whole. */
    columns: z.array(z.string().min(1)).default(['password', 'passwd', 'secret', 'token', 'ssn', 'api_key', 'apikey', 'private_key', 'credit_card', 'card_number']),
    rules: z.array(MaskRule).default([]),
    /** Also mask DataRow values the client receives (re-encoded with correct lengths). */
    client: z.boolean().default(false),
  })
  .strict();
export type Masking = z.infer<typeof Masking>;

/** A target's guardrails; `kind` says which matchers apply (SQL for PostgreSQL, commands for SSH, requests for HTTP). */
const guardrails = (kind: 'sql' | 'command' | 'request') => z
  .array(Guardrail)
  .default([])
  .superRefine((rules, ctx) => {
    rules.forEach((r, i) => {
      if (kind === 'sql' && !r.statements && !r.sql) ctx.addIssue({ code: 'custom', path: [i], message: `rule ${r.name}: a PostgreSQL target matches statements or sql` });
      if (kind === 'command' && !r.command) ctx.addIssue({ code: 'custom', path: [i], message: `rule ${r.name}: an SSH target matches command lines (command)` });
      if (kind === 'request' && !r.request) ctx.addIssue({ code: 'custom', path: [i], message: `rule ${r.name}: an HTTP target matches requests (request: METHOD /path)` });
      if (kind !== 'request' && r.request) ctx.addIssue({ code: 'custom', path: [i, 'request'], message: `rule ${r.name}: request patterns are for HTTP targets` });
    });
  });

/**
 * What a statement or command line gets when the guardrails cannot read what it runs (EXECUTE of
 * a string built at run time, a command named by a variable, eval...). Default: the strictest
 * action among the target's rules (deny, else approve); never a silent allow.
 */
const guardrailUnknown = z.enum(['deny', 'approve', 'allow']).optional();

/**
 * Who decides a target's access requests and held statements, and the bounds of what they grant
 * (used by `access: jit` targets and by `approve` guardrails).
 */
export const Approval = z
  .object({
    /**
     * Identity-provider groups whose members (with the approver or admin role) decide requests
     * for this target. Empty: anyone with the approver or admin role.
     */
    approverGroups: z.array(z.string().min(1).max(256)).default([]),
    /** Distinct approvals a request needs; one denial ends it. */
    minApprovals: z.number().int().min(1).max(10).default(1),
    /** Longest grant anyone may ask for, and what a request without a duration gets. */
    maxDuration: duration.default('8h'),
    defaultDuration: duration.default('1h'),
    reasonRequired: z.boolean().default(true),
    /** Nobody approves their own request; an admin may, when this says so. */
    adminSelfApproval: z.boolean().default(false),
    /** A request nobody decided expires by itself after this long. */
    pendingTtl: duration.default('1h'),
    /** How long a held statement waits for a decision before it is refused. */
    holdTimeout: duration.default('5m'),
  })
  .strict()
  .refine((a) => parseDuration(a.defaultDuration) <= parseDuration(a.maxDuration), { message: 'defaultDuration is longer than maxDuration', path: ['defaultDuration'] });
export type Approval = z.infer<typeof Approval>;

const access = z.enum(['open', 'jit']).default('open');
const targetName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'target names are lower-case letters, digits, - and _');
/** required: no recording, no session (fail closed); best-effort: keep serving. */
const recording = z.enum(['required', 'best-effort']).default('required');
/**
 * How long a target's recordings are kept after they end: a duration in minutes, hours or days
 * (30m, 12h, 90d) or forever. Unset: the hub's default (hub.retention.default).
 */
export const Retention = z.union([z.literal('forever'), z.string().regex(/^\d{1,6}(m|h|d)$/, 'expected forever or a duration such as 30m, 12h or 90d')]);
export function retentionMs(value: string): number | null {
  if (value === 'forever') return null;
  const n = Number(value.slice(0, -1));
  return n * { m: 60_000, h: 3_600_000, d: 86_400_000 }[value.slice(-1) as 'm' | 'h' | 'd'];
}
const retention = Retention.optional();
/**
 * lenient: the agent applies the locks it knows, however old its list (the hub may be away).
 * strict: it refuses new sessions while its list of locks is older than locksMaxAge (the hub
 * republishes it every 15 s), since a lock made meanwhile could not have reached it.
 */
const locks = z.enum(['lenient', 'strict']).default('lenient');
const locksMaxAge = duration.default('60s');
const approval = Approval.default(Approval.parse({}));
/**
 * How every kind of target is governed: access (open: a valid token connects; jit: only under a
 * grant an approver gave), who approves, locks, and how long its recordings are kept.
 */
const governed = { access, approval, locks, locksMaxAge, retention };

export const PostgresUpstream = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(5432),
    database: z.string().min(1),
    user: z.string().min(1),
    /** Prefer passwordEnv in files; the password is never recorded or logged. */
    password: z.string().min(1, 'empty: omit it when the upstream needs no password').optional(),
    passwordEnv: envName.optional(),
    tls: z.enum(['disable', 'prefer', 'require', 'verify-full']).default('disable'),
    /** PEM file of the CA for verify-full. */
    caFile: z.string().optional(),
  })
  .strict();

export const TlsListener = z.object({ certFile: z.string(), keyFile: z.string() }).strict();

/**
 * What a client may set at startup unless the target says otherwise: the usual client settings.
 * (client_encoding is always accepted: a client needs it to read text.)
 */
export const DEFAULT_STARTUP_SETTINGS = [
  'application_name', 'DateStyle', 'TimeZone', 'IntervalStyle', 'extra_float_digits',
  'search_path', 'statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'idle_session_timeout',
  'client_min_messages', 'default_transaction_isolation', 'default_transaction_read_only', 'bytea_output',
] as const;

export const PostgresTarget = z
  .object({
    name: targetName,
    protocol: z.literal('postgres'),
    /** Where the agent accepts clients for this target. */
    listen: hostPort,
    /** Omitted in `vigil dev` for the demo target: an embedded PGlite database is served instead. */
    upstream: PostgresUpstream.optional(),
    tls: TlsListener.optional(),
    recording,
    /** Result rows kept per statement in the recording. */
    maxRows: z.number().int().min(0).max(100_000).default(100),
    /** COPY content kept per operation, in bytes. */
    maxCopyBytes: z.number().int().min(0).default(64 * 1024),
    /**
     * Bytes of one value the recording keeps (a statement's text, a parameter, a result cell); a
     * longer one keeps its masked start and `[TRUNCATED <size> bytes sha256:<hex>]`.
     */
    maxValueBytes: z.number().int().min(1024).max(1024 * 1024).default(64 * 1024),
    /**
     * Settings a client may give at startup, in its startup packet or as `options=-c name=value`
     * (case-insensitive); they go to the target's own startup packet. Any other is refused with an
     * error naming it.
     */
    startupSettings: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'expected a setting name such as statement_timeout')).default([...DEFAULT_STARTUP_SETTINGS]),
    masking: Masking.default(Masking.parse({})),
    /** Statement rules: deny DROP, DELETE without WHERE... (read with the PostgreSQL parser). */
    guardrails: guardrails('sql'),
    guardrailUnknown,
    ...governed,
  })
  .strict();
export type PostgresTarget = z.infer<typeof PostgresTarget>;

export const SshUpstream = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    /** The account the agent logs in as on the host. */
    user: z.string().min(1),
    /** The agent's private key for the host (OpenSSH or PEM format). */
    privateKeyFile: z.string().optional(),
    /** Or a password, from the environment; never recorded or logged. */
    passwordEnv: envName.optional(),
    /**
     * The host's public key, pinned: as in known_hosts or a .pub file ("ssh-ed25519 AAAA..."), or
     * its fingerprint as `ssh-keygen -l` prints it ("SHA256:..."). Any other key refuses the session.
     */
    hostKey: z.string().regex(/^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+) [A-Za-z0-9+/=]+|^SHA256:[A-Za-z0-9+/=]+$/, 'expected "ssh-ed25519 AAAA..." or "SHA256:..."'),
  })
  .strict()
  .refine((u) => !!u.privateKeyFile !== !!u.passwordEnv, { message: 'set exactly one of privateKeyFile and passwordEnv' });

export const SshTarget = z
  .object({
    name: targetName,
    protocol: z.literal('ssh'),
    /** Omitted in `vigil dev` for the demo shell: a loopback-only embedded SSH server serves it. */
    upstream: SshUpstream.optional(),
    recording,
    masking: Masking.default(Masking.parse({})),
    /** Let clients forward ports (ssh -L, -W, -R) to or from this host. */
    allowPortForwarding: z.boolean().default(false),
    /**
     * Mask what the client's terminal shows too, not only the recording (the masked text reaches
     * the screen after a short pause in the output, ~30 ms). File transfers are never rewritten.
     */
    maskOutput: z.boolean().default(false),
    /** Command rules for `ssh host COMMAND` and lines typed at a shell (read with a shell parser). */
    guardrails: guardrails('command'),
    guardrailUnknown,
    ...governed,
  })
  .strict();
export type SshTarget = z.infer<typeof SshTarget>;

/** The target's own credential, injected by the agent on every request (the client never holds it). */
export const HttpCredential = z.discriminatedUnion('type', [
  /** Authorization: Bearer <token>. */
  z.object({ type: z.literal('bearer'), tokenEnv: envName }).strict(),
  /** Authorization: Basic, user and password. */
  z.object({ type: z.literal('basic'), user: z.string().min(1), passwordEnv: envName }).strict(),
  /** An API-key header (X-Api-Key: ..., or a prefix such as `Token `). */
  z.object({ type: z.literal('header'), name: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected a header name'), valueEnv: envName, prefix: z.string().max(64).default('') }).strict(),
  /** OAuth2 client credentials: the agent fetches the token and refreshes it before it expires. */
  z.object({
    type: z.literal('oauth2'),
    tokenUrl: z.string().url(),
    clientId: z.string().min(1),
    clientSecretEnv: envName,
    scopes: z.array(z.string().min(1)).default([]),
    audience: z.string().optional(),
  }).strict(),
]);
export type HttpCredential = z.infer<typeof HttpCredential>;

export const HttpUpstream = z
  .object({
    /** The base URL requests go to: http:// or https://, with a path prefix if the API has one. */
    url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'expected an http:// or https:// URL'),
    /** PEM file of the CA that signs the upstream's certificate (default: the system's CAs). */
    caFile: z.string().optional(),
    credential: HttpCredential.optional(),
  })
  .strict();

export const HttpTarget = z
  .object({
    name: targetName,
    protocol: z.literal('http'),
    /** Where the agent accepts clients for this target. */
    listen: hostPort,
    /** Omitted in `vigil dev` for the demo API: an embedded HTTP server serves it. */
    upstream: HttpUpstream.optional(),
    /** TLS on the listener (HTTP/2 and HTTP/1.1 by ALPN); without it HTTP/1.1 in the clear. */
    tls: TlsListener.optional(),
    /** The URL clients use for this target (browser logins return here); default from agent.publicHost and listen. */
    publicUrl: z.string().url().optional(),
    recording,
    masking: Masking.default(Masking.parse({})),
    /** Headers masked whole besides Authorization, Cookie, Set-Cookie and those named like a masked column. */
    maskHeaders: z.array(z.string().min(1)).default([]),
    /** Bytes of each body the recording keeps (masked); past it bytes are counted, not kept. */
    maxBodyBytes: z.number().int().min(0).max(16 * 1024 * 1024).default(64 * 1024),
    /** A session (one login) with no request for this long ends (`idle`); its token may start a new one. */
    idleTimeout: duration.default('15m'),
    /** Request rules: deny `DELETE /admin/**`, approve `POST /v1/payouts/*`... */
    guardrails: guardrails('request'),
    ...governed,
  })
  .strict();
export type HttpTarget = z.infer<typeof HttpTarget>;

export const Target = z.discriminatedUnion('protocol', [PostgresTarget, SshTarget, HttpTarget]);
export type Target = z.infer<typeof Target>;

/**
 * Agent identity: with requireSignatures (the default) the hub persists only what an enrolled agent
 * signed (`vigil agent enroll`); false accepts unsigned entries too (an agent of an older version).
 */
export const HubAgents = z
  .object({
    requireSignatures: z.boolean().default(true),
  })
  .strict();

/** How long recordings are kept: per target (`retention`), else this default; purged by the hub every `every`. */
export const HubRetention = z
  .object({
    default: Retention.default('forever'),
    every: duration.default('1m'),
  })
  .strict();

/** People log in to the dashboard through an OpenID provider (authorization code flow). */
export const OidcSettings = z
  .object({
    /** Must equal the `iss` of the provider's tokens exactly. */
    issuer: z.string().url(),
    clientId: z.string().min(1),
    /** Environment variable that holds the client secret (never the secret itself in the file). */
    clientSecretEnv: z.string().min(1).default('VIGIL_OIDC_CLIENT_SECRET'),
    scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email', 'groups']),
    /** Claim naming the person in recordings and tokens; `sub` when the token lacks it. */
    usernameClaim: z.string().min(1).default('preferred_username'),
    roles: z
      .object({
        /** Claim with the person's groups (an array of strings, or one string). */
        claim: z.string().min(1).default('groups'),
        /** Group -> Vigil roles. A person whose groups map to no role cannot log in. */
        map: z.record(z.string(), z.array(z.enum(ROLES)).min(1)),
      })
      .strict(),
  })
  .strict();
export type OidcSettings = z.infer<typeof OidcSettings>;

export const HubAuth = z
  .object({
    oidc: OidcSettings.optional(),
    /** How long a dashboard login lasts without activity. */
    sessionTtl: duration.default('12h'),
    /** How often an open dashboard connection's login (logout, expiry, roles at the provider) is confirmed again, at most. */
    loginRecheck: duration.default('60s'),
    /** Environment variable with the cookie-signing secret, shared by every hub behind one URL
     * (default: a secret generated once in dataDir). */
    sessionSecretEnv: z.string().min(1).default('VIGIL_SESSION_SECRET'),
  })
  .strict();
export type HubAuth = z.infer<typeof HubAuth>;

const perMinute = z.number().int().positive().max(1_000_000);

/**
 * Per source address, each a budget per minute (spent at once if need be, earned back evenly).
 * The defaults leave a person or a test suite plenty and stop a script hammering the hub.
 */
export const HubRateLimits = z
  .object({
    /** Dashboard logins: requests to /auth/login, and to /auth/callback (each its own budget). */
    loginsPerMinute: perMinute.default(60),
    /** Connection tokens issued (POST /api/targets/:name/connection). */
    tokensPerMinute: perMinute.default(60),
    /** API requests with a bad or expired token; past it the address is refused (429) for a while. */
    failedAuthPerMinute: perMinute.default(30),
  })
  .strict();
export type HubRateLimits = z.infer<typeof HubRateLimits>;

/** Bounds on what one dashboard connection may cost the hub (docs/ARCHITECTURE.md, Live viewing). */
export const HubLive = z
  .object({
    /** Sessions one connection watches at once; each costs a bus subscription and a feed. */
    maxWatchesPerSocket: z.number().int().positive().max(10_000).default(50),
    /** Bytes the hub holds for one connection that it has not read yet; beyond it the viewer is
     * dropped (`slow_consumer`) and resumes from the store when it comes back. */
    maxBufferedBytesPerSocket: z.number().int().min(64 * 1024).default(8 * 1024 * 1024),
  })
  .strict();
export type HubLive = z.infer<typeof HubLive>;

export const Config = z
  .object({
    /** Keys, the embedded store and other state. */
    dataDir: z.string().default('.vigil'),
    log: z.object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') }).strict().default({ level: 'info' }),
    redis: z
      .object({
        url: z.string().url().optional(),
        /** Start of every Redis key and channel Vigil uses: deployments sharing a Redis differ here. */
        keyPrefix: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and : _ . -').default('vigil:'),
      })
      .strict()
      .default({ keyPrefix: 'vigil:' }),
    hub: z
      .object({
        listen: hostPort.default('127.0.0.1:8080'),
        /** PostgreSQL store; without it the hub keeps an embedded PGlite store in dataDir. */
        databaseUrl: z.string().optional(),
        /** Lifetime of connection tokens issued by `vigil token`. */
        tokenTtl: duration.default('15m'),
        /** Public URL agents and tokens refer to (defaults to http://listen). */
        publicUrl: z.string().url().optional(),
        auth: HubAuth.default(HubAuth.parse({})),
        live: HubLive.default(HubLive.parse({})),
        rateLimits: HubRateLimits.default(HubRateLimits.parse({})),
        retention: HubRetention.default(HubRetention.parse({})),
        agents: HubAgents.default(HubAgents.parse({})),
        /** An append-only file (on write-once storage) where each manifest's hash is also written; verify checks against it. */
        anchorFile: z.string().min(1).optional(),
      })
      .strict()
      .default({ listen: '127.0.0.1:8080', tokenTtl: '15m', auth: HubAuth.parse({}), live: HubLive.parse({}), rateLimits: HubRateLimits.parse({}), retention: HubRetention.parse({}), agents: HubAgents.parse({}) }),
    agent: z
      .object({
        /** Names the agent in recordings and its lease; also its outbox folder's name. */
        id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'agent ids are letters, digits, ., _ and - (up to 128)').default('agent-1'),
        /**
         * Every event is written to an outbox on disk before the client sees the end of what it
         * records, and published from there: a crashed agent sends it when it starts again.
         * process: written to the OS (survives a crash of the agent); machine: also fsynced
         * (survives a crash of the machine; costs a disk flush per batch).
         */
        outbox: z
          .object({
            /** Default: dataDir/outbox/<agent id>. */
            dir: z.string().min(1).optional(),
            durability: z.enum(['process', 'machine']).default('process'),
          })
          .strict()
          .default({ durability: 'process' }),
        /**
         * Failed logins (bad, expired or foreign tokens, keys, unknown targets) an address may
         * have a minute; past it its attempts are refused at once. Each refusal is audited.
         */
        loginFailuresPerMinute: z.number().int().min(1).max(100_000).default(20),
        /** PEM file of the hub's token-signing public key (default: dataDir/hub-token-key.pub.pem). */
        hubPublicKeyFile: z.string().optional(),
        /** Hostname put in connection strings for this agent's listeners. */
        publicHost: z.string().optional(),
        spool: z
          .object({
            maxEvents: z.number().int().positive().default(200_000),
            maxBytes: z.number().int().positive().default(256 * 1024 * 1024),
          })
          .strict()
          .default({ maxEvents: 200_000, maxBytes: 256 * 1024 * 1024 }),
        /** The one SSH port of the agent: the SSH user name picks the target (`ssh web-1@host`). */
        ssh: z
          .object({
            listen: hostPort.default('127.0.0.1:2222'),
            /** The agent's SSH host key (default: dataDir/agent-ssh-host-key, made once). */
            hostKeyFile: z.string().optional(),
          })
          .strict()
          .default({ listen: '127.0.0.1:2222' }),
      })
      .strict()
      .default({ id: 'agent-1', loginFailuresPerMinute: 20, outbox: { durability: 'process' }, spool: { maxEvents: 200_000, maxBytes: 256 * 1024 * 1024 }, ssh: { listen: '127.0.0.1:2222' } }),
    targets: z.array(Target).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.targets.forEach((t, i) => {
      if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: ['targets', i, 'name'], message: `duplicate target name "${t.name}"` });
      seen.add(t.name);
    });
  });
export type Config = z.infer<typeof Config>;

export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`bad duration ${text}`);
  const n = Number(m[1]);
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}
