// Escape sequences that put a fresh terminal (xterm.js 6, same size and scrollback capacity) in the
// state of a VirtualTerminal: not only what it shows but what it will do with the next output.
// @xterm/addon-serialize redraws the cells, but drops the pending wrap, margins, saved cursors,
// tab stops, charsets, most modes, the parser's half-read sequence, underline styles and colours,
// links, palette changes, some attribute combinations (bold after dim) and empty cells that carry
// attributes. This writer carries them, cell for cell, in this order:
//
//  - (prelude, written while the terminal is still as tall as its alternate buffer's capacity:
//    the saved cursor of the alternate buffer when it is not shown; leaving that buffer resets its
//    capacity, so this comes before the terminal shrinks to its rows);
//  - window title, icon name, palette changes (OSC 1, 2, 4, 10-12);
//  - the normal buffer, all its lines: blank lines for history older than `historyRows` (so that
//    scrolling, trimming and DECRC's absolute rows behave the same), then history and screen, row
//    by row. A row that continues the one above is entered by printing past the end of that one,
//    as the program did, so xterm flags it as wrapped; empty cells with a background are erased
//    (ECH) with it, empty cells with other attributes (half of a wide char overwritten) are made
//    the way xterm makes them; combined strings xterm keeps for overwritten cells (its reflow copies
//    them back) are left behind the same way; a link xterm has dropped (its cells still show it)
//    is dropped the same way; the saved cursor is saved (DECSC) while its line is on the screen,
//    since xterm saves an absolute line;
//  - tab stops and margins; the alternate buffer, when shown (47h: 1049h would save the cursor
//    over the normal buffer's), the same way, with its own tab stops and margins;
//  - charsets (G0-G3, GL; DECRC when the session got its charset or attributes that way), modes,
//    DECOM, the cursor, the current attributes and link;
//  - last, a print xterm only remembers as state: the pending wrap (the cursor one past the last
//    column), and the width of the last printed character (REP, and a combining mark at the start
//    of the next output, use it), by printing that character again where it is;
//  - the input the parser is in the middle of (an unfinished sequence, half a surrogate pair), so
//    the next output finishes it as it did.
//
// What no sequence reproduces is reported in `problems`, and the keyframer waits for a later
// event: the cursor past the last column of an empty cell; lines of the alternate screen longer
// than the screen (xterm keeps them after the terminal narrows); DECOM with the cursor outside the
// margins; a charset in use that is neither the designated one nor the saved one; a wide char cut
// by the right margin; the last printed character not where it should be... State that no
// sequence reproduces but only a resize brings back (tab stops past the margin...) is left to
// the keyframer (hidden-state.ts).
import {
  BG,
  CM_MASK,
  CM_P16,
  CM_P256,
  CM_RGB,
  DEAD_LINK,
  FG,
  FLAGS_MASK,
  cellExt,
  cellText,
  cellWidth,
  charsetName,
  currentExt,
  defaultTabStops,
  modesOf,
  newCell,
  normBg,
  normFg,
  staleCombined,
  tabStops,
  type Ext,
} from './terminal-state.ts';
import type { VirtualTerminal, XtermBuffer, XtermCell, XtermCharset, XtermLine } from './virtual-terminal.ts';

const ESC = '\u001b';
const CSI = '\u001b[';

/** What one cell looks like, as the writer needs it. One object per distinct value (AttrTable). */
interface Attrs {
  fg: number; // normalized (normFg)
  bg: number; // normalized (normBg), PROTECTED included
  style: number; // underline style
  color: number; // underline colour word
  link: string; // `id\0uri`, '' for none
  /** The SGR part (fg, bg, style, colour), for comparing. */
  key: string;
}

/** Attributes by value, one object each: the writer compares them by identity, per cell. */
class AttrTable {
  private readonly plain = new Map<number, Map<number, Attrs>>();
  private readonly extended = new Map<string, Attrs>();
  readonly none = this.get(0, 0, 0, 0, '');

  get(fg: number, bg: number, style = 0, color = 0, link = ''): Attrs {
    if (!style && !color && !link) {
      let byBg = this.plain.get(fg);
      if (!byBg) this.plain.set(fg, (byBg = new Map()));
      let a = byBg.get(bg);
      if (!a) byBg.set(bg, (a = { fg, bg, style, color, link, key: `${fg},${bg},0,0` }));
      return a;
    }
    const key = `${fg},${bg},${style},${color}`;
    const full = `${key},${link}`;
    let a = this.extended.get(full);
    if (!a) this.extended.set(full, (a = { fg, bg, style, color, link, key }));
    return a;
  }

  /** What an erase with these attributes leaves (the background colour alone). */
  erase(a: Attrs): Attrs {
    return this.get(0, a.bg & ~FLAGS_MASK);
  }
}

const isErasable = (a: Attrs) => a.fg === 0 && (a.bg & FLAGS_MASK) === 0 && a.style === 0 && a.color === 0 && a.link === '';

type Kind = 'content' | 'zero' | 'tail' | 'empty' | 'bad';

