// Long, realistic recorded SSH sessions for the keyframe tests, from a seed (same seed, same
// session): shell prompts, typing and command output, full-screen programs in the alternate
// screen (an editor, a pager, a process monitor), apt-style progress bars in a scroll region,
// colours of every kind, wide and combining characters, lines that end exactly at the margin,
// charsets, tab stops, modes, links, titles, palette changes, binary garbage, resizes in the middle
// of anything, and output cut into chunks at any point: inside escape sequences, between a
// character and its combining mark, between the halves of a surrogate pair.
import type { VigilEvent } from '../../../common/events/index.ts';
import { prng } from '../../../common/prng.ts';

export interface GeneratedSession {
  events: VigilEvent[];
  /** Output of the terminal channel, in UTF-16 units. */
  outputLength: number;
}

export interface SessionOptions {
  /** Roughly how much terminal output (UTF-16 units). */
  output: number;
  cols?: number;
  rows?: number;
  /** OSC 8 hyperlinks (default true). */
  links?: boolean;
}

const ESC = '\u001b';
const CSI = '\u001b[';
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'kappa', 'lambda', 'error', 'warning', 'info', 'select', 'from', 'where', 'the', 'a', 'of', 'and', 'to', 'Ünïcödé', 'naïve', 'café', 'straße'];
const WIDE = ['漢字', '日本語', '中文', '한국어', 'ｆｕｌｌ', '😀', '🚀', '👍🏽', '❤️', '👨‍👩‍👧', '🇫🇷', 'e\u0301', 'n\u0303', 'a\u0308\u0304'];
const FILES = ['README.md', 'src', 'package.json', 'node_modules', '日本語.txt', 'build.sh', 'notes 📝.txt', 'Makefile', 'a-very-long-file-name-that-goes-on-and-on.tar.gz', 'lib', 'test'];

class Session {
  readonly events: VigilEvent[] = [];
  outputLength = 0;
  private seq = 0;
  private timeMs = Date.UTC(2026, 0, 1, 10, 0, 0);
  cols: number;
  rows: number;
  alt = false;

  links = true;

  constructor(readonly r: () => number, cols: number, rows: number) {
    this.cols = cols;
    this.rows = rows;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.r() * items.length)];
  }

  chance(p: number): boolean {
    return this.r() < p;
  }

  event(type: string, data: unknown, advanceMs = this.int(0, 40)): void {
    this.timeMs += advanceMs;
    this.events.push({
      v: 1,
      id: `e${this.seq + 1}`,
      sessionId: 'generated',
      seq: ++this.seq,
      time: new Date(this.timeMs).toISOString(),
      user: 'alice',
      target: 'box',
      protocol: 'ssh',
      connection: { client: '10.0.0.1:5000', agent: 'agent-1' },
      type,
      data,
    } as unknown as VigilEvent);
  }

  /** Output cut into chunks anywhere, with now and then a resize between two chunks. */
  output(text: string, channel = 0): void {
    let i = 0;
    while (i < text.length) {
      const size = this.chance(0.1) ? this.int(1, 4) : this.chance(0.85) ? this.int(5, 300) : this.int(300, 6000);
      this.event('term.output', { channel, text: text.slice(i, i + size) });
      if (channel === 0) this.outputLength += Math.min(size, text.length - i);
      i += size;
      if (channel === 0 && this.chance(0.004)) this.resize();
    }
  }

  resize(): void {
    this.cols = this.chance(0.2) ? this.cols : this.int(12, 140);
    this.rows = this.chance(0.2) ? this.rows : this.int(4, 50);
    this.event('term.resize', { channel: 0, cols: this.cols, rows: this.rows });
  }

  /** Time passes (now and then more than a keyframe's interval). */
  pause(): void {
    this.timeMs += this.chance(0.5) ? this.int(1000, 20_000) : this.int(60_000, 200_000);
  }

  typed(text: string): void {
    for (const ch of text) {
      this.event('term.input', { channel: 0, text: ch }, this.int(30, 300));
      if (ch !== '\r') this.output(ch);
    }
  }

  // ---- text helpers ----

  sgr(): string {
    const p: (number | string)[] = [];
    if (this.chance(0.3)) p.push(0);
    if (this.chance(0.3)) p.push(1);
    if (this.chance(0.15)) p.push(2);
    if (this.chance(0.1)) p.push(3);
    if (this.chance(0.1)) p.push(this.pick([4, '4:2', '4:3', '4:4', '4:5', 21]));
    if (this.chance(0.05)) p.push(5);
    if (this.chance(0.1)) p.push(7);
    if (this.chance(0.03)) p.push(8);
    if (this.chance(0.05)) p.push(9);
    if (this.chance(0.05)) p.push(53);
    if (this.chance(0.1)) p.push(this.pick([22, 23, 24, 25, 27, 28, 29, 39, 49, 55, 59]));
    const color = this.int(0, 9);
    if (color < 3) p.push(this.int(30, 37));
    else if (color < 4) p.push(this.int(90, 97));
    else if (color < 6) p.push(38, 5, this.int(0, 255));
    else if (color < 7) p.push(38, 2, this.int(0, 255), this.int(0, 255), this.int(0, 255));
    const bg = this.int(0, 12);
    if (bg < 2) p.push(this.int(40, 47));
    else if (bg < 3) p.push(this.int(100, 107));
    else if (bg < 4) p.push(48, 5, this.int(0, 255));
    else if (bg < 5) p.push(48, 2, this.int(0, 255), this.int(0, 255), this.int(0, 255));
    if (this.chance(0.05)) p.push(58, 2, this.int(0, 255), this.int(0, 255), this.int(0, 255));
    if (this.chance(0.03)) p.push(58, 5, this.int(0, 255));
    return `${CSI}${p.join(';')}m`;
  }

  word(): string {
    return this.chance(0.08) ? this.pick(WIDE) : this.pick(WORDS);
  }

  text(len: number): string {
    let s = '';
    while (s.length < len) {
      if (this.chance(0.15)) s += this.sgr();
      s += this.word() + (this.chance(0.05) ? '\t' : ' ');
    }
    return s + `${CSI}0m`;
  }

  /** Exactly `n` narrow characters (a line that ends at the margin leaves a wrap pending). */
  exact(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.int(33, 126));
    return s;
  }
}

