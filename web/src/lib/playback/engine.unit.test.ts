import { describe, expect, it } from 'vitest';
import { newPlaybackState, PlaybackEngine, SCRUB_EVERY_MS } from './engine.ts';
import { end, failure, FakeHub, ManualTime, out, query, RecordingSink, recording, resize, result, settle, shell, start } from './fake-recording.ts';
import type { WindowLimits } from './event-window.ts';

/** An SSH session: start, a shell at 80x24, outputs a0..a4 a second apart from 1 s, a resize, a 30 s idle gap, b0, the end. */
function sshSession() {
  return recording('ssh', [
    start(0), shell(100, 80, 24),
    out(1000, 'a0 '), out(2000, 'a1 '), out(3000, 'a2 '), resize(3500, 100, 30), out(4000, 'a3 '), out(5000, 'a4 '),
    out(35_000, 'b0 '), end(36_000),
  ]);
}

async function loaded(hub: FakeHub, opts: { at?: { ms: number } | { seq: number }; limits?: WindowLimits } = {}) {
  const time = new ManualTime();
  const engine = new PlaybackEngine(newPlaybackState(), hub, { env: time, limits: opts.limits });
  const sink = new RecordingSink();
  engine.attach(sink);
  await engine.load(opts.at);
  await settle();
  return { engine, sink, time, s: engine.state };
}

