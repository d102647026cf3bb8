import { describe, expect, it } from 'vitest';
import { StoreInputError } from '../store/session-filter.ts';
import { escapeLike, parseSearchText, snippetOf } from './search-text.ts';

describe('search text', () => {
  it('when words are typed, then each is a term; long ones match anywhere and short ones as words', () => {
    expect(parseSearchText('  DROP   table rm ')).toEqual({
      phrase: 'DROP table rm',
      terms: [
        { text: 'DROP', pattern: '%DROP%', match: 'substring' },
        { text: 'table', pattern: '%table%', match: 'substring' },
        { text: 'rm', pattern: '%rm%', match: 'word' },
      ],
    });
  });

  it('when words are quoted, then they are one term; repeats are dropped', () => {
    expect(parseSearchText('"drop  table" pay PAY "unclosed').terms.map((t) => t.text)).toEqual(['drop table', 'pay', 'unclosed']);
  });

  it('when the text holds LIKE wildcards or tsquery syntax, then they are plain characters', () => {
    expect(escapeLike('100%_\\x')).toBe('100\\%\\_\\\\x');
    expect(parseSearchText("a & !b | (c':*").terms.map((t) => [t.text, t.match])).toEqual([
      ['a', 'word'], ['&', 'substring'], ['!b', 'word'], ['|', 'substring'], ["(c':*", 'word'],
    ]);
  });

  it('when the text is empty, only punctuation, too long or has too many terms, then it is refused', () => {
    for (const bad of ['', '   ', '|| &&', 'x'.repeat(300), 'a b c d e f g h i']) {
      expect(() => parseSearchText(bad)).toThrow(StoreInputError);
    }
  });

  it('when a snippet is cut from a long text, then it shows the match with offsets and marks what was left out', () => {
    const text = `${'lorem ipsum '.repeat(20)}DROP   TABLE payments;\n${'dolor sit '.repeat(40)}`;
    const snippet = snippetOf(text, parseSearchText('drop table'));
    expect(snippet.text.startsWith('…')).toBe(true);
    expect(snippet.text.endsWith('…')).toBe(true);
    expect(snippet.highlights.map((h) => snippet.text.slice(h.start, h.end))).toEqual(['DROP', 'TABLE']);
  });

  it('when a short term is searched, then only whole words are marked', () => {
    const snippet = snippetOf('firmware: rm -rf /tmp', parseSearchText('rm'));
    expect(snippet).toEqual({ text: 'firmware: rm -rf /tmp', highlights: [{ start: 10, end: 12 }] });
  });
});
