// Find in the recording the player shows: its hits for the text (GET /api/sessions/:id/search,
// every page up to a bound, in seq order), and Next / Previous from the playhead, each a seek to
// the hit's event (which the link to this moment then names).
import { hitLabel, nextHit, previousHit, type Positioned } from './hit-cursor.ts';
import { searchSession, type SearchHit } from '../recordings-api.ts';
import { hitKey } from './results.ts';
import type { Player } from '../player.svelte.ts';

/** At most this many pages of hits are read (the hub sends 500 a page). */
const PAGES_MAX = 4;

export class RecordingFind {
  /** What the box holds. */
  text = $state('');
  /** The text the hits are for. */
  searched = $state('');
  hits = $state.raw<SearchHit[]>([]);
  /** More hits exist than were read. */
  more = $state(false);
  current = $state<number | null>(null);
  busy = $state(false);
  failure = $state('');
  readonly label = $derived(this.searched ? hitLabel(this.current, this.hits.length, this.more) : '');
  #gen = 0;

  constructor(private readonly player: Player) {}

  get currentHit(): SearchHit | null {
    return this.current === null ? null : (this.hits[this.current] ?? null);
  }

  next(): Promise<void> {
    return this.#go(nextHit);
  }

  previous(): Promise<void> {
    return this.#go(previousHit);
  }

  async #go(pick: (hits: readonly Positioned[], current: number | null, at: number) => number | null): Promise<void> {
    const text = this.text.trim();
    if (!text) return;
    if (text !== this.searched && !(await this.#load(text))) return;
    const s = this.player.state;
    // A jump still landing counts as landed: Next twice goes two hits on.
    const at = s.seeking && this.currentHit ? this.currentHit.seq : s.currentSeq;
    const i = pick(this.hits, this.current, at);
    if (i === null) return;
    this.current = i;
    const hit = this.hits[i];
    this.player.selectedSeq = hit.seq;
    await this.player.seekTo({ seq: hit.seq });
  }

  async #load(text: string): Promise<boolean> {
    const gen = ++this.#gen;
    this.busy = true;
    try {
      const hits: SearchHit[] = [];
      const seen = new Set<string>();
      let from: number | undefined;
      let pages = 0;
      let next: number | null = null;
      do {
        const page = await searchSession(this.player.sessionId, text, from);
        if (gen !== this.#gen) return false;
        // A page starts at the seq of the first hit not shown: a hit of that seq may come again.
        for (const h of page.hits) {
          if (seen.has(hitKey(h))) continue;
          seen.add(hitKey(h));
          hits.push(h);
        }
        next = page.nextSeq;
        from = next ?? undefined;
      } while (next !== null && ++pages < PAGES_MAX);
      this.hits = hits;
      this.more = next !== null;
      this.current = null;
      this.searched = text;
      this.failure = '';
      return true;
    } catch (err) {
      if (gen !== this.#gen) return false;
      this.failure = (err as Error).message;
      this.hits = [];
      this.searched = '';
      return false;
    } finally {
      if (gen === this.#gen) this.busy = false;
    }
  }
}