describe('the playback engine', () => {
  it('when a terminal recording opens at a time, then the screen is drawn up to it and nothing recorded after it', async () => {
    const hub = new FakeHub(sshSession());
    const { s, sink } = await loaded(hub, { at: { ms: 2500 } });
    expect(s.status).toBe('ready');
    expect(s.isTerminal).toBe(true);
    expect(hub.asked).toContain('seek t=2.5');
    expect(sink.ops.slice(0, 2)).toEqual(['reset', 'resize 80x24']);
    expect(sink.screen()).toBe('a0 a1 ');
    expect(s.position).toBe(2500);
    expect(s.currentSeq).toBe(4);
    expect(s.duration).toBe(36_000);
  });

  it('when the hub has a keyframe, then the terminal is resized to it and its screen written before the events after it', async () => {
    const hub = new FakeHub(sshSession());
    hub.keyframes = [{ seq: 6, time: new Date(Date.parse(hub.stored[5].time)).toISOString(), channel: 0, cols: 100, rows: 30, altRows: 30, scrollback: 1000, prelude: '', screen: 'KEYFRAME ' }];
    const { sink } = await loaded(hub, { at: { seq: 8 } });
    expect(sink.ops).toEqual(['reset', 'resize 100x30', 'write KEYFRAME ', 'write a3 ', 'write a4 ']);
  });

  it('when /seek stops short of the moment, then the engine reads on with /events up to it', async () => {
    const hub = new FakeHub(sshSession());
    hub.seekLimit = 3;
    const { sink, s } = await loaded(hub, { at: { seq: 8 } });
    expect(hub.asked).toContain('events from=4 limit=5');
    expect(sink.screen()).toBe('a0 a1 a2 a3 a4 ');
    expect(s.currentSeq).toBe(8);
  });

  it('when playing, then each output is drawn at its recorded time, resizes included, faster at a higher speed', async () => {
    const hub = new FakeHub(sshSession());
    const { engine, sink, time, s } = await loaded(hub);
    engine.play();
    await time.advance(1500);
    expect(sink.screen()).toBe('a0 ');
    engine.setSpeed(2);
    await time.advance(1100); // 2.2 s of recording: past 3.5 s, not yet 4 s
    expect(sink.screen()).toBe('a0 a1 a2 ');
    expect(sink.ops.at(-1)).toBe('resize 100x30');
    expect(s.position).toBeGreaterThanOrEqual(3500);
    engine.pause();
    await time.advance(5000);
    expect(sink.screen()).toBe('a0 a1 a2 ');
  });

  it('when idle skipping is on, then a 30 s pause plays in about 2 s', async () => {
    const hub = new FakeHub(sshSession());
    const { engine, sink, time } = await loaded(hub, { at: { ms: 5000 } });
    engine.setSkipIdle(true);
    engine.play();
    await time.advance(2100);
    expect(sink.screen()).toContain('b0 ');
  });

  it('when playing past the end of a finished recording, then it stops there', async () => {
    const hub = new FakeHub(sshSession());
    const { engine, time, s } = await loaded(hub, { at: { ms: 35_500 } });
    engine.play();
    await time.advance(2000);
    expect(s.playing).toBe(false);
    expect(s.position).toBe(36_000);
  });

  it('when stepping, then exactly the next event is shown and playback pauses', async () => {
    const hub = new FakeHub(sshSession());
    const { engine, sink, s } = await loaded(hub, { at: { ms: 1500 } });
    await engine.step();
    expect(sink.screen()).toBe('a0 a1 ');
    expect(s.position).toBe(2000);
    expect(s.playing).toBe(false);
  });

  it('when seeking forward within what is held, then no question goes to the hub; backward, the terminal is redrawn', async () => {
    const hub = new FakeHub(sshSession());
    const { engine, sink, s } = await loaded(hub, { at: { ms: 1500 } });
    const seeks = () => hub.asked.filter((a) => a.startsWith('seek')).length;
    expect(seeks()).toBe(1);
    await engine.seekTo({ ms: 4500 });
    expect(seeks()).toBe(1);
    expect(sink.screen()).toBe('a0 a1 a2 a3 ');
    expect(s.position).toBe(4500);
    await engine.seekTo({ ms: 2200 });
    expect(seeks()).toBe(2);
    expect(sink.screen()).toBe('a0 a1 ');
  });

  it('while a seek waits for the hub, then the engine says so; an older seek answered late changes nothing', async () => {
    const hub = new FakeHub(sshSession());
    const { engine, sink, s } = await loaded(hub, { at: { ms: 1500 } });
    hub.hold = true;
    const first = engine.seekTo({ ms: 200 });
    await settle();
    expect(s.seeking).toBe(true);
    const second = engine.seekTo({ ms: 0 }); // backward from what is held: asks too
    hub.hold = false;
    hub.release();
    await Promise.all([first, second]);
    await settle();
    expect(s.seeking).toBe(false);
    expect(s.position).toBe(0);
    expect(sink.screen()).toBe('');
  });

  it('when the recording is long, then it is read page by page ahead of the playhead, never whole', async () => {
    const many = recording('ssh', [start(0), shell(1), ...Array.from({ length: 20_000 }, (_, i) => out(10 + i * 10, '.')), end(200_020)]);
    const hub = new FakeHub(many);
    const limits = { page: 500, lowWater: 800, keepBehind: 200 };
    const { engine, time, s } = await loaded(hub, { limits });
    engine.setSpeed(16);
    engine.play();
    let most = 0;
    for (let i = 0; i < 200; i++) {
      await time.advance(100);
      most = Math.max(most, engine.events().length);
    }
    expect(s.currentSeq).toBeGreaterThan(5000);
    expect(most).toBeLessThanOrEqual(limits.keepBehind + limits.lowWater + limits.page);
    expect(hub.asked.filter((a) => a.startsWith('events from=')).every((a) => a.endsWith('limit=500') || a.endsWith('limit=64'))).toBe(true);
  });

  it('when the scrubber is dragged, then the playhead follows at once and the hub is asked at most every so often; on release at once', async () => {
    const hub = new FakeHub(sshSession());
    const { engine, time, s, sink } = await loaded(hub, { at: { ms: 5000 } });
    const seeks = () => hub.asked.filter((a) => a.startsWith('seek')).length;
    const before = seeks();
    for (let ms = 4000; ms >= 1000; ms -= 100) {
      engine.scrub(ms);
      expect(s.position).toBe(ms);
      await time.advance(10);
    }
    expect(seeks() - before).toBeLessThanOrEqual(Math.ceil(310 / SCRUB_EVERY_MS) + 1);
    expect(seeks() - before).toBeGreaterThanOrEqual(1);
    await engine.release({ ms: 1200 });
    await settle();
    expect(s.scrubbing).toBe(false);
    expect(s.position).toBe(1200);
    expect(sink.screen()).toBe('a0 ');
  });

  it('when a live session is followed, then new events are shown as they are recorded; rewinding leaves the edge', async () => {
    const events = sshSession().slice(0, 7);
    const hub = new FakeHub(events.slice(0, 5), false);
    const { engine, time, s, sink } = await loaded(hub);
    expect(s.live).toBe(true);
    await engine.goLive();
    await settle();
    expect(s.following).toBe(true);
    expect(sink.screen()).toBe('a0 a1 a2 ');
    hub.stored.push(events[5], events[6]);
    await time.advance(1000);
    expect(sink.screen()).toBe('a0 a1 a2 a3 ');
    await engine.seekBy(-3000);
    expect(s.following).toBe(false);
    // Still playing from there, and back at the edge when it gets there.
    expect(s.playing).toBe(true);
    await time.advance(4000);
    expect(s.following).toBe(true);
  });

  it('when a PostgreSQL session is opened at a statement, then the statements before it are held too, and seeking among them asks nothing', async () => {
    const pg = recording('postgres', [start(0), query(1000, 'select 1'), result(1100, 2), query(2000, 'select nope'), failure(2100, 4), query(3000, 'select pg_sleep(2)'), result(5000, 6, 2_000_000), end(6000)]);
    const hub = new FakeHub(pg);
    const { engine, s } = await loaded(hub, { at: { seq: 6 } });
    expect(s.isTerminal).toBe(false);
    expect(s.currentSeq).toBe(6);
    expect(s.position).toBe(3000);
    expect(engine.events().map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const asked = hub.asked.length;
    await engine.seekTo({ seq: 2 });
    expect(s.currentSeq).toBe(2);
    expect(hub.asked.length).toBe(asked);
  });

  it('when the hub does not know the session (or hides it), then the engine says not found', async () => {
    const hub = new FakeHub(sshSession());
    hub.status = 404;
    const { s } = await loaded(hub);
    expect(s.status).toBe('not-found');
  });
});
