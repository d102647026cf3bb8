// A minimal frontend speaking raw protocol bytes to the agent, for what libraries do not do on
// their own: pipelining many messages in one write, and sending malformed input.
import net from 'node:net';
import { parse, serialize } from 'pg-protocol';

export interface RawMessage {
  name: string;
  [key: string]: unknown;
}

export class RawClient {
  readonly messages: RawMessage[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    void parse(socket, (msg) => {
      this.messages.push(msg as unknown as RawMessage);
      this.notify();
    }).catch(() => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  private notify() {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Logs in through the agent with a Vigil token and waits for ReadyForQuery. */
  static async login(port: number, user: string, token: string): Promise<RawClient> {
    const c = await RawClient.connect(port);
    c.socket.write(serialize.startup({ user, database: 'pg' }));
    await c.waitFor((m) => m.name === 'authenticationCleartextPassword');
    c.socket.write(serialize.password(token));
    await c.waitFor((m) => m.name === 'readyForQuery' || m.name === 'error');
    return c;
  }

  write(...buffers: Buffer[]) {
    this.socket.write(Buffer.concat(buffers));
  }

  /** Resolves when a message matching `pred` has arrived (counting from `from`), or the socket closed. */
  async waitFor(pred: (m: RawMessage) => boolean, count = 1, timeoutMs = 10_000): Promise<RawMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.messages.filter(pred);
      if (hits.length >= count) return hits;
      if (this.closed) throw new Error(`connection closed; got ${this.messages.map((m) => m.name).join(',')}`);
      if (Date.now() > deadline) throw new Error(`timed out; got ${this.messages.map((m) => m.name).join(',')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  waitClosed(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve();
      const t = setTimeout(() => reject(new Error('still open')), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  end() {
    this.socket.end(serialize.end());
  }
}
