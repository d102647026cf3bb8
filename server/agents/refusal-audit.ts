// Bus entries the persister refused (not an enrolled agent's) go to the audit log: once per agent
// and reason a minute, with how many events were refused meanwhile, so a flood of forged entries
// is reported without flooding the log.
import type { Logger } from '../../common/log.ts';
import type { AccessStore } from '../access/access-store.ts';

const WINDOW_MS = 60_000;

export class RefusalAudit {
  readonly #audit: AccessStore;
  readonly #log: Logger;
  readonly #last = new Map<string, { at: number; events: number }>();

  constructor(audit: AccessStore, logger: Logger) {
    this.#audit = audit;
    this.#log = logger;
  }

  report(r: { streamId: string; agent: string | null; reason: string; events: number }): void {
    const key = `${r.agent ?? ''}\n${r.reason}`;
    const now = Date.now();
    const seen = this.#last.get(key);
    if (seen && now - seen.at < WINDOW_MS) {
      seen.events += r.events;
      return;
    }
    const before = seen?.events ?? 0;
    this.#last.set(key, { at: now, events: 0 });
    if (this.#last.size > 1000) this.#last.delete(this.#last.keys().next().value!);
    this.#audit.audit({
      actor: 'vigil-hub', action: 'agent.refused', target: null, requestId: null, sessionId: null, origin: r.agent,
      detail: { agent: r.agent, reason: r.reason, events: r.events, ...(before ? { refusedSinceLastEntry: before } : {}), streamId: r.streamId },
    }).catch((err: Error) => this.#log.warn({ err: err.message }, 'a refused bus entry could not be audited'));
  }
}
