import { describe, expect, it } from 'vitest';
import { TerminalChannel } from './terminal-channel.ts';
import { out, recording, resize, shell } from './playback/fake-recording.ts';

describe("a session's terminal channel", () => {
  it('when a shell opens, then its channel is the terminal: its output written, its resizes replayed, other channels not drawn', () => {
    const ch = new TerminalChannel();
    const ops = recording('ssh', [shell(0, 90, 20, 1), out(1, 'hi', 1), out(2, 'sftp bytes', 2), resize(3, 100, 30, 1), resize(4, 10, 10, 2)]).map((e) => ch.opOf(e));
    expect(ops).toEqual([{ op: 'resize', cols: 90, rows: 20 }, { op: 'write', text: 'hi' }, null, { op: 'resize', cols: 100, rows: 30 }, null]);
  });

  it('when the start was not seen (a keyframe), then the first output names the channel', () => {
    const ch = new TerminalChannel();
    const ops = recording('ssh', [out(1, 'a', 3), out(2, 'b', 0)]).map((e) => ch.opOf(e));
    expect(ops).toEqual([{ op: 'write', text: 'a' }, null]);
    expect(ch.channel).toBe(3);
  });
});
