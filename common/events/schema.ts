// The event contract: the one definition of what agents emit, the hub stores and the dashboard
// renders. Every event is validated against these schemas at each edge (off the bus, out of the
// store, into the web app) and its TypeScript type is derived from them, never written twice.
import { z } from 'zod';

export const EVENT_VERSION = 1;

/** Masked-value counts by rule name, e.g. { EMAIL: 2, CARD: 1 }. */
export const MaskCounts = z.record(z.string(), z.number().int().nonnegative());
export type MaskCounts = z.infer<typeof MaskCounts>;

/** Shared metadata block carried by every event (named after Teleport's audit metadata). */
const meta = {
  v: z.literal(EVENT_VERSION),
  /** Unique event id (UUID). */
  id: z.string().min(1).max(64),
  /** Session id (UUID), assigned by the agent when the client connects. */
  sessionId: z.string().min(1).max(64),
  /** Gapless per-session sequence number, starting at 1 with session.start. */
  seq: z.number().int().positive(),
  /** ISO-8601 UTC timestamp with milliseconds, taken by the agent. */
  time: z.iso.datetime({ precision: 3 }),
  user: z.string().max(256),
  target: z.string().max(256),
  protocol: z.enum(['postgres', 'ssh', 'http']),
  connection: z.object({
    /** The downstream client's address, host:port. */
    client: z.string().max(300),
    /** The agent that served the session. */
    agent: z.string().max(256),
  }),
  /** How many values each masking rule replaced in this event (omitted when none). */
  masked: MaskCounts.optional(),
  /**
   * SHA-256 (hex) of the previous event's canonical bytes (chain.ts): absent on a session's first
   * event, on events recorded before chaining, and after a hole its emitter could not see across.
   */
  prev: z.string().regex(/^[0-9a-f]{64}$/).optional(),
};

const cell = z.string().nullable();

export const SessionStart = z.object({
  ...meta,
  type: z.literal('session.start'),
  data: z.object({
    database: z.string().optional(),
    /** HTTP: how the client proved who it is (a bearer or basic token, or a browser login's cookie). */
    auth: z.enum(['bearer', 'basic', 'cookie']).optional(),
    applicationName: z.string().optional(),
    upstream: z.string(),
    recording: z.enum(['required', 'best-effort']),
    clientMasking: z.boolean(),
    /** The jti of the connection token the user came in with (an id, not the token): what a token lock names. */
    token: z.string().max(256).optional(),
  }),
});

export const SessionEndReason = z.enum([
  'client_terminate', // the client sent Terminate
  'client_disconnect', // the client's socket closed without Terminate
  'upstream_closed', // the target closed the connection
  'upstream_error', // the target could not be reached or failed mid-session
  'auth_failed', // the Vigil token was refused (session never reached the target)
  'recording_unavailable', // recording: required and the spool is full
  'protocol_error', // the client sent bytes that are not the protocol
  'killed', // ended by a person
  'revoked', // the access grant it ran under was revoked
  'grant_expired', // the access grant it ran under ended
  'access_refused', // a jit target without a grant: not granted (denied, expired) or no way to ask
  'locked', // a lock (common/locks.ts) matches its user, target or token: ended, or refused at login
  'idle', // HTTP: no request for the target's idle time
  'token_expired', // HTTP: the token (or the browser login) the session runs under expired
  'agent_shutdown',
  'agent_lost', // the agent stopped renewing its lease (died, or cut off): the hub ended the session
  'agent_restarted', // the agent process that held it was restarted
]);
export type SessionEndReason = z.infer<typeof SessionEndReason>;

export const SessionEnd = z.object({
  ...meta,
  type: z.literal('session.end'),
  data: z.object({
    reason: SessionEndReason,
    message: z.string().optional(),
    durationMs: z.number().int().nonnegative(),
    /** Absent when the hub wrote the end: the agent that counted the bytes is gone. */
    bytesDown: z.number().int().nonnegative().optional(),
    bytesUp: z.number().int().nonnegative().optional(),
    /**
     * `hub`: the session's agent could not end it (lost, restarted, gone when it was killed), so
     * a hub did. Such an end gives way to events the agent sends later (server/recordings/store).
     */
    writtenBy: z.literal('hub').optional(),
    /** Hub-written ends: the highest seq the hub had from the agent, and how many seqs up to
     * the last one the agent reported were never received (the recording's gap). */
    lastSeq: z.number().int().nonnegative().optional(),
    missing: z.number().int().nonnegative().optional(),
  }),
});

