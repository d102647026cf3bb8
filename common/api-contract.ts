// The REST responses the dashboard reads, typed once for the hub's routes and for web/. Session
// summaries are the store's (server/store/recording-store.ts); events are the event contract's.

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
}

export interface ConnectionResponse {
  /** The whole command, ready to paste (psql with the URI, or ssh). */
  command: string;
  /** PostgreSQL: the libpq URI, the token inside it. */
  uri?: string;
  /** SSH: the Vigil token to give at ssh's password prompt. */
  password?: string;
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
