// A headless xterm.js terminal (@xterm/headless, the same core as the browser's @xterm/xterm) that
// parses synchronously and exposes the state a keyframe has to carry. Much of that state is not in
// xterm's public API (pending wrap, scroll margins, saved cursors, tab stops, charsets, the
// parser's half-read sequence...), so this module reads xterm's internals: every one it touches is
// declared in `XtermCore` below, for the pinned version (6.0.0). An upgrade that moves them fails
// the keyframe tests (server/recordings/terminal/*.unit.test.ts), loudly.
import serializeAddon from '@xterm/addon-serialize';
import xtermHeadless from '@xterm/headless';

// CommonJS packages: their named exports exist only on the default import at run time.
const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializeAddon;

/** Lines of history the terminals hold (xterm's default, and what the web player uses). */
export const TERMINAL_SCROLLBACK = 1000;

/** The sizes a recorded terminal may take (a hostile pty size must not allocate gigabytes). */
export const clampSize = (n: number): number => Math.max(2, Math.min(500, Math.floor(n) || 2));

// ---- xterm internals (6.0.0) -------------------------------------------------------------

export interface XtermCell {
  content: number;
  fg: number;
  bg: number;
  extended: { urlId: number; _ext: number };
  combinedData: string;
  getChars(): string;
  getWidth(): number;
}

export interface XtermLine {
  readonly length: number;
  isWrapped: boolean;
  loadCell(x: number, cell: XtermCell): XtermCell;
  /** Strings of combined cells by column, left behind when the cell is overwritten (reflow copies them back). */
  _combined: Record<number, string>;
  /** Three words a cell: content (code point or combined flag, width), fg, bg. */
  _data: Uint32Array;
}

export type XtermCharset = Record<string, string> | undefined;

export interface XtermBuffer {
  lines: { readonly length: number; readonly maxLength: number; get(i: number): XtermLine | undefined };
  ybase: number;
  ydisp: number;
  x: number;
  y: number;
  scrollTop: number;
  scrollBottom: number;
  tabs: Record<number, boolean | undefined>;
  savedX: number;
  savedY: number;
  savedCurAttrData: { fg: number; bg: number };
  savedCharset: XtermCharset;
}

export interface XtermAttrs {
  fg: number;
  bg: number;
  extended: { urlId: number; _ext: number };
}

export interface DecPrivateModes {
  applicationCursorKeys: boolean;
  applicationKeypad: boolean;
  bracketedPasteMode: boolean;
  cursorBlink: boolean | undefined;
  cursorStyle: 'block' | 'underline' | 'bar' | undefined;
  origin: boolean;
  reverseWraparound: boolean;
  sendFocus: boolean;
  synchronizedOutput: boolean;
  wraparound: boolean;
}

interface ColorRequest {
  type: number; // 0 report, 1 set, 2 restore
  index?: number; // 0-255 palette, 256 foreground, 257 background, 258 cursor
  color?: [number, number, number];
}

export interface XtermParser {
  currentState: number;
  precedingJoinState: number;
  _collect: number;
  _params: { toArray(): unknown[] };
  _oscParser: { _state: number; _id: number; _active: { _data?: string }[] };
  _dcsParser: { _ident: number; _active: { _data?: string }[] };
}

export interface XtermCore {
  _bufferService: { cols: number; rows: number; buffers: { normal: XtermBuffer; alt: XtermBuffer; active: XtermBuffer } };
  _inputHandler: {
    _curAttrData: XtermAttrs;
    _parser: XtermParser;
    _stringDecoder: { _interim: number };
    _windowTitle: string;
    _iconName: string;
    onColor(listener: (requests: ColorRequest[]) => void): { dispose(): void };
  };
  coreService: { decPrivateModes: DecPrivateModes; modes: { insertMode: boolean }; isCursorHidden: boolean };
  coreMouseService: { activeProtocol: string; activeEncoding: string };
  _charsetService: { charset: XtermCharset; glevel: number; _charsets: XtermCharset[] };
  _oscLinkService: { getLinkData(id: number): { id?: string; uri: string } | undefined };
  optionsService: { rawOptions: { convertEol: boolean; cursorBlink: boolean; scrollback: number; tabStopWidth: number } };
  unicodeService: { getStringCellWidth(s: string): number };
  _writeBuffer: { writeSync(data: string): void };
}

/** Parser states (xterm's ParserState); GROUND is "between sequences". */
export const PARSER_GROUND = 0;

/** Characters that start a sequence from any parser state (ESC and the C1 introducers). */
const INTRODUCERS = new Set([0x1b, 0x90, 0x98, 0x9b, 0x9d, 0x9e, 0x9f]);

/** A half-read sequence longer than this cannot go into a keyframe (an OSC that never ends). */
export const MAX_PENDING_INPUT = 64 * 1024;

