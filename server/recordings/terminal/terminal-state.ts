// Reading and comparing the full state of two VirtualTerminals: what the screen shows, and every
// hidden bit that changes what later output does (pending wrap, margins, saved cursors, tab stops,
// charsets, modes, the current attributes, the parser's half-read sequence...). The keyframer
// checks each keyframe with it (a fresh terminal fed the keyframe must equal the one it came
// from), and the tests compare seeks with full replays with it.
//
// Attributes are compared as they render: xterm keeps stale bits under a colour mode (an old RGB
// value under a palette colour), which no sequence can reproduce and nothing ever reads.
import { TERMINAL_SCROLLBACK, VirtualTerminal, type XtermAttrs, type XtermBuffer, type XtermCell, type XtermCharset, type XtermCore, type XtermLine } from './virtual-terminal.ts';

// Bits of xterm's attribute words (common/buffer/Constants.ts).
export const CM_MASK = 0x3000000;
export const CM_P16 = 0x1000000;
export const CM_P256 = 0x2000000;
export const CM_RGB = 0x3000000;
export const FLAGS_MASK = 0xfc000000;
export const FG = { INVERSE: 0x4000000, BOLD: 0x8000000, UNDERLINE: 0x10000000, BLINK: 0x20000000, INVISIBLE: 0x40000000, STRIKETHROUGH: 0x80000000 } as const;
export const BG = { ITALIC: 0x4000000, DIM: 0x8000000, HAS_EXTENDED: 0x10000000, PROTECTED: 0x20000000, OVERLINE: 0x40000000 } as const;
const EXT_STYLE_MASK = 0x1c000000;
const CONTENT_WIDTH_SHIFT = 22;
const IS_COMBINED = 0x200000;

/** A colour word without the bits its mode does not use. */
export function colorWord(w: number): number {
  const mode = w & CM_MASK;
  const color = mode === CM_RGB ? w & 0xffffff : mode ? w & 0xff : 0;
  return (mode | color) >>> 0;
}

/** fg as rendered: flags, colour mode, colour. */
export const normFg = (fg: number): number => ((fg & FLAGS_MASK) | colorWord(fg)) >>> 0;
/** bg as rendered, without HAS_EXTENDED (the extended attributes are compared on their own). */
export const normBg = (bg: number): number => ((bg & FLAGS_MASK & ~BG.HAS_EXTENDED) | colorWord(bg)) >>> 0;

/** Underline style and colour, and the hyperlink: what a cell's extended attributes hold. */
export interface Ext {
  style: number;
  color: number;
  /** `id\0uri` of an OSC 8 link ('' for none). */
  link: string;
  /** Its link's id inside the terminal it came from (to tell links apart, never compared). */
  urlId: number;
}

/**
 * A link whose entry xterm dropped (its lines were erased while it was still open; what is printed
 * after carries it): underlined like a link, pointing nowhere. No sequence makes one.
 */
export const DEAD_LINK = '\u0000\u0000dead';

export function linkKey(core: XtermCore, urlId: number): string {
  if (!urlId) return '';
  const data = core._oscLinkService.getLinkData(urlId);
  return data ? `${data.id ?? ''}\u0000${data.uri}` : DEAD_LINK;
}

/** A stored cell's extended attributes (null when it has none that show). */
export function cellExt(core: XtermCore, bg: number, extended: { urlId: number; _ext: number }): Ext | null {
  if (!(bg & BG.HAS_EXTENDED)) return null;
  const style = (extended._ext & EXT_STYLE_MASK) >>> 26;
  const link = linkKey(core, extended.urlId);
  if (!style && !link) return null;
  return { style, color: colorWord(extended._ext), link, urlId: extended.urlId };
}

/** The current attributes' extended part: kept even when not in use (an underline colour set before the underline). */
export function currentExt(core: XtermCore, attrs: XtermAttrs): Ext {
  const { _ext, urlId } = attrs.extended;
  return { style: (_ext & EXT_STYLE_MASK) >>> 26, color: colorWord(_ext), link: linkKey(core, urlId), urlId };
}

