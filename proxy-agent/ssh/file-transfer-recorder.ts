// File transfers through an SSH channel, recorded as ssh.file events (which file, which way, how
// many bytes), never their content. sftp (what `scp` uses since OpenSSH 9) is followed packet by
// packet: OPEN names the file, HANDLE ties the handle to it, READ/DATA and WRITE count bytes, CLOSE
// records the transfer. Only packet headers are kept; data is counted and skipped. Legacy scp
// (`scp -O`, an exec of `scp -t PATH` or `scp -f PATH`) is recorded as one transfer of the bytes
// sent that way. Malformed input stops the following, never the relay.
import type { EventData } from '../../common/events/index.ts';

type Emit = (data: EventData<'ssh.file'>) => void;

const FXP = { OPEN: 3, CLOSE: 4, READ: 5, WRITE: 6, STATUS: 101, HANDLE: 102, DATA: 103 } as const;
const FXF_WRITE = 0x02;
/** Bytes of each packet kept for its header (paths are at most a few KB). */
const HEAD_MAX = 4096;
/** No sftp packet is larger (OpenSSH's limit is 256 KB): anything larger is not sftp. */
const PACKET_MAX = 1 << 20;

/** Splits an sftp byte stream into packets, keeping only each packet's first bytes. */
class PacketStream {
  private lenBytes = Buffer.alloc(4);
  private lenGot = 0;
  private len = 0;
  private got = 0;
  private head: Buffer[] = [];
  private headLen = 0;
  broken = false;

  constructor(private readonly onPacket: (head: Buffer, length: number) => void) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.broken) {
      if (this.lenGot < 4) {
        this.lenBytes[this.lenGot++] = chunk[i++];
        if (this.lenGot === 4) {
          this.len = this.lenBytes.readUInt32BE(0);
          this.got = 0;
          this.head = [];
          this.headLen = 0;
          if (this.len === 0 || this.len > PACKET_MAX) this.broken = true;
        }
        continue;
      }
      const take = Math.min(chunk.length - i, this.len - this.got);
      if (this.headLen < HEAD_MAX) {
        const part = chunk.subarray(i, i + Math.min(take, HEAD_MAX - this.headLen));
        this.head.push(Buffer.from(part));
        this.headLen += part.length;
      }
      this.got += take;
      i += take;
      if (this.got === this.len) {
        this.lenGot = 0;
        this.onPacket(Buffer.concat(this.head), this.len);
      }
    }
  }
}

