// A real OpenID provider (the oidc-provider package) for `vigil dev` and the tests: the hub logs
// people in through the same authorization-code flow it uses against Okta, Keycloak or Entra ID.
// Only the login page is simple: it offers the demo users (no passwords: it listens on loopback
// and exists for trying Vigil out). Consent is given by the provider itself for its one
// registered client, as a company's provider does for its own first-party applications.
import http from 'node:http';
import type net from 'node:net';
import crypto from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { default as Provider, Configuration } from 'oidc-provider';
import { DEMO_USERS, type DemoUser } from './demo-users.ts';

export interface DevIdentityProviderOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  client: { clientId: string; clientSecret: string; redirectUris: string[] };
  users?: readonly DemoUser[];
}

export interface DevIdentityProvider {
  issuer: string;
  /** Moves a user to other groups (none: the account is gone), as an administrator does at a company's provider. */
  setGroups(username: string, groups: readonly string[] | null): void;
  stop(): Promise<void>;
}

const SCOPES = ['openid', 'profile', 'email', 'groups'];

export async function startDevIdentityProvider(opts: DevIdentityProviderOptions): Promise<DevIdentityProvider> {
  const users = new Map<string, DemoUser>((opts.users ?? DEMO_USERS).map((u) => [u.username, u]));
  const host = opts.host ?? '127.0.0.1';
  const server = http.createServer();
  const address = await new Promise<net.AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve(server.address() as net.AddressInfo));
  });
  const issuer = `http://${host}:${address.port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };

  // The login form's POST ends in redirects back to the client: CSP form-action covers those too.
  const formTargets = ["'self'", ...new Set(opts.client.redirectUris.map((u) => new URL(u).origin))].join(' ');
  const configuration: Configuration = {
    clients: [{
      client_id: opts.client.clientId,
      client_secret: opts.client.clientSecret,
      redirect_uris: opts.client.redirectUris,
      // The hub's page after logging out at the provider too.
      post_logout_redirect_uris: opts.client.redirectUris.map((u) => u.replace(/\/auth\/callback$/, '/auth/logged-out')),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // passport-openidconnect sends the secret in the request body.
      token_endpoint_auth_method: 'client_secret_post',
    }],
    async findAccount(_ctx, id) {
      const user = users.get(id);
      if (!user) return undefined;
      return {
        accountId: id,
        claims: async () => ({ sub: id, name: user.name, email: user.email, preferred_username: id, groups: user.groups }),
      };
    },
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'], groups: ['groups'] },
    scopes: SCOPES,
    // Profile and groups in the ID token too, not only from userinfo.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        // The provider's own confirmation form (it carries its CSRF field), on a plain page.
        async logoutSource(ctx, form) {
          ctx.set('content-security-policy', `default-src 'none'; form-action ${formTargets}`);
          ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vigil dev logout</title></head><body>
<h1>Log out of the Vigil dev identity provider?</h1>${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, log me out</button>
<button type="submit" form="op.logoutForm">No, stay logged in</button></body></html>`;
        },
      },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    jwks: { keys: [jwk as never] },
    // Access tokens as long as a dashboard login (hub.auth.sessionTtl's default): the hub asks
    // userinfo with it to confirm a login's groups while it lasts (server/http/login-check.ts).
    ttl: { AccessToken: 12 * 3600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 12 * 3600, Grant: 12 * 3600 },
    renderError(ctx, out) {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = `Login failed: ${out.error}${out.error_description ? ` (${out.error_description})` : ''}`;
    },
  };
  const provider = await quietly(async () => new (await import('oidc-provider')).default(issuer, configuration));
  const providerCallback = provider.callback();

  server.on('request', (req, res) => {
    const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(req.url ?? '');
    if (!match) {
      providerCallback(req, res);
      return;
    }
    handleInteraction(provider, users, req, res, match[2] === '/login', formTargets).catch(() => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('This login attempt is no longer valid: start again from Vigil.');
    });
  });

  return {
    issuer,
    setGroups(username, groups) {
      const user = users.get(username);
      if (!user) return;
      if (groups === null) users.delete(username);
      else users.set(username, { ...user, groups: [...groups] });
    },
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function handleInteraction(
  provider: Provider, users: Map<string, DemoUser>, req: http.IncomingMessage, res: http.ServerResponse, submitted: boolean, formTargets: string,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    if (!submitted || req.method !== 'POST') {
      sendLoginPage(res, details.uid, [...users.values()], formTargets);
      return;
    }
    const form = new URLSearchParams(await readBody(req));
    const username = form.get('username') ?? '';
    if (!users.has(username)) {
      sendLoginPage(res, details.uid, [...users.values()], formTargets, 'Pick one of the demo users.');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
    return;
  }
  if (details.prompt.name === 'consent') {
    const accountId = details.session?.accountId;
    const clientId = details.params.client_id;
    if (typeof accountId !== 'string' || typeof clientId !== 'string') throw new Error('interaction without a session');
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId });
    if (!grant) throw new Error('grant not found');
    grant.addOIDCScope(SCOPES.filter((s) => String(details.params.scope ?? '').split(' ').includes(s)).join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  throw new Error(`unsupported prompt ${details.prompt.name}`);
}

/**
 * oidc-provider warns on the console that Node 20 is not its preferred runtime (it works, see
 * ENV.md) and that its in-memory storage is for development only, which is what this provider is.
 * Both are expected here and would only alarm someone trying `vigil dev`; other output passes.
 */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider WARNING')) return;
    warn(...args);
  };
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 10_000) req.destroy(new Error('form too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function sendLoginPage(res: http.ServerResponse, uid: string, users: DemoUser[], formTargets: string, problem?: string): void {
  const buttons = users
    .map((u) => `<button name="username" value="${escapeHtml(u.username)}">${escapeHtml(u.name)} <small>(${escapeHtml(u.username)}: ${escapeHtml(u.groups.join(', '))})</small></button>`)
    .join('\n');
  res.writeHead(problem ? 400 : 200, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formTargets}`,
    'cache-control': 'no-store',
  });
  res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil dev login</title>
<style>body{font:16px system-ui;margin:3rem auto;max-width:28rem}button{display:block;width:100%;margin:.5rem 0;padding:.7rem;font:inherit;text-align:left}</style>
</head><body>
<h1>Vigil dev login</h1>
<p>The identity provider of <code>vigil dev</code>. Sign in as:</p>
${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
${buttons}
</form>
</body></html>`);
}
