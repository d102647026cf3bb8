// Detectors made of credential formats (credential-format.ts), each masked under its own name and
// found by its prefixes: the catalog of API keys and tokens (CLOUD_KEY), and passwords given on
// command lines (COMMAND_LINE).
import { matchFormatAt, type CredentialFormat } from './credential-format.ts';
import { COMMAND_FORMATS } from './command-line.ts';
import { CREDENTIAL_FORMATS } from './credential-formats.ts';
import type { Detector, PrefixHook } from './detector.ts';

/** A detector masking each format of `formats` under its own name (formats may share a name). */
export function formatDetector(name: Detector['name'], formats: readonly CredentialFormat[]): Detector {
  const rules = [...new Set(formats.map((f) => f.name))];
  const prefixes: PrefixHook[] = formats.flatMap((format) => format.prefixes.map((prefix) => ({
    prefix,
    ignoreCase: format.ignoreCase,
    rule: rules.indexOf(format.name),
    at(text: string, at: number, out: { add(start: number, end: number): void }) {
      const span = matchFormatAt(format, text, at);
      if (span) out.add(span[0], span[1]);
    },
  })));
  return { name, rules, prefixes };
}

export const credentials = formatDetector('CLOUD_KEY', CREDENTIAL_FORMATS);

/** Passwords on command lines (`mysql -p...`, `curl -u user:...`): the command stays readable. */
export const commandLine = formatDetector('COMMAND_LINE', COMMAND_FORMATS);