export const DbParam = z.object({
  /** Text value, or for a binary parameter a description such as `[binary 8 bytes]`. */
  value: cell,
  format: z.enum(['text', 'binary']),
});

export const DbQuery = z.object({
  ...meta,
  type: z.literal('db.query'),
  data: z.object({
    protocol: z.enum(['simple', 'extended', 'function']),
    sql: z.string(),
    /** Extended protocol: prepared statement name ('' for the unnamed one). */
    statement: z.string().optional(),
    /** Extended protocol: portal name ('' for the unnamed one). */
    portal: z.string().optional(),
    params: z.array(DbParam).optional(),
    /** Execute's row limit (0 = all). */
    maxRows: z.number().int().nonnegative().optional(),
  }),
});

export const DbColumn = z.object({
  name: z.string(),
  typeOid: z.number().int().nonnegative(),
  format: z.enum(['text', 'binary']),
});

export const DbResult = z.object({
  ...meta,
  type: z.literal('db.result'),
  data: z.object({
    /** seq of the db.query this result answers. */
    querySeq: z.number().int().positive(),
    /** Position of the statement inside a multi-statement simple query (0-based). */
    statementIndex: z.number().int().nonnegative(),
    columns: z.array(DbColumn),
    /** The first rows, up to the target's row limit, masked. */
    rows: z.array(z.array(cell)),
    rowCount: z.number().int().nonnegative(),
    /** True when rowCount exceeds the rows kept. */
    truncated: z.boolean(),
    /** CommandComplete tag (e.g. "SELECT 3"), or "" for an empty query, "SUSPENDED" for a portal suspended at its row limit. */
    command: z.string(),
    durationUs: z.number().int().nonnegative(),
  }),
});

export const DbError = z.object({
  ...meta,
  type: z.literal('db.error'),
  data: z.object({
    querySeq: z.number().int().positive().optional(),
    severity: z.string(),
    code: z.string(),
    message: z.string(),
    detail: z.string().optional(),
    hint: z.string().optional(),
    position: z.string().optional(),
  }),
});

export const DbNotice = z.object({
  ...meta,
  type: z.literal('db.notice'),
  data: z.object({
    severity: z.string(),
    code: z.string(),
    message: z.string(),
    detail: z.string().optional(),
  }),
});

export const DbNotification = z.object({
  ...meta,
  type: z.literal('db.notification'),
  data: z.object({ channel: z.string(), payload: z.string(), processId: z.number().int() }),
});

export const DbCopy = z.object({
  ...meta,
  type: z.literal('db.copy'),
  data: z.object({
    querySeq: z.number().int().positive().optional(),
    /** in: client to server (COPY FROM STDIN); out: server to client (COPY TO STDOUT). */
    direction: z.enum(['in', 'out']),
    format: z.enum(['text', 'binary']),
    bytes: z.number().int().nonnegative(),
    /** Rows: the server's count (CommandComplete "COPY n"), else as counted in the data (lines; binary tuples). */
    rows: z.number().int().nonnegative(),
    /** The first bytes of the content as text, masked; absent for binary. */
    content: z.string().optional(),
    truncated: z.boolean(),
    outcome: z.enum(['done', 'failed']),
  }),
});

// SSH. A session is one SSH connection; its channels (a shell, exec commands, sftp) are numbered
// by the agent in the order the client opened them.
const channel = z.number().int().nonnegative();
const Pty = z.object({ term: z.string(), cols: z.number().int().nonnegative(), rows: z.number().int().nonnegative() });

export const SshShell = z.object({
  ...meta,
  type: z.literal('ssh.shell'),
  data: z.object({ channel, pty: Pty.optional() }),
});

export const SshExec = z.object({
  ...meta,
  type: z.literal('ssh.exec'),
  /** The command line, masked. */
  data: z.object({ channel, command: z.string(), pty: Pty.optional() }),
});

