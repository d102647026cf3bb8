// A node-postgres client in a process of its own, for tests that measure the agent's memory while
// a large value passes: the value and its copies live here, not in the test's process.
//   node large-value-client.mjs URL TABLE bytea|text MIB SEED
// Inserts one value of MIB mebibytes (the same bytes for the same seed) as a parameter, reads it
// back, and prints one JSON line: timings, whether it came back equal, and SHA-256 hashes of the
// value sent and of its bytes on the wire when read back in text format.
import crypto from 'node:crypto';
import pg from 'pg';

const [url, table, kind, mib, seed] = process.argv.slice(2);
const size = Number(mib) * 1024 * 1024;

/** Deterministic bytes (xorshift32), so two runs send the same value. */
function bytes(n, s) {
  const out = Buffer.allocUnsafe(n);
  let x = Number(s) >>> 0 || 1;
  for (let i = 0; i + 4 <= n; i += 4) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  return out;
}

const sha = (v) => crypto.createHash('sha256').update(v).digest('hex');
const raw = bytes(size, seed);
// Text: printable ASCII from the same bytes (one byte per character).
const value = kind === 'bytea' ? raw : raw.map((b) => 0x21 + (b % 94)).toString('latin1');

const client = new pg.Client({ connectionString: url });
await client.connect();
let t = Date.now();
const inserted = await client.query(`insert into ${table} (v) values ($1) returning id`, [value]);
const insertMs = Date.now() - t;
t = Date.now();
const read = await client.query(`select v from ${table} where id = $1`, [inserted.rows[0].id]);
const readMs = Date.now() - t;
const back = read.rows[0].v;
await client.end();
const equal = kind === 'bytea' ? Buffer.isBuffer(back) && back.equals(raw) : back === value;
console.log(JSON.stringify({
  insertMs,
  readMs,
  equal,
  sent: sha(value),
  // What a text-format result carries: bytea as \x and hex digits.
  readWire: kind === 'bytea' ? sha(`\\x${raw.toString('hex')}`) : sha(value),
}));
