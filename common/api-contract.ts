// The REST responses the dashboard and the CLI read, typed once for the hub's routes, web/ and
// cli/ (which import nothing from server/). Events are the event contract's.
import type { VigilEvent } from './events/index.ts';

export interface MeResponse {
  user: string;
  roles: string[];
  via: 'token' | 'login';
  name?: string;
  email?: string;
  /** Send back as X-CSRF-Token on every state-changing request made with the login cookie. */
  csrfToken?: string;
}

export interface TargetView {
  name: string;
  protocol: string;
  /** host:port of the agent's listener for this target, as clients reach it. */
  address: string;
  recording: 'required' | 'best-effort';
  /** jit: connecting needs an approved access request (POST /api/access-requests). */
  access: 'open' | 'jit';
  /** What a request for this target gets when it names no duration, and the longest it may ask for (`30m`, `8h`). */
  grant: { defaultDuration: string; maxDuration: string };
}

export interface ConnectionResponse {
  /** The whole command, ready to paste (psql with the URI, or ssh). */
  command: string;
  /** PostgreSQL: the libpq URI, the token inside it. */
  uri?: string;
  /** SSH: the Vigil token to give at ssh's password prompt. HTTP: the bearer token (or basic-auth password). */
  password?: string;
  /** HTTP: the target's base URL through the agent. */
  url?: string;
  expiresAt: string;
}

export interface LogoutResponse {
  /** Open this to end the session at the identity provider too (absent when it cannot). */
  redirect?: string;
}

/** A registered SSH public key (GET/POST /api/ssh-keys). */
export interface SshKeyView {
  fingerprint: string;
  /** "type base64". */
  publicKey: string;
  name: string;
  addedAt: string;
}

export type AccessStatus = 'pending' | 'granted' | 'denied' | 'expired' | 'revoked';

/** One approver's decision on an access request. */
export interface AccessDecisionView {
  approver: string;
  decision: 'approve' | 'deny';
  comment: string;
  at: string;
}

/** An access request (GET /api/access-requests, the Socket.IO inbox). A granted connect request is the grant. */
export interface AccessRequestView {
  id: number;
  /** connect: access to a target for a while; statement: one held statement; recording: reading a target's recordings (or one session's) for a while. */
  scope: 'connect' | 'statement' | 'recording';
  user: string;
  target: string;
  reason: string;
  durationMs: number | null;
  status: AccessStatus;
  minApprovals: number;
  /** dashboard, cli, connection (someone connected without a grant), statement (held). */
  origin: string;
  client: string | null;
  sessionId: string | null;
  /** A held statement (masked). */
  statement: string | null;
  rule: string | null;
  createdAt: string;
  pendingUntil: string;
  decidedAt: string | null;
  /** The grant's end. */
  expiresAt: string | null;
  endedBy: string | null;
  endReason: string | null;
  decisions: AccessDecisionView[];
  /** For the caller: may they approve or deny it now; may they revoke it. */
  canDecide: boolean;
  canRevoke: boolean;
}

/** One line of the hub's audit log (GET /api/audit, admins). */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  requestId: number | null;
  sessionId: string | null;
  origin: string | null;
  detail: Record<string, unknown>;
}

/**
 * GET /api/audit: newest first. Filters: actor and target (any part, whatever its case), action
 * (exactly, or every action under a prefix ending in a dot: `session.`), sessionId, requestId,
 * from (inclusive) and to (exclusive) on `at`; `before` an id, for the next page.
 */
export interface AuditListResponse {
  entries: AuditEntry[];
}

export interface SessionSummary {
  id: string;
  protocol: string;
  user: string;
  target: string;
  client: string;
  agent: string;
  startedAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  /**
   * The end's own words, when it had any: who killed, revoked or locked it and why
   * (`this session was ended by rita: INC-7`). Recorded text: render as text.
   */
  endMessage?: string | null;
  /** Highest sequence number seen. */
  lastSeq: number;
  /** Every event up to this seq is stored (no gap). */
  persistedSeq: number;
  eventCount: number;
  queryCount: number;
  errorCount: number;
  /** When its recording was purged (retention or an admin): the summary stays, the events are gone. */
  purgedAt?: string;
}

export interface SessionListResponse {
  sessions: SessionSummary[];
  /** Pass as `before` for the next page; null on the last page. */
  next: string | null;
}

