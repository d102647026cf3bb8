// Serves one PGlite database to several PostgreSQL clients at once, over the wire protocol.
//
// PGlite is a single backend: one session, one transaction at a time. pglite-socket's server
// accepts one connection by default; with maxConnections > 1 it interleaves clients message by
// message and only keeps a transaction's owner in front. That still lets another client's
// messages land inside an extended-protocol batch (Parse/Bind/Execute ... Sync): the unnamed
// statement and portal are shared, and after an error the backend skips every message until the
// next Sync, whoever sent it. So this server schedules whole units of work instead:
//
//   A client that sends a message takes the database and keeps it until PGlite answers it with
//   ReadyForQuery status 'I' (idle, no transaction open). That covers a simple query, an extended
//   batch up to its Sync, and a whole BEGIN ... COMMIT block. Meanwhile other clients' messages
//   wait in arrival order (each gets one NOTICE saying so).
//
// The start-up handshake runs once against PGlite when the server starts; every client gets that
// greeting from memory, so connecting never waits and a client's start-up parameters (encoding,
// DateStyle...) cannot change the session under the others; a client that sets any is told by a
// notice that they are ignored, rather than left to believe them in force. What clients still share, as
// sessions of one backend: settings made with SET, named prepared statements, temporary tables
// and LISTEN. A client idle inside a transaction makes the others wait until it commits, rolls
// back or disconnects (its transaction is then rolled back). CancelRequest is not supported.
//
// COPY FROM STDIN: PGlite reads the copy data from the same call that runs the statement and
// exits (taking the database with it) when it finds none. So a simple-protocol query that starts
// with COPY ... FROM STDIN is answered with CopyInResponse here, the data is collected until
// CopyDone or CopyFail, and statement and data go to PGlite in one call.
//
// Large values: PGlite takes a message whole, so a client's message is collected whole (up to
// MAX_MESSAGE_BYTES; a larger one ends that client's session with a FATAL saying so). PGlite's
// answers are passed on as they come, a large one in pieces, never joined. Nothing may be thrown
// back into PGlite from its output callback: it swallows the exception and never answers anything
// again (so one `select repeat('x', 70*1024*1024)` past a 64 MiB framing limit once wedged every
// session); a failure there ends the owner's session instead.
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { ClientParser } from '../postgres/protocol/client-parser.ts';
import type { ClientMessage, StartupPacket } from '../postgres/protocol/client-messages.ts';
import { BackendFramer } from '../postgres/protocol/backend-framer.ts';
import { errorResponse, noticeResponse, sslResponse } from '../postgres/protocol/server-messages.ts';
import type { Logger } from '../../common/log.ts';

