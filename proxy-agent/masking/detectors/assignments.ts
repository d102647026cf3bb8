// Secrets by where they are assigned rather than by their shape (SECRET_ASSIGNMENT): a value given
// to a key named like a secret (`API_KEY=...`, `"client_secret": "..."`, `token: ...` when the
// value looks random), and a base64 value of a YAML or JSON key (what `kubectl get secret -o
// yaml` prints) whose decoded text holds a secret any detector knows: masked whole.
import type { SpanSink } from '../spans.ts';
import type { Detector } from './detector.ts';
import { decodedBase64ValueAt, SECRET_KEY_ENDINGS, secretAssignmentAt } from './secret-assignment.ts';

export const secretAssignment: Detector = {
  name: 'SECRET_ASSIGNMENT',
  rules: ['SECRET'],
  assignments: [
    {
      keys: SECRET_KEY_ENDINGS,
      at(text: string, at: number, _keyEnd: number, out: SpanSink) {
        const span = secretAssignmentAt(text, at);
        if (span) out.add(span[0], span[1]);
      },
    },
    {
      keys: 'any',
      at(text: string, at: number, _keyEnd: number, out: SpanSink) {
        const value = decodedBase64ValueAt(text, at);
        if (value && out.findsAny(value.decoded)) out.add(value.start, value.end);
      },
    },
  ],
};
