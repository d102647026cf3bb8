// The agent's side of locks (common/locks.ts): the list of locks in force as the hub published it
// last, taken from the control bus's messages and read again from its kept state every few
// seconds (a message missed while Redis was away is found on the next read). Without a control
// path, or before any list came, nothing is locked; once one came, it is applied until a newer one
// replaces it, whether the hub is reachable or not. Each list is also kept on disk (`cacheFile`),
// so an agent that starts while Redis is away still applies the locks it knew. A target with
// `locks: strict` refuses new sessions while the list is older than its locksMaxAge (or none came).
import fs from 'node:fs';
import type { ControlBus } from '../../common/control/control-bus.ts';
import { LockList as LockListSchema, lockFor, lockMessage, type Lock, type LockList, type LockSubject } from '../../common/locks.ts';
import type { Logger } from '../../common/log.ts';

const POLL_MS = 2000;

export class LockGuard {
  #list: LockList | null = null;
  readonly #listeners = new Set<(locks: readonly Lock[]) => void>();
  #unsubscribe: (() => Promise<void>) | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly control: ControlBus | undefined,
    private readonly logger: Logger,
    private readonly cacheFile?: string,
    /** How old a list a target accepts (ms) when it is strict; null when lenient. */
    private readonly strictness: (target: string) => number | null = () => null,
    /** This agent's id: a lock on it (its enrollment revoked) keeps every session out. */
    private readonly agentId?: string,
  ) {}

  async start(): Promise<void> {
    const kept = this.#readCache();
    if (kept) this.#take(kept);
    const control = this.control;
    if (!control) return;
    this.#unsubscribe = await control.subscribe((m) => {
      if (m.kind === 'locks') this.#take(m);
    });
    const read = () => control.locks().then((list) => list && this.#take(list), (err: Error) => {
      this.logger.debug({ err: err.message }, 'locks: cannot read the list; the last one stays in force');
    });
    await read();
    this.#timer = setInterval(() => void read(), POLL_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#unsubscribe?.();
  }

  /** Hears every new list (the agent ends the live sessions it matches). */
  onChange(listener: (locks: readonly Lock[]) => void): void {
    this.#listeners.add(listener);
  }

  /** The lock in force that keeps this subject out, if any. */
  lockFor(who: LockSubject): Lock | null {
    return this.#list ? lockFor(this.#list.locks, { agent: this.agentId, ...who }) : null;
  }

  /** Why this subject may not come in (the lock's message, or a strict target's stale list), or null. */
  refusal(who: LockSubject, now = Date.now()): string | null {
    const lock = this.lockFor(who);
    if (lock) return lockMessage(lock);
    const maxAgeMs = this.strictness(who.target);
    if (maxAgeMs === null) return null;
    const age = this.#list ? now - Date.parse(this.#list.at) : null;
    if (age !== null && age <= maxAgeMs) return null;
    return `${who.target} takes no new sessions now: its locks are strict and this agent ${age === null ? 'has not received the list of locks' : `has not heard the list of locks for ${Math.round(age / 1000)} s`} (the hub is unreachable); try again shortly`;
  }

  // Lists arrive by message and by reading: an older one (by `at`) never replaces a newer one.
  #take(list: LockList): void {
    if (this.#list && Date.parse(list.at) < Date.parse(this.#list.at)) return;
    const changed = JSON.stringify(list.locks) !== JSON.stringify(this.#list?.locks);
    this.#list = list;
    if (changed) {
      this.#writeCache(list);
      for (const listener of this.#listeners) listener(list.locks);
    }
  }

  #readCache(): LockList | null {
    if (!this.cacheFile || !fs.existsSync(this.cacheFile)) return null;
    try {
      return LockListSchema.parse(JSON.parse(fs.readFileSync(this.cacheFile, 'utf8')));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, file: this.cacheFile }, 'locks: the kept list is unreadable; waiting for the hub\'s');
      return null;
    }
  }

  // Written aside and renamed: a crash mid-write never leaves half a list.
  #writeCache(list: LockList): void {
    if (!this.cacheFile) return;
    try {
      fs.writeFileSync(`${this.cacheFile}.tmp`, JSON.stringify(list), { mode: 0o600 });
      fs.renameSync(`${this.cacheFile}.tmp`, this.cacheFile);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, file: this.cacheFile }, 'locks: cannot keep the list on disk');
    }
  }
}
