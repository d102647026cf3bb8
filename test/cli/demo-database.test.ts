import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CUSTOMERS } from '../../proxy-agent/demo/demo-seed.ts';
import { startDemoDatabase, type DemoDatabase } from '../../proxy-agent/demo/demo-database.ts';

const run = promisify(execFile);
let demo: DemoDatabase;
const clients: pg.Client[] = [];

async function connect(): Promise<{ client: pg.Client; notices: string[] }> {
  const { host, port, user, password, database } = demo.settings;
  const client = new pg.Client({ host, port, user, password, database });
  const notices: string[] = [];
  client.on('notice', (n) => notices.push(n.message ?? ''));
  client.on('error', () => undefined);
  await client.connect();
  clients.push(client);
  return { client, notices };
}

function psql(sql: string, input?: string): Promise<string> {
  const { host, port, user, database } = demo.settings;
  const child = run('psql', ['-X', '-h', host, '-p', String(port), '-U', user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-Atc', sql], {
    env: { ...process.env, PGPASSWORD: 'demo', PGSSLMODE: 'disable' },
  });
  if (input !== undefined) child.child.stdin!.end(input);
  return child.then((r) => r.stdout);
}

/** A bare protocol client: sends hand-built messages and collects the server's, for ordering checks. */
class RawClient {
  private buffer = Buffer.alloc(0);
  private readonly messages: { code: string; body: Buffer }[] = [];
  private waiter: (() => void) | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 5 && this.buffer.length >= 1 + this.buffer.readInt32BE(1)) {
        const length = this.buffer.readInt32BE(1);
        this.messages.push({ code: String.fromCharCode(this.buffer[0]), body: this.buffer.subarray(5, 1 + length) });
        this.buffer = this.buffer.subarray(1 + length);
      }
      this.waiter?.();
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => socket.once('connect', resolve));
    const client = new RawClient(socket);
    client.send(serialize.startup({ user: 'postgres', database: 'postgres' }));
    await client.until('Z');
    return client;
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  /** Messages received up to and including the first with this code; they are consumed. */
  async until(code: string): Promise<{ code: string; body: Buffer }[]> {
    for (;;) {
      const i = this.messages.findIndex((m) => m.code === code);
      if (i >= 0) return this.messages.splice(0, i + 1);
      await new Promise<void>((resolve) => { this.waiter = resolve; });
    }
  }

  close(): void {
    this.socket.end(serialize.end());
  }
}

beforeAll(async () => {
  demo = await startDemoDatabase({ port: 0 });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await demo?.stop();
});

