// The state of one watched session, as the watch view shows it: its rows (lib/watch/watch-rows.ts:
// a statement with its answers, a psql meta-command, a typed line, any other event; the
// terminal's output goes to the terminal, not the list), what arrived while paused, who else is
// watching, the connection, and the facts read from the events (how it started and ended, the
// grant it runs under). Each batch updates those facts from its own events only: a long session
// costs the same per batch at its end as at its start. An HTTP session's events are folded into
// its exchanges (playback/exchanges.ts) as they come, and listed there.
import type { EventData, EventOf, VigilEvent } from '../../../common/events/schema.ts';
import { ExchangeFold, type Exchange } from './playback/exchanges.ts';
import type { Viewer } from '../../../common/live/contract.ts';
import { WatchRows, type WatchRow } from './watch/watch-rows.ts';

export class SessionFeed {
  /** What the list shows, in seq order (values: a changed row is a new object). */
  rows = $state.raw<WatchRow[]>([]);
  viewers = $state<Viewer[]>([]);
  paused = $state(false);
  failure = $state('');
  gaps = $state<string[]>([]);
  /** The session has a terminal (its output is drawn, not listed). */
  isTerminal = $state(false);
  ended = $state(false);
  /** Its session.start and session.end, once they came. */
  start = $state.raw<EventOf<'session.start'> | null>(null);
  end = $state.raw<EventData<'session.end'> | null>(null);
  /** The access grant this session runs under (jit targets), once its `access` event came, and until when. */
  grant = $state<number | null>(null);
  grantUntil = $state<string | null>(null);
  heldCount = $state(0);
  /** An HTTP session: its exchanges are shown (not its http.* events in the list). */
  isHttp = $state(false);
  /** An HTTP session's exchanges so far (values: a changed one is a new object). */
  exchanges = $state.raw<Exchange[]>([]);
  private held: VigilEvent[] = [];
  readonly #rows = new WatchRows();
  readonly #fold = new ExchangeFold();

  /**
   * Takes a batch: while paused it is held; otherwise it goes to `draw` (the terminal, when the
   * session has one), an HTTP session's exchange events to its exchanges, the others to the rows.
   * Returns whether the rows or the exchanges changed.
   */
  take(batch: VigilEvent[], draw: (batch: VigilEvent[]) => void): boolean {
    if (this.paused) {
      this.held.push(...batch);
      this.heldCount = this.held.length;
      return false;
    }
    return this.show(batch, draw);
  }

  /** Shows what was held and follows the live tail again. */
  resume(draw: (batch: VigilEvent[]) => void): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    this.heldCount = 0;
    this.show(held, draw);
  }

  gap(from: number, to: number): void {
    this.gaps.push(`events ${from}–${to} were not recorded`);
  }

  private show(batch: VigilEvent[], draw: (batch: VigilEvent[]) => void): boolean {
    for (const e of batch) {
      if (e.type === 'ssh.shell' || e.type === 'ssh.exec' || e.type === 'term.output') this.isTerminal = true;
      if (e.type === 'session.start' && !this.start) this.start = e;
      if (e.type === 'session.end') {
        this.ended = true;
        this.end = e.data;
      }
      if (e.type === 'access' && e.data.action === 'granted' && this.grant === null) {
        this.grant = e.data.requestId;
        this.grantUntil = e.data.expiresAt ?? null;
      }
      if (e.protocol === 'http') this.isHttp = true;
    }
    if (this.isTerminal) draw(batch);
    const listed = this.#rows.add(batch);
    if (listed) this.rows = this.#rows.list();
    const exchanged = this.isHttp && this.#fold.add(batch);
    if (exchanged) this.exchanges = this.#fold.list();
    return listed || exchanged;
  }
}