interface Row {
  /** Combined strings left behind in overwritten cells (see staleCombined). */
  stale: [number, string][];
  kind: Kind[];
  text: string[];
  width: number[];
  attrs: Attrs[];
  wrapped: boolean;
}

/**
 * A keyframe's sequences. The terminal is created `altRows` tall (the alternate buffer's
 * capacity), `prelude` is written, the terminal is resized to its rows, then `screen` is written.
 */
export interface ScreenDraft {
  /** The saved cursor of the alternate buffer when it is not shown ('' when at its default). */
  prelude: string;
  screen: string;
  /** What could not be carried (empty when exact). */
  problems: string[];
}

/**
 * The sequences that recreate `vt` in a fresh terminal of its size and scrollback capacity,
 * keeping `historyRows` lines of history (older ones become blank lines).
 */
export function drawScreen(vt: VirtualTerminal, historyRows: number): ScreenDraft {
  return new ScreenWriter(vt).draw(historyRows);
}

class ScreenWriter {
  private out = '';
  readonly problems: string[] = [];
  private readonly cols: number;
  private readonly rows: number;
  private readonly cell: XtermCell;
  /** Attributes and link in force in the target terminal. */
  private readonly table = new AttrTable();
  private attrs: Attrs = this.table.none;
  private attrsKey = this.table.none.key;
  private link = '';
  /** The target's cursor column, and whether it got there by printing into the last column (a pending wrap). */
  private x = 0;
  private y = 0;
  private pending = false;
  /** The last thing written was a print (a following zero-width character would join it). */
  private printed = false;

  constructor(private readonly vt: VirtualTerminal) {
    this.rowFill = this.table.none;
    this.cols = vt.cols;
    this.rows = vt.rows;
    this.cell = newCell(vt);
  }

  draw(historyRows: number): ScreenDraft {
    const core = this.vt.core;
    const { normal, alt } = core._bufferService.buffers;
    const altActive = this.vt.activeBuffer === 'alternate';

    let prelude = '';
    if (!altActive && !savedIsDefault(alt)) {
      // Only by showing the alternate buffer can its cursor be saved, and leaving it (47l) resets
      // its capacity: so this is done while the terminal is still that tall, before it shrinks to
      // its rows. Home before leaving, so that the shrink only drops blank lines below the cursor.
      // (A saved row below that, left when the terminal lost rows: DECRC takes the bottom row.)
      const tall = Math.max(this.rows, alt.lines.maxLength);
      this.emit(`${CSI}?47h`);
      this.emit(`${CSI}${Math.min(alt.savedY, tall - 1) + 1}H`);
      this.y = Math.min(alt.savedY, tall - 1);
      this.savedCursor(alt, null);
      this.setAttrs(this.table.none);
      this.emit(`${CSI}H${CSI}?47l`);
      prelude = this.out;
      this.out = '';
      this.x = 0;
      this.y = 0;
      this.pending = false;
    }
    this.titleAndColors();
    this.canDropLinks = alt.lines.maxLength === this.rows;
    this.buffer(normal, Math.max(0, Math.floor(historyRows)), true);
    this.tabs(normal);
    this.margins(normal);
    if (altActive) {
      // The normal buffer's cursor while the alternate one is shown: the serialize addon reads it.
      this.placeCursor(normal);
      this.setAttrs(this.table.none);
      this.setLink('');
      this.canDropLinks = false;
      this.emit(`${CSI}?47h${CSI}H`);
      this.x = 0;
      this.y = 0;
      this.pending = false;
      this.buffer(alt, 0, false);
      this.tabs(alt);
      this.margins(alt);
    }
    this.finish(altActive ? alt : normal);
    return { prelude, screen: this.out, problems: this.problems };
  }

  // ---- output ----

  private emit(s: string): void {
    this.out += s;
    this.printed = false;
  }

  private print(s: string, width: number): void {
    this.out += s;
    this.printed = true;
    if (this.pending) {
      // The print wraps: the cursor goes to the next row (the caller knows whether that scrolls).
      this.x = 0;
      this.pending = false;
    }
    this.x += width;
    if (this.x >= this.cols) {
      this.x = this.cols;
      this.pending = true;
    }
  }

  /** Moves the cursor within the current row (CHA): any pending wrap is gone. */
  private column(x: number): void {
    if (this.x === x && !this.pending) return;
    if (!this.pending && x > this.x && x - this.x < 4) this.emit(x - this.x === 1 ? `${CSI}C` : `${CSI}${x - this.x}C`);
    else this.emit(x === 0 ? '\r' : `${CSI}${x + 1}G`);
    this.x = x;
    this.pending = false;
  }

  private setAttrs(a: Attrs, force = false): void {
    const key = a.key;
    if (key !== this.attrsKey || force) {
      this.emit(sgr(a));
      this.attrsKey = key;
    }
    this.attrs = a;
  }

  /** Whether a dropped link can be made now (see setLink). */
  private canDropLinks = false;