// ---- the terminal -------------------------------------------------------------------------

export class VirtualTerminal {
  readonly term: InstanceType<typeof Terminal>;
  readonly core: XtermCore;
  private readonly serializer: InstanceType<typeof SerializeAddon>;
  private readonly colorListener: { dispose(): void };
  /**
   * Colours the session changed (OSC 4, 10, 11, 12), as `rgb:rr/gg/bb` by index (256-258:
   * foreground, background, cursor). xterm only reports them to a renderer, so they are kept here.
   */
  readonly colors = new Map<number, string>();
  /** Input parsed since the parser last rested between sequences (only while it is inside one). */
  private parserTail = '';
  private tailTooLong = false;

  constructor(cols: number, rows: number, readonly scrollback = TERMINAL_SCROLLBACK) {
    this.term = new Terminal({ cols: clampSize(cols), rows: clampSize(rows), scrollback, allowProposedApi: true, logLevel: 'off' });
    this.serializer = new SerializeAddon();
    this.term.loadAddon(this.serializer);
    this.core = (this.term as unknown as { _core: XtermCore })._core;
    this.colorListener = this.core._inputHandler.onColor((requests) => this.noteColors(requests));
  }

  get cols(): number {
    return this.term.cols;
  }

  get rows(): number {
    return this.term.rows;
  }

  /** Parses `text` now (xterm's own write() parses later, in batches). */
  write(text: string): void {
    if (!text) return;
    const held = this.core._inputHandler._stringDecoder._interim;
    this.core._writeBuffer.writeSync(text);
    const parser = this.core._inputHandler._parser;
    if (parser.currentState === PARSER_GROUND) {
      this.parserTail = '';
      this.tailTooLong = false;
      return;
    }
    // What the parser took this time: a surrogate held from before, the text, minus one it holds now.
    let parsed = held ? String.fromCharCode(held) + text : text;
    if (this.core._inputHandler._stringDecoder._interim) parsed = parsed.slice(0, -1);
    let i = parsed.length - 1;
    while (i >= 0 && !INTRODUCERS.has(parsed.charCodeAt(i))) i--;
    if (i >= 0) {
      this.parserTail = parsed.slice(i);
      this.tailTooLong = false;
    } else if (!this.tailTooLong) {
      this.parserTail += parsed;
    }
    if (this.parserTail.length > MAX_PENDING_INPUT) {
      this.parserTail = '';
      this.tailTooLong = true;
    }
  }

  /** Resizes at once (between writes); false when the size was already that. */
  resize(cols: number, rows: number): boolean {
    const c = clampSize(cols);
    const r = clampSize(rows);
    if (c === this.term.cols && r === this.term.rows) return false;
    this.term.resize(c, r);
    return true;
  }

  /**
   * The input that puts a fresh terminal's parser where this one is: the unfinished sequence, then
   * a high surrogate whose pair has not come yet. Null when it is too long to carry.
   */
  pendingInput(): string | null {
    if (this.tailTooLong) return null;
    const held = this.core._inputHandler._stringDecoder._interim;
    return this.parserTail + (held ? String.fromCharCode(held) : '');
  }

  /**
   * Lines the alternate buffer may hold: more than `rows` after the terminal lost rows while the
   * alternate screen was not shown (xterm keeps the larger capacity until that screen is left).
   */
  get altRows(): number {
    return this.core._bufferService.buffers.alt.lines.maxLength;
  }

  get activeBuffer(): 'normal' | 'alternate' {
    return this.term.buffer.active.type;
  }

  /** The cursor in the visible screen; x is `cols` while a wrap is pending. */
  cursor(): { x: number; y: number } {
    const buffer = this.core._bufferService.buffers.active;
    return { x: buffer.x, y: buffer.y };
  }

  /** The visible screen, a string per row, trailing blanks removed. */
  lines(): string[] {
    const buffer = this.term.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < this.term.rows; y++) out.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
    return out;
  }

  /** @xterm/addon-serialize's rendition (what the live mirror sends), with `scrollback` lines of history. */
  serialize(scrollback = 200): string {
    return this.serializer.serialize({ scrollback });
  }

  dispose(): void {
    this.colorListener.dispose();
    this.term.dispose();
  }

  private noteColors(requests: ColorRequest[]): void {
    for (const req of requests) {
      if (req.type === 1 && req.index !== undefined && req.color) {
        const hex = req.color.map((c) => (c & 255).toString(16).padStart(2, '0'));
        this.colors.set(req.index, `rgb:${hex.join('/')}`);
      } else if (req.type === 2) {
        if (req.index !== undefined) this.colors.delete(req.index);
        else for (const index of [...this.colors.keys()]) if (index < 256) this.colors.delete(index);
      }
    }
  }
}
