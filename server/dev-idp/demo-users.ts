// The people of `vigil dev`'s identity provider: at least one per Vigil role, so every view of the
// dashboard can be tried. Their groups go through the same role mapping as a real provider's.
import type { Role } from '../../common/roles.ts';

export interface DemoUser {
  username: string;
  name: string;
  email: string;
  groups: string[];
}

export const DEMO_USERS: readonly DemoUser[] = [
  { username: 'alice', name: 'Alice Engineer', email: 'alice@vigil.example', groups: ['vigil-engineers'] },
  { username: 'rita', name: 'Rita Reviewer', email: 'rita@vigil.example', groups: ['vigil-reviewers'] },
  // A second reviewer: security on-call watch together.
  { username: 'remy', name: 'Remy Reviewer', email: 'remy@vigil.example', groups: ['vigil-reviewers'] },
  { username: 'aaron', name: 'Aaron Approver', email: 'aaron@vigil.example', groups: ['vigil-approvers', 'vigil-engineers'] },
  { username: 'ada', name: 'Ada Admin', email: 'ada@vigil.example', groups: ['vigil-admins'] },
];

/** The role mapping that goes with the demo users' groups (config hub.auth.oidc.roles.map). */
export const DEMO_ROLE_MAP: Record<string, Role[]> = {
  'vigil-engineers': ['engineer'],
  'vigil-reviewers': ['reviewer'],
  'vigil-approvers': ['approver'],
  'vigil-admins': ['admin'],
};
