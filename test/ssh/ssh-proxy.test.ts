// The SSH proxy with the real OpenSSH client and server: logins with a Vigil token, commands with
// their exit codes, signals, file transfers with checksums, refused forwarding, a pinned host key
// that does not match, and garbage on the SSH port. What the client sees is what sshd sent; the
// recording holds what happened.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SAMPLE } from '../../proxy-agent/masking/test-support.ts';
import { freePort } from '../support/free-port.ts';
import { ofType } from '../support/recordings.ts';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let h: SshHarness;
beforeAll(async () => {
  h = await startSshHarness();
});
afterAll(async () => {
  await h?.stop();
});

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('the SSH proxy', () => {
  it('when a command runs through the agent, then the client gets its output and exit code, and the recording has both', async () => {
    const marker = `hello-${crypto.randomUUID()}`;
    const r = await h.ssh('box', [`echo ${marker}; echo oops >&2; exit 3`]);
    expect(r.stdout).toBe(`${marker}\n`);
    expect(r.stderr).toContain('oops');
    expect(r.code).toBe(3);

    const events = await h.sessionWhere((e) => e.type === 'ssh.exec' && e.data.command.includes(marker));
    expect(events[0]).toMatchObject({ type: 'session.start', protocol: 'ssh', user: 'alice', target: 'box' });
    expect(ofType(events, 'term.output').map((e) => e.data.text).join('')).toContain(marker);
    expect(ofType(events, 'term.output').some((e) => e.data.stream === 'stderr' && e.data.text.includes('oops'))).toBe(true);
    expect(ofType(events, 'ssh.exit')).toEqual([expect.objectContaining({ data: { channel: 0, exitCode: 3 } })]);
    expect(events.at(-1)).toMatchObject({ type: 'session.end' });
    // Nothing of the token or the target's key is in the recording.
    const text = JSON.stringify(events);
    expect(text).not.toContain(await h.token().then((t) => t.split('.')[2]));
    expect(text).not.toContain(fs.readFileSync(h.sshd.clientKeyFile, 'utf8').split('\n')[1]);
  });

  it('when a program prints a secret in two writes with a pause between, then the recording has it masked', async () => {
    const jwt = SAMPLE.jwt;
    // The halves travel as \xHH escapes that printf decodes, so the command line holds neither.
    const escaped = (s: string) => [...Buffer.from(s)].map((c) => `\\x${c.toString(16).padStart(2, '0')}`).join('');
    const r = await h.ssh('box', [`printf 'session=%b' '${escaped(jwt.slice(0, 30))}'; sleep 0.3; printf '%b\\n' '${escaped(jwt.slice(30))}'; echo split-done`]);
    expect(r.stdout).toBe(`session=${jwt}\nsplit-done\n`); // the client's screen is untouched
    const events = await h.sessionWhere((e) => e.type === 'ssh.exec' && e.data.command.includes('split-done'));
    const recorded = ofType(events, 'term.output').map((e) => e.data.text).join('');
    expect(recorded).toBe('session=[JWT]\nsplit-done\n');
    expect(JSON.stringify(events)).not.toContain(jwt.slice(0, 30));
  });

  it('when a target masks output, then the client sees masked text too; otherwise it sees the target\'s bytes as they are', async () => {
    const print = ['printf "mail alice@example.com\\n"; printf "card 4111 1111 1111 1111\\n" >&2'];
    const plain = await h.ssh('box', print);
    expect(plain.stdout).toBe('mail alice@example.com\n');
    const masked = await h.ssh('masked-box', print);
    expect(masked.stdout).toBe('mail [EMAIL]\n');
    expect(masked.stderr).toContain('card [CARD]');
    expect(masked.stderr).not.toContain('4111');
    // The recording says the client saw masked output (session.start's clientMasking), and that the other did not.
    const maskedStart = (await h.sessionWhere((e) => e.type === 'ssh.exec' && e.target === 'masked-box' && e.data.command.includes('printf "mail')))[0];
    expect(maskedStart).toMatchObject({ type: 'session.start', data: { clientMasking: true } });
    const plainStart = (await h.sessionWhere((e) => e.type === 'ssh.exec' && e.target === 'box' && e.data.command.includes('printf "mail')))[0];
    expect(plainStart).toMatchObject({ type: 'session.start', data: { clientMasking: false } });
  });

  it('when the user name is user+target, then the token must be that user\'s', async () => {
    expect((await h.ssh('alice+box', ['true'])).code).toBe(0);
    const wrong = await h.ssh('bob+box', ['true'], { password: await h.token('alice', 'box') });
    expect(wrong.code).toBe(255);
    expect(wrong.stderr).toMatch(/Permission denied/);
  });

  it('when the token is wrong, for another target or the target is unknown, then the login is refused', async () => {
    expect((await h.ssh('box', ['true'], { password: 'not-a-token' })).code).toBe(255);
    expect((await h.ssh('box', ['true'], { password: await h.token('alice', 'open-box') })).code).toBe(255);
    expect((await h.ssh('no-such-box', ['true'], { password: await h.token('alice', 'box') })).code).toBe(255);
  });

  it('when the host shows a key other than the pinned one, then the session is refused with a message saying so', async () => {
    const r = await h.ssh('evil-box', ['echo should-not-run']);
    expect(r.code).toBe(255);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/not the one pinned/);
  });

  it('when files go up and down with scp, then they arrive intact and the recording names them without their content', async () => {
    const local = path.join(h.dir, 'up.bin');
    fs.writeFileSync(local, crypto.randomBytes(300_000));
    const remote = path.join(h.sshd.dir, `remote-${crypto.randomUUID()}.bin`);
    const back = path.join(h.dir, 'back.bin');
    expect(await h.scp('box', [local, `REMOTE:${remote}`])).toMatchObject({ code: 0 });
    expect(sha256(remote)).toBe(sha256(local));
    expect(await h.scp('box', [`REMOTE:${remote}`, back])).toMatchObject({ code: 0 });
    expect(sha256(back)).toBe(sha256(local));

    const legacy = `${remote}.legacy`;
    expect(await h.scp('box', ['-O', local, `REMOTE:${legacy}`])).toMatchObject({ code: 0 });
    expect(sha256(legacy)).toBe(sha256(local));

    const files = async () => (await h.sessions()).flatMap((s) => ofType(s.events, 'ssh.file').map((e) => e.data));
    await expect.poll(files, { timeout: 20_000 }).toEqual(expect.arrayContaining([
      expect.objectContaining({ protocol: 'sftp', direction: 'upload', path: remote, bytes: 300_000 }),
      expect.objectContaining({ protocol: 'sftp', direction: 'download', path: remote, bytes: 300_000 }),
      expect.objectContaining({ protocol: 'scp', direction: 'upload', path: legacy }),
    ]));
    const scpLegacy = (await files()).find((f) => f.protocol === 'scp')!;
    expect(scpLegacy.bytes).toBeGreaterThanOrEqual(300_000);
    // The content is not recorded.
    const all = JSON.stringify(await h.sessions());
    expect(all).not.toContain(fs.readFileSync(local).subarray(1000, 1040).toString('base64'));
  });

  it('when the client asks to forward ports and the target does not allow it, then it is refused and recorded', async () => {
    const remoteForward = await h.ssh('box', ['true'], { options: ['-o', 'ExitOnForwardFailure=yes', '-R', '0:127.0.0.1:9'] });
    expect(remoteForward.code).toBe(255);
    expect(remoteForward.stderr).toMatch(/forwarding failed/i);

    const local = await h.ssh('box', [`exec 3<>/dev/tcp/127.0.0.1/${h.sshd.port}; head -c 4 <&3`], { options: ['-W', `127.0.0.1:${h.sshd.port}`] });
    expect(local.code).not.toBe(0);
    const denied = async () => (await h.sessions()).flatMap((s) => ofType(s.events, 'ssh.denied').map((e) => e.data.request));
    await expect.poll(denied, { timeout: 20_000 }).toEqual(expect.arrayContaining(['tcpip-forward', 'direct-tcpip']));
  });

  it('when the target allows port forwarding, then forwarded connections go both ways and are recorded', async () => {
    const r = await h.ssh('open-box', [], { options: ['-W', `127.0.0.1:${h.sshd.port}`] });
    // -W connects stdin/stdout to the forwarded port: sshd's banner comes back.
    expect(r.stdout).toMatch(/^SSH-2\.0-OpenSSH/);

    // -R: the host listens, and what connects there reaches a server on the client's side.
    const echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const echoPort = (echo.address() as net.AddressInfo).port;
    const bindPort = await freePort();
    try {
      const remote = await h.ssh('open-box', [`exec 3<>/dev/tcp/127.0.0.1/${bindPort}; echo ping >&3; head -c 5 <&3`], {
        options: ['-o', 'ExitOnForwardFailure=yes', '-R', `127.0.0.1:${bindPort}:127.0.0.1:${echoPort}`],
      });
      expect(remote.stdout).toBe('ping\n');
    } finally {
      echo.close();
    }
    const forwards = async () => (await h.sessions()).flatMap((s) => s.events.filter((e) => e.type === 'ssh.forward').map((e) => e.data));
    await expect.poll(forwards, { timeout: 20_000 }).toEqual(expect.arrayContaining([
      { direction: 'local', host: '127.0.0.1', port: h.sshd.port },
      { direction: 'remote', host: '127.0.0.1', port: bindPort },
    ]));
  });

  it('when garbage arrives on the SSH port, then that connection closes and the agent serves the next client', async () => {
    const garbage = net.connect(h.port, '127.0.0.1');
    await new Promise<void>((resolve) => {
      garbage.on('data', () => garbage.write(crypto.randomBytes(4096)));
      garbage.on('close', () => resolve());
      garbage.on('error', () => resolve());
    });
    const protocolViolation = net.connect(h.port, '127.0.0.1');
    await new Promise<void>((resolve) => {
      protocolViolation.on('data', () => protocolViolation.write('SSH-2.0-evil\r\n\x00\x00\x00\x0c\x0a\x14garbage-kex'));
      protocolViolation.on('close', () => resolve());
      protocolViolation.on('error', () => resolve());
    });
    expect((await h.ssh('box', ['echo still-here'])).stdout).toBe('still-here\n');
  });
});