const READY_FOR_QUERY = 0x5a; // Z
const COPY_IN_RESPONSE = 0x47; // G
const IDLE = 0x49; // I
/** Largest COPY FROM STDIN collected in memory. */
const MAX_COPY_BYTES = 64 * 1024 * 1024;
/** Start-up parameters that set nothing the sessions share (the greeting is UTF8 already). */
const UNSHARED_PARAMS = new Set(['user', 'database', 'application_name', 'client_encoding']);
/** Largest client message collected for PGlite (its WebAssembly memory holds it, and more). */
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
const COPY_FROM_STDIN = /^(?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*copy\b[^;]*\bfrom\s+stdin\b/i;

function coded(code: string, text?: string): Buffer {
  const body = text === undefined ? Buffer.alloc(0) : Buffer.from(`${text}\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.write(code, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

function newAnswerFramer(): BackendFramer {
  return new BackendFramer({ readStreamed: false });
}

function startupPacket(params: Record<string, string>): Buffer {
  const body = Buffer.from(`${Object.entries(params).map(([k, v]) => `${k}\0${v}\0`).join('')}\0`, 'utf8');
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4); // protocol 3.0
  return Buffer.concat([head, body]);
}

/** CopyInResponse without column details (clients read only the overall format). */
function copyInResponse(binary: boolean): Buffer {
  return Buffer.from([COPY_IN_RESPONSE, 0, 0, 0, 7, binary ? 1 : 0, 0, 0]);
}

// Leaves PGlite idle whatever the departed owner was doing: Sync ends an extended batch,
// ROLLBACK a transaction (a mere warning outside one).
const CLEAN_UP = Buffer.concat([coded('S'), coded('Q', 'ROLLBACK')]);

interface Work {
  /** One message, or for COPY FROM STDIN the statement, its data and its end together. */
  bytes: Buffer;
  /** PGlite's own CopyInResponse was already answered by this server. */
  dropCopyIn?: boolean;
}

class DemoClient {
  readonly parser = new ClientParser({ maxMessageBytes: MAX_MESSAGE_BYTES, wholeMessageBytes: MAX_MESSAGE_BYTES });
  readonly pending: Work[] = [];
  /** Frames PGlite's answers to this client to see where a unit of work ends (large ones pass unread). */
  answers = newAnswerFramer();
  /** A COPY FROM STDIN being collected. */
  copy: { parts: Buffer[]; bytes: number } | null = null;
  /** True from a message sent to PGlite until an answer ReadyForQuery 'I'. */
  unitOpen = false;
  toldToWait = false;
  closed = false;

  constructor(readonly socket: net.Socket) {}
}

export interface DemoWireServerOptions {
  logger?: Logger;
  /** Called once if PGlite stops working (it exits on some fatal errors); the server refuses clients from then on. */
  onFatal?: (err: Error) => void;
}

export class DemoWireServer {
  readonly #db: PGlite;
  readonly #opts: DemoWireServerOptions;
  readonly #server = net.createServer((socket) => this.#accept(socket));
  readonly #clients = new Set<DemoClient>();
  /** The client whose unit of work is in progress, if any. */
  #owner: DemoClient | null = null;
  /** Clients with pending work, in the order they asked. */
  readonly #waiting: DemoClient[] = [];
  #pumping: Promise<void> | null = null;
  #greeting: Buffer | null = null;
  #fatal: Error | null = null;

  constructor(db: PGlite, opts: DemoWireServerOptions = {}) {
    this.#db = db;
    this.#opts = opts;
  }

  async listen(host: string, port: number): Promise<net.AddressInfo> {
    this.#greeting = await this.#exec(startupPacket({ user: 'postgres', database: 'postgres', client_encoding: 'UTF8' }));
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as net.AddressInfo);
      });
    });
  }

  /** True once PGlite has stopped working. */
  get failed(): boolean {
    return this.#fatal !== null;
  }

  get connectionCount(): number {
    return this.#clients.size;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const client of this.#clients) client.socket.destroy();
    await closed;
    // A unit of work in flight and the clean-up of a departed owner finish before PGlite closes.
    while (this.#pumping) await this.#pumping;
  }

  #accept(socket: net.Socket): void {
    const client = new DemoClient(socket);
    this.#clients.add(client);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      try {
        client.parser.feed(chunk, (msg, raw) => this.#onMessage(client, msg, raw));
      } catch (err) {
        this.#refuse(client, `invalid message: ${(err as Error).message}`);
      }
    });
    socket.on('error', () => this.#drop(client));
    socket.on('close', () => this.#drop(client));
  }

  #onMessage(client: DemoClient, msg: ClientMessage | StartupPacket, raw: Buffer): void {
    if (client.closed) return;
    switch (msg.type) {
      case 'ssl-request':
      case 'gssenc-request':
        client.socket.write(sslResponse(false));
        return;
      case 'startup': {
        if (this.#fatal) return this.#refuse(client, this.#fatalMessage());
        const ignored = Object.keys(msg.params).filter((name) => !UNSHARED_PARAMS.has(name.toLowerCase()));
        if (ignored.length === 0) return void client.socket.write(this.#greeting!);
        // Before its ReadyForQuery (the greeting's last 6 bytes), where a server's login notices go.
        const greeting = this.#greeting!;
        client.socket.write(Buffer.concat([greeting.subarray(0, -6), noticeResponse({
          severity: 'NOTICE',
          code: '00000',
          message: `the demo database ignores start-up settings (${ignored.join(', ')}): its sessions share one backend`,
        }), greeting.subarray(-6)]));
        return;
      }
      case 'cancel-request':
      case 'terminate':
        client.socket.end();
        return;
      case 'password':
        return this.#refuse(client, 'the demo database did not ask for a password');
    }
    // The parser may hand out views into a buffer it reuses: keep copies.
    if (client.copy) return this.#collectCopy(client, msg, raw);
    if (msg.type === 'query' && COPY_FROM_STDIN.test(msg.sql)) {
      client.copy = { parts: [Buffer.from(raw)], bytes: raw.length };
      client.socket.write(copyInResponse(/\bbinary\b/i.test(msg.sql)));
      return;
    }
    this.#enqueue(client, { bytes: Buffer.from(raw) });
  }

  #collectCopy(client: DemoClient, msg: ClientMessage, raw: Buffer): void {
    const copy = client.copy!;
    copy.parts.push(Buffer.from(raw));
    copy.bytes += raw.length;
    if (copy.bytes > MAX_COPY_BYTES) {
      return this.#refuse(client, `COPY FROM STDIN into the demo database is limited to ${MAX_COPY_BYTES / 1024 / 1024} MiB`);
    }
    if (msg.type === 'copy-done' || msg.type === 'copy-fail') {
      client.copy = null;
      this.#enqueue(client, { bytes: Buffer.concat(copy.parts), dropCopyIn: true });
    }
  }

  #enqueue(client: DemoClient, work: Work): void {
    client.pending.push(work);
    if (client !== this.#owner && !this.#waiting.includes(client)) this.#waiting.push(client);
    if (this.#owner && this.#owner !== client && !client.toldToWait) {
      client.toldToWait = true;
      client.socket.write(noticeResponse({
        severity: 'NOTICE',
        code: '00000',
        message: 'the demo database runs one transaction at a time: waiting for another session to finish',
      }));
    }
    this.#kick();
  }

  #kick(): void {
    if (!this.#pumping) this.#pumping = this.#pump().finally(() => { this.#pumping = null; });
  }

  /** Runs queued work, one unit of work at a time, until nobody can proceed. */
  async #pump(): Promise<void> {
    while (!this.#fatal) {
      if (!this.#owner) this.#owner = this.#waiting.shift() ?? null;
      const owner = this.#owner;
      if (!owner) return;
      const work = owner.pending.shift();
      if (!work) {
        // Mid-transaction or mid-batch: wait for the owner's next message.
        if (owner.unitOpen && !owner.closed) return;
        this.#owner = null;
        continue;
      }
      await this.#runFor(owner, work);
      if (!owner.unitOpen && this.#owner === owner) {
        // The unit of work is over: whoever waited longest goes next.
        this.#owner = null;
        owner.toldToWait = false;
        if (owner.pending.length > 0) this.#waiting.push(owner);
      }
    }
  }

  async #runFor(owner: DemoClient, work: Work): Promise<void> {
    owner.unitOpen = true;
    let dropCopyIn = work.dropCopyIn === true;
    let unreadable: Error | null = null;
    try {
      await this.#exec(work.bytes, (bytes) => {
        if (unreadable) return;
        try {
          owner.answers.push(bytes, (code, answer) => {
            if (code === READY_FOR_QUERY) owner.unitOpen = answer[5] !== IDLE;
            if (owner.closed) return;
            if (dropCopyIn && code === COPY_IN_RESPONSE) {
              dropCopyIn = false;
              return;
            }
            owner.socket.write(Buffer.from(answer));
          }, (piece) => {
            // A fresh copy of PGlite's output: safe to hand to the socket as it is.
            if (!owner.closed) owner.socket.write(piece);
          });
        } catch (err) {
          unreadable = err as Error;
        }
      });
      if (unreadable) {
        // The owner's answer stream is cut: its session ends, and PGlite is left idle for the next.
        owner.answers = newAnswerFramer();
        this.#refuse(owner, `the demo database's answer could not be relayed: ${(unreadable as Error).message}`);
      }
    } catch (err) {
      // PGlite throws when its backend exits (e.g. FATAL errors): nothing more can run on it.
      this.#fatal = err as Error;
      this.#opts.logger?.error({ err: (err as Error).message }, 'the demo database stopped');
      this.#opts.onFatal?.(err as Error);
      for (const client of [...this.#clients]) this.#refuse(client, this.#fatalMessage());
    }
  }

  /** Runs one message (or a COPY's messages) on PGlite; returns the whole answer when no sink is given. */
  async #exec(message: Buffer, sink?: (bytes: Buffer) => void): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.#db.runExclusive(() =>
      this.#db.execProtocolRawStream(new Uint8Array(message.buffer, message.byteOffset, message.length), {
        onRawData: (data) => {
          const bytes = Buffer.from(data);
          if (sink) sink(bytes);
          else chunks.push(bytes);
        },
      }));
    return Buffer.concat(chunks);
  }

  #fatalMessage(): string {
    return `the demo database has stopped (${this.#fatal?.message}); restart \`vigil dev\``;
  }

  #refuse(client: DemoClient, message: string): void {
    if (!client.closed) client.socket.end(errorResponse({ severity: 'FATAL', code: '57P01', message }));
    this.#drop(client);
  }

  /** A client is gone: forget its queue; if it held the database, leave PGlite idle for the next. */
  #drop(client: DemoClient): void {
    if (client.closed) return;
    client.closed = true;
    this.#clients.delete(client);
    client.pending.length = 0;
    client.copy = null;
    const i = this.#waiting.indexOf(client);
    if (i >= 0) this.#waiting.splice(i, 1);
    if (this.#owner === client && client.unitOpen) {
      // The clean-up runs as the departed owner's last work, before anyone else's.
      client.pending.push({ bytes: CLEAN_UP });
      this.#kick();
    }
  }
}
