import { describe, expect, it } from 'vitest';
import { NotificationPids } from './notification-pids.ts';
import { byte, coded, cstr, i16, i32, value } from './protocol/test-wire.ts';

const UPSTREAM = 4242;
const GIVEN = 777_777;
const OTHER = 5151;

const stream = Buffer.concat([
  coded('D', i16(1), value('x'.repeat(40))),
  coded('A', i32(UPSTREAM), cstr('jobs'), cstr('mine')),
  coded('A', i32(OTHER), cstr('jobs'), cstr('from another backend')),
  coded('C', cstr('SELECT 1')),
  coded('A', i32(UPSTREAM), cstr('jobs'), cstr('')),
  coded('Z', byte('I')),
]);
const expected = Buffer.from(stream);
for (let at = 0; at < expected.length;) {
  const length = expected.readUInt32BE(at + 1);
  if (expected[at] === 0x41 && expected.readInt32BE(at + 5) === UPSTREAM) expected.writeInt32BE(GIVEN, at + 5);
  at += length + 1;
}

function run(chunks: Buffer[]): Buffer {
  const pids = new NotificationPids((pid) => (pid === UPSTREAM ? GIVEN : undefined));
  // Copies: the rewrite is in place, and the test reuses its input.
  return Buffer.concat(chunks.map((c) => Buffer.from(pids.rewrite(Buffer.from(c)))));
}

describe('NotificationPids', () => {
  it('when a notification comes from the session\'s own backend, then it carries the pid the client was given', () => {
    expect(run([stream]).equals(expected)).toBe(true);
  });

  it('when the stream is split at every offset, then the output is the same and nothing is lost or doubled', () => {
    for (let k = 0; k <= stream.length; k++) {
      expect(run([stream.subarray(0, k), stream.subarray(k)]).equals(expected), `split at ${k}`).toBe(true);
    }
  });

  it('when bytes come one at a time, then the output is the same', () => {
    const chunks: Buffer[] = [];
    for (let k = 0; k < stream.length; k++) chunks.push(stream.subarray(k, k + 1));
    expect(run(chunks).equals(expected)).toBe(true);
  });

  it('when a chunk ends inside a message body, then everything that arrived is passed on at once', () => {
    const pids = new NotificationPids(() => GIVEN);
    const row = coded('D', i16(1), value('y'.repeat(100)));
    expect(pids.rewrite(row.subarray(0, 50)).length).toBe(50);
    // Only the start of a notification whose pid has not arrived waits.
    expect(pids.rewrite(Buffer.concat([row.subarray(50), coded('A', i32(UPSTREAM), cstr('c'), cstr('p')).subarray(0, 7)])).length).toBe(row.length - 50);
  });
});