/**
 * Same extended attributes. A link xterm dropped matches any link: xterm drops a link once the
 * rows it was registered on are all erased, and a keyframe registers links again on the rows
 * that show them, so a replay may drop one at another time. The cells render the same (text
 * underlined); only where a click goes differs.
 */
export const sameExt = (a: Ext | null, b: Ext | null): boolean =>
  a === b || (!!a && !!b && a.style === b.style && a.color === b.color && (a.link === b.link || ((a.link === DEAD_LINK || b.link === DEAD_LINK) && !!a.link && !!b.link)));

/** A cell's content: '' empty; the width rides along because a wide char's tail is '' too. */
export function cellText(cell: XtermCell): string {
  const content = cell.content;
  if (content & IS_COMBINED) return cell.combinedData;
  const code = content & 0x1fffff;
  return code ? (code < 0x10000 ? String.fromCharCode(code) : String.fromCodePoint(code)) : '';
}

export const cellWidth = (cell: XtermCell): number => cell.content >>> CONTENT_WIDTH_SHIFT;

export function newCell(term: VirtualTerminal): XtermCell {
  return term.term.buffer.active.getNullCell() as unknown as XtermCell;
}

/** Tab stops left of the right margin (stops past it survive only as xterm internals, see keyframer.ts). */
export function tabStops(buffer: XtermBuffer, cols: number): number[] {
  const stops: number[] = [];
  for (let x = 0; x < cols; x++) if (buffer.tabs[x]) stops.push(x);
  return stops;
}

export function defaultTabStops(cols: number, width: number): number[] {
  const stops: number[] = [];
  for (let x = 0; x < cols; x += width) stops.push(x);
  return stops;
}

export interface CompareOptions {
  /**
   * Rows of the normal buffer compared, counted from its bottom (scrollback then screen); the
   * rest of the history only has to take the same room. Default: all of them.
   */
  rows?: number;
  /**
   * Whether the combined strings lines keep for overwritten cells count (default true). Only the
   * reflow of a change of width reads them: until then, two terminals that differ in them alone
   * show the same and go on the same.
   */
  staleStrings?: boolean;
}

/**
 * The first difference between two terminals' states, in words, or null when they are the same:
 * same screen and history (within `rows`), same cursor, and the same hidden state.
 */
export function compareTerminals(a: VirtualTerminal, b: VirtualTerminal, options: CompareOptions = {}): string | null {
  const ca = a.core;
  const cb = b.core;
  if (a.cols !== b.cols || a.rows !== b.rows) return `size ${a.cols}x${a.rows} vs ${b.cols}x${b.rows}`;
  if (a.activeBuffer !== b.activeBuffer) return `active buffer ${a.activeBuffer} vs ${b.activeBuffer}`;
  const alt = a.activeBuffer === 'alternate';
  const na = ca._bufferService.buffers.normal;
  const nb = cb._bufferService.buffers.normal;
  const rowsCompared = options.rows ?? TERMINAL_SCROLLBACK + a.rows;
  const stale = options.staleStrings ?? true;
  return (
    compareBuffer('normal', a, b, na, nb, rowsCompared, !alt, stale) ??
    (alt
      ? compareBuffer('alternate', a, b, ca._bufferService.buffers.alt, cb._bufferService.buffers.alt, a.rows, true, stale)
      : compareSaved('alternate', a, b, ca._bufferService.buffers.alt, cb._bufferService.buffers.alt)) ??
    compareGlobal(a, b)
  );
}

