// The access requests this person may see, held once for the whole page: the navigation counts
// what waits for them (and the tab title says it), the Access page lists it, and a request or held
// statement that arrives while the page is open can ring (request-alerts.ts). One subscription per
// page: two would unsubscribe each other on the hub.
import { followAccessRequests } from '../live.ts';
import type { AccessRequestView } from '../../../../common/api-contract.ts';

export class AccessInbox {
  /** Newest first; null until the hub sent the list. */
  requests = $state<AccessRequestView[] | null>(null);
  failure = $state('');
  /** What waits for this person's decision. */
  readonly waitingForMe = $derived((this.requests ?? []).filter((r) => r.status === 'pending' && r.canDecide));
  #stop: (() => void) | null = null;
  #arrived: Array<(request: AccessRequestView) => void> = [];

  /** Subscribes (once; later calls do nothing). */
  start(): void {
    if (this.#stop) return;
    this.#stop = followAccessRequests({
      list: (list) => {
        this.requests = list;
        this.failure = '';
      },
      changed: (request) => this.put(request),
      error: (message) => (this.failure = message),
    });
  }

  stop(): void {
    this.#stop?.();
    this.#stop = null;
  }

  /** Told of each request that newly waits for this person (not those in the first list). */
  onArrival(listener: (request: AccessRequestView) => void): () => void {
    this.#arrived.push(listener);
    return () => (this.#arrived = this.#arrived.filter((l) => l !== listener));
  }

  /** A request as the hub now has it (pushed, or the answer to this page's own action). */
  put(request: AccessRequestView): void {
    const before = this.requests?.find((r) => r.id === request.id);
    const rest = (this.requests ?? []).filter((r) => r.id !== request.id);
    this.requests = [request, ...rest].sort((a, b) => b.id - a.id);
    const newlyWaiting = request.status === 'pending' && request.canDecide && !(before?.status === 'pending' && before.canDecide);
    if (newlyWaiting) for (const listener of this.#arrived) listener(request);
  }
}

export const accessInbox = new AccessInbox();
