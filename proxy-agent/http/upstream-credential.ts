// The target's own credential, injected by the agent on every request: a static header read from
// the environment once, or an OAuth2 client-credentials token fetched from the provider and
// fetched again before it expires (concurrent requests share one fetch). The user never sees it,
// and it is never recorded: it is added after the request is recorded.
import type { HttpCredential, HttpTarget } from '../../common/config/schema.ts';
import { readSecret, targetSecret } from '../../common/config/secrets.ts';

export interface CredentialSource {
  /** The header to add to a request, or null when the target needs none. */
  header(): Promise<[string, string] | null>;
}

/** Refreshed this long before the provider says it expires. */
const REFRESH_EARLY_MS = 60_000;

export function credentialSource(target: HttpTarget, env: NodeJS.ProcessEnv = process.env): CredentialSource {
  const credential = target.upstream?.credential;
  const secret = targetSecret(target);
  if (!credential || !secret) return { header: async () => null };
  const value = readSecret(secret, env);
  const fixed = (header: [string, string]): CredentialSource => ({ header: async () => header });
  switch (credential.type) {
    case 'bearer':
      return fixed(['authorization', `Bearer ${value}`]);
    case 'basic':
      return fixed(['authorization', `Basic ${Buffer.from(`${credential.user}:${value}`).toString('base64')}`]);
    case 'header':
      return fixed([credential.name.toLowerCase(), `${credential.prefix}${value}`]);
    case 'oauth2':
      return new ClientCredentials(credential, value);
  }
}

class ClientCredentials implements CredentialSource {
  private token: { value: string; refreshAt: number } | null = null;
  private fetching: Promise<string> | null = null;

  constructor(private readonly config: Extract<HttpCredential, { type: 'oauth2' }>, private readonly secret: string) {}

  async header(): Promise<[string, string]> {
    const token = this.token && Date.now() < this.token.refreshAt ? this.token.value : await this.fetchOnce();
    return ['authorization', `Bearer ${token}`];
  }

  private fetchOnce(): Promise<string> {
    this.fetching ??= this.fetch().finally(() => (this.fetching = null));
    return this.fetching;
  }

  private async fetch(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.config.scopes.length) form.set('scope', this.config.scopes.join(' '));
    if (this.config.audience) form.set('audience', this.config.audience);
    const res = await fetch(this.config.tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.config.clientId)}:${encodeURIComponent(this.secret)}`).toString('base64')}`,
      },
      body: form,
      signal: AbortSignal.timeout(10_000),
    });
    // The provider's error text may echo what it was sent: only the status is told.
    if (!res.ok) throw new Error(`the OAuth2 token endpoint answered ${res.status}`);
    const body = (await res.json()) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string' || !body.access_token) throw new Error('the OAuth2 token endpoint gave no access_token');
    const lifetimeMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : 5 * 60_000;
    this.token = { value: body.access_token, refreshAt: Date.now() + Math.max(lifetimeMs - REFRESH_EARLY_MS, lifetimeMs / 2) };
    return body.access_token;
  }
}
