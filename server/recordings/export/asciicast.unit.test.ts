import { describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../../common/events/index.ts';
import { AsciicastWriter } from './asciicast.ts';

const base = { v: 1, id: 'x', sessionId: 's', user: 'alice', target: 'box', protocol: 'ssh', connection: { client: 'c', agent: 'a' } };
let seq = 0;
const at = (ms: number, type: string, data: unknown) =>
  ({ ...base, seq: ++seq, time: new Date(Date.UTC(2026, 0, 1, 10, 0, 0) + ms).toISOString(), type, data }) as unknown as VigilEvent;

const render = (events: VigilEvent[]) => {
  const w = new AsciicastWriter('vigil s');
  return [...events.flatMap((e) => w.push(e)), ...w.end()].map((l) => JSON.parse(l));
};

describe('asciicast export', () => {
  it('when a shell ran with a pty, then the header has its size and the output and resizes are timed from the start', () => {
    const lines = render([
      at(0, 'session.start', { upstream: 'h:22', recording: 'required', clientMasking: false }),
      at(120, 'ssh.shell', { channel: 0, pty: { term: 'xterm-256color', cols: 100, rows: 30 } }),
      at(250, 'term.output', { channel: 0, text: '$ ' }),
      at(1500, 'term.input', { channel: 0, text: 'ls\r' }),
      at(1510, 'term.output', { channel: 0, text: 'ls\r\nfile\r\n$ ' }),
      at(2000, 'term.resize', { channel: 0, cols: 120, rows: 40 }),
      at(2100, 'session.end', { reason: 'client_disconnect', durationMs: 2100, bytesDown: 1, bytesUp: 1 }),
    ]);
    expect(lines[0]).toEqual({ version: 2, width: 100, height: 30, timestamp: Date.UTC(2026, 0, 1, 10) / 1000, env: { TERM: 'xterm-256color' }, title: 'vigil s' });
    expect(lines.slice(1)).toEqual([[0.25, 'o', '$ '], [1.51, 'o', 'ls\r\nfile\r\n$ '], [2, 'r', '120x40']]);
  });

  it('when a command ran without a pty, then its output is there at the default size', () => {
    const lines = render([
      at(0, 'session.start', { upstream: 'h:22', recording: 'required', clientMasking: false }),
      at(10, 'ssh.exec', { channel: 0, command: 'uptime' }),
      at(30, 'term.output', { channel: 0, text: 'up 3 days\n' }),
    ]);
    expect(lines[0]).toMatchObject({ width: 80, height: 24 });
    expect(lines[1]).toEqual([0.03, 'o', 'up 3 days\n']);
  });

  it('when a session has no terminal, then the file is a header alone', () => {
    expect(render([at(0, 'session.start', { upstream: 'h', recording: 'required', clientMasking: false })])).toHaveLength(1);
  });
});
