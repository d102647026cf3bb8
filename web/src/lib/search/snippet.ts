// A hit's snippet as runs of text, each marked or not, for a view to render as text nodes (a
// <mark> around the marked ones): never markup built from the recorded text. The hub's offsets
// are trusted only as far as they fit: sorted, clipped to the text, overlaps merged, empty ones
// dropped, never splitting a surrogate pair. DOM-free.
import type { Snippet } from '../recordings-api.ts';

export interface SnippetRun {
  text: string;
  marked: boolean;
}

/** Moves an offset off the middle of a surrogate pair (to the pair's start). */
function onCharacter(text: string, at: number): number {
  if (at > 0 && at < text.length) {
    const before = text.charCodeAt(at - 1);
    if (before >= 0xd800 && before <= 0xdbff) return at - 1;
  }
  return at;
}

export function snippetRuns(snippet: Snippet): SnippetRun[] {
  const { text } = snippet;
  const spans = (Array.isArray(snippet.highlights) ? snippet.highlights : [])
    .filter((h) => Number.isFinite(h?.start) && Number.isFinite(h?.end))
    .map((h) => ({ start: onCharacter(text, Math.min(text.length, Math.max(0, Math.floor(h.start)))), end: onCharacter(text, Math.min(text.length, Math.max(0, Math.ceil(h.end)))) }))
    .filter((h) => h.end > h.start)
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: Array<{ start: number; end: number }> = [];
  for (const h of spans) {
    const last = merged.at(-1);
    if (last && h.start <= last.end) last.end = Math.max(last.end, h.end);
    else merged.push({ ...h });
  }
  const runs: SnippetRun[] = [];
  let at = 0;
  for (const h of merged) {
    if (h.start > at) runs.push({ text: text.slice(at, h.start), marked: false });
    runs.push({ text: text.slice(h.start, h.end), marked: true });
    at = h.end;
  }
  if (at < text.length || runs.length === 0) runs.push({ text: text.slice(at), marked: false });
  return runs;
}