// ---- scenes ----

function prompt(s: Session): void {
  if (s.chance(0.5)) s.output(`${ESC}]0;alice@box: ~/src${s.chance(0.5) ? '\u0007' : `${ESC}\\`}`);
  s.output(`${CSI}?2004h${CSI}01;32malice@box${CSI}00m:${CSI}01;34m~/src${CSI}00m$ `);
}

function command(s: Session, name: string): void {
  prompt(s);
  s.typed(name);
  if (s.chance(0.3)) {
    // Line editing: back, insert (ICH or insert mode), delete.
    s.output(`${CSI}${s.int(1, 3)}D`);
    s.output(s.chance(0.5) ? `${CSI}@x` : `${CSI}4hyz${CSI}4l`);
    if (s.chance(0.5)) s.output(`${CSI}P`);
    if (s.chance(0.3)) s.output('\b\b');
  }
  s.typed('\r');
  s.output(`\r\n${CSI}?2004l\r`);
}

function ls(s: Session): void {
  command(s, 'ls --color=auto');
  let line = '';
  for (let i = 0; i < s.int(3, 30); i++) {
    const f = s.pick(FILES);
    const colored = f.includes('.') ? f : `${CSI}01;34m${f}${CSI}0m`;
    const link = s.links && s.chance(0.1) ? [`${ESC}]8;;file:///home/alice/src/${f}${ESC}\\`, `${ESC}]8;;${ESC}\\`] : ['', ''];
    line += `${link[0]}${colored}${link[1]}  `;
    if (s.chance(0.3)) line += '\r\n';
  }
  s.output(`${line}\r\n`);
}

function cat(s: Session): void {
  command(s, 'cat notes.txt');
  for (let i = 0; i < s.int(5, 120); i++) {
    const kind = s.int(0, 9);
    if (kind === 0) s.output(`${s.exact(s.cols)}\r\n`);
    else if (kind === 1) s.output(s.exact(s.cols * s.int(1, 3)));
    else if (kind === 2) s.output(`${s.text(s.int(0, s.cols * 3))}\r\n`);
    else if (kind === 3) s.output(`${s.sgr()}${s.exact(s.int(0, s.cols))}${CSI}K${CSI}0m\r\n`);
    else s.output(`${s.text(s.int(0, s.cols - 1))}\r\n`);
  }
}

function progress(s: Session): void {
  command(s, 'make -j8');
  const bar = s.chance(0.5);
  for (let i = 0; i <= 100; i += s.int(3, 25)) {
    const n = Math.max(1, Math.floor(((s.cols - 10) * Math.min(i, 100)) / 100));
    s.output(bar ? `\r[${'#'.repeat(n)}${' '.repeat(Math.max(0, s.cols - 10 - n))}] ${i}%${CSI}K` : `\r${CSI}32m${i}%${CSI}0m ${s.word()}${CSI}K`);
  }
  s.output('\r\n');
}

