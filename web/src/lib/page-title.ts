// Each page's own title (the tab, the history list, a screen reader's first words); the app shell
// puts the number of requests waiting for the person in front of it.
const TITLES: Record<string, string> = {
  live: 'Live sessions', sessions: 'Sessions', search: 'Search', shared: 'Shared with me', connect: 'Connect',
  access: 'Access', audit: 'Audit log', locks: 'Locks', trust: 'Trust',
};

export function pageTitle(page: string, sessionId?: string): string {
  if (page === 'watch') return `Session ${(sessionId ?? '').slice(0, 8)}`;
  if (page === 'play') return `Replay ${(sessionId ?? '').slice(0, 8)}`;
  return TITLES[page] ?? 'Live sessions';
}
