import { describe, expect, it } from 'vitest';
import { snippetRuns } from './snippet.ts';

describe('a snippet as runs of text', () => {
  it('when highlights are given, then the text is cut into marked and unmarked runs that join back to it', () => {
    const runs = snippetRuns({ text: 'select * from invoices where paid', highlights: [{ start: 14, end: 22 }, { start: 0, end: 6 }] });
    expect(runs).toEqual([
      { text: 'select', marked: true }, { text: ' * from ', marked: false }, { text: 'invoices', marked: true }, { text: ' where paid', marked: false },
    ]);
    expect(runs.map((r) => r.text).join('')).toBe('select * from invoices where paid');
  });

  it('when highlights overlap, touch or reach past the text, then they are merged and clipped', () => {
    expect(snippetRuns({ text: 'abcdef', highlights: [{ start: 1, end: 3 }, { start: 2, end: 4 }, { start: 4, end: 5 }, { start: 5, end: 99 }] }))
      .toEqual([{ text: 'a', marked: false }, { text: 'bcdef', marked: true }]);
  });

  it('when highlights are empty, negative or not numbers, then they are dropped', () => {
    const odd = [{ start: 3, end: 3 }, { start: -5, end: -1 }, { start: Number.NaN, end: 2 }, { start: 4, end: 2 }];
    expect(snippetRuns({ text: 'abcdef', highlights: odd })).toEqual([{ text: 'abcdef', marked: false }]);
    expect(snippetRuns({ text: '', highlights: [] })).toEqual([{ text: '', marked: false }]);
  });

  it('when an offset falls inside a surrogate pair, then the pair stays whole', () => {
    const runs = snippetRuns({ text: 'a😀b', highlights: [{ start: 2, end: 4 }] });
    expect(runs).toEqual([{ text: 'a', marked: false }, { text: '😀b', marked: true }]);
  });

  it('when the text holds markup, then it stays text in the runs', () => {
    const runs = snippetRuns({ text: '<img src=x onerror=alert(1)>', highlights: [{ start: 1, end: 4 }] });
    expect(runs.map((r) => r.text)).toEqual(['<', 'img', ' src=x onerror=alert(1)>']);
  });
});