function compareBuffer(name: string, a: VirtualTerminal, b: VirtualTerminal, ba: XtermBuffer, bb: XtermBuffer, rows: number, active: boolean, staleStrings: boolean): string | null {
  const la = ba.lines.length;
  if (la !== bb.lines.length) return `${name}: ${la} vs ${bb.lines.length} lines`;
  if (ba.lines.maxLength !== bb.lines.maxLength) return `${name}: room for ${ba.lines.maxLength} vs ${bb.lines.maxLength} lines`;
  if (ba.ybase !== bb.ybase) return `${name}: ybase ${ba.ybase} vs ${bb.ybase}`;
  const first = Math.max(0, la - rows);
  const cellA = newCell(a);
  const cellB = newCell(b);
  // The first row's wrap flag says it continues a row the comparison (or the buffer) does not
  // hold; it shows only if the row is on the screen (a reverse index pushes it down).
  const firstWrapShows = first === 0 && ba.ybase === 0;
  for (let i = first; i < la; i++) {
    const lineA = ba.lines.get(i)!;
    const lineB = bb.lines.get(i)!;
    if ((i > first || firstWrapShows) && lineA.isWrapped !== lineB.isWrapped) return `${name} line ${i}: wrapped ${lineA.isWrapped} vs ${lineB.isWrapped}`;
    const diff = compareLine(a, b, lineA, lineB, cellA, cellB, staleStrings);
    if (diff) return `${name} line ${i} (${i - ba.ybase} on screen): ${diff}`;
  }
  // The normal buffer's cursor counts even behind the alternate screen: the serialize addon shows it.
  if ((active || name === 'normal') && (ba.x !== bb.x || ba.y !== bb.y)) return `${name}: cursor ${ba.x},${ba.y} vs ${bb.x},${bb.y}`;
  if (ba.scrollTop !== bb.scrollTop || ba.scrollBottom !== bb.scrollBottom) return `${name}: margins ${ba.scrollTop}-${ba.scrollBottom} vs ${bb.scrollTop}-${bb.scrollBottom}`;
  const ta = tabStops(ba, a.cols).join();
  const tb = tabStops(bb, b.cols).join();
  if (ta !== tb) return `${name}: tab stops ${ta} vs ${tb}`;
  return compareSaved(name, a, b, ba, bb);
}

function compareSaved(name: string, a: VirtualTerminal, b: VirtualTerminal, ba: XtermBuffer, bb: XtermBuffer): string | null {
  if (ba.lines.maxLength !== bb.lines.maxLength) return `${name}: room for ${ba.lines.maxLength} vs ${bb.lines.maxLength} lines`;
  // Past the margin (the hidden alternate buffer's, not pulled in when the terminal narrows) all
  // columns act the same until the terminal widens, where the keyframer checks the seek again.
  const xa = Math.min(ba.savedX, a.cols);
  const xb = Math.min(bb.savedX, b.cols);
  // The alternate buffer's row below its screen (it lost rows) is its bottom row until it grows again.
  const ya = name === 'normal' ? ba.savedY : Math.min(ba.savedY, ba.ybase + a.rows - 1);
  const yb = name === 'normal' ? bb.savedY : Math.min(bb.savedY, bb.ybase + b.rows - 1);
  if (xa !== xb || ya !== yb) return `${name}: saved cursor ${ba.savedX},${ba.savedY} vs ${bb.savedX},${bb.savedY}`;
  const sa = ba.savedCurAttrData;
  const sb = bb.savedCurAttrData;
  if (normFg(sa.fg) !== normFg(sb.fg) || normBg(sa.bg) !== normBg(sb.bg) || (sa.bg & BG.HAS_EXTENDED) !== (sb.bg & BG.HAS_EXTENDED)) {
    return `${name}: saved attributes ${sa.fg},${sa.bg} vs ${sb.fg},${sb.bg}`;
  }
  if (ba.savedCharset !== bb.savedCharset) return `${name}: saved charset ${charsetName(ba.savedCharset)} vs ${charsetName(bb.savedCharset)}`;
  return null;
}

