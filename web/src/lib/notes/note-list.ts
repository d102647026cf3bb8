// The notes pinned to a recording's moments as the player shows them: in the order of their
// moments (then as made), each once however it arrived (its own POST's answer, the hub's push, a
// reload), and as marks on the timeline, one per moment. DOM-free.
import type { AnnotationView, TimelineMarker } from '../../../../common/api-contract.ts';

/** A note and the time of its moment (its event's; null until known). */
export interface Note extends AnnotationView {
  time: string | null;
}

/** The longest text a timeline mark's tip shows. */
const LABEL_MAX = 300;

const order = (a: Note, b: Note) => a.seq - b.seq || a.id - b.id;

/** The list with the notes added or replaced (by id), in order; a note's known time is kept. */
export function mergeNotes(list: readonly Note[], incoming: ReadonlyArray<AnnotationView & { time?: string | null }>): Note[] {
  const byId = new Map(list.map((n) => [n.id, n]));
  for (const a of incoming) {
    const before = byId.get(a.id);
    byId.set(a.id, { ...a, time: a.time ?? before?.time ?? null });
  }
  return [...byId.values()].sort(order);
}

/** The list with the times of moments learnt (seq → time). */
export function withTimes(list: readonly Note[], times: ReadonlyMap<number, string | null>): Note[] {
  return list.map((n) => (n.time === null && times.get(n.seq) ? { ...n, time: times.get(n.seq)! } : n));
}

/** One mark per moment with notes whose time is known; its label: who wrote what. */
export function noteMarkers(list: readonly Note[]): TimelineMarker[] {
  const bySeq = new Map<number, TimelineMarker>();
  for (const n of list) {
    if (n.time === null) continue;
    const line = `${n.author}: ${n.text}`;
    const m = bySeq.get(n.seq);
    if (!m) bySeq.set(n.seq, { seq: n.seq, kind: 'annotation', time: n.time, label: cut(line) });
    else m.label = cut(`${m.label}\n${line}`);
  }
  return [...bySeq.values()];
}

/** The hub's marks with the notes' (which stand for any note marks of the hub's), in seq order. */
export function withNoteMarkers(markers: readonly TimelineMarker[], notes: readonly TimelineMarker[]): TimelineMarker[] {
  if (notes.length === 0) return markers as TimelineMarker[];
  return [...markers.filter((m) => m.kind !== 'annotation'), ...notes].sort((a, b) => a.seq - b.seq);
}

function cut(text: string): string {
  return text.length > LABEL_MAX ? `${text.slice(0, LABEL_MAX - 1)}…` : text;
}
