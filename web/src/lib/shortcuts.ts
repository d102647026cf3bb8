// The dashboard's keyboard shortcuts, listed in the `?` overlay. Page-wide keys are handled here;
// the player's own keys (views/Player.svelte) are listed beside them. Nothing fires while the
// person types in a field, or with Ctrl, Alt or Meta held (the browser's and the system's keys).

export interface Shortcut {
  keys: string[];
  does: string;
}

export const GLOBAL_SHORTCUTS: Shortcut[] = [
  { keys: ['?'], does: 'Show or hide this list' },
  { keys: ['g', 'l'], does: 'Go to Live' },
  { keys: ['g', 's'], does: 'Go to Sessions' },
  { keys: ['g', 'f'], does: 'Go to Search' },
  { keys: ['g', 'a'], does: 'Go to Access' },
  { keys: ['g', 'u'], does: 'Go to the Audit log' },
  { keys: ['/'], does: 'Search recordings' },
  { keys: ['z'], does: 'Show times in UTC or in your zone' },
  { keys: ['Esc'], does: 'Close a dialog or this list' },
];

export const PLAYER_SHORTCUTS: Shortcut[] = [
  { keys: ['Space'], does: 'Play or pause' },
  { keys: ['←', '→'], does: 'Back or forward 5 seconds' },
  { keys: ['0'], does: 'Start (1–9: that tenth of the recording)' },
  { keys: ['<', '>'], does: 'Slower or faster' },
  { keys: ['.'], does: 'One event forward' },
  { keys: ['L'], does: 'Back to the live edge' },
];

/** Where `g` then a key goes. */
export const GO_TO: Record<string, string> = { l: '#/live', s: '#/sessions', f: '#/search', a: '#/access', u: '#/audit' };

/** Keys typed into a field, or with a modifier, are not shortcuts. */
export function isTyping(e: KeyboardEvent): boolean {
  if (e.ctrlKey || e.metaKey || e.altKey) return true;
  const t = e.target as HTMLElement | null;
  return !!t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName) || !!t.closest?.('.xterm'));
}

export interface ShortcutActions {
  toggleHelp(): void;
  go(hash: string): void;
  toggleZone(): void;
}

/** A keydown handler for the page: `g` waits a moment for its second key. */
export function shortcutHandler(actions: ShortcutActions): (e: KeyboardEvent) => void {
  let pendingGo = 0;
  return (e) => {
    if (isTyping(e) || e.defaultPrevented) return;
    if (pendingGo && Date.now() - pendingGo < 1500) {
      pendingGo = 0;
      const hash = GO_TO[e.key.toLowerCase()];
      if (hash) {
        e.preventDefault();
        actions.go(hash);
      }
      return;
    }
    pendingGo = 0;
    if (e.key === '?') actions.toggleHelp();
    else if (e.key === 'g') pendingGo = Date.now();
    else if (e.key === '/') actions.go('#/search');
    else if (e.key === 'z') actions.toggleZone();
    else return;
    e.preventDefault();
  };
}