  private setLink(link: string): void {
    if (link === this.link) return;
    if (link === DEAD_LINK) {
      // A link xterm dropped: open one while the alternate buffer is shown and leave that buffer,
      // which clears its markers, and xterm drops the link (the cells printed after carry it).
      // Not while the alternate buffer is the one drawn, nor when leaving it would shrink it.
      if (this.canDropLinks) {
        this.emit(`${CSI}?47h${ESC}]8;;vigil:dropped\u0007${CSI}?47l`);
        this.link = DEAD_LINK;
        return;
      }
      // Else a link that goes nowhere: drawn the same (underlined).
      this.problems.push('a link xterm dropped');
      link = '\u0000vigil:dropped';
      if (link === this.link) return;
    }
    if (!link) this.emit(`${ESC}]8;;\u0007`);
    else {
      const [id, uri] = link.split('\u0000');
      this.emit(`${ESC}]8;${id ? `id=${id}` : ''};${uri}\u0007`);
    }
    this.link = link;
  }

  private use(a: Attrs): void {
    this.setAttrs(a);
    this.setLink(a.link);
  }

  // ---- title, icon name, colours ----

  private titleAndColors(): void {
    const ih = this.vt.core._inputHandler;
    if (ih._iconName) this.emit(`${ESC}]1;${ih._iconName}\u0007`);
    if (ih._windowTitle) this.emit(`${ESC}]2;${ih._windowTitle}\u0007`);
    const palette = [...this.vt.colors].filter(([i]) => i < 256).sort((a, b) => a[0] - b[0]);
    if (palette.length) this.emit(`${ESC}]4;${palette.map(([i, c]) => `${i};${c}`).join(';')}\u0007`);
    for (const [index, osc] of [[256, 10], [257, 11], [258, 12]]) {
      const color = this.vt.colors.get(index);
      if (color) this.emit(`${ESC}]${osc};${color}\u0007`);
    }
  }

  // ---- a buffer's lines ----

  /** Background of the empty cells of the row being painted, before it is painted. */
  private rowFill: Attrs;

  /** Draws every line of `buffer` from the top of a fresh screen (the cursor at its top left). */
  private buffer(buffer: XtermBuffer, historyRows: number, isNormal: boolean): void {
    const total = buffer.lines.length;
    if (total !== buffer.ybase + this.rows) this.problems.push(`${total} lines for ybase ${buffer.ybase}`);
    const first = isNormal ? Math.max(0, total - this.rows - historyRows) : 0;
    let savedRow = savedIsDefault(buffer) ? -1 : buffer.savedY;
    if (savedRow >= total) {
      // Saved on a line since trimmed (ED 3 after DECSC): xterm keeps the absolute line number.
      // Save it the same way: make that many lines, save, trim them, and start over from the top.
      if (isNormal && savedRow < this.rows + this.vt.scrollback) {
        this.emit('\n'.repeat(savedRow));
        this.y = Math.min(savedRow, this.rows - 1);
        this.savedCursor(buffer, null);
        this.setAttrs(this.table.none);
        this.emit(`${CSI}3J${CSI}H`);
        this.x = 0;
        this.y = 0;
        this.pending = false;
        savedRow = -1;
      } else if (!isNormal) {
        // Below the alternate screen (it lost rows): DECRC takes the bottom row all the same.
        savedRow = total - 1;
      } else {
        this.problems.push('saved cursor on a line that is gone');
        savedRow = -1;
      }
    }
    // A top row that continues one above it (shown once a reverse index pushes it down): in a full
    // alternate screen, wrap on the bottom row and scroll that row up to the top.
    let topDirty = false;
    if (first === 0 && buffer.ybase === 0 && buffer.lines.get(0)?.isWrapped) {
      if (!isNormal && buffer.lines.maxLength === this.rows && total === this.rows) {
        this.setAttrs(this.table.none);
        this.setLink('');
        this.emit(`${CSI}${this.rows};${this.cols}HXX${'\n'.repeat(this.rows - 1)}${CSI}H`);
        this.x = 0;
        this.y = 0;
        this.pending = false;
        topDirty = true;
      } else this.problems.push('the top row continues a row that is gone');
    }
    let prev: Row | null = null;
    for (let i = 0; i < total; i++) {
      const row = i < first ? null : this.readRow(buffer.lines.get(i)!);
      let done = new Set<number>();
      let dirty = new Set<number>(i === 0 && topDirty ? [0] : []);
      this.rowFill = this.table.none;
      if (i > 0 && row && prev && row.wrapped && i > first) ({ done, dirty } = this.wrapInto(prev, row));
      else if (i > 0) this.newline();
      if (row) {
        this.paintStale(row, dirty, done);
        this.paintCells(row, 0, this.cols, dirty, done);
      }
      this.rowFill = this.table.none;
      if (i === savedRow) this.savedCursor(buffer, row);
      prev = row;
    }
  }

