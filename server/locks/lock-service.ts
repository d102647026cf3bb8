// The hub's side of locks: creating and lifting them (audited), and keeping the agents' list of
// locks in force current on the control bus. The list is published after every change and again
// every REFRESH_MS, so an expired lock drops out and its `at` tells agents how fresh their list
// is (a `locks: strict` target refuses new sessions when it is too old). Several hubs may publish:
// each publishes what the store holds, so the lists agree.
import type { LockView } from '../../common/api-contract.ts';
import type { ControlBus } from '../../common/control/control-bus.ts';
import type { Logger } from '../../common/log.ts';
import type { AccessStore } from '../access/access-store.ts';
import { lockOf, type LockStore, type NewLock } from './lock-store.ts';
import type { Lock } from '../../common/locks.ts';

export const LOCK_REFRESH_MS = 15_000;

export class LockService {
  readonly #store: LockStore;
  readonly #audit: AccessStore;
  readonly #control: ControlBus;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | null = null;

  /** Locks that are not stored as locks (revoked agents). */
  readonly #extra: (() => Promise<Lock[]>) | undefined;
  constructor(opts: { store: LockStore; audit: AccessStore; control: ControlBus; logger: Logger; extra?: () => Promise<Lock[]> }) {
    this.#extra = opts.extra;
    this.#store = opts.store;
    this.#audit = opts.audit;
    this.#control = opts.control;
    this.#log = opts.logger.child({ component: 'locks' });
  }

  start(refreshMs = LOCK_REFRESH_MS): void {
    void this.publish().catch((err: Error) => this.#log.warn({ err: err.message }, 'locks: cannot publish the list'));
    this.#timer = setInterval(() => {
      this.publish().catch((err: Error) => this.#log.warn({ err: err.message }, 'locks: cannot publish the list'));
    }, refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Stores the lock, tells the agents at once (they end what it matches), audits it. */
  async create(lock: NewLock, origin: string | null): Promise<LockView> {
    const view = await this.#store.create(lock);
    await this.#tellAgents();
    await this.#audit.audit({
      actor: lock.by, action: 'lock.created', target: view.target, requestId: null, sessionId: null, origin,
      detail: { lock: view.id, reason: view.reason, ...(view.user ? { user: view.user } : {}), ...(view.token ? { token: view.token } : {}), ...(view.expiresAt ? { expiresAt: view.expiresAt } : {}) },
    });
    return view;
  }

  /** Lifts a lock in force (null when there is none by that id), tells the agents, audits it. */
  async lift(id: string, by: string, origin: string | null): Promise<LockView | null> {
    const view = await this.#store.lift(id, by);
    if (!view) return null;
    await this.#tellAgents();
    await this.#audit.audit({
      actor: by, action: 'lock.lifted', target: view.target, requestId: null, sessionId: null, origin,
      detail: { lock: view.id, ...(view.user ? { user: view.user } : {}), ...(view.token ? { token: view.token } : {}) },
    });
    return view;
  }

  list(opts: { all?: boolean } = {}): Promise<LockView[]> {
    return this.#store.list(opts);
  }

  get(id: string): Promise<LockView | null> {
    return this.#store.get(id);
  }

  // The lock is stored either way: with the control bus away, the next refresh tells the agents.
  async #tellAgents(): Promise<void> {
    await this.publish().catch((err: Error) => this.#log.warn({ err: err.message }, 'locks: the agents get the list at the next refresh'));
  }

  /** Publishes the locks in force as the agents' list. */
  async publish(): Promise<void> {
    const locks = [...(await this.#store.inForce()).map(lockOf), ...((await this.#extra?.()) ?? [])];
    await this.#control.publish({ kind: 'locks', at: new Date().toISOString(), locks });
  }
}