/** apt's progress line: a scroll region that leaves the last row to the bar, saved and restored cursors. */
function apt(s: Session): void {
  command(s, 'sudo apt upgrade');
  const rows = s.rows;
  s.output(`\r\n${ESC}7${CSI}0;${rows - 1}r${ESC}8${CSI}1A`);
  for (let i = 0; i < s.int(5, 40); i++) {
    s.output(`Unpacking ${s.word()} (${s.int(1, 9)}.${s.int(0, 99)}) ...\r\n`);
    const pct = s.int(0, 100);
    s.output(`${ESC}7${CSI}${rows};0f${CSI}42m${CSI}30mProgress: [${pct}%]${CSI}49m${CSI}39m [${'#'.repeat(pct % 20)}${'.'.repeat(20 - (pct % 20))}] ${ESC}8`);
  }
  s.output(`${ESC}7${CSI}0;${rows}r${ESC}8${CSI}J`);
}

function editor(s: Session): void {
  command(s, 'vim main.c');
  s.alt = true;
  s.output(`${CSI}?1049h${CSI}22;0;0t${CSI}?1h${ESC}=${CSI}?2004h${CSI}?1000h${CSI}?1006h${CSI}H${CSI}2J`);
  const draw = () => {
    s.output(`${CSI}?25l${CSI}H`);
    for (let y = 1; y < s.rows; y++) {
      s.output(`${CSI}${y};1H`);
      if (s.chance(0.2)) s.output(`${CSI}94m~${CSI}0m${CSI}K`);
      else s.output(`${CSI}33m${String(y).padStart(3)} ${CSI}0m${s.text(s.int(0, s.cols + 10)).slice(0, s.cols * 2)}${CSI}K`);
    }
    const status = ` main.c [+] ${s.int(1, 999)},${s.int(1, 80)} `;
    s.output(`${CSI}${s.rows};1H${CSI}7m${status.padEnd(Math.max(0, s.cols - 1)).slice(0, s.cols - 1)}${CSI}27m`);
    if (s.chance(0.2)) s.output(`${CSI}7m${s.exact(1)}${CSI}27m`); // the very last cell
    s.output(`${CSI}${s.int(1, s.rows - 1)};${s.int(1, s.cols)}H${CSI}?25h`);
  };
  draw();
  for (let i = 0; i < s.int(3, 25); i++) {
    const op = s.int(0, 11);
    if (op === 0) {
      // Scroll the text up inside a region above the status line.
      s.output(`${CSI}1;${s.rows - 1}r${CSI}${s.rows - 1};1H${'\n'.repeat(s.int(1, 4))}${s.text(s.int(0, s.cols - 1))}${CSI}r`);
    } else if (op === 1) {
      s.output(`${CSI}1;${s.rows - 1}r${CSI}1;1H${ESC}M${ESC}M${s.text(s.int(0, s.cols - 1))}${CSI}r`);
    } else if (op === 2) {
      s.output(`${CSI}${s.int(1, s.rows - 1)};1H${CSI}${s.int(1, 3)}${s.pick(['L', 'M'])}`);
    } else if (op === 3) {
      s.output(`${CSI}${s.int(1, s.rows - 1)};${s.int(1, s.cols)}H${CSI}4h${s.word()}${CSI}4l`);
    } else if (op === 4) {
      // Origin mode inside a region, left set for a while.
      const top = s.int(1, Math.max(1, s.rows - 3));
      s.output(`${CSI}${top};${s.rows - 1}r${CSI}?6h${CSI}${s.int(1, 3)};${s.int(1, s.cols)}H${s.word()}`);
      if (s.chance(0.7)) s.output(`${CSI}?6l${CSI}r`);
    } else if (op === 5) {
      s.output(`${ESC}7${CSI}${s.rows};1H${CSI}1m-- INSERT --${CSI}0m${ESC}8`);
    } else if (op === 6) {
      // A box in DEC line drawing, through G0 or G1 (SO/SI).
      const w = s.int(2, Math.max(2, s.cols - 4));
      const g1 = s.chance(0.5);
      const on = g1 ? `${ESC})0\u000e` : `${ESC}(0`;
      const off = g1 ? '\u000f' : `${ESC}(B`;
      s.output(`${CSI}2;2H${on}l${'q'.repeat(w)}k${CSI}3;2Hx${CSI}${w}Cx${CSI}4;2Hm${'q'.repeat(w)}j`);
      if (s.chance(0.8)) s.output(off);
    } else if (op === 7) {
      // Overwrite half of a wide character.
      s.output(`${CSI}${s.int(1, s.rows - 1)};1H${s.sgr()}漢字漢字${CSI}${s.int(2, 6)}G${s.sgr()}x${CSI}0m`);
    } else if (op === 8) {
      s.output(`${CSI}${s.int(1, s.rows - 1)};${s.int(1, s.cols)}H${s.sgr()}${CSI}${s.int(1, 10)}X${CSI}${s.int(0, 2)}K${CSI}0m`);
    } else if (op === 9) {
      if (s.chance(0.5)) s.resize();
      draw();
    } else if (op === 10) {
      s.output(`${CSI}${s.int(1, s.rows - 1)};${s.int(1, s.cols)}H${s.pick(['-', '=', '#'])}${CSI}${s.int(1, 30)}b`);
    } else {
      s.output(`${CSI}${s.int(1, 6)} q${s.chance(0.3) ? `${CSI}?12h` : ''}`);
    }
  }
  s.output(`${CSI}?1000l${CSI}?1006l${CSI}?2004l${CSI}${s.rows};1H${CSI}K${CSI}?1049l${CSI}23;0;0t${CSI}?1l${ESC}>`);
  s.alt = false;
}