  private readRow(line: XtermLine): Row {
    const cols = this.cols;
    if (line.length !== cols) this.problems.push(`a line of ${line.length} cells (the alternate screen narrowed)`);
    const core = this.vt.core;
    const row: Row = { stale: staleCombined(line, this.cell), kind: new Array(cols), text: new Array(cols), width: new Array(cols), attrs: new Array(cols), wrapped: line.isWrapped };
    const cell = this.cell;
    for (let x = 0; x < cols; x++) {
      line.loadCell(x, cell);
      const text = cellText(cell);
      const width = cellWidth(cell);
      const ext: Ext | null = cellExt(core, cell.bg, cell.extended);
      row.text[x] = text;
      row.width[x] = width;
      row.attrs[x] = ext ? this.table.get(normFg(cell.fg), normBg(cell.bg), ext.style, ext.color, ext.link) : this.table.get(normFg(cell.fg), normBg(cell.bg));
      if (text) row.kind[x] = width === 0 ? 'zero' : 'content';
      else if (width === 1) row.kind[x] = 'empty';
      else row.kind[x] = width === 0 && x > 0 && row.width[x - 1] === 2 && row.text[x - 1] ? 'tail' : 'bad';
    }
    for (let x = 0; x < cols; x++) {
      if (row.kind[x] === 'content' && row.width[x] === 2 && row.kind[x + 1] !== 'tail') row.kind[x] = 'bad';
      if (row.kind[x] === 'bad') this.problems.push(`cell ${x} cannot be drawn (${JSON.stringify(row.text[x])}, ${row.width[x]} wide)`);
    }
    return row;
  }

  /** CR LF to the next row, which a fresh screen or a scroll leaves blank (with the background in force: the default). */
  private newline(): void {
    const a = this.attrs;
    if (a.bg & CM_MASK) this.setAttrs(this.table.get(a.fg, a.bg & FLAGS_MASK, a.style, a.color, a.link));
    this.emit(this.x === 0 && !this.pending ? '\n' : '\r\n');
    this.x = 0;
    this.pending = false;
    if (this.y < this.rows - 1) this.y++;
  }

  /**
   * Goes into `row` by printing past the end of `prev`, as the program did, so that xterm flags it
   * as wrapped: its first character, or a filler painted over afterwards.
   */
  private wrapInto(prev: Row, row: Row): { done: Set<number>; dirty: Set<number> } {
    const fixPrev = this.ensurePending(prev);
    const done = new Set<number>();
    const dirty = new Set<number>();
    let fill = this.table.none;
    if (row.kind[0] === 'content') {
      const a = row.attrs[0];
      this.use(a);
      this.print(row.text[0], row.width[0]);
      done.add(0);
      fill = this.table.erase(a);
    } else {
      this.use(this.table.none);
      this.print('X', 1);
      dirty.add(0);
    }
    // A wrap on the bottom row scrolls: the new row is blank with the background of that print.
    if (this.y < this.rows - 1) this.y++;
    else this.rowFill = fill;
    if (fixPrev) {
      const x = this.x;
      const rowFill = this.rowFill;
      this.emit(`${CSI}A`);
      this.y--;
      this.rowFill = this.table.none;
      this.paintCells(prev, this.cols - 1, this.cols, new Set([this.cols - 1]));
      this.rowFill = rowFill;
      this.emit(`${CSI}B`);
      this.y++;
      this.column(x);
    }
    return { done, dirty };
  }

  /**
   * Gets the cursor past the last column of `row` (the current row) by printing its last character
   * again, or a filler when its last cell holds none: true when the filler has to be painted over.
   */
  private ensurePending(row: Row | null): boolean {
    if (this.pending) return false;
    const last = this.cols - 1;
    const kind = row?.kind[last];
    if (row && (kind === 'content' || kind === 'tail')) {
      const x = kind === 'tail' ? last - 1 : last;
      this.column(x);
      this.use(row.attrs[x]);
      this.print(row.text[x], row.width[x]);
      return false;
    }
    this.column(last);
    this.use(this.table.none);
    this.print('X', 1);
    return true;
  }

  /** Leaves the row's stale combined strings behind the same way: printed first, overwritten after. */
  private paintStale(row: Row, dirty: Set<number>, done: Set<number>): void {
    for (const [x, text] of row.stale) {
      const width = this.vt.core.unicodeService.getStringCellWidth(text);
      if (x + width > this.cols || width < 1) {
        this.problems.push(`left-over combined string ${JSON.stringify(text)} at ${x}`);
        continue;
      }
      this.column(x);
      this.setAttrs(this.table.none, this.printed);
      this.print(text, width);
      for (let c = Math.max(0, x - 1); c < x + width; c++) {
        done.delete(c);
        dirty.add(c);
      }
    }
  }

