// The dashboard in real Chromium for end-to-end tests (playwright-core with Debian's chromium,
// never a downloaded browser), and a hub with the dev OpenID provider to log in through.
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { EventBus } from '../../common/bus/event-bus.ts';
import type { SshKeyDirectory } from '../../common/ssh-key-directory.ts';
import type { ControlBus } from '../../common/control/control-bus.ts';
import { parseConfig } from '../../common/config/load-config.ts';
import { silentLogger } from '../../common/log.ts';
import { DEMO_ROLE_MAP } from '../../server/dev-idp/demo-users.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { startHub, type Hub } from '../../server/hub.ts';
import type { HubStores } from '../../server/store/create-store.ts';
import { freePort } from './free-port.ts';

const CHROMIUM = '/usr/bin/chromium';
const CLIENT = { clientId: 'vigil-e2e', clientSecret: 'e2e-secret' };

export function launchChromium(): Promise<Browser> {
  // playwright gives the browser a fresh profile directory of its own.
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

export interface HubWithLogin {
  hub: Hub;
  idp: DevIdentityProvider;
  /** Stops the hub (the provider stays) and starts another on the same port and config: logins kept in Redis survive. */
  restart(between?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** A hub on a free port whose dashboard logs in through a dev identity provider. */
export async function startHubWithLogin(opts: { dataDir: string; redisUrl?: string; keyPrefix?: string; targets: unknown[]; bus: EventBus; stores: HubStores; sshKeyDirectory?: SshKeyDirectory; control?: ControlBus; port?: number }): Promise<HubWithLogin> {
  const port = opts.port ?? (await freePort());
  const hubUrl = `http://127.0.0.1:${port}`;
  const idp = await startDevIdentityProvider({ port: 0, client: { ...CLIENT, redirectUris: [`${hubUrl}/auth/callback`] } });
  const config = parseConfig({
    dataDir: opts.dataDir,
    // Its own key prefix: hubs of other test files on the same Redis stay out of its cluster.
    ...(opts.redisUrl ? { redis: { url: opts.redisUrl, keyPrefix: opts.keyPrefix } } : {}),
    targets: opts.targets,
    hub: { listen: `127.0.0.1:${port}`, auth: { oidc: { issuer: idp.issuer, clientId: CLIENT.clientId, roles: { map: DEMO_ROLE_MAP } } } },
  });
  const start = () => startHub({ config, bus: opts.bus, stores: opts.stores, logger: silentLogger, oidcClientSecret: CLIENT.clientSecret, sshKeyDirectory: opts.sshKeyDirectory, control: opts.control });
  const web: HubWithLogin = {
    hub: await start(),
    idp,
    async restart(between) {
      await web.hub.stop();
      await between?.();
      web.hub = await start();
    },
    async stop() {
      await web.hub.stop();
      await idp.stop();
    },
  };
  return web;
}

/** The sizes the dashboard is tried at: a laptop, and a phone held upright (touch, no mouse). */
export const SCREENS = {
  desktop: { viewport: { width: 1440, height: 900 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
} as const;
export type ScreenSize = keyof typeof SCREENS;

/** A fresh browser context logged in as `user` through the dev provider's login page. */
export async function loggedInPage(browser: Browser, hubUrl: string, name: string, hash = '#/live', screen?: ScreenSize): Promise<Page> {
  const context = await browser.newContext(screen ? SCREENS[screen] : undefined);
  const page = await context.newPage();
  await page.goto(`${hubUrl}/${hash}`);
  // Not logged in: the dashboard sends the browser to the provider, which asks who.
  await page.getByRole('button', { name: new RegExp(`^${name}`) }).click();
  await page.waitForURL(`${hubUrl}/${hash}`).catch(async (err) => {
    throw new Error(`login did not come back to the dashboard: at ${page.url()}: ${(await page.content()).slice(0, 500)} (${err.message})`);
  });
  await expect.poll(() => page.getByTestId('who').textContent()).toContain(name);
  return page;
}
