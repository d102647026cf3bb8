import { describe, expect, it } from 'vitest';
import { restore, type Keyframe } from './keyframer.ts';
import { drawScreen } from './screen-writer.ts';
import { compareTerminals } from './terminal-state.ts';
import { TERMINAL_SCROLLBACK, VirtualTerminal } from './virtual-terminal.ts';

const ESC = '\u001b';
const CSI = '\u001b[';

/** A terminal of that size fed `input`. */
function session(cols: number, rows: number, input: string | string[]): VirtualTerminal {
  const vt = new VirtualTerminal(cols, rows);
  for (const chunk of Array.isArray(input) ? input : [input]) vt.write(chunk);
  return vt;
}

/** A fresh terminal in the state of `vt`, through a keyframe's sequences. */
function copy(vt: VirtualTerminal): { copy: VirtualTerminal; problems: string[] } {
  const { prelude, screen, problems } = drawScreen(vt, TERMINAL_SCROLLBACK);
  const keyframe: Keyframe = { seq: 1, time: '', channel: 0, cols: vt.cols, rows: vt.rows, scrollback: vt.scrollback, altRows: vt.altRows, prelude, screen, outputBytes: 0 };
  return { copy: restore(keyframe), problems };
}

/** The copy equals the original, now and after both get `next` (which shows what is hidden). */
function expectSameAfter(vt: VirtualTerminal, next: string | string[]): void {
  const { copy: twin, problems } = copy(vt);
  expect(problems).toEqual([]);
  expect(compareTerminals(vt, twin)).toBeNull();
  for (const chunk of Array.isArray(next) ? next : [next]) {
    vt.write(chunk);
    twin.write(chunk);
  }
  expect(compareTerminals(vt, twin)).toBeNull();
  expect(twin.serialize(TERMINAL_SCROLLBACK)).toBe(vt.serialize(TERMINAL_SCROLLBACK));
  expect(twin.lines()).toEqual(vt.lines());
  expect(twin.cursor()).toEqual(vt.cursor());
  expect(twin.activeBuffer).toBe(vt.activeBuffer);
  vt.dispose();
  twin.dispose();
}

// Each case: a state, then output whose effect depends on what the state hides.
const cases: [string, number, number, string | string[], string | string[]][] = [
  ['a line that ends at the margin (pending wrap)', 10, 3, '0123456789', 'ab'],
  ['a wide char that ends at the margin', 10, 3, '12345678漢', 'x'],
  ['a wide char that did not fit (empty last cell, wrapped row)', 10, 3, '123456789漢', 'x'],
  ['rows that continue the row above, in the scrollback and on screen', 10, 3, 'abcdefghijklmnopqrstuvwxyz\r\nline\r\nmore lines here too', `${CSI}3;1H${CSI}2Kx`],
  ['a full scrollback', 12, 4, Array.from({ length: 1500 }, (_, i) => `line ${i} ${'x'.repeat(i % 30)}`).join('\r\n'), '\r\nnext\r\n'],
  ['colours of every kind and bold after dim', 40, 4, `${CSI}1;31mred${CSI}0m ${CSI}38;5;200mpink${CSI}48;2;1;2;3mbg${CSI}0m${CSI}2;1mdimbold${CSI}1mbold${CSI}22m ${CSI}9;53;3;7mx`, 'y'],
  ['underline styles and colours, one set before the underline', 40, 3, `${CSI}4:3;58;2;10;20;30mcurly${CSI}0m ${CSI}21mdouble${CSI}24m ${CSI}58;5;3mcol`, `${CSI}4mu`],
  ['erased cells with a background', 20, 4, `${CSI}44m${CSI}2Jblue${CSI}0m${CSI}2;3H${CSI}41m${CSI}5X`, `${CSI}Kx\r\n\r\n\r\n\r\n`],
  ['half of a wide char overwritten, with attributes', 10, 3, `${CSI}31m漢字${CSI}2G${CSI}4;32mx${CSI}1G${CSI}7m漢${CSI}2G${CSI}27mQ`, 'y'],
  ['the alternate screen over a shell', 20, 5, `shell$ ls\r\n${CSI}?1049h${CSI}H${CSI}2Jvim screen${CSI}3;5Hhere`, `${CSI}?1049lback`],
  ['a scroll region', 20, 6, `a\r\nb\r\nc${CSI}2;4r${CSI}4;1H`, '\nX\nY\nZ'],
  ['origin mode inside a region', 20, 6, `${CSI}2;5r${CSI}?6h${CSI}2;3Hin`, `X${CSI}1;1HY`],
  ['a saved cursor (DECSC) with attributes and charset', 20, 5, `abc${CSI}31m${ESC}(0${ESC}7${ESC}(B${CSI}0m${CSI}4;4Hfoo`, `${ESC}8qqbar`],
  ['a saved cursor on a line scrolled away', 10, 3, `top${ESC}7${'\r\nline'.repeat(5)}`, `${ESC}8X`],
  ['a saved cursor on a line trimmed by ED 3', 10, 3, `${Array.from({ length: 10 }, (_, i) => `l${i}`).join('\r\n')}${ESC}7\r\n\r\n${CSI}3J`, `${ESC}8X\n\n\n${ESC}8Y`],
  ['the alternate buffer saved cursor, not shown', 20, 5, `${CSI}?1049h${CSI}3;7H${ESC}7${CSI}?1049lback`, `${CSI}?1049h${ESC}8here`],
  ['charsets G0-G3, SO, and DEC line drawing', 20, 4, `${ESC}(0lqqk${ESC}(B ok ${ESC})0\u000eqq`, 'qqx\u000fqq'],
  ['a charset restored by DECRC', 20, 4, `${ESC})0\u000e${ESC}7${ESC}(B\u000fab${ESC}8`, 'qq\u000eqq'],
  ['attributes only DECRC gives', 20, 4, `${CSI}4m${ESC}7${CSI}24m${ESC}8${CSI}32m`, 'x'],
  ['tab stops of its own', 40, 3, `${CSI}3g${CSI}5G${ESC}H${CSI}12G${ESC}H\r`, '\ta\tb\tc'],
  ['modes', 20, 3, `${CSI}?1h${ESC}=${CSI}?2004h${CSI}?25l${CSI}?1000h${CSI}?1006h${CSI}?1004h${CSI}?45h${CSI}20h${CSI}5 q${CSI}?12h${CSI}?7labc${CSI}2D`, 'XYZZY'],
  ['insert mode', 20, 3, `hello${CSI}3G${CSI}4hXY`, 'Z'],
  ['REP after a print', 20, 3, 'ab', `${CSI}3b`],
  ['a combining mark in the next output', 20, 3, 'e', '\u0301x'],
  ['a zero-width character on its own', 20, 3, `e${CSI}m\u0301x`, '\u0301y'],
  ['emoji with modifiers and joiners', 30, 3, '👍🏽 👨‍👩‍👧 ❤️ 🇫🇷', 'x'],
  ['half an escape sequence', 20, 3, `ab${CSI}3`, '1mred'],
  ['half an OSC', 20, 3, `ab${ESC}]0;tit`, 'le\u0007x'],
  ['half a surrogate pair', 20, 3, 'a\ud83d', '\ude00b'],
  ['title, icon name and palette', 20, 3, `${ESC}]0;my title\u0007${ESC}]1;icon\u0007${ESC}]4;1;rgb:ff/00/00\u0007${ESC}]11;rgb:10/20/30\u0007x`, 'y'],
  ['links, one still open', 30, 3, `${ESC}]8;;http://x\u0007link${ESC}]8;;\u0007 no ${ESC}]8;id=a;http://y\u0007open`, 'more'],
  ['a protected cell', 20, 3, `${CSI}1"qprot${CSI}0"q free`, `${CSI}1;1H${CSI}?2K`],
  ['reverse wraparound', 10, 3, `${CSI}?45h0123456789ab`, '\b\b\b\bX'],
  ['the top row of the alternate screen continues a row', 10, 4, `${CSI}?1049h${CSI}4;1H${'x'.repeat(25)}`, `${CSI}H${ESC}M!`],
];

