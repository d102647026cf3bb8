// A request (or a WebSocket upgrade) against the target's request rules: a denied one is refused,
// a held one waits for approvers while its client waits. Both are guardrail.hit events on the
// request they are about.
import { parseDuration } from '../../common/config/schema.ts';
import type { AccessGate } from '../access/access-gate.ts';
import type { SessionLifecycle } from '../session/session-lifecycle.ts';
import type { HttpTargetRuntime } from './http-target.ts';

/** Null: it may go on. Otherwise what the client is told. */
export async function reviewRequest(method: string, path: string, requestSeq: number, ctx: { target: HttpTargetRuntime; life: SessionLifecycle; access: AccessGate }): Promise<string | null> {
  const decision = ctx.target.rules.decide(method, path);
  if (!decision || decision.action === 'allow') return null;
  ctx.life.emit('guardrail.hit', { rule: decision.rule, action: decision.action, querySeq: requestSeq, statement: decision.request });
  if (decision.action === 'deny') {
    ctx.life.log.info({ rule: decision.rule }, 'request denied by a guardrail');
    return `Vigil guardrail ${decision.rule}: ${decision.message ?? `${decision.request} is not allowed on ${ctx.target.config.name}`}`;
  }
  ctx.life.log.info({ rule: decision.rule }, 'request held for approval');
  const refusal = await ctx.access.hold(
    { scope: 'statement', user: ctx.life.user, target: ctx.target.config.name, sessionId: ctx.life.id, statement: decision.request, rule: decision.rule, client: ctx.life.clientAddress },
    parseDuration(ctx.target.config.approval.holdTimeout),
    { ...ctx.life.waitReport(), querySeq: requestSeq },
  );
  return refusal === null ? null : `Vigil guardrail ${decision.rule} held this request and it was not approved: ${refusal}`;
}