  /**
   * Makes columns [from, to) of the current row what `row` says. `dirty` columns may hold
   * something else than the row's fill; `done` ones are already right.
   */
  private paintCells(row: Row, from: number, to: number, dirty: Set<number>, done: Set<number> = new Set()): void {
    // Empty cells with attributes no erase gives are made the way xterm makes them, right to left:
    // each one spoils a cell or two on its left, painted again below.
    for (let x = to - 1; x >= from; x--) {
      if (row.kind[x] !== 'empty' || isErasable(row.attrs[x]) || done.has(x)) continue;
      this.attributedEmpty(x, row.attrs[x]);
      done.add(x);
      for (const spoilt of x === 0 ? [1] : [x - 1, x - 2]) {
        if (spoilt < 0 || done.has(spoilt)) continue;
        dirty.add(spoilt);
        from = Math.min(from, spoilt);
        to = Math.max(to, spoilt + 1);
      }
    }
    const fillKey = this.rowFill.key;
    // Characters side by side with the same attributes are printed in one go.
    let run = '';
    let runWidth = 0;
    const flush = () => {
      if (run) this.print(run, runWidth);
      run = '';
      runWidth = 0;
    };
    for (let x = from; x < to; x++) {
      if (done.has(x)) continue;
      const kind = row.kind[x];
      if (kind === 'content') {
        const a = row.attrs[x];
        if (run && a === this.attrs && a.link === this.link && this.x + runWidth === x) {
          run += row.text[x];
          runWidth += row.width[x];
          continue;
        }
        flush();
        this.column(x);
        this.use(a);
        run = row.text[x];
        runWidth = row.width[x];
      } else if (kind === 'zero') {
        flush();
        this.column(x);
        const printedBefore = this.printed;
        this.use(row.attrs[x]);
        // A zero-width character joins the character printed just before unless a sequence comes between.
        if (printedBefore && this.printed) this.setAttrs(row.attrs[x], true);
        this.print(row.text[x], 1);
      } else if (kind === 'empty' || kind === 'bad') {
        const target = kind === 'bad' ? this.rowFill : row.attrs[x];
        const key = target.key;
        if (key === fillKey && !dirty.has(x)) continue;
        let end = x + 1;
        const sameAsTarget = (c: number) => row.kind[c] === 'bad' || (row.kind[c] === 'empty' && isErasable(row.attrs[c]) && row.attrs[c].key === key);
        while (end < to && !done.has(end) && sameAsTarget(end)) end++;
        flush();
        this.column(x);
        this.setAttrs(target);
        this.emit(end - x === 1 ? `${CSI}X` : `${CSI}${end - x}X`);
        x = end - 1;
      }
    }
    flush();
  }

  /**
   * An empty cell with attributes `a` at column x (one where half a wide char was overwritten):
   * print a wide char on x-1 and x, then a narrow one on x-1 with `a`, and xterm empties the
   * orphaned half with those attributes. At column 0: a wide char on 0 and 1, a narrow one on 1.
   */
  private attributedEmpty(x: number, a: Attrs): void {
    const at = x === 0 ? 0 : x - 1;
    this.column(at);
    this.print('\u4e00', 2);
    this.column(x === 0 ? 1 : at);
    this.use(a);
    this.print(' ', 1);
  }

  /** DECSC with the saved position, attributes and charset of `buffer`, whose saved row is the cursor's. */
  private savedCursor(buffer: XtermBuffer, row: Row | null): void {
    const saved = buffer.savedCurAttrData;
    const fg = normFg(saved.fg);
    const bg = normBg(saved.bg);
    const hasExtended = (saved.bg & BG.HAS_EXTENDED) !== 0;
    const underlined = (fg & FG.UNDERLINE) !== 0;
    if (underlined && !hasExtended) this.problems.push('saved attributes underlined without extended attributes');
    let fix = false;
    // Past the last column: a pending wrap (or the hidden alternate buffer's, not pulled in when
    // the terminal narrowed: the same until it widens, where the keyframer checks the seek).
    if (buffer.savedX >= this.cols) fix = this.ensurePending(row);
    else this.column(buffer.savedX);
    this.setAttrs(this.table.get(fg, bg, underlined ? 1 : 0));
    // Extended attributes without an underline: a link is what gives them.
    const dummyLink = hasExtended && !underlined;
    this.setLink(dummyLink ? '\u0000vigil:saved-cursor' : '');
    const charset = charsetName(buffer.savedCharset);
    if (charset !== 'B') this.emit(`${ESC}(${charset}`);
    this.emit(`${ESC}7`);
    if (charset !== 'B') this.emit(`${ESC}(B`);
    if (dummyLink) this.setLink('');
    if (fix) {
      this.rowFill = this.table.none;
      this.paintCells(row ?? blankRow(this.cols, this.table.none), this.cols - 1, this.cols, new Set([this.cols - 1]));
    }
  }

  /** The cursor of `buffer` where it is, past the last column included (the normal buffer's, behind the alternate screen). */
  private placeCursor(buffer: XtermBuffer): void {
    this.emit(`${CSI}${buffer.y + 1};${Math.min(buffer.x, this.cols - 1) + 1}H`);
    this.x = Math.min(buffer.x, this.cols - 1);
    this.y = buffer.y;
    this.pending = false;
    if (buffer.x < this.cols) return;
    const row = this.readRow(buffer.lines.get(buffer.ybase + buffer.y)!);
    if (this.ensurePending(row)) this.problems.push('cursor past the last column of an empty cell');
  }

