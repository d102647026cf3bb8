// The Trust page's state: the agents (pending first) and the legal holds (in force, or every hold
// with `showReleased`), each read again after every change this page makes. The hub pushes
// nothing about either; Refresh reads them again (an agent enrolling with a token shows up then).
// Provided to the page's components through context.
import { getContext, setContext } from 'svelte';
import { sortAgents } from './trust-form.ts';
import {
  approveAgent, createEnrollmentToken, listAgents, listHolds, placeHold, releaseHold, revokeAgent,
  type AgentIdentityView, type EnrollmentToken, type HoldView, type NewHold,
} from './trust-api.ts';

/** A list read from the hub; a read that a newer one overtook is dropped. */
class Listing<T> {
  items = $state.raw<T[] | null>(null);
  failure = $state('');
  #gen = 0;

  constructor(private readonly read: () => Promise<T[]>) {}

  async load(): Promise<void> {
    const gen = ++this.#gen;
    try {
      const items = await this.read();
      if (gen !== this.#gen) return;
      this.items = items;
      this.failure = '';
    } catch (err) {
      if (gen !== this.#gen) return;
      this.failure = (err as Error).message;
    }
  }

  /** Runs a change, then reads the list again whether or not the hub took it (a refusal is thrown). */
  async after<R>(change: () => Promise<R>): Promise<R> {
    try {
      return await change();
    } finally {
      await this.load();
    }
  }
}

export class AgentBoard extends Listing<AgentIdentityView> {
  constructor() {
    super(async () => sortAgents(await listAgents()));
  }

  approve = (id: string) => this.after(() => approveAgent(id));
  revoke = (id: string, reason: string) => this.after(() => revokeAgent(id, reason));
  /** A token changes no agent: the list is read again when the agent has used it (Refresh). */
  createToken = (ttl: string): Promise<EnrollmentToken> => createEnrollmentToken(ttl);
}

export class HoldBoard extends Listing<HoldView> {
  /** Released holds too. */
  showReleased = $state(false);

  constructor() {
    super(() => listHolds(this.showReleased));
  }

  place = (hold: NewHold) => this.after(() => placeHold(hold));
  release = (id: string) => this.after(() => releaseHold(id));
}

export interface TrustBoards {
  agents: AgentBoard;
  holds: HoldBoard;
  /** Approving, revoking and enrollment tokens are the admins' (the hub refuses anyone else). */
  canAdmin: boolean;
}

const KEY = Symbol('trust-boards');

export function provideTrust(boards: TrustBoards): TrustBoards {
  return setContext(KEY, boards);
}

export function useTrust(): TrustBoards {
  const boards = getContext<TrustBoards | undefined>(KEY);
  if (!boards) throw new Error('useTrust(): no trust boards here; the component must sit inside views/Trust.svelte, which provides them');
  return boards;
}
