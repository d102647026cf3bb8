// The Trust page's words, DOM-free: how an agent's state reads and the order of the list, the
// enrollment token's durations and command, the hold form read into the hub's body (refusing what
// the hub would refuse before asking it), and what a hold covers. The hub checks everything again.
import { SESSION_ID_PATTERN } from '../../../../common/link-patterns.ts';
import type { AgentIdentityView, HoldView, NewHold } from './trust-api.ts';
import type { Checked } from '../form-submission.svelte.ts';

/** A form's fields checked: the value to send, or why not (form-submission.svelte.ts). */
export type Parsed<T> = Checked<T>;

const STATE_LABELS: Record<AgentIdentityView['status'], string> = {
  enrolled: 'Enrolled',
  pending: 'Waiting for approval',
  revoked: 'Revoked',
};

export const agentState = (a: Pick<AgentIdentityView, 'status'>) => STATE_LABELS[a.status];

const ORDER: Record<AgentIdentityView['status'], number> = { pending: 0, enrolled: 1, revoked: 2 };

/** Pending first (they wait on someone), then enrolled, then revoked; the hub's order (newest request first) within each. */
export function sortAgents(agents: readonly AgentIdentityView[]): AgentIdentityView[] {
  return agents.map((a, i) => ({ a, i })).sort((x, y) => ORDER[x.a.status] - ORDER[y.a.status] || x.i - y.i).map(({ a }) => a);
}

/** Since when the agent is in its state (ISO) and who put it there, in words (null: nobody known). */
export function agentSince(a: AgentIdentityView): { at: string | null; by: string | null } {
  switch (a.status) {
    case 'pending': return { at: a.requestedAt, by: a.requestedFrom === null ? null : `asked from ${a.requestedFrom}` };
    case 'enrolled': return { at: a.enrolledAt, by: a.enrolledBy };
    case 'revoked': return { at: a.revokedAt, by: a.revokedBy };
  }
}

export interface TokenDuration {
  /** The hub's ttl. */
  ttl: string;
  label: string;
}

export const TOKEN_DURATIONS: readonly TokenDuration[] = [
  { ttl: '1h', label: '1 hour' },
  { ttl: '24h', label: '24 hours' },
];
export const DEFAULT_TOKEN_TTL = '1h';

/** What the agent's operator runs on its host. */
export const enrollCommand = (origin: string, token: string) => `vigil agent enroll --hub ${origin} --token ${token}`;

/** The hub's longest reason and name. */
export const MAX_REASON = 500;
export const MAX_HOLD_NAME = 256;

/** What a hold covers, as this page's form names it. */
export type HoldKind = 'sessionId' | 'user' | 'target';

export const HOLD_KINDS: ReadonlyArray<{ kind: HoldKind; label: string }> = [
  { kind: 'sessionId', label: 'Session id' },
  { kind: 'user', label: 'User' },
  { kind: 'target', label: 'Target' },
];

export interface HoldForm {
  kind: HoldKind;
  value: string;
  reason: string;
}

export function emptyHoldForm(): HoldForm {
  return { kind: 'user', value: '', reason: '' };
}

// The hub's own rule (no control characters in names): said here before it is asked.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function parseHoldForm(form: HoldForm): Parsed<NewHold> {
  const value = form.value.trim();
  const reason = form.reason.trim();
  const what = HOLD_KINDS.find((k) => k.kind === form.kind)?.label.toLowerCase() ?? 'name';
  if (!value) return { ok: false, error: `Name the ${what} to hold.` };
  if (form.kind === 'sessionId' ? !SESSION_ID_PATTERN.test(value) : value.length > MAX_HOLD_NAME || CONTROL.test(value)) {
    return { ok: false, error: form.kind === 'sessionId' ? 'That is not a session id: 1 to 64 letters, digits and . _ : -' : `A ${what} is at most ${MAX_HOLD_NAME} characters, without control characters.` };
  }
  if (!reason) return { ok: false, error: 'A hold needs a reason: it says why recordings are kept past their retention.' };
  if (reason.length > MAX_REASON) return { ok: false, error: `The reason is longer than ${MAX_REASON} characters.` };
  return { ok: true, value: { [form.kind]: value, reason } };
}

/** Revoking needs a reason (the audit log and the agent's operator read it). */
export function parseRevokeReason(text: string): Parsed<string> {
  const reason = text.trim();
  if (!reason) return { ok: false, error: 'A revocation needs a reason.' };
  if (reason.length > MAX_REASON) return { ok: false, error: `The reason is longer than ${MAX_REASON} characters.` };
  return { ok: true, value: reason };
}

/** What a hold keeps: "session S", "user bob", "target pg", joined when it names several. */
export function heldWhat(hold: Pick<HoldView, 'sessionId' | 'user' | 'target'>): string {
  return [hold.sessionId !== null ? `session ${hold.sessionId}` : '', hold.user !== null ? `user ${hold.user}` : '', hold.target !== null ? `target ${hold.target}` : '']
    .filter(Boolean).join(', ');
}

export const holdState = (hold: Pick<HoldView, 'releasedAt'>) => (hold.releasedAt ? 'released' : 'in force');
