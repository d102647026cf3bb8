// One pass over a recording as it is stored (its segment rows, in seq order) that checks the hash
// chain and computes what a manifest signs: the event count, the first and final hashes, and a
// digest per block of BLOCK_EVENTS seqs (independent of how the store cut its rows, so a later
// merge of rows changes nothing). The sealer runs it to sign a session; the verifier runs it again
// and compares. Findings name what broke: an event changed, missing, stored in another's place,
// unreadable, or a row whose events do not add up.
import crypto from 'node:crypto';
import { eventHash } from '../../../common/events/chain.ts';
import { splitBodies } from '../store/segment-body.ts';

/** A segment row as stored: its seq range and its events' canonical bytes joined by newlines. */
export interface RawSegment {
  firstSeq: number;
  lastSeq: number;
  body: string;
}

export const BLOCK_EVENTS = 1000;

export interface BlockDigest {
  from: number;
  to: number;
  sha256: string;
}

export type Finding =
  | { kind: 'changed'; from: number; to: number; message: string }
  | { kind: 'missing'; from: number; to: number; message: string }
  | { kind: 'reordered'; from: number; to: number; message: string }
  | { kind: 'unreadable'; from: number; to: number; message: string }
  | { kind: 'segment'; from: number; to: number; message: string };

export interface WalkResult {
  /** The highest seq stored. */
  lastSeq: number;
  /** Events stored. */
  eventCount: number;
  firstHash: string | null;
  finalHash: string | null;
  /** The type of the last event stored (session.end when it ended). */
  lastType: string | null;
  blocks: BlockDigest[];
  /** Links that could not be checked: events after the first without `prev` (recorded before chaining, or after a hole). */
  unchained: number;
  findings: Finding[];
  /** Holes the recording itself declares (the agent's spool was full; the hub ended a lost agent's session): not tampering. */
  gaps: Array<{ from: number; to: number; why: string }>;
}

interface Head {
  seq: number | null;
  prev: string | null;
  type: string | null;
  data: Record<string, unknown> | null;
}

function readHead(body: string): Head | null {
  try {
    const e = JSON.parse(body) as { seq?: unknown; prev?: unknown; type?: unknown; data?: unknown };
    return {
      seq: Number.isSafeInteger(e.seq) ? (e.seq as number) : null,
      prev: typeof e.prev === 'string' ? e.prev : null,
      type: typeof e.type === 'string' ? e.type : null,
      data: e.data && typeof e.data === 'object' ? (e.data as Record<string, unknown>) : null,
    };
  } catch {
    return null;
  }
}

/** Why the recording says events from..to are missing, when the event right after them says so. */
function declaredGap(head: Head | null, from: number, to: number): string | null {
  if (head?.type === 'recording.gap' && head.data?.fromSeq === from && head.data?.toSeq === to) return 'the agent\'s spool was full (declared by the agent)';
  if (head?.type === 'session.end' && head.data?.writtenBy === 'hub') return 'they never arrived from the agent; the hub ended the session';
  return null;
}

const range = (from: number, to: number) => (from === to ? `event ${from}` : `events ${from} to ${to}`);

export class ChainWalk {
  #expected = 1;
  #lastHash: string | null = null;
  #firstHash: string | null = null;
  #lastType: string | null = null;
  #count = 0;
  #unchained = 0;
  /** Links (by the seq of the event whose prev did not match) found broken, in order. */
  readonly #breaks: number[] = [];
  /** Stored seq -> the seq its body says it is, where they differ. */
  readonly #misplaced = new Map<number, number>();
  readonly #findings: Finding[] = [];
  readonly #gaps: WalkResult['gaps'] = [];
  readonly #blocks: BlockDigest[] = [];
  #block: { index: number; hash: crypto.Hash; from: number; to: number } | null = null;

