// The CLI's way into the hub's HTTP API. It signs a short-lived admin API token with the hub's
// key from dataDir: whoever can read that key is the hub's operator.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { Config } from '../common/config/schema.ts';
import { keyPaths, TokenSigner } from '../common/tokens.ts';
import type { SessionEventsResponse, SessionListResponse, SessionSummary } from '../common/api-contract.ts';
import { CliError } from './cli-error.ts';
import type { AccessRequestView, AgentIdentityView, AuditVerifyReport, HoldView, LockView, PurgeResult, RecordingKeysResponse, VerifyReport } from '../common/api-contract.ts';
import type { Role } from '../common/roles.ts';

export class HubClient {
  private constructor(readonly baseUrl: string, private readonly token: string) {}

  /** As the hub's operator (an admin token), or as `as` (someone's own requests: `vigil request`). */
  static async create(config: Config, hubUrl?: string, as: { user: string; role: Role } = { user: 'vigil-cli', role: 'admin' }): Promise<HubClient> {
    const base = (hubUrl ?? `http://${loopback(config.hub.listen)}`).replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+$/.test(base)) throw new CliError(`--hub expects a URL such as http://127.0.0.1:8080, got ${base}`);
    const keyFile = keyPaths(config.dataDir).privateKey;
    let pem: string;
    try {
      pem = fs.readFileSync(keyFile, 'utf8');
    } catch {
      throw new CliError(`no hub key at ${keyFile}: run this on the hub's host with its dataDir (--config or VIGIL_DATA_DIR)`);
    }
    const signer = await TokenSigner.fromPem(pem);
    return new HubClient(base, await signer.apiToken(as.user, as.role, 60_000));
  }

  listSessions(query: Record<string, string | undefined>): Promise<SessionListResponse> {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    const qs = params.toString();
    return this.json(`/api/sessions${qs ? `?${qs}` : ''}`);
  }

  async getSession(id: string): Promise<SessionSummary> {
    return (await this.json<{ session: SessionSummary }>(`/api/sessions/${encodeURIComponent(id)}`)).session;
  }

  events(id: string, from: number, limit = 1000): Promise<SessionEventsResponse> {
    return this.json(`/api/sessions/${encodeURIComponent(id)}/events?from=${from}&limit=${limit}`);
  }

  /** The export as a byte stream, exactly as the hub sends it. */
  async export(id: string, format: 'jsonl' | 'asciicast' | 'har'): Promise<Readable> {
    const res = await this.request(`/api/sessions/${encodeURIComponent(id)}/export?format=${format}`);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }

  /** A bundle to verify offline (server/recordings/trust/bundle.ts), as a byte stream. */
  async bundle(id: string): Promise<Readable> {
    const res = await this.request(`/api/sessions/${encodeURIComponent(id)}/bundle`);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }

  verify(id: string): Promise<VerifyReport> {
    return this.json(`/api/sessions/${encodeURIComponent(id)}/verify`);
  }

  verifyAudit(): Promise<AuditVerifyReport> {
    return this.json('/api/audit/verify');
  }

  recordingKeys(): Promise<RecordingKeysResponse> {
    return this.json('/api/recording-keys');
  }

  async rotateRecordingKey(): Promise<{ retired: string; current: RecordingKeysResponse['keys'][number] }> {
    return (await this.request('/api/recording-keys/rotate', { method: 'POST' })).json() as Promise<{ retired: string; current: RecordingKeysResponse['keys'][number] }>;
  }

  async purge(sessionId?: string): Promise<PurgeResult> {
    return (await this.request('/api/purge', { method: 'POST', body: sessionId ? { sessionId } : {} })).json() as Promise<PurgeResult>;
  }

  async createHold(hold: { sessionId?: string; user?: string; target?: string; reason: string }): Promise<HoldView> {
    const body = Object.fromEntries(Object.entries(hold).filter(([, v]) => v !== undefined));
    return ((await (await this.request('/api/holds', { method: 'POST', body })).json()) as { hold: HoldView }).hold;
  }

  async listHolds(all: boolean): Promise<HoldView[]> {
    return (await this.json<{ holds: HoldView[] }>(`/api/holds${all ? '?all=true' : ''}`)).holds;
  }

  async releaseHold(id: string): Promise<HoldView> {
    return ((await (await this.request(`/api/holds/${encodeURIComponent(id)}`, { method: 'DELETE' })).json()) as { hold: HoldView }).hold;
  }

  async listAgents(): Promise<AgentIdentityView[]> {
    return (await this.json<{ agents: AgentIdentityView[] }>('/api/agents')).agents;
  }

  async enrollmentToken(ttl: string): Promise<{ token: string; expiresAt: string }> {
    return (await this.request('/api/agents/enrollment-tokens', { method: 'POST', body: { ttl } })).json() as Promise<{ token: string; expiresAt: string }>;
  }

  async approveAgent(id: string): Promise<AgentIdentityView> {
    return ((await (await this.request(`/api/agents/${encodeURIComponent(id)}/approve`, { method: 'POST' })).json()) as { agent: AgentIdentityView }).agent;
  }

  async revokeAgent(id: string, reason: string): Promise<AgentIdentityView> {
    return ((await (await this.request(`/api/agents/${encodeURIComponent(id)}/revoke`, { method: 'POST', body: { reason } })).json()) as { agent: AgentIdentityView }).agent;
  }

  /** Ends a live session (the agent tells its user who and why). */
  async killSession(id: string, reason?: string): Promise<void> {
    await this.request(`/api/sessions/${encodeURIComponent(id)}/kill`, { method: 'POST', body: reason ? { reason } : {} });
  }

  /** Locks a user, a user on a target, a target or a token (the agents end what it matches). */
  async createLock(lock: { user?: string; target?: string; token?: string; ttl?: string; reason: string }): Promise<LockView> {
    const res = await this.request('/api/locks', { method: 'POST', body: lock });
    return ((await res.json()) as { lock: LockView }).lock;
  }

  async listLocks(all: boolean): Promise<LockView[]> {
    return (await this.json<{ locks: LockView[] }>(`/api/locks${all ? '?all=true' : ''}`)).locks;
  }

  async liftLock(id: string): Promise<LockView> {
    const res = await this.request(`/api/locks/${encodeURIComponent(id)}`, { method: 'DELETE' });
    return ((await res.json()) as { lock: LockView }).lock;
  }

  /** Asks for just-in-time access to a target, as the client's user. */
  async requestAccess(target: string, reason: string, duration?: string, recording?: { scope: 'recording'; sessionId?: string }): Promise<AccessRequestView> {
    const res = await this.request('/api/access-requests', { method: 'POST', body: { target, reason, origin: 'cli', ...(duration ? { duration } : {}), ...(recording ?? {}) } });
    return ((await res.json()) as { request: AccessRequestView }).request;
  }

  async accessRequest(id: number): Promise<AccessRequestView> {
    return (await this.json<{ request: AccessRequestView }>(`/api/access-requests/${id}`)).request;
  }

  private async json<T>(path: string): Promise<T> {
    return (await (await this.request(path)).json()) as T;
  }

  private async request(path: string, opts: { method?: string; body?: unknown } = {}): Promise<Response> {
    let res: Response;
    try {
      const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      res = await fetch(`${this.baseUrl}${path}`, { method: opts.method ?? 'GET', headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach the hub at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (err as Error).message}): is \`vigil hub\` or \`vigil dev\` running? (--hub URL to point elsewhere)`);
    }
    if (res.ok) return res;
    const message = await res.json().then((b: { error?: { message?: string } }) => b.error?.message, () => undefined);
    if (res.status === 401) {
      throw new CliError(`the hub at ${this.baseUrl} refused the API token (${message ?? 'unauthorized'}): is the dataDir the hub's own?`);
    }
    throw new CliError(`hub: ${message ?? `HTTP ${res.status}`}`);
  }
}

function loopback(listen: string): string {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i);
  const port = listen.slice(i + 1);
  if (host === '0.0.0.0') return `127.0.0.1:${port}`;
  if (host === '[::]' || host === '::') return `[::1]:${port}`;
  return listen;
}
