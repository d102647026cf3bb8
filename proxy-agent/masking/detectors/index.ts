import type { Detector, DetectorName } from './detector.ts';
import { email, phone } from './contact.ts';
import { card, iban, ssn } from './financial.ts';
import { bearer, jwt, privateKey } from './tokens.ts';
import { commandLine, credentials } from './credentials.ts';
import { secretAssignment } from './assignments.ts';
import { connPassword, rolePassword } from './passwords.ts';

export type { Detector, DetectorName } from './detector.ts';

/** Built-in detectors in BUILTIN_DETECTORS order; that order breaks ties between overlapping matches. */
export const DETECTORS: readonly Detector[] = [
  email, card, ssn, iban, phone, jwt, bearer, credentials, privateKey, connPassword, rolePassword, secretAssignment, commandLine,
];

export function detectorByName(name: DetectorName): Detector {
  const d = DETECTORS.find((x) => x.name === name);
  if (!d) throw new Error(`unknown masking detector ${name}`);
  return d;
}