/** Reads SSH wire fields from a packet head. Throws RangeError past the end. */
class Fields {
  private at = 1; // after the type byte
  constructor(private readonly buf: Buffer) {}
  uint32(): number {
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  bytes(): Buffer {
    const n = this.uint32();
    if (this.at + n > this.buf.length) throw new RangeError('field past the packet head');
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  get offset(): number {
    return this.at;
  }
}

interface OpenFile {
  path: string;
  upload: boolean;
  bytes: number;
}

export class FileTransferRecorder {
  private readonly fromClientStream: PacketStream | null = null;
  private readonly fromServerStream: PacketStream | null = null;
  private readonly opening = new Map<number, { path: string; upload: boolean }>();
  private readonly files = new Map<string, OpenFile>();
  private readonly reads = new Map<number, string>();
  /** Legacy scp: one transfer, its path from the command line. */
  private scp: OpenFile | null = null;

  private constructor(private readonly channel: number, private readonly emit: Emit, mode: 'sftp' | { scp: OpenFile }) {
    if (mode === 'sftp') {
      this.fromClientStream = new PacketStream((head, len) => this.guard(() => this.clientPacket(head, len)));
      this.fromServerStream = new PacketStream((head, len) => this.guard(() => this.serverPacket(head, len)));
    } else {
      this.scp = mode.scp;
    }
  }

  static forSftp(channel: number, emit: Emit): FileTransferRecorder {
    return new FileTransferRecorder(channel, emit, 'sftp');
  }

  /** A recorder when the command is scp's remote end (`scp -t PATH` / `scp -f PATH`), else null. */
  static forScp(command: string, channel: number, emit: Emit): FileTransferRecorder | null {
    const m = /^\s*scp\s+((?:-[a-zA-Z]+\s+)*)(?:--\s+)?(.+?)\s*$/.exec(command);
    if (!m) return null;
    const flags = m[1];
    const upload = /-[a-zA-Z]*t/.test(flags);
    const download = /-[a-zA-Z]*f/.test(flags);
    if (upload === download) return null;
    return new FileTransferRecorder(channel, emit, { scp: { path: unquote(m[2]), upload, bytes: 0 } });
  }

  fromClient(chunk: Buffer): void {
    if (this.scp) {
      if (this.scp.upload) this.scp.bytes += chunk.length;
    } else this.fromClientStream?.push(chunk);
  }

  fromServer(chunk: Buffer): void {
    if (this.scp) {
      if (!this.scp.upload) this.scp.bytes += chunk.length;
    } else this.fromServerStream?.push(chunk);
  }

  /** The channel closed: what is still open counts as transferred. */
  close(): void {
    if (this.scp) this.record(this.scp, 'scp');
    for (const file of this.files.values()) this.record(file, 'sftp');
    this.files.clear();
  }

  private clientPacket(head: Buffer, length: number): void {
    const type = head[0];
    if (type !== FXP.OPEN && type !== FXP.CLOSE && type !== FXP.READ && type !== FXP.WRITE) return;
    const f = new Fields(head);
    const id = f.uint32();
    if (type === FXP.OPEN) {
      const path = f.bytes().toString('utf8');
      const flags = f.uint32();
      this.opening.set(id, { path, upload: (flags & FXF_WRITE) !== 0 });
      return;
    }
    const handle = f.bytes().toString('latin1');
    if (type === FXP.READ) {
      if (this.files.has(handle)) this.reads.set(id, handle);
    } else if (type === FXP.WRITE) {
      const file = this.files.get(handle);
      // What follows the offset: the data's own length field, then the data.
      if (file) file.bytes += Math.max(0, length - (f.offset + 8 + 4));
    } else {
      const file = this.files.get(handle);
      if (file) {
        this.files.delete(handle);
        this.record(file, 'sftp');
      }
    }
  }

  private serverPacket(head: Buffer, length: number): void {
    const type = head[0];
    if (type !== FXP.HANDLE && type !== FXP.DATA && type !== FXP.STATUS) return;
    const f = new Fields(head);
    const id = f.uint32();
    if (type === FXP.HANDLE) {
      const opened = this.opening.get(id);
      this.opening.delete(id);
      if (opened && this.files.size < 1024) this.files.set(f.bytes().toString('latin1'), { ...opened, bytes: 0 });
    } else if (type === FXP.DATA) {
      const handle = this.reads.get(id);
      this.reads.delete(id);
      const file = handle === undefined ? undefined : this.files.get(handle);
      if (file) file.bytes += Math.max(0, length - (f.offset + 4));
    } else {
      this.opening.delete(id);
      this.reads.delete(id);
    }
  }

  private record(file: OpenFile, protocol: 'sftp' | 'scp'): void {
    // Opening a file and reading nothing is a stat, not a transfer.
    if (!file.upload && file.bytes === 0) return;
    this.emit({ channel: this.channel, protocol, direction: file.upload ? 'upload' : 'download', path: file.path, bytes: file.bytes });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch {
      // Not sftp after all (or cut short): stop following this channel's transfers.
      this.fromClientStream && (this.fromClientStream.broken = true);
      this.fromServerStream && (this.fromServerStream.broken = true);
    }
  }
}

function unquote(path: string): string {
  const m = /^'(.*)'$|^"(.*)"$/.exec(path);
  return m ? (m[1] ?? m[2]) : path;
}
