// The Audit page's state: the entries its filter names, newest first, a page of 100 at a time
// ("Older" goes on), and new ones as they are written on any hub (the hub pushes every new entry;
// those matching the filter go on top and are counted as new until marked seen). After each
// (re)subscription the hub says from which id it pushes; whatever came before that and after the
// newest entry shown (written while the page loaded, or while the connection was down) is read.
import type { AuditEntry, AuditListResponse } from '../../../../common/api-contract.ts';
import { get } from '../api.ts';
import { LatestRead } from '../latest-read.svelte.ts';
import { followAudit } from '../live.ts';
import { clock } from '../time.svelte.ts';
import { resolveRange, type Bounds } from '../sessions/time-range.ts';
import { AUDIT_PAGE, auditParams, matchesAudit, type AuditFilter } from './audit-route.ts';

export class AuditLog extends LatestRead {
  /** Newest first; null until the first page has come. */
  entries = $state.raw<AuditEntry[] | null>(null);
  /** There may be older entries than the last shown (its page was full). */
  older = $state(false);
  /** Entries that came after the first page, not marked seen yet. */
  fresh = $state.raw<ReadonlySet<number>>(new Set());
  /** connecting: not followed yet (or again); live: the hub pushes new entries; off: it refused or failed. */
  live = $state<'connecting' | 'live' | 'off'>('connecting');
  liveFailure = $state('');
  #bounds: Bounds = {};
  /** Entries pushed before the first page came. */
  #early: AuditEntry[] = [];
  /** Where the hub said it pushes from, last time. */
  #pushedAfter = 0;

  constructor(readonly filter: AuditFilter) {
    super();
  }

  get newest(): number {
    return this.entries?.[0]?.id ?? 0;
  }

  /** The first page (again), with the range resolved now. */
  load(): Promise<void> {
    this.#bounds = resolveRange(this.filter, Date.now(), clock.zone);
    return this.read(() => this.#page(), async (page) => {
      this.entries = page;
      this.older = page.length === AUDIT_PAGE;
      this.fresh = new Set();
      const early = this.#early;
      this.#early = [];
      this.#arrive(early);
      await this.#catchUp();
    });
  }


  /** The page before the oldest entry shown. */
  async loadOlder(): Promise<void> {
    const oldest = this.entries?.at(-1)?.id;
    if (oldest === undefined) return;
    await this.read(() => this.#page(oldest), (page) => {
      this.entries = merged(this.entries ?? [], page);
      this.older = page.length === AUDIT_PAGE;
    });
  }


  /** Follows new entries while the page is open; returns the stop. */
  follow(): () => void {
    return followAudit({
      following: (after) => {
        this.live = 'live';
        this.liveFailure = '';
        this.#pushedAfter = after;
        void this.#catchUp().catch((err: Error) => (this.failure = err.message));
      },
      entries: (rows) => this.#arrive(rows),
      error: (message) => {
        this.live = 'off';
        this.liveFailure = message;
      },
    });
  }

  markSeen(): void {
    this.fresh = new Set();
  }

  #page(before?: number): Promise<AuditEntry[]> {
    return get<AuditListResponse>(`/api/audit?${auditParams(this.filter, this.#bounds, before)}`).then((r) => r.entries);
  }

  /** New entries pushed by the hub: those of this filter go on top, counted as new. */
  #arrive(rows: readonly AuditEntry[]): void {
    const mine = rows.filter((e) => matchesAudit(e, this.filter, this.#bounds));
    if (mine.length === 0) return;
    if (this.entries === null) {
      this.#early.push(...mine);
      return;
    }
    const known = new Set(this.entries.map((e) => e.id));
    const added = mine.filter((e) => !known.has(e.id));
    if (added.length === 0) return;
    this.entries = merged(this.entries, added);
    this.fresh = new Set([...this.fresh, ...added.map((e) => e.id)]);
  }

  /** Reads what was written between the newest entry shown and where the hub pushes from. */
  async #catchUp(): Promise<void> {
    if (this.entries === null || this.#pushedAfter <= this.newest) return;
    const newest = this.newest;
    const page = await this.#page();
    if (this.entries === null) return;
    const newer = page.filter((e) => e.id > newest);
    // A whole page newer than what is shown: there may be more in between; start from this page.
    if (newer.length === AUDIT_PAGE && this.entries.length > 0) {
      this.entries = page;
      this.older = true;
      this.fresh = new Set(page.map((e) => e.id));
      return;
    }
    this.#arrive(newer);
  }
}

/** Two lists of entries as one, each once, newest first. */
function merged(a: readonly AuditEntry[], b: readonly AuditEntry[]): AuditEntry[] {
  const byId = new Map<number, AuditEntry>();
  for (const e of [...a, ...b]) byId.set(e.id, e);
  return [...byId.values()].sort((x, y) => y.id - x.id);
}
