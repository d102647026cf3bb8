import { describe, expect, it } from 'vitest';
import { packBodies, packBytes, packLive, unpackBodies, unpackLive } from './entry-codec.ts';

describe('entry codec', () => {
  const awkward = ['{"a":1}', '', 'line\nbreak', '12:colons:3:', 'ünïcødé \u0000 😀', '9'.repeat(40)];

  it('when bodies of any content are packed, then they unpack unchanged and in order', () => {
    expect(unpackBodies(packBodies(awkward))).toEqual(awkward);
    expect(unpackBodies(packBodies([]))).toEqual([]);
  });

  it('when live events are packed, then seq and body come back unchanged', () => {
    const events = awkward.map((body, i) => ({ seq: i + 7, body }));
    expect(unpackLive(packLive(events))).toEqual(events);
  });

  it('when packed as bytes, then the UTF-8 decoded message is the string packing, byte for byte', () => {
    const items = awkward.map((text, i) => ({ text, utf8: Buffer.from(text), seq: i + 1 }));
    expect(packBytes(items, false).toString('utf8')).toBe(packBodies(awkward));
    expect(packBytes(items, true).toString('utf8')).toBe(packLive(items.map((x) => ({ seq: x.seq, body: x.text }))));
    expect(unpackBodies(packBytes(items, false).toString('utf8'))).toEqual(awkward);
  });

  it('when the framing is broken anywhere, then the whole text is refused', () => {
    const packed = packBodies(awkward);
    for (let cut = 1; cut < packed.length; cut++) {
      const result = unpackBodies(packed.slice(0, cut));
      // A cut exactly between items is a valid shorter list; anywhere else it is refused.
      if (result !== null) expect(awkward.slice(0, result.length)).toEqual(result);
    }
    for (const bad of ['x:abc', '3abc', ':abc', '-1:a', '5:abc', '1.5:a', `${'9'.repeat(30)}:a`]) {
      expect(unpackBodies(bad)).toBeNull();
    }
    for (const bad of ['0:1:a', 'a:1:a', '1:3:ab', '1:1']) expect(unpackLive(bad)).toBeNull();
  });
});