export interface SessionEventsResponse {
  events: VigilEvent[];
  /** The `from` of the next page; null when this page reached the end of what is stored. */
  next: number | null;
}

/**
 * A terminal's state after event `seq`. To show it: create an xterm.js of `cols` x `altRows` with
 * `scrollback`, write `prelude`, resize it to `cols` x `rows` once that write is parsed, write
 * `screen`; then write the terminal channel's output (and apply its resizes) after `seq`.
 */
export interface KeyframeView {
  seq: number;
  time: string;
  /** The SSH channel shown (the session's terminal). */
  channel: number;
  cols: number;
  rows: number;
  altRows: number;
  scrollback: number;
  /** Escape sequences: recorded text, hostile (xterm parses it, nothing else does). */
  prelude: string;
  screen: string;
}

export type MarkerKind = 'command' | 'query' | 'error' | 'slow' | 'file' | 'access' | 'guardrail' | 'end' | 'kill' | 'annotation';

/** A moment the player's timeline marks. */
export interface TimelineMarker {
  seq: number;
  kind: MarkerKind;
  time: string;
  /** What happened, masked as recorded (a command, a statement, an error): render as text. */
  label: string;
  durationMs?: number;
}

/** A run of events stored together: the player prefetches by these. */
export interface SegmentView {
  firstSeq: number;
  lastSeq: number;
  firstTime: string;
  lastTime: string;
  eventCount: number;
}

/** GET /api/sessions/:id/timeline: what the player draws before it plays anything. */
export interface SessionTimelineResponse {
  session: SessionSummary;
  segments: SegmentView[];
  markers: TimelineMarker[];
  /** More markers exist than were sent (the busiest are dropped last). */
  markersTruncated: boolean;
  /** Terminal sessions: the seqs that have keyframes. */
  keyframes: number[];
  /** Events up to this seq are indexed (keyframes, markers, search). */
  indexedSeq: number;
}

/** GET /api/sessions/:id/seek?seq=N or ?t=ISO: how to show the moment at once. */
export interface SeekResponse {
  /** The moment's event (the first at or after `t`), or null when the recording holds none there. */
  seq: number | null;
  /** Terminal sessions: the last keyframe at or before seq (null: replay from the start). */
  keyframe: KeyframeView | null;
  /**
   * Terminal sessions: the events after the keyframe (or from the start) up to and including seq.
   * Other sessions: the events from seq on (a page), what a view shows at that moment.
   */
  events: VigilEvent[];
  /** When `events` stop short of seq (too many after the keyframe): read on from here. */
  next: number | null;
}

