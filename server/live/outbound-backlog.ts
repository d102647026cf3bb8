// What the hub holds for one viewer's connection that the viewer has not read yet, and the bound
// on it. Socket.IO sets none: engine.io queues every packet in the connection's writeBuffer while
// its transport is busy, and a websocket stays busy while the TCP connection is full, so a viewer
// that stops reading would make the hub hold everything sent to it until its ping times out.
//
// Measured as the bytes of the packets in that queue (counted as they are queued, reset when
// engine.io flushes the queue to the transport) plus the websocket's bufferedAmount (handed to
// ws, not yet taken by the kernel). One packet larger than the bound never drops a viewer by
// itself: the bound is checked against what waits before each new packet.
//
// engine.io keeps the queue and the transport's websocket private; the two are read in one place
// here (engine.io 6).
import type { Socket as EngineSocket } from 'engine.io';

interface EngineInternals {
  writeBuffer: Array<{ data?: unknown }>;
  transport: { socket?: { bufferedAmount?: number; terminate?(): void } };
}

const internals = (conn: EngineSocket) => conn as unknown as EngineInternals;

const sizeOf = (data: unknown): number =>
  typeof data === 'string' ? data.length : (data as { byteLength?: number } | undefined)?.byteLength ?? 0;

/** How often a paced sender looks again whether the viewer has read enough. */
const PACE_POLL_MS = 20;

export class OutboundBacklog {
  private queued = 0;
  private overflowed = false;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly conn: EngineSocket, private readonly maxBytes: number, onOverflow: () => void) {
    conn.on('packetCreate', (packet: { data?: unknown }) => {
      const waiting = this.bytes;
      this.queued += sizeOf(packet.data);
      if (this.overflowed || waiting <= this.maxBytes) return;
      this.overflowed = true;
      // Not from inside engine.io's sendPacket: the packet being queued must not land after the drop.
      queueMicrotask(onOverflow);
    });
    conn.on('flush', () => {
      this.queued = 0;
    });
    conn.once('close', () => clearTimeout(this.closeTimer));
  }

  /** Bytes sent to this viewer that it has not read yet (as far as the hub still holds them). */
  get bytes(): number {
    if (this.conn.readyState === 'closed') return 0;
    return this.queued + (internals(this.conn).transport.socket?.bufferedAmount ?? 0);
  }

  /** Resolves once the viewer holds at most `bytes` unread, or is gone: a backlog goes at its pace. */
  async below(bytes: number): Promise<void> {
    while (this.bytes > bytes && this.conn.readyState === 'open') await new Promise((r) => setTimeout(r, PACE_POLL_MS));
  }

  /**
   * Ends the connection of a viewer that fell too far behind. What waits in the queue is discarded
   * (the viewer reads those events from the store when it resumes); `farewell` queues the last
   * packets (the reason, the disconnect), which reach a viewer that still reads right after what
   * the transport already holds. The connection is cut after `graceMs` at the latest.
   */
  drop(farewell: () => void, graceMs: number): void {
    internals(this.conn).writeBuffer.length = 0;
    this.queued = 0;
    farewell();
    if (this.conn.readyState === 'closed') return;
    this.closeTimer = setTimeout(() => this.cut(), graceMs);
    this.closeTimer.unref();
  }

  /** A websocket's close handshake would wait for a viewer that does not read (30 s in ws): cut it. */
  private cut(): void {
    const socket = internals(this.conn).transport.socket;
    if (socket?.terminate) socket.terminate();
    else this.conn.close(true);
  }
}