  // ---- tab stops, margins ----

  private tabs(buffer: XtermBuffer): void {
    const stops = tabStops(buffer, this.cols);
    if (stops.join() === defaultTabStops(this.cols, this.vt.core.optionsService.rawOptions.tabStopWidth).join()) return;
    this.emit(`${CSI}3g`);
    for (const x of stops) {
      this.column(x);
      this.emit(`${ESC}H`);
    }
  }

  private margins(buffer: XtermBuffer): void {
    if (buffer.scrollTop === 0 && buffer.scrollBottom === this.rows - 1) return;
    this.emit(`${CSI}${buffer.scrollTop + 1};${buffer.scrollBottom + 1}r`);
    this.x = 0;
    this.y = 0;
    this.pending = false;
  }

  // ---- charsets, modes, cursor, attributes, the last print, the parser ----

  private finish(buffer: XtermBuffer): void {
    const core = this.vt.core;
    const parser = core._inputHandler._parser;
    const cs = core._charsetService;
    const modes = modesOf(core);
    const joinWidth = (parser.precedingJoinState >> 1) & 3;
    const pendingWrap = buffer.x >= this.cols;
    const line = buffer.lines.get(buffer.ybase + buffer.y)!;
    const cur = core._inputHandler._curAttrData;
    const ext = currentExt(core, cur);
    const final = this.table.get(normFg(cur.fg), normBg(cur.bg), ext.style, ext.color, ext.link);
    // What a print with the current attributes stores (an underline colour alone is not stored).
    const printedExt = cellExt(core, cur.bg, cur.extended);
    const printedKey = this.table.get(final.fg, final.bg, printedExt?.style ?? 0, printedExt?.color ?? 0).key;
    // Attributes no SGR gives (the extended flag or the underline out of step with the underline
    // style): only DECRC makes them, restoring the saved colours and flags over the rest.
    const outOfStep = ((cur.bg & BG.HAS_EXTENDED) !== 0) !== (ext.style !== 0 || ext.urlId !== 0) || (final.fg & FG.UNDERLINE ? 1 : 0) !== (final.style ? 1 : 0);
    const saved = buffer.savedCurAttrData;
    // From the saved ones, SGRs that leave the extended flag alone get the rest right.
    const restoreAttrs = outOfStep && (saved.fg & FG.UNDERLINE) === (cur.fg & FG.UNDERLINE) && (saved.bg & BG.HAS_EXTENDED) === (cur.bg & BG.HAS_EXTENDED);
    if (outOfStep && !restoreAttrs) this.problems.push('current attributes out of step');

    // Charsets first: restoring one the way the session did (DECRC) moves the cursor too.
    this.charsets(cs, buffer, restoreAttrs ? final : null);
    this.modes(modes);
    if (modes.origin) this.emit(`${CSI}?6h`);
    const top = modes.origin ? buffer.scrollTop : 0;
    if (modes.origin && (buffer.y < buffer.scrollTop || buffer.y > buffer.scrollBottom)) this.problems.push('origin mode with the cursor outside the margins');
    const moveTo = (x: number) => {
      this.emit(`${CSI}${buffer.y - top + 1};${x + 1}H`);
      this.x = x;
      this.y = buffer.y;
      this.pending = false;
    };
    // The cell the last print wrote, to print again (pending wrap, or the width the parser remembers).
    const reprint = (x: number): Attrs | null => {
      line.loadCell(x, this.cell);
      const text = cellText(this.cell);
      if (!text || cellWidth(this.cell) === 0) return null;
      const cellExtended = cellExt(core, this.cell.bg, this.cell.extended);
      return this.table.get(normFg(this.cell.fg), normBg(this.cell.bg), cellExtended?.style ?? 0, cellExtended?.color ?? 0, cellExtended?.link ?? '');
    };
    /** Prints the cell at x again, through the current charset; false when no input gives it. */
    const printAgain = (x: number, width: number): boolean => {
      line.loadCell(x, this.cell);
      const source = unmapCharset(this.cell.getChars(), cs.charset);
      if (source === null) return false;
      // In insert mode the print pushes the rest of the row right: pull it left first.
      if (modes.insertMode) this.emit(width === 1 ? `${CSI}P` : `${CSI}${width}P`);
      this.print(source, width);
      return true;
    };
    const lastCellX = () => {
      line.loadCell(this.cols - 1, this.cell);
      return cellWidth(this.cell) === 0 && !cellText(this.cell) ? this.cols - 2 : this.cols - 1;
    };

    if (parser.precedingJoinState === 0) {
      if (pendingWrap) {
        const x = lastCellX();
        const a = reprint(x);
        moveTo(x);
        if (!a) this.problems.push('cursor past the last column of an empty cell');
        else if (restoreAttrs && (a.key !== printedKey || a.link !== final.link)) this.problems.push('current attributes out of step with a pending wrap');
        else {
          if (!restoreAttrs) this.use(a);
          if (!printAgain(x, cellWidth(this.cell))) this.problems.push('the last character is not in the current charset');
        }
      } else moveTo(buffer.x);
      this.setLink(final.link);
      // Ends with a sequence, as the session did: the parser remembers no last character.
      if (!restoreAttrs) this.setAttrs(final, true);
      else this.emit(`${CSI}?0h`); // (DECSET 0: a sequence that does nothing)
    } else {
      this.setLink(final.link);
      if (!restoreAttrs) this.setAttrs(final, true);
      const x = buffer.x - joinWidth;
      const a = x >= 0 ? reprint(x) : null;
      if (!a || cellWidth(this.cell) !== joinWidth || a.key !== printedKey || a.link !== (printedExt?.link ?? '')) {
        this.problems.push('the last printed character is not before the cursor');
        moveTo(buffer.x);
      } else {
        moveTo(x);
        if (!printAgain(x, joinWidth)) {
          this.problems.push('the last printed character is not in the current charset');
          moveTo(buffer.x);
        }
      }
    }
    const input = this.vt.pendingInput();
    if (input === null) this.problems.push('an unfinished sequence too long to carry');
    else this.out += input;
  }

