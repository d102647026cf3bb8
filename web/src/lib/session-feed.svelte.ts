// The state of one watched session, as the watch view shows it: the events listed (the terminal's
// output goes to the terminal, not the list), what arrived while paused, who else is watching, the
// connection, and the facts read from the events (ended, the grant it runs under). Each batch
// updates those facts from its own events only: a long session costs the same per batch at its end
// as at its start (the view used to rescan every event it held on every batch). An HTTP session's
// events are folded into its exchanges (playback/exchanges.ts) as they come, and listed there.
import type { VigilEvent } from '../../../common/events/schema.ts';
import { ExchangeFold, type Exchange } from './playback/exchanges.ts';
import type { Viewer } from '../../../common/live/contract.ts';

/** Shown in an HTTP session's exchanges, not in the list. */
const EXCHANGE_EVENTS = new Set<VigilEvent['type']>(['http.request', 'http.body', 'http.response', 'http.end', 'ws.message']);

export class SessionFeed {
  /** What the list shows, in seq order. */
  events = $state<VigilEvent[]>([]);
  viewers = $state<Viewer[]>([]);
  paused = $state(false);
  connected = $state(false);
  failure = $state('');
  gaps = $state<string[]>([]);
  /** The session has a terminal (its output is drawn, not listed). */
  isTerminal = $state(false);
  ended = $state(false);
  /** The access grant this session runs under (jit targets), once its `access` event came. */
  grant = $state<number | null>(null);
  heldCount = $state(0);
  /** An HTTP session: its exchanges are shown (not its http.* events in the list). */
  isHttp = $state(false);
  /** An HTTP session's exchanges so far (values: a changed one is a new object). */
  exchanges = $state.raw<Exchange[]>([]);
  private held: VigilEvent[] = [];
  readonly #fold = new ExchangeFold();

  /**
   * Takes a batch: while paused it is held; otherwise it goes to `draw` (the terminal, when the
   * session has one), an HTTP session's exchange events to its exchanges, the other events to the
   * list. Returns whether the list or the exchanges changed.
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
    const listed: VigilEvent[] = [];
    for (const e of batch) {
      if (e.type === 'ssh.shell' || e.type === 'ssh.exec' || e.type === 'term.output') this.isTerminal = true;
      if (e.type === 'session.end') this.ended = true;
      if (e.type === 'access' && e.data.action === 'granted' && this.grant === null) this.grant = e.data.requestId;
      if (e.protocol === 'http') this.isHttp = true;
      if (e.type !== 'term.output' && !EXCHANGE_EVENTS.has(e.type)) listed.push(e);
    }
    if (this.isTerminal) draw(batch);
    if (listed.length > 0) this.events.push(...listed);
    const exchanged = this.isHttp && this.#fold.add(batch);
    if (exchanged) this.exchanges = this.#fold.list();
    return listed.length > 0 || exchanged;
  }
}