function top(s: Session): void {
  command(s, 'top');
  s.alt = true;
  s.output(`${CSI}?1049h${CSI}?25l${CSI}H${CSI}2J`);
  for (let frame = 0; frame < s.int(2, 8); frame++) {
    let out = `${CSI}H${CSI}1mtop - ${10 + frame}:00:00 up 3 days${CSI}0m${CSI}K\r\n`;
    out += `${CSI}7m  PID USER      %CPU COMMAND${' '.repeat(Math.max(0, s.cols - 27))}${CSI}27m\r\n`;
    for (let y = 2; y < s.rows - 1; y++) {
      const cpu = s.int(0, 100);
      out += `${String(s.int(1, 99999)).padStart(5)} alice    ${CSI}38;2;${cpu * 2};${200 - cpu};40m${String(cpu).padStart(4)}${CSI}0m ${s.word()}${CSI}K\r\n`;
    }
    s.output(out);
    if (s.chance(0.2)) s.resize();
  }
  s.output(`${CSI}?25h${CSI}?1049l`);
  s.alt = false;
}

function less(s: Session): void {
  command(s, 'less log.txt');
  const alt = s.chance(0.7);
  if (alt) s.output(`${CSI}?1049h`);
  s.output(`${CSI}H${CSI}2J`);
  for (let y = 0; y < s.rows - 1; y++) s.output(`${s.text(s.int(0, s.cols * 2))}\r\n`);
  s.output(`${CSI}7m:${CSI}27m`);
  for (let i = 0; i < s.int(1, 10); i++) {
    if (s.chance(0.5)) s.output(`\r${CSI}K${CSI}${s.rows};1H\n${CSI}${s.rows - 1};1H${s.text(s.cols - 1)}${CSI}${s.rows};1H:`);
    else s.output(`${CSI}H${ESC}M${s.text(s.cols - 1)}${CSI}${s.rows};1H:`);
  }
  s.output(alt ? `\r${CSI}K${CSI}?1049l` : '\r\n');
}