describe('keyframe screens', () => {
  for (const [name, cols, rows, state, next] of cases) {
    it(`when the terminal holds ${name}, then a fresh terminal fed its keyframe goes on the same`, () => {
      expectSameAfter(session(cols, rows, state), next);
    });
  }

  it('when the terminal lost rows while the alternate screen was hidden, then the keyframe keeps that screen larger', () => {
    const vt = session(20, 12, [`${CSI}?1049h${CSI}5;3H${ESC}7${CSI}?1049l`]);
    vt.resize(20, 6);
    expect(vt.altRows).toBe(12);
    expectSameAfter(vt, [`${CSI}?1049h`, Array.from({ length: 9 }, (_, i) => `\r\n${i}`).join(''), `${ESC}8@`]);
  });

  it('when the alternate screen narrowed, then the keyframe says it cannot keep the hidden end of its lines', () => {
    const vt = session(40, 4, `${CSI}?1049h${'x'.repeat(39)}`);
    vt.resize(20, 4);
    expect(copy(vt).problems[0]).toMatch(/alternate screen narrowed/);
  });

  it('when the cursor is past the last column of an empty cell, then the keyframe says it cannot carry it', () => {
    const vt = session(10, 3, `0123456789${CSI}2K`);
    expect(copy(vt).problems).toEqual(['cursor past the last column of an empty cell']);
  });

  it('when output is cut at any point, then a keyframe there and the rest of the output give the same terminal', () => {
    const output =
      `${ESC}]0;title\u0007${CSI}1;33mwarn${CSI}0m 漢字 e\u0301 👍🏽 ${ESC}]8;;http://x\u0007link${ESC}]8;;${ESC}\\ ` +
      `${ESC}(0lqk${ESC}(B \u009b7mc1\u009b0m ${ESC}P$qm${ESC}\\${CSI}?2004h${'0123456789'.repeat(2)}${CSI}4:3;58;5;9mU${CSI}m${CSI}2b\r\n` +
      `${ESC}7${CSI}2;3r${CSI}3;1H\nend${ESC}8 done\u0301`;
    for (let at = 0; at <= output.length; at++) {
      const vt = session(12, 4, output.slice(0, at));
      const { copy: twin, problems } = copy(vt);
      expect(problems, `cut at ${at}`).toEqual([]);
      vt.write(output.slice(at));
      twin.write(output.slice(at));
      expect(compareTerminals(vt, twin), `cut at ${at}`).toBeNull();
      expect(twin.serialize(), `cut at ${at}`).toBe(vt.serialize());
      vt.dispose();
      twin.dispose();
    }
  });
});
