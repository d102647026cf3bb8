// Whether a recording is as it was sealed: the chain walked again over what is stored now,
// compared with the signed manifest, whose signature is checked against the published keys. The
// judgement is a pure function of the three (a bundle is judged the same way, offline).
import type { VerifyReport } from '../../../common/api-contract.ts';
import type { WalkResult } from './chain-walk.ts';
import { signatureProblem, type PublishedKey, type SignedManifest } from './manifest.ts';
import { manifestHash, tombstoneProblem, type SignedTombstone } from './tombstone.ts';
import type { AnchorEntry } from './manifest-anchor.ts';

export interface SessionFacts {
  sessionId: string;
  /** Null while the session is live. */
  endedAt: string | null;
  /** The last seq a manifest was written for, as the session row says (0: never sealed). */
  manifestSeq: number;
}

/** A purged recording: its tombstone must hold, and name the manifest that is kept. */
export function judgePurged(sessionId: string, tombstone: SignedTombstone | null, signed: SignedManifest | null, keys: readonly PublishedKey[]): VerifyReport {
  const problems: string[] = [];
  const base = { sessionId, events: 0, lastSeq: 0, notes: [] as string[], manifest: signed ? { sealedAt: signed.manifest.sealedAt, keyId: signed.manifest.keyId, lastSeq: signed.manifest.lastSeq, finalHash: signed.manifest.finalHash } : null };
  if (!tombstone) {
    problems.push('the recording is marked purged but its tombstone is missing');
  } else {
    const t = tombstone.tombstone;
    const wrong = tombstoneProblem(tombstone, keys);
    if (wrong) problems.push(wrong);
    if (t.sessionId !== sessionId) problems.push(`the tombstone is for session ${t.sessionId}, not this one`);
    if (signed) {
      const sig = signatureProblem(signed, keys);
      if (sig) problems.push(sig);
      if (t.manifestHash !== manifestHash(signed)) problems.push('the manifest kept is not the one the tombstone names');
    } else if (t.manifestHash !== null) {
      problems.push('the manifest the tombstone names is missing');
    }
    if (!problems.length) {
      return { ...base, status: 'purged', summary: `purged at ${t.purgedAt} by ${t.purgedBy}; the tombstone and the manifest it names hold`, problems };
    }
  }
  return { ...base, status: 'tampered', summary: `${problems.length} problem(s): ${problems[0]}`, problems };
}

/** What the external anchor holds for the session (manifest-anchor.ts), when one is configured. */
export interface Anchored {
  where: string;
  entries: readonly AnchorEntry[];
}

export function judge(facts: SessionFacts, walk: WalkResult, signed: SignedManifest | null, keys: readonly PublishedKey[], anchored?: Anchored): VerifyReport {
  const problems: string[] = [];
  const notes: string[] = [];
  if (anchored) {
    const hash = signed ? manifestHash(signed) : null;
    const last = anchored.entries.at(-1);
    if (!signed && last && facts.manifestSeq === 0) problems.push(`the manifest anchored at ${anchored.where} on ${last.sealedAt} is missing from the store`);
    else if (signed && anchored.entries.length && !anchored.entries.some((e) => e.manifestHash === hash)) {
      problems.push(`the manifest is not the one anchored at ${anchored.where} on ${last!.sealedAt}: the recording was re-sealed or its manifest replaced`);
    } else if (signed && anchored.entries.length === 0) {
      notes.push(`the manifest is not anchored at ${anchored.where} (sealed before anchoring was set up?)`);
    }
  }
  const base = { sessionId: facts.sessionId, events: walk.eventCount, lastSeq: walk.lastSeq };
  if (walk.unchained > 0) notes.push(`${walk.unchained} link(s) could not be checked: events recorded before chaining, or right after a hole`);
  for (const g of walk.gaps) notes.push(`${g.from === g.to ? `event ${g.from} was` : `events ${g.from} to ${g.to} were`} not recorded: ${g.why}`);

  if (!signed) {
    if (facts.manifestSeq > 0) {
      problems.push(`the manifest is missing: it was written for events 1 to ${facts.manifestSeq} and is gone`);
    } else {
      problems.push(...walk.findings.map((f) => f.message));
      const why = facts.endedAt ? 'the session ended moments ago, or sealing is behind' : 'the session is live: it is sealed when it ends';
      return { ...base, status: problems.length ? 'tampered' : walk.eventCount ? 'unsealed' : 'unreadable', summary: problems.length ? problems[0] : `not sealed yet: ${why}`, problems, notes, manifest: null };
    }
    problems.push(...walk.findings.map((f) => f.message));
    return { ...base, status: 'tampered', summary: problems[0], problems, notes, manifest: null };
  }

  const m = signed.manifest;
  const manifest = { sealedAt: m.sealedAt, keyId: m.keyId, lastSeq: m.lastSeq, finalHash: m.finalHash };
  const signature = signatureProblem(signed, keys);
  if (signature) problems.push(signature);
  if (m.sessionId !== facts.sessionId) problems.push(`the manifest is for session ${m.sessionId}, not this one`);

  // What was already wrong when the session was sealed is still wrong: the chain comes from the
  // agent, so a break means the events changed between the agent and the seal.
  const atSeal = new Set(m.chain.findings);
  for (const f of walk.findings) problems.push(atSeal.has(f.message) ? `already when sealed: ${f.message}` : f.message);
  if (walk.lastSeq < m.lastSeq) problems.push(`events ${walk.lastSeq + 1} to ${m.lastSeq} are missing (the manifest covers up to ${m.lastSeq})`);
  else if (walk.lastSeq > m.lastSeq) problems.push(`events ${m.lastSeq + 1} to ${walk.lastSeq} were added after the recording was sealed`);
  if (walk.eventCount !== m.eventCount && walk.lastSeq === m.lastSeq) problems.push(`${walk.eventCount} events are stored, the manifest says ${m.eventCount}`);
  if (walk.firstHash !== m.firstHash) problems.push('event 1 is not the one sealed (its hash differs from the manifest\'s)');
  if (walk.finalHash !== m.finalHash && walk.lastSeq === m.lastSeq) problems.push(`event ${m.lastSeq} is not the one sealed (its hash differs from the manifest's final hash)`);
  // Blocks name the part that changed, whatever the chain could say.
  const stored = new Map(walk.blocks.map((b) => [`${b.from}-${b.to}`, b.sha256]));
  for (const b of m.blocks) {
    const now = stored.get(`${b.from}-${b.to}`);
    if (now !== b.sha256) problems.push(`events ${b.from} to ${b.to} differ from what was sealed (block digest)`);
  }
  for (const f of m.chain.findings) if (!walk.findings.some((w) => w.message === f)) problems.push(`when sealed: ${f} (the manifest says so; the events stored now read otherwise)`);

  const status = problems.length ? 'tampered' : 'verified';
  const summary = problems.length
    ? `${problems.length} problem(s): ${problems[0]}`
    : `verified: ${walk.eventCount} events, chain and block digests as sealed at ${m.sealedAt}, signed with key ${m.keyId}`;
  return { ...base, status, summary, problems, notes, manifest };
}