function compareLine(a: VirtualTerminal, b: VirtualTerminal, lineA: XtermLine, lineB: XtermLine, cellA: XtermCell, cellB: XtermCell, staleStrings: boolean): string | null {
  // Lines can be longer than the screen: xterm does not cut the alternate screen's when it narrows.
  if (lineA.length !== lineB.length) return `${lineA.length} vs ${lineB.length} cells`;
  for (let x = 0; x < lineA.length; x++) {
    lineA.loadCell(x, cellA);
    lineB.loadCell(x, cellB);
    const textA = cellText(cellA);
    const textB = cellText(cellB);
    if (textA !== textB || cellWidth(cellA) !== cellWidth(cellB)) return `col ${x}: ${JSON.stringify(textA)}/${cellWidth(cellA)} vs ${JSON.stringify(textB)}/${cellWidth(cellB)}`;
    if (normFg(cellA.fg) !== normFg(cellB.fg) || normBg(cellA.bg) !== normBg(cellB.bg)) {
      return `col ${x} (${JSON.stringify(textA)}): attributes ${normFg(cellA.fg).toString(16)},${normBg(cellA.bg).toString(16)} vs ${normFg(cellB.fg).toString(16)},${normBg(cellB.bg).toString(16)}`;
    }
    const ea = cellExt(a.core, cellA.bg, cellA.extended);
    const eb = cellExt(b.core, cellB.bg, cellB.extended);
    if (!sameExt(ea, eb)) return `col ${x} (${JSON.stringify(textA)}): extended ${JSON.stringify(ea)} vs ${JSON.stringify(eb)}`;
  }
  if (!staleStrings) return null;
  const staleA = JSON.stringify(staleCombined(lineA, cellA));
  const staleB = JSON.stringify(staleCombined(lineB, cellB));
  if (staleA !== staleB) return `left-over combined strings ${staleA} vs ${staleB}`;
  return null;
}

/**
 * The first difference in what two terminals show, in words, or null: the size, the buffer shown,
 * the cursor (where, and whether hidden), and the cells of the rows on the screen, up to the right
 * margin (a line the alternate screen kept longer shows no more): text, width and attributes as
 * they render. The keyframer runs it after every event while seeks start from an approximate
 * keyframe, so the usual case (identical cell words) costs a comparison of typed arrays.
 */
export function compareScreens(a: VirtualTerminal, b: VirtualTerminal): string | null {
  if (a.cols !== b.cols || a.rows !== b.rows) return `size ${a.cols}x${a.rows} vs ${b.cols}x${b.rows}`;
  if (a.activeBuffer !== b.activeBuffer) return `active buffer ${a.activeBuffer} vs ${b.activeBuffer}`;
  const ba = a.core._bufferService.buffers.active;
  const bb = b.core._bufferService.buffers.active;
  if (ba.x !== bb.x || ba.y !== bb.y) return `cursor ${ba.x},${ba.y} vs ${bb.x},${bb.y}`;
  if (a.core.coreService.isCursorHidden !== b.core.coreService.isCursorHidden) return `cursor hidden ${a.core.coreService.isCursorHidden} vs ${b.core.coreService.isCursorHidden}`;
  const cols = a.cols;
  let cellA: XtermCell | null = null;
  let cellB: XtermCell | null = null;
  for (let y = 0; y < a.rows; y++) {
    const lineA = ba.lines.get(ba.ydisp + y);
    const lineB = bb.lines.get(bb.ydisp + y);
    if (!lineA || !lineB) {
      if (lineA !== lineB) return `row ${y}: missing in one`;
      continue;
    }
    const da = lineA._data;
    const db = lineB._data;
    for (let x = 0; x < cols; x++) {
      const i = x * 3;
      // Same words and neither a combined string nor extended attributes (kept outside the words): same cell.
      if (x < lineA.length && x < lineB.length && da[i] === db[i] && da[i + 1] === db[i + 1] && da[i + 2] === db[i + 2] && !(da[i] & IS_COMBINED) && !(da[i + 2] & BG.HAS_EXTENDED)) continue;
      cellA ??= newCell(a);
      cellB ??= newCell(b);
      const diff = compareShownCell(a, b, lineA, lineB, x, cellA, cellB);
      if (diff) return `row ${y}: ${diff}`;
    }
  }
  return null;
}

