import { describe, expect, it } from 'vitest';
import type { VigilEvent } from './events/index.ts';
import { TerminalChannel } from './terminal-channel.ts';

let seq = 0;
const ev = (type: string, data: unknown) =>
  ({ v: 1, id: `e${seq}`, sessionId: 's', seq: ++seq, time: '2026-01-01T10:00:00.000Z', user: 'u', target: 't', protocol: 'ssh', connection: { client: 'c', agent: 'a' }, type, data }) as unknown as VigilEvent;

describe('the terminal channel', () => {
  it('when a shell asked for a pty, then the terminal is that channel at the pty size, and only it counts', () => {
    const t = new TerminalChannel();
    expect(t.read(ev('ssh.shell', { channel: 2, pty: { term: 'xterm', cols: 100, rows: 0 } }))).toEqual({ type: 'open', size: { cols: 100, rows: 24 }, term: 'xterm' });
    expect(t.read(ev('ssh.exec', { channel: 3, command: 'ls' }))).toBeNull();
    expect(t.read(ev('term.output', { channel: 3, text: 'no' }))).toBeNull();
    expect(t.read(ev('term.resize', { channel: 3, cols: 10, rows: 10 }))).toBeNull();
    expect(t.read(ev('term.output', { channel: 2, text: 'yes' }))).toEqual({ type: 'output', text: 'yes' });
    expect(t.read(ev('term.resize', { channel: 2, cols: 0, rows: 0 }))).toEqual({ type: 'resize', cols: 0, rows: 0 });
    expect(t.read(ev('term.input', { channel: 2, text: 'typed' }))).toBeNull();
  });

  it('when output comes before any shell or command, then its channel is the terminal, at the default size', () => {
    const t = new TerminalChannel();
    expect(t.read(ev('term.output', { channel: 1, text: 'hi' }))).toEqual({ type: 'output', text: 'hi', open: { cols: 80, rows: 24 } });
    expect(t.read(ev('ssh.shell', { channel: 0 }))).toBeNull();
    expect(t.channel).toBe(1);
  });

  it('when a command ran without a pty, then it opens at the default size', () => {
    expect(new TerminalChannel().read(ev('ssh.exec', { channel: 0, command: 'uptime' }))).toEqual({ type: 'open', size: { cols: 80, rows: 24 } });
  });
});