function misc(s: Session): void {
  command(s, 'printf ...');
  const op = s.int(0, 22);
  if (op === 0) s.output(`${CSI}3g\r${Array.from({ length: 12 }, () => `${CSI}${s.int(1, 6)}C${ESC}H`).join('')}\r${s.word()}\t${s.word()}\t${s.word()}\r\n`);
  else if (op === 1) s.output(`${CSI}3g\r${ESC}H${Array.from({ length: 20 }, () => `${CSI}8C${ESC}H`).join('')}\r`);
  else if (op === 2) s.output(`${CSI}?45h${s.exact(s.cols + 3)}\b\b\b\b\b${CSI}?45l\r\n`);
  else if (op === 3) s.output(`${CSI}20h${s.word()}\n${s.word()}\n${CSI}20l\r\n`);
  else if (op === 4) s.output(`${CSI}1"q${s.word()}${CSI}0"q ${s.word()}${CSI}?1K${CSI}?2J\r\n`);
  else if (op === 5) s.output(`${CSI}${s.int(1, 3)}S${CSI}${s.int(1, 3)}T${s.word()}\r\n`);
  else if (op === 6) s.output(`${ESC}#8${CSI}H${CSI}2J`);
  else if (op === 7) s.output(`${CSI}?7l${s.exact(s.cols + 10)}${CSI}?7h\r\n`);
  else if (op === 8) s.output(`${ESC}]4;${s.int(0, 255)};rgb:${s.int(10, 99)}/${s.int(10, 99)}/${s.int(10, 99)}\u0007${s.chance(0.3) ? `${ESC}]104\u0007` : ''}${ESC}]1${s.int(0, 2)};#${s.int(100000, 999999)}\u0007`);
  else if (op === 9) s.output(`${CSI}H${CSI}2J${CSI}3J`); // clear
  else if (op === 10) {
    // Binary garbage (cat of a binary file), C1 controls included.
    let junk = '';
    for (let i = 0; i < s.int(10, 400); i++) junk += String.fromCharCode(s.chance(0.7) ? s.int(0, 0x7f) : s.int(0x80, 0xff));
    s.output(junk.replace(/\u001bc/g, ''));
  } else if (op === 11) s.output(`${ESC}c`); // reset
  else if (op === 12) s.output(`${s.pick(WIDE)}${s.pick(['\u0301', '\u0308', '\ufe0f', '\u200d'])}${s.exact(3)}\r\n`);
  else if (op === 13) s.output(`${s.exact(s.cols - 1)}漢\r\n`); // a wide char that does not fit
  else if (op === 14) s.output(`${s.exact(s.cols)}${ESC}7\r\n${s.word()}${ESC}8X\r\n`);
  else if (op === 15) s.output(`${CSI}s${CSI}${s.int(1, s.rows)};${s.int(1, s.cols)}H${s.sgr()}${s.word()}${CSI}u${CSI}0m`);
  else if (op === 16) s.output(`\u009b1m${s.word()}\u009b0m \u009d2;c1 title\u009c${s.word()}\r\n`);
  else if (op === 17) s.output(`${ESC}(A#${ESC}(B ${ESC}*0${ESC}n${'lqk'}${ESC}(B\u000f\r\n`);
  else if (op === 18) s.output(`${CSI}?1004h${CSI}?1002h${CSI}?66h${CSI}?2026h${s.word()}${CSI}?2026l${CSI}?1002l${CSI}?1004l${CSI}?66l\r\n`);
  else if (op === 19) s.output(`${s.sgr()}${CSI}2J${CSI}H${CSI}0m`);
  else if (op === 20 && s.links) s.output(`${ESC}]8;id=x;http://example.com/${s.word()}\u0007${s.word()}${s.chance(0.9) ? `${ESC}]8;;\u0007` : ''}`);
  else if (op === 21) s.output(`${s.exact(s.cols)}${s.pick(['\x1b[K', '\x1b[1K', '\x1b[2K', '\x1b[J', ''])}${s.pick(['x', '\r\n', '\u0301', ''])}`);
  else s.output(`${s.exact(s.int(1, s.cols))}${CSI}${s.int(1, 5)}@${CSI}${s.int(1, 5)}P${CSI}${s.int(1, 5)} @${CSI}${s.int(1, 5)} A${CSI}${s.int(1, 3)}'}${CSI}${s.int(1, 3)}'~\r\n`);
}

export function generateSession(seed: number, options: SessionOptions): GeneratedSession {
  const s = new Session(prng(seed), options.cols ?? 80, options.rows ?? 24);
  s.links = options.links ?? true;
  s.event('session.start', { upstream: 'box:22', recording: 'required', clientMasking: false });
  s.event('ssh.shell', { channel: 0, pty: { term: 'xterm-256color', cols: s.cols, rows: s.rows } });
  s.output('Welcome to box\r\nLast login: yesterday\r\n');
  const scenes = [ls, ls, cat, cat, cat, progress, apt, editor, editor, top, less, misc, misc, misc, misc];
  while (s.outputLength < options.output) {
    s.pick(scenes)(s);
    if (s.chance(0.05)) s.resize();
    if (s.chance(0.1)) s.pause();
    if (s.chance(0.03)) {
      // A command on another channel: not the terminal.
      s.event('ssh.exec', { channel: 1, command: 'uptime' });
      s.output('up 3 days\r\n', 1);
    }
  }
  s.event('session.end', { reason: 'client_disconnect', durationMs: 1 });
  return { events: s.events, outputLength: s.outputLength };
}
