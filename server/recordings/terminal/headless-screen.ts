// A terminal screen without a display (@xterm/headless): fed a recorded terminal's output and
// resizes, it holds what the engineer's screen showed at that point, which can be read as lines
// or serialized (@xterm/addon-serialize) for a browser's xterm.js to draw at once.
// Everything written is hostile: xterm parses it as a terminal would and nothing else happens.
import serializeAddon from '@xterm/addon-serialize';
import xtermHeadless from '@xterm/headless';

// CommonJS packages: their named exports exist only on the default import at run time.
const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializeAddon;

export class HeadlessScreen {
  private readonly term: InstanceType<typeof Terminal>;
  private readonly serializer: InstanceType<typeof SerializeAddon>;

  constructor(cols: number, rows: number, scrollback = 1000) {
    this.term = new Terminal({ cols: clamp(cols), rows: clamp(rows), scrollback, allowProposedApi: true });
    this.serializer = new SerializeAddon();
    this.term.loadAddon(this.serializer);
  }

  get cols(): number {
    return this.term.cols;
  }

  get rows(): number {
    return this.term.rows;
  }

  /** Resolves once xterm has parsed the text (it parses in batches). */
  write(text: string): Promise<void> {
    return new Promise((resolve) => this.term.write(text, resolve));
  }

  /**
   * Queues a resize after what was written before it. xterm parses writes later, in batches; a
   * resize done at once would apply before output written earlier.
   */
  resize(cols: number, rows: number, done?: () => void): void {
    this.term.write('', () => {
      this.term.resize(clamp(cols), clamp(rows));
      done?.();
    });
  }

  /** Queues text; `done` runs right after xterm parsed it (before anything written later). */
  enqueue(text: string, done: () => void): void {
    this.term.write(text, done);
  }

  /** The visible screen, a string per row, trailing blanks removed. */
  lines(): string[] {
    const buffer = this.term.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < this.term.rows; y++) out.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
    return out;
  }

  /** Escape sequences that redraw this screen (with `scrollback` lines above it) on another terminal. */
  serialize(scrollback = 200): string {
    return this.serializer.serialize({ scrollback });
  }

  dispose(): void {
    this.term.dispose();
  }
}

const clamp = (n: number) => Math.max(2, Math.min(500, Math.floor(n) || 2));
