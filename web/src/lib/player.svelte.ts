// The player's state for the page: the engine (lib/playback/engine.ts) over the hub's API, its
// state a rune so the views follow it, provided to the player's components through context.
import { getContext, setContext } from 'svelte';
import type { SessionSummary, TimelineMarker } from '../../../common/api-contract.ts';
import type { VigilEvent } from '../../../common/events/schema.ts';
import { newPlaybackState, PlaybackEngine } from './playback/engine.ts';
import { httpSource, type Moment } from './playback/source.ts';
import { pairStatements, type Statement } from './playback/statements.ts';
import { PlayheadExchanges, type ExchangesAt } from './playback/exchanges.ts';
import { withNoteMarkers } from './notes/note-list.ts';
import { timeHeld } from './notes/moment-times.ts';

export class Player extends PlaybackEngine {
  /** The moment a link named, marked on the timeline (ms since the start), and its seq. */
  mark = $state<{ ms: number; seq: number | null } | null>(null);
  /** The statement or event picked in a list: a link to this moment names it. */
  selectedSeq = $state<number | null>(null);
  /** The notes' marks (lib/notes), shown on the timeline with the hub's. */
  noteMarkers = $state.raw<TimelineMarker[]>([]);
  /** The events held around the playhead (a bounded window, not the recording), as of state.version. */
  readonly held: readonly VigilEvent[] = $derived.by(() => {
    void this.state.version;
    return this.events().slice();
  });
  /** A PostgreSQL session's statements among the events held. */
  readonly statements: Statement[] = $derived(pairStatements(this.held));
  readonly #exchanges = new PlayheadExchanges();
  /** An HTTP session's exchanges among the events held, as they are at the playhead. */
  readonly exchanges: ExchangesAt = $derived(this.#exchanges.at(this.held, this.state.currentSeq));

  constructor(readonly sessionId: string) {
    const state = $state(newPlaybackState());
    super(state, httpSource(sessionId));
  }

  /** A seek by time leaves the statement or event picked (a link then names the time only). */
  override seekTo(at: Moment): Promise<void> {
    if ('ms' in at) this.selectedSeq = null;
    return super.seekTo(at);
  }

  // What the engine holds outside its state, read so that a view follows it (state.version).

  get summary(): SessionSummary | null {
    void this.state.version;
    return this.session;
  }

  get timelineMarkers(): TimelineMarker[] {
    void this.state.version;
    return withNoteMarkers(this.markers, this.noteMarkers);
  }

  /** An HTTP session: its exchanges are listed (not statements). */
  get isHttp(): boolean {
    return this.summary?.protocol === 'http';
  }

  /** Goes to an exchange whole: its last event held (the link to this moment then names it). */
  seekToExchange(seq: number): Promise<void> {
    void this.exchanges; // the exchanges of the events held now
    const to = this.#exchanges.endOf(seq);
    this.selectedSeq = to;
    return this.seekTo({ seq: to });
  }

  /** The exchange (its request's seq) an event held belongs to. */
  exchangeOf(seq: number | null): number | null {
    void this.exchanges; // read again when the events held change
    return seq === null ? null : this.#exchanges.exchangeOf(seq);
  }

  /** The time of the event `seq` when it is among the events held now (not followed: a lookup). */
  heldTime(seq: number): string | null {
    return timeHeld(this.events(), seq);
  }
}

const KEY = Symbol('player');

export function providePlayer(player: Player): Player {
  return setContext(KEY, player);
}

export function usePlayer(): Player {
  const player = getContext<Player | undefined>(KEY);
  if (!player) throw new Error('usePlayer(): no player here; the component must sit inside Player.svelte, which provides it');
  return player;
}
