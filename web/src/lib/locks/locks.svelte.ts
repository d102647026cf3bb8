// The Locks page's state: the list (the locks in force, or every lock with `showAll`), read again
// after each change this page makes. The hub pushes nothing about locks; a lock that expires
// leaves the list at the next read (Refresh). Provided to the page's components through context.
import { getContext, setContext } from 'svelte';
import { createLock, liftLock, listLocks, type LockView, type NewLock } from './locks-api.ts';

export class LockBoard {
  locks = $state.raw<LockView[] | null>(null);
  /** Lifted and expired locks too. */
  showAll = $state(false);
  failure = $state('');
  #gen = 0;

  async load(): Promise<void> {
    const gen = ++this.#gen;
    try {
      const locks = await listLocks(this.showAll);
      if (gen !== this.#gen) return;
      this.locks = locks;
      this.failure = '';
    } catch (err) {
      if (gen !== this.#gen) return;
      this.failure = (err as Error).message;
    }
  }

  /** Makes a lock (the agents end what it matches at once); throws the hub's refusal. */
  async create(lock: NewLock): Promise<LockView> {
    const made = await createLock(lock);
    await this.load();
    return made;
  }

  /** Lifts a lock; throws the hub's refusal (404, or 409: no longer in force), after reading the list again. */
  async lift(id: string): Promise<void> {
    try {
      await liftLock(id);
    } finally {
      await this.load();
    }
  }
}

const KEY = Symbol('lock-board');

export function provideLocks(board: LockBoard): LockBoard {
  return setContext(KEY, board);
}

export function useLocks(): LockBoard {
  const board = getContext<LockBoard | undefined>(KEY);
  if (!board) throw new Error('useLocks(): no lock board here; the component must sit inside views/Locks.svelte, which provides it');
  return board;
}
