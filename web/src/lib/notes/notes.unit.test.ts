import { describe, expect, it } from 'vitest';
import type { AnnotationView, TimelineMarker } from '../../../../common/api-contract.ts';
import { MomentTimes, timeHeld } from './moment-times.ts';
import { mergeNotes, noteMarkers, withNoteMarkers, withTimes, type Note } from './note-list.ts';

const note = (id: number, seq: number, author = 'rita', text = `note ${id}`): AnnotationView =>
  ({ id, sessionId: 's1', seq, author, text, createdAt: '2025-01-02T09:00:00.000Z' });

describe('a recording\'s notes', () => {
  it('when the same note arrives twice (its answer and the hub\'s push), then it is listed once, in the order of the moments', () => {
    let list = mergeNotes([], [note(2, 30), note(1, 10)]);
    list = mergeNotes(list, [note(3, 10), note(2, 30)]);
    expect(list.map((n) => n.id)).toEqual([1, 3, 2]);
  });

  it('when a note comes again without its time, then the time learnt is kept', () => {
    let list = withTimes(mergeNotes([], [note(1, 10)]), new Map([[10, '2025-01-02T09:00:10.000Z']]));
    list = mergeNotes(list, [note(1, 10, 'rita', 'edited')]);
    expect(list[0]).toMatchObject({ text: 'edited', time: '2025-01-02T09:00:10.000Z' });
  });

  it('when notes are marked on the timeline, then each moment with a known time has one mark naming every note', () => {
    const list: Note[] = [
      { ...note(1, 10, 'rita', 'first'), time: 't10' }, { ...note(2, 10, 'remy', 'second'), time: 't10' }, { ...note(3, 20), time: null },
    ];
    expect(noteMarkers(list)).toEqual([{ seq: 10, kind: 'annotation', time: 't10', label: 'rita: first\nremy: second' }]);
  });

  it('when a note is very long, then its mark\'s label is cut', () => {
    const [m] = noteMarkers([{ ...note(1, 1, 'a', 'x'.repeat(1000)), time: 't' }]);
    expect(m.label.length).toBe(300);
    expect(m.label.endsWith('…')).toBe(true);
  });

  it('when the notes\' marks join the hub\'s, then they stand for the hub\'s own note marks, in seq order', () => {
    const hub: TimelineMarker[] = [
      { seq: 5, kind: 'command', time: 't5', label: 'ls' }, { seq: 7, kind: 'annotation', time: 't7', label: 'old' }, { seq: 30, kind: 'end', time: 't30', label: 'end' },
    ];
    const ours: TimelineMarker[] = [{ seq: 12, kind: 'annotation', time: 't12', label: 'new' }];
    expect(withNoteMarkers(hub, ours).map((m) => `${m.seq} ${m.kind}`)).toEqual(['5 command', '12 annotation', '30 end']);
    expect(withNoteMarkers(hub, [])).toBe(hub);
  });
});

describe('the time of a moment', () => {
  it('when the player holds the event, then its time is read there, else the hub is asked once', async () => {
    const asked: number[] = [];
    const times = new MomentTimes(async (seq) => {
      asked.push(seq);
      return `hub ${seq}`;
    }, (seq) => timeHeld([{ seq: 1, time: 'held 1' }, { seq: 2, time: 'held 2' }, { seq: 4, time: 'held 4' }], seq));
    expect(await times.timeOf(4)).toBe('held 4');
    expect(await Promise.all([times.timeOf(3), times.timeOf(3)])).toEqual(['hub 3', 'hub 3']);
    expect(await times.timeOf(3)).toBe('hub 3');
    expect(asked).toEqual([3]);
  });

  it('when many moments are asked at once, then only a few questions are out at a time, and a failed one is asked again later', async () => {
    let out = 0;
    let most = 0;
    let fail = true;
    const times = new MomentTimes(async (seq) => {
      out += 1;
      most = Math.max(most, out);
      await new Promise((r) => setTimeout(r, 1));
      out -= 1;
      if (seq === 7 && fail) throw new Error('hub down');
      return `t${seq}`;
    }, undefined, 2);
    const all = await Promise.all(Array.from({ length: 10 }, (_, i) => times.timeOf(i + 1)));
    expect(most).toBe(2);
    expect(all[6]).toBeNull();
    fail = false;
    expect(await times.timeOf(7)).toBe('t7');
  });

  it('when events are searched by seq, then a missing seq has no time', () => {
    expect(timeHeld([], 1)).toBeNull();
    expect(timeHeld([{ seq: 1, time: 'a' }, { seq: 3, time: 'c' }], 2)).toBeNull();
  });
});
