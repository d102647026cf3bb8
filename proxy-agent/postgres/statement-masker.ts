// What a PostgreSQL session's statements write into, compare with or pass as a secret, masked
// wherever a statement is recorded (the query, a held or denied statement, a prepared statement's
// bind parameters, COPY content). The column rules (masking.columns) say which columns are
// secret; the parser says where each value goes (secret-values/). One per session: it remembers
// the session's SQL-level PREPAREs, and asks the target's column catalog for tables written to
// without a column list.
import type { MaskCounts } from '../../common/events/index.ts';
import { mergeCounts, SECRET_COLUMN, type Masker, type MaskResult } from '../masking/masker.ts';
import type { TableColumns } from './catalog/table-columns.ts';
import type { ValueCut } from './protocol/message-cutter.ts';
import { limitedText } from './recording/long-values.ts';
import { everyConstantByHand, findSecretValues, maskSecretLiterals, mayHoldSecretValues, type SecretContext, type SecretValues } from './secret-values/secret-values.ts';

/**
 * Statements longer than this are not given to the parser (it takes about a second per 800 KB and
 * would stall every session of the agent): every constant in them is masked instead.
 */
const MAX_PARSED_CHARS = 64 * 1024;
/** Statements after which unqualified names may resolve differently in this session. */
const SESSION_NAMES = /search_path|\b(?:create|into)\s+(?:(?:global|local)\s+)?temp(?:orary)?\b/i;

export class StatementMasker {
  /** Secret parameters of the session's SQL-level prepared statements (PREPARE name AS ...). */
  private readonly prepared = new Map<string, ReadonlySet<number>>();
  private readonly context: SecretContext;
  /**
   * The session changed its search_path or made temporary tables whose columns it did not list:
   * an unqualified name may mean another table for it than for the catalog's connection, so the
   * catalog's column order is not trusted for it.
   */
  private ownNames = false;
  /** The session's temporary tables by name: their columns as created (null: created twice, differently). */
  private readonly temporary = new Map<string, readonly string[] | null>();

  constructor(
    readonly masker: Masker,
    /** The target's column catalog; null when the agent does not look tables up. */
    private readonly tables: TableColumns | null,
  ) {
    this.context = {
      isSecretColumn: (name) => masker.isSecretColumn(name),
      tableColumns: (schema, table) => {
        if (schema === undefined || schema === 'pg_temp') {
          const own = this.temporary.get(table);
          if (own !== undefined || schema === 'pg_temp') return own ?? undefined;
          if (this.ownNames) return undefined;
        }
        return tables?.get(schema, table);
      },
      preparedParams: (name) => this.prepared.get(name),
    };
  }

  /** Where the values of `sql` go; null when nothing in it can be secret (the common case, decided without parsing). */
  analyze(sql: string): SecretValues | null {
    if (!mayHoldSecretValues(sql, this.masker.columnNeedles)) return null;
    const values = sql.length > MAX_PARSED_CHARS ? everyConstantByHand(sql) : findSecretValues(sql, this.context);
    for (const { table, columns } of values.temporaryTables ?? []) {
      const known = this.temporary.get(table);
      this.temporary.set(table, known === undefined || (known !== null && known.join('\0') === columns.join('\0')) ? columns : null);
    }
    if (values.changesColumns) this.tables?.forget();
    if (SESSION_NAMES.test(sql) && !values.temporaryTables) this.ownNames = true;
    for (const { schema, table } of values.unknownTables) this.tables?.learn(schema, table);
    for (const { name, params } of values.preparedStatements ?? []) this.prepared.set(name, params);
    return values;
  }

  /**
   * `sql` as the recording keeps it: the literals `values` found replaced by the marker, then every
   * detector, and cut past `limit` bytes (`cut`: it arrived cut already).
   */
  mask(sql: string, values: SecretValues | null, cut: ValueCut | undefined, limit: number): MaskResult {
    if (values === null || values.literals.length === 0) return limitedText(this.masker, sql, cut, limit);
    const replaced = maskSecretLiterals(sql, values.literals);
    const masked = limitedText(this.masker, replaced.text, cut, limit);
    const counts: MaskCounts = { [SECRET_COLUMN]: replaced.count };
    mergeCounts(counts, masked.counts);
    return { text: masked.text, counts };
  }

  /** Analyzes and masks in one step (a statement recorded once). */
  record(sql: string, cut: ValueCut | undefined, limit: number): MaskResult & { values: SecretValues | null } {
    const values = this.analyze(sql);
    return { ...this.mask(sql, values, cut, limit), values };
  }
}
