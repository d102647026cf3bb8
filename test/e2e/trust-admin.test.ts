// The Trust page in real Chromium through the real OpenID login: an admin makes a one-time
// enrollment token, an agent enrolls with it through the hub's API and is listed as Enrolled; an
// agent asking without a token waits first in the list and is approved after the page shows its
// key; the admin revokes the first with a reason. A legal hold on a user is placed, listed,
// released (it asks first) and then only listed among the released. A reviewer reads agents and
// holds but is offered no agent changes; an engineer is not offered the page. Nothing the pages
// do logs an error or breaks the CSP.
import crypto from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { ensureDashboardBuilt } from '../../server/http/dashboard.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { launchChromium, loggedInPage as login, startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

let harness: Harness;
let web: HubWithLogin;
let browser: Browser;

beforeAll(async () => {
  await ensureDashboardBuilt();
  const control = createInProcessControlBus();
  harness = await startHarness({ postgresUrl: inject('postgresUrl'), control });
  web = await startHubWithLogin({ dataDir: harness.config.dataDir, targets: harness.config.targets, bus: harness.bus, stores: harness.stores, control });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  await harness?.stop();
});

const loggedInPage = (name: string, hash = '#/live'): Promise<Page> => login(browser, web.hub.url, name, hash);

/** What a page logged as errors (CSP violations among them) and threw, from now on. */
function problems(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) seen.push(m.text());
  });
  page.on('pageerror', (err) => seen.push(err.message));
  return seen;
}

/** An agent asking the hub to trust its new Ed25519 key, as `vigil agent enroll` does. */
async function enroll(id: string, token?: string): Promise<{ status: number; agent: { status: string; fingerprint: string } }> {
  const publicKey = crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const res = await fetch(`${web.hub.url}/api/agents/enroll`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, publicKey, ...(token ? { token } : {}) }),
  });
  return { status: res.status, ...(await res.json()) };
}

