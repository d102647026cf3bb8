import { describe, expect, it } from 'vitest';
import { loadShellParser } from './shell-reading.ts';
import { readShellLineOffThread } from './shell-reading-offload.ts';

describe('reading shell lines off the event loop', () => {
  it('when a line is long, then a worker reads it and the event loop keeps turning', async () => {
    await loadShellParser();
    const long = `${'echo word '.repeat(400)}; sudo rm -rf /srv/data`;
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const reading = await readShellLineOffThread(long);
    clearInterval(ticker);
    expect(reading.commands.map((c) => c.argv[0])).toContain('rm');
    // A pathological one too: the agent's thread is free meanwhile (the ticks), whatever its cost.
    const started = ticks;
    const ticker2 = setInterval(() => ticks++, 5);
    const hostile = await readShellLineOffThread('a;'.repeat(30_000));
    clearInterval(ticker2);
    expect(hostile.unknown.length).toBeGreaterThan(0);
    expect(ticks).toBeGreaterThan(started);
  }, 30_000);

  it('when a line is short, then it is read at once', async () => {
    const reading = await readShellLineOffThread("sh -c \"r''m -fr d\"");
    expect(reading.commands.at(-1)?.argv).toEqual(['rm', '-fr', 'd']);
  });
});
