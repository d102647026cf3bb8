// The Search page's results as pages arrive: sessions in the hub's order (newest first), each once
// however the pages fall, and how a hit reads. DOM-free.
import type { SearchHit, SearchKind, SessionMatches } from '../recordings-api.ts';

/** The sessions so far with a page's added (a session already listed keeps its place and hits). */
export function appendPage(list: readonly SessionMatches[], page: readonly SessionMatches[]): SessionMatches[] {
  const seen = new Set(list.map((s) => s.sessionId));
  return [...list, ...page.filter((s) => !seen.has(s.sessionId) && seen.add(s.sessionId))];
}

/** Hits in the order the page lists them, each once (by event, kind and part). */
export function distinctHits(hits: readonly SearchHit[]): SearchHit[] {
  const seen = new Set<string>();
  return hits.filter((h) => {
    const key = hitKey(h);
    return !seen.has(key) && !!seen.add(key);
  });
}

export const hitKey = (h: SearchHit) => `${h.seq}:${h.kind}:${h.part}`;

const KINDS: Record<SearchKind, string> = { query: 'statement', command: 'command', input: 'typed', output: 'output' };
/** An HTTP recording's documents: request lines, what the client sent, what came back. */
const HTTP_KINDS: Partial<Record<SearchKind, string>> = { command: 'request', input: 'sent', output: 'received' };

/** How a hit's kind reads (in an HTTP recording's words when its protocol is given). */
export function kindLabel(kind: string, protocol?: string | null): string {
  return (protocol === 'http' ? HTTP_KINDS[kind as SearchKind] : undefined) ?? KINDS[kind as SearchKind] ?? kind;
}

/** Milliseconds from the session's start to a hit (0 when either time is unreadable). */
export function offsetMs(startedAt: string | null, time: string): number {
  const ms = Date.parse(time) - Date.parse(startedAt ?? '');
  return Number.isFinite(ms) ? Math.max(0, ms) : 0;
}
