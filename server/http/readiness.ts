// GET /readyz: whether this hub can do its work now, per dependency, for load balancers and
// operators. No auth, so it says no more than up or down: no addresses, no error text.
//   200 { status: 'up',   checks: { store: 'up', redis: 'up', idp: 'up' } }
//   503 { status: 'down', checks: { store: 'down', redis: 'up', idp: 'up' } }
// redis is listed when the hub uses Redis, idp when a dashboard login is configured.
import type { RequestHandler } from 'express';
import type { EventBus } from '../../common/bus/event-bus.ts';
import type { HubStores } from '../store/create-store.ts';

export type DependencyState = 'up' | 'down';

/** Resolves true (or at all) when the dependency is up; false or a rejection when it is down. */
export type ReadinessCheck = () => Promise<boolean | void> | boolean;

export interface ReadinessBody {
  status: DependencyState;
  checks: Record<string, DependencyState>;
}

const TIMEOUT_MS = 2000;

export function readinessChecks(deps: { store: Pick<HubStores, 'ping'>; redisBus?: EventBus; idp?: () => Promise<boolean> }): Record<string, ReadinessCheck> {
  const checks: Record<string, ReadinessCheck> = { store: () => deps.store.ping() };
  const bus = deps.redisBus;
  if (bus) checks.redis = () => bus.status() === 'up';
  if (deps.idp) checks.idp = deps.idp;
  return checks;
}

export function readinessHandler(checks: Record<string, ReadinessCheck>, timeoutMs = TIMEOUT_MS): RequestHandler {
  // One probe per dependency at a time, whatever the number of callers: /readyz is open to
  // anyone and must not become a way to load the store. A probe that outlives the timeout
  // answers "down" and is not started again until it settles.
  const running = new Map<string, Promise<boolean>>();
  const probe = (name: string, check: ReadinessCheck): Promise<boolean> => {
    let current = running.get(name);
    if (!current) {
      current = Promise.resolve()
        .then(check)
        .then((result) => result !== false, () => false)
        .finally(() => running.delete(name));
      running.set(name, current);
    }
    return current;
  };
  return async (_req, res) => {
    const names = Object.keys(checks);
    const states = await Promise.all(names.map((name) => withTimeout(probe(name, checks[name]), timeoutMs)));
    const body: ReadinessBody = {
      status: states.every(Boolean) ? 'up' : 'down',
      checks: Object.fromEntries(names.map((name, i) => [name, states[i] ? 'up' : 'down'])),
    };
    res.status(body.status === 'up' ? 200 : 503).json(body);
  };
}

function withTimeout(p: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
