// The Share panel's form read into the hub's body (POST /api/sessions/:id/shares), refusing what
// the hub would refuse before asking it, and how a share reads in a list. The hub decides who may
// share and checks everything again. DOM-free.
import type { ShareView } from '../../../../common/api-contract.ts';
import type { NewShare } from '../recordings-api.ts';

export const DEFAULT_SHARE_HOURS = 72;
/** The hub's longest share (90 days), its most users and longest note. */
export const MAX_SHARE_HOURS = 90 * 24;
const MAX_USERS = 50;
const MAX_NOTE = 500;
const MAX_NAME = 256;

export interface ShareForm {
  /** Comma-separated user names. */
  users: string;
  group: string;
  /** Hours from now (a number input's value: null when empty). */
  hours: string | number | null;
  note: string;
}

export type ParsedShare = { ok: true; share: NewShare } | { ok: false; error: string };

export function emptyShareForm(): ShareForm {
  return { users: '', group: '', hours: DEFAULT_SHARE_HOURS, note: '' };
}

export function parseShareForm(form: ShareForm): ParsedShare {
  const users = [...new Set(form.users.split(',').map((u) => u.trim()).filter(Boolean))];
  const group = form.group.trim();
  const hours = typeof form.hours === 'number' ? form.hours : Number(form.hours?.trim() || Number.NaN);
  const note = form.note.trim();
  if (users.length === 0 && !group) return { ok: false, error: 'Name the people (comma-separated) or a group to share with.' };
  if (users.length > MAX_USERS) return { ok: false, error: `Share with at most ${MAX_USERS} people at once.` };
  if ([...users, group].some((u) => u.length > MAX_NAME)) return { ok: false, error: 'A name is too long.' };
  if (!Number.isFinite(hours) || hours <= 0 || hours > MAX_SHARE_HOURS) return { ok: false, error: `Expires in: between 0 and ${MAX_SHARE_HOURS} hours (90 days).` };
  if (note.length > MAX_NOTE) return { ok: false, error: `The note is longer than ${MAX_NOTE} characters.` };
  return { ok: true, share: { ...(users.length ? { users } : {}), ...(group ? { group } : {}), expiresInHours: hours, ...(note ? { note } : {}) } };
}

export type ShareState = 'in force' | 'revoked' | 'expired';

export function shareState(share: ShareView, nowMs: number): ShareState {
  if (share.revokedAt) return 'revoked';
  return Date.parse(share.expiresAt) <= nowMs ? 'expired' : 'in force';
}

/** Who a share names: "erin, dave · group oncall". */
export function shareAudience(share: ShareView): string {
  return [share.users.join(', '), share.group ? `group ${share.group}` : ''].filter(Boolean).join(' · ');
}
