// Test support: a text printed the way a slow program prints it, in random pieces with random
// pauses between them, from a seed (a failure names the seed that reproduces it).
//
// Pauses come in three lengths that matter to a terminal recording (terminal-recorder.ts): short
// (the pieces of one burst), past the 30 ms idle pause (the held tail goes out up to its last
// whitespace), and past the 1 s quiet deadline (everything goes out but what is held). A pause of
// the last kind falls at a line end or inside a "-----BEGIN" block: a single word cut by a second
// of silence is recorded as it stands (a word cannot be known for a secret before its end
// arrives), which is the recorder's documented trade-off, not what these tests are about.
import { prng as random } from '../../common/prng.ts';

export interface Piece {
  text: string;
  /** Milliseconds of silence after this piece. */
  pauseMs: number;
}

/** Whether a long silence may fall at `at`: after a line end, or inside a PEM block (from its "-----B" to its END line's end). */
export function longPauseAllowed(text: string, at: number): boolean {
  if (at === 0 || text[at - 1] === '\n') return true;
  // (lastIndexOf clamps a negative start to 0, where a block at the very start would be found.)
  const begin = at < 6 ? -1 : text.lastIndexOf('-----BEGIN', at - 6);
  if (begin < 0) return false;
  const end = text.indexOf('-----END', begin);
  if (end < 0) return true;
  const endLine = text.indexOf('-----', end + 8);
  return endLine < 0 || at <= endLine + 5;
}

/** `text` in pieces of 1 to `maxPiece` characters with pauses as described above. */
export function slowPieces(text: string, seed: number, maxPiece = 80): Piece[] {
  const rnd = random(seed);
  const pieces: Piece[] = [];
  for (let at = 0; at < text.length;) {
    // Mostly whole lines or their halves, sometimes single characters, sometimes long runs.
    const size = rnd() < 0.3 ? 1 + Math.floor(rnd() * 3) : 1 + Math.floor(rnd() * maxPiece);
    const end = Math.min(text.length, at + size);
    const r = rnd();
    let pauseMs = 0;
    if (r < 0.35) pauseMs = Math.floor(rnd() * 25);
    else if (r < 0.7) pauseMs = 40 + Math.floor(rnd() * 860);
    else if (r < 0.85 && longPauseAllowed(text, end)) pauseMs = 1200 + Math.floor(rnd() * 2800);
    pieces.push({ text: text.slice(at, end), pauseMs });
    at = end;
  }
  return pieces;
}
