// The Sessions page's state: one listing (the filter its route names), newest first, a page of
// 100 at a time; "Load more" goes on from the last page's cursor. The range's presets are resolved
// once per listing, so every page of "the last hour" asks for the same hour.
import { get } from '../api.ts';
import { LatestRead } from '../latest-read.svelte.ts';
import { clock } from '../time.svelte.ts';
import type { SessionListResponse, SessionSummary } from '../../../../common/api-contract.ts';
import { sessionListParams, type SessionListFilter } from './session-list-route.ts';
import { resolveRange, type Bounds } from './time-range.ts';

export class SessionList extends LatestRead {
  sessions = $state.raw<SessionSummary[]>([]);
  /** The cursor of the next page (null: that was the last). */
  next = $state<string | null>(null);
  /** Whether the first page has come (an empty list before it means nothing yet). */
  loaded = $state(false);
  #bounds: Bounds = {};

  constructor(readonly filter: SessionListFilter) {
    super();
  }

  /** From the first page (again), with the range resolved now. */
  load(): Promise<void> {
    this.#bounds = resolveRange(this.filter, Date.now(), clock.zone);
    return this.#read(null);
  }

  more(): Promise<void> {
    return this.next ? this.#read(this.next) : Promise.resolve();
  }

  #read(cursor: string | null): Promise<void> {
    return this.read(() => get<SessionListResponse>(`/api/sessions?${sessionListParams(this.filter, this.#bounds, cursor)}`), (page) => {
      const known = new Set(cursor ? this.sessions.map((s) => s.id) : []);
      this.sessions = [...(cursor ? this.sessions : []), ...page.sessions.filter((s) => !known.has(s.id))];
      this.next = page.next;
      this.loaded = true;
    });
  }

}