export const SshSubsystem = z.object({
  ...meta,
  type: z.literal('ssh.subsystem'),
  data: z.object({ channel, name: z.string() }),
});

export const SshExit = z.object({
  ...meta,
  type: z.literal('ssh.exit'),
  /** How the channel's program ended: its exit code, or the signal that ended it. */
  data: z.object({ channel, exitCode: z.number().int().optional(), signal: z.string().optional() }),
});

export const SshFile = z.object({
  ...meta,
  type: z.literal('ssh.file'),
  /** A file sent through sftp or scp: which, where and how much, never its content. */
  data: z.object({
    channel,
    protocol: z.enum(['sftp', 'scp']),
    direction: z.enum(['upload', 'download']),
    path: z.string(),
    bytes: z.number().int().nonnegative(),
  }),
});

export const SshForward = z.object({
  ...meta,
  type: z.literal('ssh.forward'),
  /**
   * A forwarding the target allows: `local` (ssh -L / -W: the client reaches host:port from the
   * target), or `remote` (ssh -R: the target listens on host:port and connections come back to
   * the client).
   */
  data: z.object({ direction: z.enum(['local', 'remote']), host: z.string(), port: z.number().int().nonnegative() }),
});

export const SshDenied = z.object({
  ...meta,
  type: z.literal('ssh.denied'),
  /** A request the target's policy refused (port or agent forwarding, X11). */
  data: z.object({ request: z.string(), detail: z.string().optional() }),
});

export const TermOutput = z.object({
  ...meta,
  type: z.literal('term.output'),
  /** What the program wrote to the terminal, as text (UTF-8 decoded across chunks), masked. */
  data: z.object({ channel, text: z.string(), stream: z.enum(['stdout', 'stderr']).optional() }),
});

export const TermInput = z.object({
  ...meta,
  type: z.literal('term.input'),
  /**
   * What the user typed; `hidden` instead of `text` when the terminal did not echo it back at a
   * password prompt (the characters are not recorded, only how many).
   */
  data: z.object({ channel, text: z.string().optional(), hidden: z.number().int().nonnegative().optional() }),
});

export const TermResize = z.object({
  ...meta,
  type: z.literal('term.resize'),
  data: z.object({ channel, cols: z.number().int().nonnegative(), rows: z.number().int().nonnegative() }),
});

// HTTP. A session is everything one login does through the agent (one Vigil token, or one browser
// login's cookie) until it ends; each request is an exchange. `requestSeq` (the seq of its
// http.request) pairs what follows with the request it belongs to.
const Header = z.tuple([z.string(), z.string()]);
const requestSeq = z.number().int().positive();

export const HttpRequest = z.object({
  ...meta,
  type: z.literal('http.request'),
  /** A request's head as it came from the client, masked (credentials always), in order. */
  data: z.object({
    method: z.string().max(64),
    /** The path, without the query. */
    path: z.string(),
    /** The query string without `?`, each value masked ('' when none). */
    query: z.string(),
    /** 1.1 or 2 (the client's). */
    version: z.string().max(8),
    headers: z.array(Header),
  }),
});

export const HttpBody = z.object({
  ...meta,
  type: z.literal('http.body'),
  /**
   * A part of a request or response body, masked: the whole kept body once it is complete (JSON
   * masked field by field, forms and text by the masking engine), or for a stream (server-sent
   * events, ndjson) each piece as it passes. Past the target's body limit only bytes are counted
   * (`truncated`, and the totals in http.end). A binary body is its size and type, no content.
   */
  data: z.object({
    requestSeq,
    direction: z.enum(['request', 'response']),
    contentType: z.string().max(300).optional(),
    /** The text, masked; absent for a binary body. */
    text: z.string().optional(),
    /** Bytes of the body this part covers (as sent, before any decoding). */
    bytes: z.number().int().nonnegative(),
    binary: z.boolean().optional(),
    /** The body limit was reached in this part: what follows is counted, not kept. */
    truncated: z.boolean().optional(),
  }),
});

export const HttpResponse = z.object({
  ...meta,
  type: z.literal('http.response'),
  /** The response head, masked (Set-Cookie always), recorded before it reaches the client. */
  data: z.object({
    requestSeq,
    status: z.number().int().min(100).max(999),
    headers: z.array(Header),
    /** `vigil`: the agent answered (a guardrail, a refusal, a failed upstream), not the target. */
    by: z.literal('vigil').optional(),
  }),
});