describe('the Trust page', () => {
  it('when an admin makes an enrollment token, then an agent enrolls with it; a waiting agent is approved after its key is shown; revoking asks why; a hold is placed and released', async () => {
    const ada = await loggedInPage('Ada', '#/trust');
    const seen = problems(ada);
    await expect.poll(() => ada.getByRole('heading', { name: 'Trust' }).count(), { timeout: 20_000 }).toBe(1);
    expect(await ada.getByRole('link', { name: 'Trust' }).count()).toBe(1);
    const agentsSection = ada.getByTestId('trust-agents');

    // The token, shown once with the command for the agent's host.
    await ada.getByLabel('Valid for').selectOption({ label: '24 hours' });
    await ada.getByRole('button', { name: 'New enrollment token' }).click();
    const tokenField = ada.getByLabel('Enrollment token');
    await expect.poll(() => tokenField.inputValue(), { timeout: 10_000 }).toMatch(/^vgl-enroll-/);
    const token = await tokenField.inputValue();
    expect(await tokenField.getAttribute('readonly')).not.toBeNull();
    expect(await ada.getByTestId('token-command').innerText()).toBe(`vigil agent enroll --hub ${web.hub.url} --token ${token}`);
    expect(await ada.getByTestId('token-expires').innerText()).toContain('It works once, until');

    const enrolled = await enroll('agent-e2e', token);
    expect(enrolled.status).toBe(200);
    expect(enrolled.agent.status).toBe('enrolled');
    // Without a token: it waits for an admin.
    const waiting = await enroll('agent-e2e-waiting');
    expect(waiting.status).toBe(202);

    await agentsSection.getByRole('button', { name: 'Refresh' }).click();
    const row = ada.getByTestId('agent-row').and(ada.locator('[data-id="agent-e2e"]'));
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    expect(await row.getByTestId('agent-state').innerText()).toBe('Enrolled');
    expect(await row.innerText()).toContain('token from ada');
    expect(await row.getByTestId('agent-fingerprint').innerText()).toBe(enrolled.agent.fingerprint);
    // Waiting agents first.
    expect(await ada.getByTestId('agent-row').first().getAttribute('data-id')).toBe('agent-e2e-waiting');

    // Approving shows the key to compare, then trusts it.
    const waitingRow = ada.getByTestId('agent-row').and(ada.locator('[data-id="agent-e2e-waiting"]'));
    expect(await waitingRow.getByTestId('agent-state').innerText()).toBe('Waiting for approval');
    expect(await waitingRow.getByRole('button', { name: /Revoke/ }).count()).toBe(0);
    await waitingRow.getByRole('button', { name: 'Approve agent agent-e2e-waiting…' }).click();
    const question = ada.getByRole('group', { name: 'Approve agent agent-e2e-waiting?' });
    expect(await question.innerText()).toContain(`Approve agent agent-e2e-waiting with key ${waiting.agent.fingerprint}? Compare it with vigil agent enroll's output on the agent's host.`);
    await question.getByRole('button', { name: 'Approve agent' }).click();
    await expect.poll(() => waitingRow.getByTestId('agent-state').innerText(), { timeout: 10_000 }).toBe('Enrolled');
    expect(await waitingRow.innerText()).toContain('ada');

    // Revoking asks why, in the page.
    await row.getByRole('button', { name: 'Revoke agent agent-e2e…' }).click();
    const dialog = ada.getByRole('dialog', { name: 'Revoke agent agent-e2e' });
    await expect.poll(() => dialog.isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await dialog.getByLabel('Reason').getAttribute('required')).not.toBeNull();
    await dialog.getByLabel('Reason').fill('INC-11: host <b>retired</b>');
    await dialog.getByRole('button', { name: 'Revoke agent' }).click();
    await expect.poll(() => row.getByTestId('agent-state').innerText(), { timeout: 10_000 }).toContain('Revoked');
    expect(await row.getByTestId('agent-state').innerText()).toContain('INC-11: host <b>retired</b>');
    expect(await ada.locator('[data-testid=agents] b').count()).toBe(0);
    expect(await dialog.isVisible()).toBe(false);
    expect(await row.getByRole('button').count()).toBe(0);

    // A legal hold on a user.
    const holdForm = ada.getByTestId('hold-form');
    await holdForm.getByLabel('Hold the recordings of').selectOption('user');
    await holdForm.getByLabel('User', { exact: true }).fill('bob');
    await holdForm.getByLabel('Reason').fill('Case 2025-17: keep bob\'s sessions');
    await holdForm.getByRole('button', { name: 'Place hold' }).click();
    await expect.poll(() => holdForm.getByRole('status').innerText(), { timeout: 10_000 }).toMatch(/^Hold H-\S+ is in force: the recordings of user bob are kept\.$/);
    const hold = ada.getByTestId('hold-row').filter({ hasText: 'Case 2025-17' });
    await expect.poll(() => hold.count(), { timeout: 10_000 }).toBe(1);
    expect(await hold.getByTestId('hold-what').innerText()).toBe('user bob');
    expect(await hold.innerText()).toContain('ada');
    const holdId = (await hold.getAttribute('data-id'))!;

    await hold.getByRole('button', { name: `Release hold ${holdId}…` }).click();
    await hold.getByRole('button', { name: 'Keep' }).click();
    expect(await hold.getByTestId('hold-state').innerText()).toBe('in force');
    await hold.getByRole('button', { name: `Release hold ${holdId}…` }).click();
    await hold.getByRole('button', { name: 'Release hold', exact: true }).click();
    await expect.poll(() => ada.getByTestId('hold-row').filter({ hasText: 'Case 2025-17' }).count(), { timeout: 10_000 }).toBe(0);

    await ada.getByLabel('Show released').check();
    const released = ada.getByTestId('hold-row').filter({ hasText: 'Case 2025-17' });
    await expect.poll(() => released.count(), { timeout: 10_000 }).toBe(1);
    expect(await released.getByTestId('hold-state').innerText()).toContain('released');
    expect(await released.getByTestId('hold-state').innerText()).toContain('by ada');
    expect(await released.getByRole('button').count()).toBe(0);

    expect(seen).toEqual([]);
  });

  it('when a reviewer opens the Trust page, then agents and holds are listed, with no agent changes offered, and she may place a hold; an engineer has no Trust page', async () => {
    const rita = await loggedInPage('Rita', '#/trust');
    const seen = problems(rita);
    expect(await rita.getByRole('link', { name: 'Trust' }).count()).toBe(1);
    const row = rita.getByTestId('agent-row').and(rita.locator('[data-id="agent-e2e"]'));
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(1);
    expect(await row.getByTestId('agent-state').innerText()).toContain('Revoked');
    expect(await rita.getByTestId('agent-row').and(rita.locator('[data-id="agent-e2e-waiting"]')).getByTestId('agent-state').innerText()).toBe('Enrolled');
    expect(await rita.getByRole('button', { name: /Approve|Revoke|New enrollment token/ }).count()).toBe(0);
    expect(await rita.getByTestId('enrollment-token').count()).toBe(0);
    expect(await rita.getByTestId('revoke-dialog').count()).toBe(0);

    await expect.poll(() => rita.getByTestId('holds-empty').count(), { timeout: 10_000 }).toBe(1);
    const holdForm = rita.getByTestId('hold-form');
    await holdForm.getByLabel('Hold the recordings of').selectOption('target');
    await holdForm.getByLabel('Target', { exact: true }).fill('pg');
    await holdForm.getByLabel('Reason').fill('Audit 9');
    await holdForm.getByRole('button', { name: 'Place hold' }).click();
    const hold = rita.getByTestId('hold-row').filter({ hasText: 'Audit 9' });
    await expect.poll(() => hold.count(), { timeout: 10_000 }).toBe(1);
    expect(await hold.getByTestId('hold-what').innerText()).toBe('target pg');
    expect(await hold.innerText()).toContain('rita');
    expect(await hold.getByRole('button', { name: /Release hold/ }).count()).toBe(1);

    expect(seen).toEqual([]);

    // An engineer is not offered the page.
    const alice = await loggedInPage('Alice', '#/trust');
    await expect.poll(() => alice.getByRole('heading', { name: 'Live sessions' }).count(), { timeout: 20_000 }).toBe(1);
    expect(await alice.getByRole('link', { name: 'Trust' }).count()).toBe(0);
    expect(await alice.getByTestId('trust-agents').count()).toBe(0);
  });
});
