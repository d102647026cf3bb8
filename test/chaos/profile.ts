// How hard the chaos suite pushes: `short` (the default, and what CI and `npm test` run: about
// three minutes) or `long` (CHAOS_PROFILE=long: more clients, longer load, more hostile connections).
export interface ChaosProfile {
  name: 'short' | 'long';
  /** node-postgres clients per case, looping over marked statements. */
  pgClients: number;
  /** psql processes per case fed statements through their stdin. */
  psqlClients: number;
  /** pgbench connections where a case uses pgbench. */
  pgbenchClients: number;
  /** OpenSSH clients (exec through the agent) per case that has SSH. */
  sshClients: number;
  /** Seconds of load before a fault and after it. */
  loadBeforeS: number;
  loadAfterS: number;
  /** How long an outage (Redis, the store) lasts. */
  outageS: number;
  /** Slow-loris connections, and how long they trickle (past the agent's 30 s startup limit in long). */
  lorisConnections: number;
  lorisSeconds: number;
}

const SHORT: ChaosProfile = {
  name: 'short',
  pgClients: 3,
  psqlClients: 1,
  pgbenchClients: 2,
  sshClients: 1,
  loadBeforeS: 2,
  loadAfterS: 2,
  outageS: 3,
  lorisConnections: 40,
  lorisSeconds: 8,
};

const LONG: ChaosProfile = {
  name: 'long',
  pgClients: 8,
  psqlClients: 3,
  pgbenchClients: 6,
  sshClients: 3,
  loadBeforeS: 8,
  loadAfterS: 8,
  outageS: 10,
  lorisConnections: 300,
  lorisSeconds: 40,
};

export function chaosProfile(env: NodeJS.ProcessEnv = process.env): ChaosProfile {
  const name = env.CHAOS_PROFILE ?? 'short';
  if (name === 'long') return LONG;
  if (name === 'short') return SHORT;
  throw new Error(`CHAOS_PROFILE must be short or long, not ${name}`);
}