  /**
   * Designates the charsets. DECRC, the only thing that makes the charset in use differ from the
   * designated one (it restores the saved cursor's), is used the same way when needed, and to
   * give attributes only it makes (`restore`: set the rest of them first; it keeps those).
   */
  private charsets(cs: { charset: XtermCharset; glevel: number; _charsets: XtermCharset[] }, buffer: XtermBuffer, restore: Attrs | null): void {
    for (let g = 0; g < 4; g++) {
      const name = charsetName(cs._charsets[g]);
      if (name === '?') this.problems.push(`unknown charset in G${g}`);
      else if (name !== 'B') this.emit(`${ESC}${'()*+'[g]}${name}`);
    }
    if (cs.glevel === 1) this.emit('\u000e');
    else if (cs.glevel > 1) this.emit(`${ESC}${cs.glevel === 2 ? 'n' : 'o'}`);
    const charsetByRestore = cs.charset !== cs._charsets[cs.glevel];
    if (!charsetByRestore && !restore) return;
    if (charsetByRestore && cs.charset !== buffer.savedCharset) {
      this.problems.push('active charset differs from the designated one and the saved one');
      if (!restore) return;
    }
    if (restore) {
      // The extended part (underline style and colour, link) stays through DECRC: set it now
      // (the colours and flags these SGRs set, DECRC replaces).
      const ul = restore.color & CM_MASK;
      const p: (number | string)[] = [0];
      if (restore.style) p.push(`4:${restore.style}`);
      if (ul === CM_RGB) p.push(58, 2, (restore.color >>> 16) & 255, (restore.color >>> 8) & 255, restore.color & 255);
      else if (ul) p.push(58, 5, restore.color & 255);
      this.emit(`${CSI}${p.join(';')}m`);
      this.setLink(restore.link);
    }
    this.emit(`${ESC}8`);
    this.pending = false;
    this.attrsKey = restore ? restore.key : '';
    if (restore) this.attrs = restore;
    if (restore) this.emit(sgrFrom(normFg(buffer.savedCurAttrData.fg), normBg(buffer.savedCurAttrData.bg), restore));
    // DECRC took the saved charset: take the designated one again unless that was the point.
    if (!charsetByRestore) this.emit(cs.glevel === 0 ? '\u000f' : cs.glevel === 1 ? '\u000e' : `${ESC}${cs.glevel === 2 ? 'n' : 'o'}`);
  }

  private modes(m: ReturnType<typeof modesOf>): void {
    const set: number[] = [];
    if (m.applicationCursorKeys) set.push(1);
    if (m.reverseWraparound) set.push(45);
    if (m.applicationKeypad) set.push(66);
    if (m.sendFocus) set.push(1004);
    if (m.bracketedPasteMode) set.push(2004);
    if (m.synchronizedOutput) set.push(2026);
    if (m.optionCursorBlink) set.push(12);
    const mouse: Record<string, number> = { X10: 9, VT200: 1000, DRAG: 1002, ANY: 1003 };
    if (mouse[m.mouseProtocol]) set.push(mouse[m.mouseProtocol]);
    if (m.mouseEncoding === 'SGR') set.push(1006);
    else if (m.mouseEncoding === 'SGR_PIXELS') set.push(1016);
    if (set.length) this.emit(`${CSI}?${set.join(';')}h`);
    const reset: number[] = [];
    if (!m.wraparound) reset.push(7);
    if (m.cursorHidden) reset.push(25);
    if (reset.length) this.emit(`${CSI}?${reset.join(';')}l`);
    if (m.insertMode || m.convertEol) this.emit(`${CSI}${[m.insertMode ? 4 : 0, m.convertEol ? 20 : 0].filter(Boolean).join(';')}h`);
    if (m.cursorStyle) {
      const base = { block: 1, underline: 3, bar: 5 }[m.cursorStyle];
      this.emit(`${CSI}${m.cursorBlink ? base : base + 1} q`);
    }
  }
}

