// The README's screenshots (docs/screenshots/), taken from `vigil dev` as a new user runs it:
// psql (with a `\d`) and an SSH shell (in tmux) through its agent, a just-in-time request waiting,
// then the dashboard in Chromium as the reviewer and the approver, at a laptop's 1440x900 and a
// phone's 390x844.
//   npm run screenshots
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(REPO, 'docs/screenshots');
const BIN = path.join(REPO, 'bin/vigil.mjs');
const SCREENS = {
  desktop: { viewport: { width: 1440, height: 900 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
} as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-shots-'));
  const [hubPort, demoPort, paymentsPort, sshPort, apiPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VIGIL') && k !== 'REDIS_URL' && k !== 'DATABASE_URL')),
    VIGIL_LOG_LEVEL: 'warn',
    VIGIL_DATA_DIR: path.join(dir, 'data'),
    VIGIL__HUB__LISTEN: `127.0.0.1:${hubPort}`,
    VIGIL__TARGETS__DEMO__LISTEN: `127.0.0.1:${demoPort}`,
    VIGIL__TARGETS__PAYMENTS__LISTEN: `127.0.0.1:${paymentsPort}`,
    'VIGIL__TARGETS__DEMO-API__LISTEN': `127.0.0.1:${apiPort}`,
    VIGIL__AGENT__SSH__LISTEN: `127.0.0.1:${sshPort}`,
  };
  const vigil = (...args: string[]) => execFileSync(process.execPath, [BIN, ...args], { env, cwd: dir, encoding: 'utf8' }).trim();
  const hub = `http://127.0.0.1:${hubPort}`;
  const children: ChildProcess[] = [];
  const tmuxSocket = `vigil-shots-${crypto.randomBytes(3).toString('hex')}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', tmuxSocket, ...args], { env, encoding: 'utf8' });
  let browser: Browser | undefined;
  try {
    const dev = spawn(process.execPath, [BIN, 'dev'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(dev);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      dev.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('vigil dev is ready')) resolve();
      });
      dev.once('exit', (code) => reject(new Error(`vigil dev exited with ${code}`)));
    });
    console.log('vigil dev is ready');

    // A psql session that stays open (live), with a meta-command and a result of many rows.
    const psql = spawn('psql', ['-X', '-q', vigil('token', '--user', 'alice', '--target', 'demo')], { env, stdio: ['pipe', 'ignore', 'ignore'] });
    children.push(psql);
    for (const sql of ['select name, email, card_number from customers limit 3;', '\\d customers', 'select * from customers;', 'select 1/0;',
      `select c.name, count(o.*) as orders, sum(o.amount) as spent from customers c join orders o on o.customer_id = c.id group by c.name order by spent desc limit 5;`]) {
      psql.stdin!.write(`${sql}\n`);
      await sleep(400);
    }

    // An SSH shell in a real terminal, typing as a person does.
    tmux('new-session', '-d', '-x', '110', '-y', '30', `ssh -p ${sshPort} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null demo-shell@127.0.0.1`);
    await sleep(2500);
    tmux('send-keys', vigil('token', '--user', 'alice', '--target', 'demo-shell'), 'Enter');
    await sleep(2500);
    for (const line of ['ls -la', 'cat /etc/os-release | head -3', 'uptime']) {
      tmux('send-keys', line, 'Enter');
      await sleep(700);
    }

    // A request waiting for the approver.
    vigil('request', 'payments', '--for', '30m', '--reason', 'INC-1: check refunds', '--user', 'alice');

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    fs.mkdirSync(OUT, { recursive: true });
    const login = async (name: string, screen: keyof typeof SCREENS): Promise<Page> => {
      const page = await (await browser!.newContext(SCREENS[screen])).newPage();
      await page.goto(`${hub}/#/live`);
      await page.getByRole('button', { name: new RegExp(`^${name}`) }).click();
      await page.getByTestId('who').waitFor({ state: 'attached' });
      return page;
    };
    const shot = async (page: Page, hash: string, file: string, settle: () => Promise<unknown> = () => sleep(1500)) => {
      await page.goto(`${hub}/${hash}`);
      await settle();
      await page.screenshot({ path: path.join(OUT, file) });
      console.log(`docs/screenshots/${file}`);
    };

    const rita = await login('Rita', 'desktop');
    await shot(rita, '#/live', 'live.png', () => rita.getByTestId('live-sessions').waitFor());
    const live = JSON.parse(vigil('sessions', 'list', '--live', '--json')) as Array<{ id: string; protocol: string }>;
    const pgSession = live.find((s) => s.protocol === 'postgres');
    const sshSession = live.find((s) => s.protocol === 'ssh');
    if (pgSession) await shot(rita, `#/watch/${pgSession.id}`, 'watch-psql.png', () => sleep(2500));
    if (sshSession) await shot(rita, `#/watch/${sshSession.id}`, 'watch-ssh.png', () => sleep(2500));
    await shot(rita, '#/sessions', 'sessions.png', () => rita.getByTestId('sessions').waitFor());
    const aaron = await login('Aaron', 'desktop');
    await shot(aaron, '#/access', 'access.png', () => aaron.getByTestId('access-pending').waitFor());
    const aaronPhone = await login('Aaron', 'phone');
    await shot(aaronPhone, '#/access', 'access-phone.png', () => aaronPhone.getByTestId('access-pending').waitFor());
  } finally {
    await browser?.close();
    try {
      tmux('kill-server');
    } catch {
      // no tmux server left
    }
    for (const child of children.reverse()) child.kill('SIGTERM');
    await sleep(1500);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
