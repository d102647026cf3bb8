// Pages whose state lives in the link (`#/sessions?user=a`, `#/audit?…`, `#/search?q=…`): shared,
// kept on reload, and Back returns to the state before. DOM-free but for showHash.

/** The query of a page's hash (`#/sessions?user=a` -> user=a), or null when the hash is another page's. */
export function hashQuery(hash: string, page: string): URLSearchParams | null {
  const m = new RegExp(`^#/?${page}(?:\\?(.*))?$`).exec(hash);
  if (!m) return null;
  try {
    return new URLSearchParams(m[1] ?? '');
  } catch {
    return null;
  }
}

/** A page's hash with these fields, empty ones left out. */
export function pageHash(page: string, fields: Record<string, string>): string {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) if (value.trim()) q.set(name, value.trim());
  const text = q.toString();
  return `#/${page}${text ? `?${text}` : ''}`;
}

/** Shows a page's state: a new hash goes into the history (the page is made again for it); the same one is read again. */
export function showHash(hash: string, readAgain: () => void): void {
  if (location.hash === hash) readAgain();
  else location.hash = hash;
}