const savedIsDefault = (b: XtermBuffer) =>
  b.savedX === 0 && b.savedY === 0 && normFg(b.savedCurAttrData.fg) === 0 && normBg(b.savedCurAttrData.bg) === 0 && !(b.savedCurAttrData.bg & BG.HAS_EXTENDED) && b.savedCharset === undefined;

function blankRow(cols: number, none: Attrs): Row {
  return {
    stale: [],
    kind: new Array(cols).fill('empty'),
    text: new Array(cols).fill(''),
    width: new Array(cols).fill(1),
    attrs: new Array(cols).fill(none),
    wrapped: false,
  };
}

/** SGR (after a reset) that gives exactly these attributes; DECSCA for the protection flag. */
function sgr(a: Attrs): string {
  const p: (number | string)[] = [0];
  if (a.fg & FG.BOLD) p.push(1);
  if (a.bg & BG.DIM) p.push(2);
  if (a.bg & BG.ITALIC) p.push(3);
  if (a.fg & FG.UNDERLINE) p.push(a.style > 1 ? `4:${a.style}` : 4);
  if (a.fg & FG.BLINK) p.push(5);
  if (a.fg & FG.INVERSE) p.push(7);
  if (a.fg & FG.INVISIBLE) p.push(8);
  if (a.fg & FG.STRIKETHROUGH) p.push(9);
  if (a.bg & BG.OVERLINE) p.push(53);
  color(p, a.fg, 30, 90, 38);
  color(p, a.bg, 40, 100, 48);
  const ul = a.color & CM_MASK;
  if (ul === CM_RGB) p.push(58, 2, (a.color >>> 16) & 255, (a.color >>> 8) & 255, a.color & 255);
  else if (ul) p.push(58, 5, a.color & 255);
  return `${CSI}${p.length === 1 ? '' : p.join(';')}m${a.bg & BG.PROTECTED ? `${CSI}1"q` : ''}`;
}

/**
 * SGR (and DECSCA) from attributes fg/bg to those of `to` with no parameter that recomputes the
 * extended flag (no 0, 4, 21, 24, 59): colours and the other flags only.
 */
function sgrFrom(fg: number, bg: number, to: Attrs): string {
  const p: (number | string)[] = [];
  const has = (word: number, flag: number) => (word & flag) !== 0;
  const boldDim = has(fg, FG.BOLD) !== has(to.fg, FG.BOLD) || has(bg, BG.DIM) !== has(to.bg, BG.DIM);
  if (boldDim) {
    p.push(22);
    if (has(to.fg, FG.BOLD)) p.push(1);
    if (has(to.bg, BG.DIM)) p.push(2);
  }
  const flag = (from: number, target: number, bit: number, on: number, off: number) => {
    if (has(from, bit) !== has(target, bit)) p.push(has(target, bit) ? on : off);
  };
  flag(bg, to.bg, BG.ITALIC, 3, 23);
  flag(fg, to.fg, FG.BLINK, 5, 25);
  flag(fg, to.fg, FG.INVERSE, 7, 27);
  flag(fg, to.fg, FG.INVISIBLE, 8, 28);
  flag(fg, to.fg, FG.STRIKETHROUGH, 9, 29);
  flag(bg, to.bg, BG.OVERLINE, 53, 55);
  if ((fg & (CM_MASK | 0xffffff)) !== (to.fg & (CM_MASK | 0xffffff))) {
    if (to.fg & CM_MASK) color(p, to.fg, 30, 90, 38);
    else p.push(39);
  }
  if ((bg & (CM_MASK | 0xffffff)) !== (to.bg & (CM_MASK | 0xffffff))) {
    if (to.bg & CM_MASK) color(p, to.bg, 40, 100, 48);
    else p.push(49);
  }
  let out = p.length ? `${CSI}${p.join(';')}m` : '';
  if (has(bg, BG.PROTECTED) !== has(to.bg, BG.PROTECTED)) out += `${CSI}${has(to.bg, BG.PROTECTED) ? 1 : 0}"q`;
  return out;
}

function color(p: (number | string)[], word: number, base: number, bright: number, extended: number): void {
  const mode = word & CM_MASK;
  if (mode === CM_P16) {
    const c = word & 15;
    p.push(c < 8 ? base + c : bright + c - 8);
  } else if (mode === CM_P256) p.push(extended, 5, word & 255);
  else if (mode === CM_RGB) p.push(extended, 2, (word >>> 16) & 255, (word >>> 8) & 255, word & 255);
}

/** The input that prints `text` through `charset` (which maps some ASCII to other characters); null when none does. */
function unmapCharset(text: string, charset: XtermCharset): string | null {
  if (!charset) return text;
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 127 || charset[ch] === undefined) {
      out += ch;
      continue;
    }
    const source = Object.keys(charset).find((k) => charset[k] === ch && k.charCodeAt(0) < 127);
    if (source === undefined) return null;
    out += source;
  }
  return out;
}