export const HttpEnd = z.object({
  ...meta,
  type: z.literal('http.end'),
  /** An exchange is over: how it ended, how long it took, what went each way. */
  data: z.object({
    requestSeq,
    outcome: z.enum(['complete', 'aborted', 'refused', 'upgraded']),
    /** Why it did not complete (aborted: who went away or what failed). */
    detail: z.string().max(500).optional(),
    durationMs: z.number().nonnegative(),
    requestBytes: z.number().int().nonnegative(),
    responseBytes: z.number().int().nonnegative(),
  }),
});

export const WsMessage = z.object({
  ...meta,
  type: z.literal('ws.message'),
  /** A WebSocket message on an upgraded exchange, masked; binary ones are their size. */
  data: z.object({
    requestSeq,
    direction: z.enum(['client', 'target']),
    kind: z.enum(['text', 'binary', 'close']),
    text: z.string().optional(),
    bytes: z.number().int().nonnegative(),
    truncated: z.boolean().optional(),
  }),
});

export const GuardrailHit = z.object({
  ...meta,
  type: z.literal('guardrail.hit'),
  /** A guardrail decided about a statement or command: which rule, what it did, on what (masked). */
  data: z.object({
    rule: z.string(),
    action: z.enum(['deny', 'approve']),
    /** The db.query, ssh.exec or http.request it was about. */
    querySeq: z.number().int().positive().optional(),
    statement: z.string(),
    /** A `maxRows` rule: the rows the write would have changed (read from its CommandComplete). */
    rows: z.number().int().nonnegative().optional(),
    /** Where what the rule matched stood, when not the statement or line itself: `in the DO block`, `in sudo > sh -c`. */
    form: z.string().max(1000).optional(),
  }),
});

export const ACCESS_ACTIONS = ['requested', 'granted', 'held', 'approved', 'denied', 'expired', 'revoked'] as const;

export const AccessEvent = z.object({
  ...meta,
  type: z.literal('access'),
  /**
   * Just-in-time access in this session: the grant it runs under (granted), the request it waits
   * for (requested), or a statement held for approval and its outcome (held, approved, denied,
   * expired); revoked just before the session ends.
   */
  data: z.object({
    action: z.enum(ACCESS_ACTIONS),
    requestId: z.number().int().positive(),
    /** Approvers, the denier or the revoker. */
    by: z.string().max(300).optional(),
    reason: z.string().max(500).optional(),
    /** The grant's end. */
    expiresAt: z.iso.datetime().optional(),
    /** The db.query a held statement came in. */
    querySeq: z.number().int().positive().optional(),
  }),
});

export const RecordingGap = z.object({
  ...meta,
  type: z.literal('recording.gap'),
  /**
   * The agent could not keep events fromSeq..toSeq (a best-effort target's spool was full): they
   * are missing from the recording on purpose, said by the recording itself (verify reports a gap,
   * not tampering).
   */
  data: z.object({
    fromSeq: z.number().int().positive(),
    toSeq: z.number().int().positive(),
    reason: z.enum(['spool_full']),
  }),
});

export const VigilEvent = z.discriminatedUnion('type', [
  SessionStart,
  SessionEnd,
  DbQuery,
  DbResult,
  DbError,
  DbNotice,
  DbNotification,
  DbCopy,
  SshShell,
  SshExec,
  SshSubsystem,
  SshExit,
  SshFile,
  SshForward,
  SshDenied,
  TermOutput,
  TermInput,
  TermResize,
  HttpRequest,
  HttpBody,
  HttpResponse,
  HttpEnd,
  WsMessage,
  GuardrailHit,
  AccessEvent,
  RecordingGap,
]);
export type VigilEvent = z.infer<typeof VigilEvent>;
export type EventType = VigilEvent['type'];
export type EventOf<T extends EventType> = Extract<VigilEvent, { type: T }>;
export type EventMeta = Omit<z.infer<typeof SessionStart>, 'type' | 'data'>;
export type EventData<T extends EventType> = EventOf<T>['data'];
