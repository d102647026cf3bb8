// The notes pinned to the moments of the recording the player shows: read once, then kept up to
// date through the hub's push (lib/live.ts) while the player is open: a note made by anyone, on
// any hub, appears at once, in the list and as a mark on the timeline. Provided to the player's
// components through context.
import { getContext, setContext } from 'svelte';
import type { AnnotationView, TimelineMarker } from '../../../../common/api-contract.ts';
import { followAnnotations } from '../live.ts';
import { annotate, eventTimeAt, listAnnotations } from '../recordings-api.ts';
import { MomentTimes } from './moment-times.ts';
import { mergeNotes, noteMarkers, withTimes, type Note } from './note-list.ts';

/** The hub's longest note. */
export const NOTE_MAX = 2000;

export class RecordingNotes {
  list = $state.raw<Note[]>([]);
  loaded = $state(false);
  /** The hub pushes this recording's new notes to this page (and the list read since it does is in). */
  following = $state(false);
  failure = $state('');
  readonly markers: TimelineMarker[] = $derived(noteMarkers(this.list));
  readonly #times: MomentTimes;

  /** held: the time of an event the player holds now (null when it does not). */
  constructor(readonly sessionId: string, held: (seq: number) => string | null) {
    this.#times = new MomentTimes((seq) => eventTimeAt(sessionId, seq), held);
  }

  async load(): Promise<void> {
    try {
      this.#take(await listAnnotations(this.sessionId));
      this.loaded = true;
      this.failure = '';
    } catch (err) {
      this.failure = (err as Error).message;
    }
  }

  /** Pins a note to the event `seq`; throws the hub's refusal. */
  async add(seq: number, text: string): Promise<void> {
    this.#take([await annotate(this.sessionId, seq, text)]);
  }

  /** Follows the hub's push until the returned function is called. */
  follow(): () => void {
    return followAnnotations(this.sessionId, {
      note: (a) => this.#take([a]),
      // Read again once followed: a note pinned after the first read and before the hub followed
      // (or, after a reconnect, while it could not push) is in the list too.
      followed: () => {
        void this.load().then(() => (this.following = true));
      },
      lost: () => (this.following = false),
      error: (message) => {
        this.following = false;
        this.failure = message;
      },
    });
  }

  #take(notes: AnnotationView[]): void {
    this.list = mergeNotes(this.list, notes);
    for (const seq of new Set(this.list.filter((n) => n.time === null).map((n) => n.seq))) {
      void this.#times.timeOf(seq).then((time) => {
        if (time) this.list = withTimes(this.list, new Map([[seq, time]]));
      });
    }
  }
}

const KEY = Symbol('recording-notes');

export function provideNotes(notes: RecordingNotes): RecordingNotes {
  return setContext(KEY, notes);
}

export function useNotes(): RecordingNotes {
  const notes = getContext<RecordingNotes | undefined>(KEY);
  if (!notes) throw new Error('useNotes(): no notes here; the component must sit inside Player.svelte, which provides them');
  return notes;
}
