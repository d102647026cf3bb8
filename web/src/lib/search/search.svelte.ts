// The Search page's state: one search (what the route names), its results page by page. A page
// may be short, even empty, and still have a cursor (the hub's reading budget ran out): "More"
// goes on from there.
import type { SearchForm } from './search-route.ts';
import { searchParams } from './search-route.ts';
import { appendPage } from './results.ts';
import { searchRecordings, type SessionMatches } from '../recordings-api.ts';

export class RecordingSearch {
  sessions = $state.raw<SessionMatches[]>([]);
  /** Where the next page starts (null: no more). */
  cursor = $state<string | null>(null);
  status = $state<'idle' | 'loading' | 'done' | 'failed'>('idle');
  failure = $state('');
  /** How many pages were read: a first empty page and a later one read differently. */
  pages = $state(0);
  #gen = 0;

  constructor(readonly form: SearchForm) {}

  /** From the first page (again). */
  run(): Promise<void> {
    return this.#read(null);
  }

  more(): Promise<void> {
    return this.cursor ? this.#read(this.cursor) : Promise.resolve();
  }

  async #read(cursor: string | null): Promise<void> {
    const gen = ++this.#gen;
    this.status = 'loading';
    try {
      const page = await searchRecordings(searchParams(this.form, cursor));
      if (gen !== this.#gen) return;
      this.sessions = appendPage(cursor ? this.sessions : [], page.sessions);
      this.cursor = page.nextCursor;
      this.pages = cursor ? this.pages + 1 : 1;
      this.failure = '';
      this.status = 'done';
    } catch (err) {
      if (gen !== this.#gen) return;
      this.failure = (err as Error).message;
      this.status = 'failed';
    }
  }
}
