// The agent's outbox on disk: every event the publisher takes is written to a file before the
// proxy lets the client see the end of what the event records (the proxy flushes it then), so a
// crashed agent still has it when it starts again. Writes are synchronous, into the OS page cache: a process crash
// (SIGKILL, OOM) loses nothing the kernel took; `fsync` (durability: machine) also survives the
// machine's. The file is cut into segments; a segment is deleted once every event in it is
// confirmed persisted by the hub (or given up), so the outbox holds about what the spool holds.
//
// One line per event: the canonical body (JSON, which never holds a raw newline) and "\n".
// After a crash the last line may be torn (a machine crash between two pages): it is skipped.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/log.ts';

export interface OutboxOptions {
  /** Where segments live (one directory per agent id). */
  dir: string;
  /** A segment is closed past this many bytes. */
  segmentBytes?: number;
  logger: Logger;
}

interface Segment {
  file: string;
  fd: number;
  bytes: number;
  /** The highest publish order (n) written to it. */
  maxN: number;
}

const SEGMENT_BYTES = 16 * 1024 * 1024;
/** Taken events are written at once past this much text, whether or not someone flushes. */
const FLUSH_CHARS = 256 * 1024;
const SEGMENT = /^outbox-(\d{12})\.log$/;

/** Bodies found on disk at start, oldest first (all segments of an earlier run). */
export function readOutbox(dir: string, log: Logger): string[] {
  if (!fs.existsSync(dir)) return [];
  const bodies: string[] = [];
  for (const name of segmentNames(dir)) {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    const lines = text.split('\n');
    // The text after the last newline is a torn write (or nothing).
    if (lines[lines.length - 1] !== '') log.warn({ segment: name }, 'outbox: a torn last line was skipped');
    lines.pop();
    for (const line of lines) if (line) bodies.push(line);
  }
  return bodies;
}

export class Outbox {
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly log: Logger;
  private readonly closed: Segment[] = [];
  private current: Segment | null = null;
  private nextIndex: number;
  private dirty = false;
  private lines: string[] = [];
  private pendingChars = 0;
  private lastN = 0;
  /** Segments of an earlier run, deleted once their events are in this run's segments. */
  private oldSegments: string[];
  private readonly lockFile: string;

  /** Takes over `dir`: segments of an earlier run are deleted (read them with readOutbox first). */
  constructor(opts: OutboxOptions) {
    this.dir = opts.dir;
    this.segmentBytes = opts.segmentBytes ?? SEGMENT_BYTES;
    this.log = opts.logger.child({ component: 'outbox' });
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.lockFile = lock(this.dir);
    const old = segmentNames(this.dir);
    this.nextIndex = old.length ? Number(SEGMENT.exec(old[old.length - 1])![1]) + 1 : 1;
    this.oldSegments = old;
  }

  /** Deletes the earlier run's segments (their events were taken again by this run). */
  dropEarlierRun(): void {
    for (const name of this.oldSegments) fs.rmSync(path.join(this.dir, name), { force: true });
    this.oldSegments = [];
  }

  /**
   * Takes one event; it is written with the next flush(). Events of one statement come in
   * bursts, and one write(2) for the burst costs about what one event's would.
   */
  append(n: number, body: string): void {
    this.lines.push(body);
    this.pendingChars += body.length + 1;
    this.lastN = n;
    if (this.pendingChars >= FLUSH_CHARS) this.flush();
  }

  /** Writes what append() took (synchronous: in the page cache when this returns). */
  flush(): void {
    if (this.lines.length === 0) return;
    const text = `${this.lines.join('\n')}\n`;
    this.lines = [];
    this.pendingChars = 0;
    let seg = this.current;
    if (!seg || seg.bytes >= this.segmentBytes) seg = this.rotate();
    const bytes = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(seg.fd, bytes, off, bytes.length - off);
    seg.bytes += bytes.length;
    seg.maxN = this.lastN;
    this.dirty = true;
  }

  /** Flushes and forces what was appended to the disk (durability: machine). */
  sync(): void {
    this.flush();
    if (!this.dirty || !this.current) return;
    fs.fdatasyncSync(this.current.fd);
    this.dirty = false;
  }

  /** Deletes the closed segments whose every event has a publish order below `n`. */
  releaseBelow(n: number): void {
    while (this.closed.length && this.closed[0].maxN < n) {
      const seg = this.closed.shift()!;
      fs.rmSync(seg.file, { force: true });
    }
    // The current one too, when all of it is done: the next append starts a new segment.
    if (this.current && this.current.maxN < n && this.current.bytes > 0) {
      const seg = this.current;
      this.current = null;
      fs.closeSync(seg.fd);
      fs.rmSync(seg.file, { force: true });
    }
  }

  /** Bytes on disk in this run's segments. */
  bytes(): number {
    return this.closed.reduce((sum, s) => sum + s.bytes, 0) + (this.current?.bytes ?? 0);
  }

  close(): void {
    try {
      this.flush();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'outbox: the last events could not be written');
    }
    fs.rmSync(this.lockFile, { force: true });
    if (this.current) {
      try {
        fs.closeSync(this.current.fd);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'outbox: closing the segment failed');
      }
    }
    this.current = null;
  }

  private rotate(): Segment {
    if (this.current) {
      fs.closeSync(this.current.fd);
      this.closed.push({ ...this.current, fd: -1 });
    }
    const file = path.join(this.dir, `outbox-${String(this.nextIndex++).padStart(12, '0')}.log`);
    const fd = fs.openSync(file, 'a', 0o600);
    this.current = { file, fd, bytes: 0, maxN: 0 };
    return this.current;
  }
}

/**
 * One agent process per outbox: a second one (the same agent id started twice) would send and
 * delete the first one's events. A lock left by a process that is gone is taken over.
 */
function lock(dir: string): string {
  const file = path.join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(file, 'utf8'));
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new Error(`another agent (pid ${pid}) uses the outbox ${dir}: each agent needs its own id (agent.id) or outbox directory (agent.outbox.dir)`);
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot lock the outbox ${dir}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function segmentNames(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => SEGMENT.test(n)).sort();
}
