// Under client masking, each Query and Parse that may start a COPY ... TO STDOUT is read before it
// goes on, because what a COPY sends is masked field by field, by which column each field comes
// from, and that has to be known before its data flows:
// - a COPY of a table without a column list, or of a query, whose columns the catalog has not
//   answered yet waits for the look-up (a moment, once per table and minute), so that its
//   fields are masked by column rather than all of them;
// - a binary COPY cannot carry a marker in a value whose type is not on the wire: one that copies
//   a column a masking rule covers, or whose columns cannot be resolved, is refused before it
//   reaches the target, with an error that names the column and rule and says to use text or
//   CSV (the session goes on). Other binary copies go through with their fields checked by the
//   detectors (binary-copy-out.ts).
import type { Masker } from '../../masking/masker.ts';
import type { TableColumns } from '../catalog/table-columns.ts';
import type { ClientMessage } from '../protocol/client-messages.ts';
import type { StatementMasker } from '../statement-masker.ts';
import type { Refusal } from '../statement-refusals.ts';
import type { SecretValues } from '../secret-values/secret-values.ts';

/** The word COPY anywhere: a cheap test before any parsing. */
const COPY = /copy/i;
/** Longest wait for the catalog's answer before a COPY goes on as it is known (every field masked). */
const CATALOG_WAIT_MS = 5_000;
const HINT = 'The statement did not run. Use COPY ... TO STDOUT (FORMAT text) or (FORMAT csv): their values are masked for you.';

type Copy = NonNullable<SecretValues['copies']>[number];

/** null: it goes on; refuse: it does not run; wait: review it again once `ready` resolves. */
export type CopyVerdict = null | { kind: 'refuse'; refusal: Refusal } | { kind: 'wait'; ready: Promise<void> };

export class ClientCopyGate {
  constructor(
    private readonly statements: StatementMasker,
    /** The target's column catalog; null when the agent does not look tables up. */
    private readonly tables: TableColumns | null,
  ) {}

  private get masker(): Masker {
    return this.statements.masker;
  }

  /** `waited`: the catalog was waited for already; what is still unknown stays so. */
  review(msg: ClientMessage, waited = false): CopyVerdict {
    if ((msg.type !== 'query' && msg.type !== 'parse') || !COPY.test(msg.sql)) return null;
    const values = this.statements.analyze(msg.sql);
    const copies = (values?.copies ?? []).filter((c) => c.spec.direction === 'out');
    if (copies.length === 0) return null;
    const unresolved = copies.some((c) => c.spec.secretFields === null || c.fieldNames === null);
    if (unresolved && !waited && this.tables && values!.unknownTables.length > 0) return { kind: 'wait', ready: settled(this.tables) };
    for (const copy of copies) {
      if (copy.spec.format !== 'binary') continue;
      const refusal = this.binaryRefusal(copy);
      if (refusal) return { kind: 'refuse', refusal };
    }
    return null;
  }

  private binaryRefusal({ spec, fieldNames }: Copy): Refusal | null {
    const secret = spec.secretFields;
    if (secret === null || fieldNames === null) {
      return refusal('the columns it copies could not be resolved, so the agent cannot tell which values to mask');
    }
    const at = secret.findIndex(Boolean);
    if (at < 0) return null;
    const name = fieldNames[at];
    const column = name === undefined ? `column ${at + 1}` : `column "${name}"`;
    const rule = name === undefined ? undefined : this.masker.columnNeedles.find((needle) => name.toLowerCase().includes(needle));
    const covered = rule === undefined ? 'comes from a column a masking rule covers' : `is covered by the masking rule "${rule}"`;
    return refusal(`${column} ${covered}, and a binary value cannot carry a mask`);
  }
}

function refusal(why: string): Refusal {
  return { code: '42501', message: `Vigil client masking refused COPY ... TO STDOUT in binary format: ${why}`, hint: HINT };
}

/** The catalog's look-ups in flight answered, or the wait is over. Never rejects. */
function settled(tables: TableColumns): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, CATALOG_WAIT_MS)));
  return Promise.race([tables.settled().catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}