function compareShownCell(a: VirtualTerminal, b: VirtualTerminal, lineA: XtermLine, lineB: XtermLine, x: number, cellA: XtermCell, cellB: XtermCell): string | null {
  // Past a line's end (a line shorter than the screen: none that xterm makes) the cell shows as blank.
  const loaded = (line: XtermLine, cell: XtermCell) => (x < line.length ? line.loadCell(x, cell) : null);
  const ca = loaded(lineA, cellA);
  const cb = loaded(lineB, cellB);
  const textA = ca ? cellText(ca) : '';
  const textB = cb ? cellText(cb) : '';
  const widthA = ca ? cellWidth(ca) : 1;
  const widthB = cb ? cellWidth(cb) : 1;
  if (textA !== textB || widthA !== widthB) return `col ${x}: ${JSON.stringify(textA)}/${widthA} vs ${JSON.stringify(textB)}/${widthB}`;
  const fgA = ca ? normFg(ca.fg) : 0;
  const fgB = cb ? normFg(cb.fg) : 0;
  const bgA = ca ? normBg(ca.bg) : 0;
  const bgB = cb ? normBg(cb.bg) : 0;
  if (fgA !== fgB || bgA !== bgB) return `col ${x} (${JSON.stringify(textA)}): attributes ${fgA.toString(16)},${bgA.toString(16)} vs ${fgB.toString(16)},${bgB.toString(16)}`;
  const ea = ca ? cellExt(a.core, ca.bg, ca.extended) : null;
  const eb = cb ? cellExt(b.core, cb.bg, cb.extended) : null;
  if (!sameExt(ea, eb)) return `col ${x} (${JSON.stringify(textA)}): extended ${JSON.stringify(ea)} vs ${JSON.stringify(eb)}`;
  return null;
}

/**
 * Strings of combined characters a line still keeps for cells overwritten since: invisible, but
 * xterm's reflow copies them back into cells (BufferLine.copyCellsFrom), so they are state. (Those
 * past the line's end, which only a reflow makes and only a reflow reads, are left out: while
 * there are any, the keyframer checks a seek that crosses a change of width.)
 */
export function staleCombined(line: XtermLine, cell: XtermCell): [number, string][] {
  const stale: [number, string][] = [];
  for (const key of Object.keys(line._combined)) {
    const x = Number(key);
    if (x >= line.length) continue;
    line.loadCell(x, cell);
    if (!(cell.content & IS_COMBINED)) stale.push([x, line._combined[x]]);
  }
  return stale.sort((p, q) => p[0] - q[0]);
}

