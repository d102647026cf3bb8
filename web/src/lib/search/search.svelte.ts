// The Search page's state: one search (what the route names), its results page by page. A page
// may be short, even empty, and still have a cursor (the hub's reading budget ran out): "More"
// goes on from there.
import type { SearchForm } from './search-route.ts';
import { searchParams } from './search-route.ts';
import { appendPage } from './results.ts';
import { searchRecordings, type SessionMatches } from '../recordings-api.ts';
import { LatestRead } from '../latest-read.svelte.ts';

export class RecordingSearch extends LatestRead {
  sessions = $state.raw<SessionMatches[]>([]);
  /** Where the next page starts (null: no more). */
  cursor = $state<string | null>(null);
  /** How many pages were read: a first empty page and a later one read differently. */
  pages = $state(0);

  constructor(readonly form: SearchForm) {
    super();
    this.status = 'idle';
  }

  /** From the first page (again). */
  run(): Promise<void> {
    return this.#read(null);
  }

  more(): Promise<void> {
    return this.cursor ? this.#read(this.cursor) : Promise.resolve();
  }

  #read(cursor: string | null): Promise<void> {
    return this.read(() => searchRecordings(searchParams(this.form, cursor)), (page) => {
      this.sessions = appendPage(cursor ? this.sessions : [], page.sessions);
      this.cursor = page.nextCursor;
      this.pages = cursor ? this.pages + 1 : 1;
    });
  }
}