/** A recording shared with people or a group (GET/POST /api/sessions/:id/shares, GET /api/shares). */
export interface ShareView {
  id: number;
  sessionId: string;
  createdBy: string;
  users: string[];
  group: string | null;
  /** Why, for the recipients ("review before Friday"): text. */
  note: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

/** A lock as the hub keeps it (GET/POST /api/locks, DELETE /api/locks/:id): common/locks.ts's, and its end. */
export interface LockView {
  id: string;
  user: string | null;
  target: string | null;
  /** A connection token's jti. */
  token: string | null;
  by: string;
  reason: string;
  createdAt: string;
  /** Null: until lifted. */
  expiresAt: string | null;
  liftedAt: string | null;
  liftedBy: string | null;
  /** At the time of the answer. */
  state: 'in force' | 'expired' | 'lifted';
}

/** GET /api/shares: what was shared with me, in force, newest first, with the sessions. */
export interface SharedWithMeResponse {
  shares: Array<ShareView & { session: SessionSummary | null }>;
}

/** A note pinned to a moment of a recording (GET/POST /api/sessions/:id/annotations; Socket.IO `annotation`). */
export interface AnnotationView {
  id: number;
  sessionId: string;
  seq: number;
  author: string;
  /** Render as text. */
  text: string;
  createdAt: string;
}

/** What a search document is: SQL run, a command executed, a line typed, text shown. */
export type SearchKind = 'query' | 'command' | 'input' | 'output';

/** A stretch of recorded text around a match; highlights are [start, end) offsets into text (UTF-16). Hostile text. */
export interface Snippet {
  text: string;
  highlights: { start: number; end: number }[];
}

/** A match in a recording: its moment (seq) and a snippet. */
export interface SearchHit {
  sessionId: string;
  seq: number;
  kind: SearchKind;
  /** Which of the texts of this kind that begin at seq (a pasted block, a long statement cut up). */
  part: number;
  time: string;
  snippet: Snippet;
  /**
   * 1 to 5: 1 for a match, +2 when the words occur together as typed, +1 when each is a whole
   * word, +1 for what the person did (a query, command or typed line) over what was shown.
   */
  rank: number;
}

export interface SessionMatches {
  sessionId: string;
  user: string;
  target: string;
  protocol: string;
  startedAt: string;
  endedAt: string | null;
  endReason: string | null;
  /** Every matching document in the session (GET /api/sessions/:id/search lists them). */
  hitCount: number;
  /** The best of them: highest rank first, then in seq order. */
  hits: SearchHit[];
}

/** GET /api/search. */
export interface SearchResults {
  /** Sessions with matches, newest first (by start, then id, as the session list pages). */
  sessions: SessionMatches[];
  /**
   * More may match in older sessions: pass it back as cursor. A page can end early (even empty)
   * with a cursor when its reading budget ran out: the next page continues the walk.
   */
  nextCursor: string | null;
}

/** GET /api/sessions/:id/search: find-next in one recording. */
export interface SessionSearchResults {
  /** In seq order (then kind and part). */
  hits: SearchHit[];
  /** More hits from this seq on: pass it back as `from`. */
  nextSeq: number | null;
}

/** GET /api/sessions/:id/verify and `vigil verify`: whether a recording is as it was sealed. */
export interface VerifyReport {
  sessionId: string;
  /**
   * verified: chain, manifest and signature hold. tampered: something changed since (problems say
   * what). unsealed: no manifest yet (live, or just ended). unreadable: nothing stored to check.
   * purged: removed by retention or an admin; its signed tombstone and manifest hold.
   */
  status: 'verified' | 'tampered' | 'unsealed' | 'unreadable' | 'purged';
  /** One line for people. */
  summary: string;
  /** What broke, each naming the events, block, manifest or key. */
  problems: string[];
  /** What is true and worth knowing without being tampering (links recorded before chaining, losses found at sealing). */
  notes: string[];
  events: number;
  lastSeq: number;
  manifest: { sealedAt: string; keyId: string; lastSeq: number; finalHash: string | null } | null;
}

/** GET /.well-known/vigil-recording-keys: the public keys manifests are signed with. */
export interface RecordingKeysResponse {
  keys: Array<{ id: string; publicKey: string; createdAt: string; retiredAt: string | null }>;
}

/** One opening of a recording, from the audit log (server/access/view-audit.ts). */
export interface ViewEntry {
  at: string;
  who: string;
  /** replay, export, verify or live. */
  how: string;
  /** What let them: own, reviewer, admin, approver, share, grant (a just-in-time grant to read recordings). */
  via: string;
  shareId?: number;
  grantId?: number;
  origin: string | null;
  sessionId: string;
  target: string | null;
}

/** GET /api/sessions/:id/views (who viewed this session) and GET /api/views?user= (what a user viewed). Newest first. */
export interface ViewsResponse {
  views: ViewEntry[];
}

/** A legal hold (GET /api/holds): what it keeps, why, who placed and who released it. */
export interface HoldView {
  id: string;
  sessionId: string | null;
  user: string | null;
  target: string | null;
  reason: string;
  createdBy: string;
  createdAt: string;
  releasedAt: string | null;
  releasedBy: string | null;
}

/** POST /api/purge: what a purge removed (and what it kept because of holds). */
export interface PurgeResult {
  purged: string[];
  held: string[];
}

/** GET /api/agents: an agent's identity as the hub knows it. */
export interface AgentIdentityView {
  id: string;
  fingerprint: string;
  status: 'pending' | 'enrolled' | 'revoked';
  requestedAt: string;
  requestedFrom: string | null;
  enrolledAt: string | null;
  enrolledBy: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  revokeReason: string | null;
}

/** GET /api/audit/verify and `vigil verify --audit`: whether the audit log is as it was checkpointed. */
export interface AuditVerifyReport {
  status: 'verified' | 'tampered';
  summary: string;
  problems: string[];
  checkpoints: number;
  /** The last audit row a checkpoint covers (rows after it are not checkpointed yet). */
  coveredToId: number;
}