function compareGlobal(a: VirtualTerminal, b: VirtualTerminal): string | null {
  const ca = a.core;
  const cb = b.core;
  const attrA = ca._inputHandler._curAttrData;
  const attrB = cb._inputHandler._curAttrData;
  if (normFg(attrA.fg) !== normFg(attrB.fg) || normBg(attrA.bg) !== normBg(attrB.bg) || (attrA.bg & BG.HAS_EXTENDED) !== (attrB.bg & BG.HAS_EXTENDED)) {
    return `attributes ${attrA.fg.toString(16)},${attrA.bg.toString(16)} vs ${attrB.fg.toString(16)},${attrB.bg.toString(16)}`;
  }
  if (!sameExt(currentExt(ca, attrA), currentExt(cb, attrB))) return `extended attributes ${JSON.stringify(currentExt(ca, attrA))} vs ${JSON.stringify(currentExt(cb, attrB))}`;
  const csA = ca._charsetService;
  const csB = cb._charsetService;
  if (csA.glevel !== csB.glevel || csA.charset !== csB.charset) return `charset G${csA.glevel} ${charsetName(csA.charset)} vs G${csB.glevel} ${charsetName(csB.charset)}`;
  for (let g = 0; g < 4; g++) if (csA._charsets[g] !== csB._charsets[g]) return `charset G${g}: ${charsetName(csA._charsets[g])} vs ${charsetName(csB._charsets[g])}`;
  const modesA = JSON.stringify(modesOf(ca));
  const modesB = JSON.stringify(modesOf(cb));
  if (modesA !== modesB) return `modes ${modesA} vs ${modesB}`;
  const titleA = `${ca._inputHandler._windowTitle}\u0000${ca._inputHandler._iconName}`;
  const titleB = `${cb._inputHandler._windowTitle}\u0000${cb._inputHandler._iconName}`;
  if (titleA !== titleB) return `title ${JSON.stringify(titleA)} vs ${JSON.stringify(titleB)}`;
  const colorsA = JSON.stringify([...a.colors].sort((x, y) => x[0] - y[0]));
  const colorsB = JSON.stringify([...b.colors].sort((x, y) => x[0] - y[0]));
  if (colorsA !== colorsB) return `colours ${colorsA} vs ${colorsB}`;
  const parserA = JSON.stringify(parserOf(ca));
  const parserB = JSON.stringify(parserOf(cb));
  if (parserA !== parserB) return `parser ${parserA} vs ${parserB}`;
  return null;
}

/** Every mode a sequence can set, in one object. */
export function modesOf(core: XtermCore) {
  const dec = core.coreService.decPrivateModes;
  return {
    applicationCursorKeys: dec.applicationCursorKeys,
    applicationKeypad: dec.applicationKeypad,
    bracketedPasteMode: dec.bracketedPasteMode,
    cursorBlink: dec.cursorBlink ?? null,
    cursorStyle: dec.cursorStyle ?? null,
    origin: dec.origin,
    reverseWraparound: dec.reverseWraparound,
    sendFocus: dec.sendFocus,
    synchronizedOutput: dec.synchronizedOutput,
    wraparound: dec.wraparound,
    insertMode: core.coreService.modes.insertMode,
    cursorHidden: core.coreService.isCursorHidden,
    mouseProtocol: core.coreMouseService.activeProtocol,
    mouseEncoding: core.coreMouseService.activeEncoding,
    convertEol: core.optionsService.rawOptions.convertEol,
    optionCursorBlink: core.optionsService.rawOptions.cursorBlink,
  };
}

function parserOf(core: XtermCore) {
  const p = core._inputHandler._parser;
  const interim = core._inputHandler._stringDecoder._interim;
  if (p.currentState === 0) return { joinState: p.precedingJoinState, interim };
  return {
    state: p.currentState,
    joinState: p.precedingJoinState,
    interim,
    collect: p._collect,
    params: p._params.toArray(),
    osc: [p._oscParser._state, p._oscParser._id, p._oscParser._active.map((h) => h._data ?? null)],
    dcs: [p._dcsParser._ident, p._dcsParser._active.map((h) => h._data ?? null)],
  };
}

// Charsets are objects shared by every terminal of the bundle: named by the final byte that designates them.
let charsetNames: Map<XtermCharset, string> | null = null;

/** The designation final ('0' DEC line drawing, 'A' UK, 'B' US...) of one of xterm's charsets. */
export function charsetName(charset: XtermCharset): string {
  if (!charsetNames) {
    charsetNames = new Map([[undefined, 'B']]);
    const probe = new VirtualTerminal(2, 2, 0);
    for (const final of '0A4C5RQKYE6ZH7=') {
      probe.write(`\u001b(${final}`);
      const cs = probe.core._charsetService._charsets[0];
      if (!charsetNames.has(cs)) charsetNames.set(cs, final);
    }
    probe.dispose();
  }
  return charsetNames.get(charset) ?? '?';
}