describe('the demo database of vigil dev', () => {
  it('when it starts empty, then it is seeded with sample people, orders and fake credentials', async () => {
    expect(demo.seeded).toBe(true);
    expect(demo.settings).toMatchObject({ host: '127.0.0.1', port: demo.port, user: 'postgres', database: 'postgres', tls: 'disable' });
    const { client } = await connect();
    const customers = await client.query('select name, email, card_number from customers order by id');
    expect(customers.rows).toHaveLength(DEMO_CUSTOMERS.length);
    expect(customers.rows[0]).toEqual({ name: 'Alice Martin', email: 'alice.martin@example.com', card_number: '4111111111111111' });
    expect((await client.query('select count(*)::int as n from orders')).rows[0].n).toBeGreaterThan(0);
    const tokens = (await client.query('select token from api_credentials')).rows.map((r) => r.token);
    expect(tokens).toContain('AKIAIOSFODNN7EXAMPLE');
    expect(tokens.some((t: string) => /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/.test(t))).toBe(true);
  });

  it('when the sample card numbers are checked, then every one passes the Luhn check', () => {
    const luhn = (digits: string) => [...digits].reverse().reduce((sum, ch, i) => {
      const d = Number(ch) * (i % 2 ? 2 : 1);
      return sum + (d > 9 ? d - 9 : d);
    }, 0) % 10 === 0;
    for (const c of DEMO_CUSTOMERS) expect(luhn(c.card), c.card).toBe(true);
  });

  it('when two clients are connected at once, then both are served', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const [ra, rb] = await Promise.all([
      a.client.query('select email from customers where id = $1', [1]),
      b.client.query('select email from customers where id = $1', [2]),
    ]);
    expect(ra.rows[0].email).toBe('alice.martin@example.com');
    expect(rb.rows[0].email).toBe('bruno.keller@example.org');
  });

  it('when one client holds a transaction, then another waits (told by a notice) and then sees only committed data', async () => {
    const a = await connect();
    const b = await connect();
    await a.client.query('begin');
    await a.client.query(`update customers set phone = 'in-flight' where id = 3`);
    let bDone = false;
    const bRead = b.client.query('select phone from customers where id = 3').then((r) => { bDone = true; return r.rows[0].phone; });
    await expect.poll(() => b.notices.length).toBe(1);
    expect(b.notices[0]).toMatch(/one transaction at a time/);
    expect(bDone).toBe(false);
    await a.client.query(`update customers set phone = 'committed' where id = 3`);
    await a.client.query('commit');
    expect(await bRead).toBe('committed');
  });

  it('when extended-protocol queries of two clients interleave, then each gets its own results', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const loop = async (client: pg.Client, ids: number[]) => {
      for (const id of ids) {
        const r = await client.query({ text: 'select $1::int as n, email from customers where id = $1', values: [id] });
        expect(r.rows[0]).toEqual({ n: id, email: DEMO_CUSTOMERS[id - 1].email });
      }
    };
    await Promise.all([loop(a.client, [1, 3, 5, 7, 9, 11]), loop(b.client, [2, 4, 6, 8, 10, 12])]);
  });

  it('when a client is between Bind and Sync, then another client\'s query waits and cannot disturb its unnamed portal', async () => {
    const a = await RawClient.connect(demo.port);
    const b = await RawClient.connect(demo.port);
    a.send(serialize.parse({ text: 'select email from customers where id = $1' }), serialize.bind({ values: ['5'] }));
    expect((await a.until('2')).map((m) => m.code).join('')).toBe('12'); // the unnamed portal exists
    // A simple query would drop A's unnamed portal if it ran now; it must wait for A's Sync.
    b.send(serialize.query('select 42'));
    const notice = await b.until('N');
    expect(notice.map((m) => m.code).join('')).toBe('N'); // queued behind A, told so, nothing run yet
    a.send(serialize.execute({}), serialize.sync());
    const aMessages = await a.until('Z');
    expect(aMessages.map((m) => m.code).join('')).toBe('DCZ');
    expect(aMessages[0].body.toString()).toContain(DEMO_CUSTOMERS[4].email);
    const bMessages = await b.until('Z');
    expect(bMessages.map((m) => m.code).join('')).toBe('TDCZ');
    a.close();
    b.close();
  });

  it('when a client disconnects inside a transaction, then its changes are rolled back and others go on', async () => {
    const a = await connect();
    await a.client.query('begin');
    await a.client.query(`update customers set name = 'Never Saved' where id = 4`);
    const b = await connect();
    const waiting = b.client.query('select name from customers where id = 4');
    (a.client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect((await waiting).rows[0].name).toBe('Dmitri Volkov');
  });

  it('when psql copies rows in and out with COPY, then the data arrives and the database keeps serving', async () => {
    await psql('create table if not exists copy_target (id int, note text)');
    const out = await psql('\\copy copy_target from stdin', '1\tfirst\n2\tsecond\n');
    expect(out).toBe('COPY 2\n');
    expect(await psql('select count(*) from copy_target')).toBe('2\n');
    expect(await psql('copy (select note from copy_target order by id) to stdout')).toBe('first\nsecond\n');
    await expect(psql('\\copy copy_target from stdin', 'not-a-number\tx\n')).rejects.toThrow(/invalid input syntax/);
    expect(await psql('select 1')).toBe('1\n');
  });
});
