// A segment's body: the canonical bytes of a run of consecutive events of one session, joined by
// newlines (canonical JSON never holds a raw newline). Sealed segments are compressed by the
// database (migration 5: lz4, or pglz), so the hub neither compresses nor inflates anything.

/** The bodies as one text; throws if one could not be told apart from the next. */
export function joinBodies(bodies: readonly string[]): string {
  for (const body of bodies) {
    if (body.includes('\n')) throw new Error('an event body holds a newline: it is not canonical JSON');
  }
  return bodies.join('\n');
}

/** The bodies of a stored segment, in seq order. */
export function splitBodies(text: string): string[] {
  return text.length === 0 ? [] : text.split('\n');
}