  feed(segment: RawSegment): void {
    const bodies = splitBodies(segment.body);
    const claimed = segment.lastSeq - segment.firstSeq + 1;
    if (bodies.length !== claimed) {
      this.#findings.push({
        kind: 'segment', from: segment.firstSeq, to: segment.lastSeq,
        message: `the stored row for ${range(segment.firstSeq, segment.lastSeq)} holds ${bodies.length} events, not ${claimed}`,
      });
    }
    for (let i = 0; i < bodies.length; i++) this.#event(segment.firstSeq + i, bodies[i]);
  }

  #event(seq: number, body: string): void {
    if (seq < this.#expected) {
      this.#findings.push({ kind: 'segment', from: seq, to: seq, message: `event ${seq} is stored twice` });
      return;
    }
    const head = readHead(body);
    if (seq > this.#expected) {
      const why = declaredGap(head, this.#expected, seq - 1);
      if (why) this.#gaps.push({ from: this.#expected, to: seq - 1, why });
      else this.#findings.push({ kind: 'missing', from: this.#expected, to: seq - 1, message: `${range(this.#expected, seq - 1)} ${seq - 1 === this.#expected ? 'is' : 'are'} missing` });
      // Nothing to chain to across the hole.
      this.#lastHash = null;
    }
    const hash = eventHash(body);
    this.#digest(seq, body);
    if (!head) {
      this.#findings.push({ kind: 'unreadable', from: seq, to: seq, message: `event ${seq} is not valid JSON` });
    } else {
      if (head.seq !== null && head.seq !== seq) this.#misplaced.set(seq, head.seq);
      if (seq > 1 && this.#lastHash !== null) {
        if (head.prev === null) this.#unchained++;
        else if (head.prev !== this.#lastHash) this.#breaks.push(seq);
      } else if (seq > 1 && head.prev === null) {
        this.#unchained++;
      }
      this.#lastType = head.type;
    }
    if (seq === 1) this.#firstHash = hash;
    this.#lastHash = hash;
    this.#expected = seq + 1;
    this.#count++;
  }

  #digest(seq: number, body: string): void {
    const index = Math.floor((seq - 1) / BLOCK_EVENTS);
    if (this.#block && this.#block.index !== index) this.#closeBlock();
    if (!this.#block) this.#block = { index, hash: crypto.createHash('sha256'), from: seq, to: seq };
    else this.#block.hash.update('\n');
    this.#block.hash.update(body, 'utf8');
    this.#block.to = seq;
  }

  #closeBlock(): void {
    if (!this.#block) return;
    this.#blocks.push({ from: this.#block.from, to: this.#block.to, sha256: this.#block.hash.digest('hex') });
    this.#block = null;
  }

  finish(): WalkResult {
    this.#closeBlock();
    const findings = [...this.#findings];
    // Two events stored in each other's place read as a swap, not as two changes.
    const swapped = new Set<number>();
    for (const [at, says] of this.#misplaced) {
      if (swapped.has(at) || this.#misplaced.get(says) !== at) continue;
      swapped.add(at).add(says);
      const [a, b] = at < says ? [at, says] : [says, at];
      findings.push({ kind: 'reordered', from: a, to: b, message: `events ${a} and ${b} are stored in each other's place (reordered)` });
    }
    // The rest come in runs stored one offset away: events removed (or added) and the seqs after
    // them closed up. The link at the start of such a run is the removal's, not a change.
    const excused = new Set(swapped);
    const rest = [...this.#misplaced].filter(([at]) => !swapped.has(at)).sort((x, y) => x[0] - y[0]);
    for (let i = 0; i < rest.length;) {
      const offset = rest[i][1] - rest[i][0];
      let j = i;
      while (j + 1 < rest.length && rest[j + 1][0] === rest[j][0] + 1 && rest[j + 1][1] - rest[j + 1][0] === offset) j++;
      const [from, to] = [rest[i][0], rest[j][0]];
      if (offset > 0) {
        excused.add(from);
        findings.push({
          kind: 'missing', from, to: from + offset - 1,
          message: `${range(from, from + offset - 1)} ${offset === 1 ? 'was' : 'were'} removed: ${range(from + offset, to + offset)} ${from === to ? 'is' : 'are'} stored under ${from === to ? `seq ${from}` : `seqs ${from} to ${to}`}`,
        });
      } else {
        findings.push({ kind: 'reordered', from, to, message: `${range(from, to)} ${from === to ? 'holds' : 'hold'} ${range(from + offset, to + offset)} (stored out of place)` });
      }
      i = j + 1;
    }
    findings.push(...this.#changes(excused));
    findings.sort((x, y) => x.from - y.from);
    return {
      lastSeq: this.#expected - 1,
      eventCount: this.#count,
      firstHash: this.#firstHash,
      finalHash: this.#lastHash,
      lastType: this.#lastType,
      blocks: this.#blocks,
      unchained: this.#unchained,
      findings,
      gaps: this.#gaps,
    };
  }

  /**
   * A changed event breaks the link after it (its hash no longer matches the next event's prev);
   * a changed prev breaks the link before it too. So a lone break at k names event k - 1, and a
   * run of breaks k..m names events k..m - 1. Breaks around reordered or removed events are theirs.
   */
  #changes(excused: ReadonlySet<number>): Finding[] {
    const out: Finding[] = [];
    const breaks = this.#breaks.filter((k) => !excused.has(k) && !excused.has(k - 1));
    for (let i = 0; i < breaks.length;) {
      let j = i;
      while (j + 1 < breaks.length && breaks[j + 1] === breaks[j] + 1) j++;
      const [from, to] = j === i ? [breaks[i] - 1, breaks[i] - 1] : [breaks[i], breaks[j] - 1];
      out.push({ kind: 'changed', from, to, message: `${range(from, to)} ${from === to ? 'was' : 'were'} changed: ${from === to ? 'its hash no longer matches' : 'their hashes no longer match'} the chain` });
      i = j + 1;
    }
    return out;
  }
}

/** Walks a whole recording given as segments. */
export function walkSegments(segments: Iterable<RawSegment>): WalkResult {
  const walk = new ChainWalk();
  for (const s of segments) walk.feed(s);
  return walk.finish();
}
