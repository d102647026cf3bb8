// A target that prints faster than the hub persists: the agent stops reading the target's output
// while its spool is filling (the recording's pace), instead of filling the spool and leaving a hole
// in the recording (or ending a `recording: required` session). The client gets every byte, the
// recording every event.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ofType } from '../support/recordings.ts';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

let h: SshHarness;
beforeAll(async () => {
  // A spool of 1 MiB: a few bursts of a fast command's output.
  h = await startSshHarness({ spool: { maxEvents: 10_000, maxBytes: 1 << 20 } });
});
afterAll(async () => {
  await h?.stop();
});

describe('an SSH session printing faster than the recording is persisted', () => {
  it('when a command prints 4 MB at full speed through a 1 MiB spool, then the client gets it all and the recording has every event, in a session that ends normally', async () => {
    const r = await h.ssh('box', ['head -c 3000000 /dev/zero | base64 -w 76; echo throttle-done']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(4_000_000 + Math.ceil(4_000_000 / 76) + 'throttle-done\n'.length);

    const events = await h.sessionWhere((e) => e.type === 'ssh.exec' && e.data.command.includes('throttle-done'), 60_000);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(ofType(events, 'term.output').map((e) => e.data.text).join('').replace(/\r?\n/g, '').length).toBe(4_000_000 + 'throttle-done'.length);
    expect(events.at(-1)).toMatchObject({ type: 'session.end', data: { reason: 'client_disconnect' } });
    expect(h.agent.publisher.stats().dropped).toBe(0);
  });
});
