// What agents report for the audit log (refused logins, with the source address) reaches it
// through the control bus: each hub takes batches and writes them; a batch the store refuses goes
// back on the queue for the next try (control-bus.ts serveAudit).
import type { AgentAuditEntry, ControlBus } from '../../common/control/control-bus.ts';
import type { Logger } from '../../common/log.ts';
import type { AccessStore } from '../access/access-store.ts';

export async function serveAgentAudit(control: ControlBus, store: AccessStore, logger: Logger): Promise<() => Promise<void>> {
  const log = logger.child({ component: 'agent-audit' });
  return control.serveAudit(async (entries: AgentAuditEntry[]) => {
    for (const e of entries) {
      await store.audit({
        at: e.at,
        actor: e.user ?? '(unknown)',
        action: e.action,
        target: e.target ?? null,
        requestId: null,
        sessionId: null,
        origin: `${e.agent} ${e.client}`,
        detail: { protocol: e.protocol, reason: e.reason, ...(e.count && e.count > 1 ? { count: e.count } : {}) },
      });
    }
    log.debug({ entries: entries.length }, 'agent audit entries written');
  });
}
