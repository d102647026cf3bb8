// Builds the recording of one PostgreSQL session beside the relay. It follows the protocol's own
// state machine rather than guessing: every client message that the server answers pushes an
// expectation on a FIFO queue, and server messages consume them in order. That pairs each result
// with its statement under pipelining, resumes portals, and after an error skips to the next Sync
// as the server does.
//
// It sees client messages (already forwarded) and whole server messages (before they are
// forwarded); with client masking on it may hand back a re-encoded DataRow, or the masked
// CopyData of a COPY TO STDOUT (client-masking/), to forward instead.
// A message too large to hold whole reaches it as a bounded stand-in with what was cut
// (message-cutter.ts); long values are kept as their masked start and a marker (long-values.ts).
import type { MaskCounts } from '../../../common/events/index.ts';
import type { Masker } from '../../masking/masker.ts';
import { mergeCounts, SECRET_COLUMN } from '../../masking/masker.ts';
import type { ClientMessage } from '../protocol/client-messages.ts';
import { BackendCode, dataRowCells, decodeBackend, encodeDataRow } from '../protocol/backend-decoder.ts';
import type { MessageCut, ValueCut } from '../protocol/message-cutter.ts';
import type { SessionEventSink } from '../../recording/session-event-sink.ts';
import type { StatementMasker } from '../statement-masker.ts';
import type { CopySpec, SecretValues } from '../secret-values/secret-values.ts';
import { copyOutStream, type CopyOutStream } from '../client-masking/copy-out-stream.ts';
import { BinaryCopyRows } from './binary-copy-rows.ts';
import { binaryIsText, cellText, formatAt } from './cell-text.ts';
import { maskCopyContent } from './copy-content.ts';
import { maskEncoded } from './encoded-values.ts';
import { limitedText, limitValue, truncatedText } from './long-values.ts';

export interface RecorderOptions {
  maxRows: number;
  maxCopyBytes: number;
  /** Bytes kept of one value (a statement, a parameter, a cell); longer ones are cut with a marker. */
  maxValueBytes: number;
  /** Rewrite DataRow values and COPY TO STDOUT data the client receives. */
  clientMasking: boolean;
  /** With client masking, a COPY row held to be masked whole, at most (default 16 MiB). */
  maxMaskedRowBytes?: number;
}

const MAX_MASKED_ROW_BYTES = 16 * 1024 * 1024;

interface Column {
  name: string;
  typeOid: number;
  binary: boolean;
  secret: boolean;
  /**
   * Computed by an expression, not a table's column as stored (the server names no table column
   * for it): a cast or an encoding of a value may hide what the detectors would find in it.
   */
  computed: boolean;
}

/** The statement a result or a COPY comes from: its text and analysis. */
interface Source {
  sql: string;
  values: SecretValues | null;
  /** The COPYs of a simple query's string started so far (which one a CopyResponse is). */
  copiesStarted?: number;
}

interface Statement {
  sql: string;
  sqlCut?: ValueCut;
  /** Where its values go: the literals to mask in its text, its secret parameters, its COPY. */
  values: SecretValues | null;
  paramTypes: number[];
  /** From Describe(S): columns in text format; Bind's result formats apply per portal. */
  columns?: Column[];
}

interface Portal {
  sql: string;
  sqlCut?: ValueCut;
  values: SecretValues | null;
  /** The Bind that created the portal: its parameters are recorded with each Execute. */
  bind: BindMessage;
  columns?: Column[];
}

type BindMessage = Extract<ClientMessage, { type: 'bind' }>;

/** Results being collected for a statement (simple query) or an Execute. */
interface ResultState {
  querySeq: number;
  /** The statement's text and analysis, for a COPY it starts. */
  source?: Source;
  startedAt: bigint;
  statementIndex: number;
  columns: Column[];
  rows: (string | null)[][];
  rowCount: number;
  masked: MaskCounts;
}

interface CopyState {
  querySeq?: number;
  direction: 'in' | 'out';
  binary: boolean;
  /** The statement that started it, to learn which fields are secret. */
  source?: Source;
  /** Which COPY of the source's string it is. */
  index: number;
  /** Its format and secret fields, when the statement was read. */
  spec?: CopySpec;
  /** With client masking, a COPY TO STDOUT's data as the client gets it. */
  client: CopyOutStream | null;
  bytes: number;
  /** Lines seen in text format. */
  rows: number;
  /** Rows of the binary format, counted as the bytes go by. */
  binaryRows: BinaryCopyRows | null;
  chunks: string[];
  keptBytes: number;
  truncated: boolean;
  /** The last bytes seen, to recognise the end-of-data marker `\.` that psql sends as a line. */
  tail: string;
  /** Set when the data has ended; the event waits for the server's count (CommandComplete). */
  outcome?: 'done' | 'failed';
}

type Expectation =
  | { kind: 'query'; result: ResultState }
  | { kind: 'parse' }
  | { kind: 'bind' }
  | { kind: 'describe'; target: 'S' | 'P'; name: string }
  | { kind: 'execute'; portal: string; result: ResultState }
  | { kind: 'close' }
  | { kind: 'function'; querySeq: number }
  | { kind: 'sync' };

const EMPTY_COLUMNS: Column[] = [];

export class PostgresRecorder {
  private readonly statements = new Map<string, Statement>();
  private readonly portals = new Map<string, Portal>();
  private readonly queue: Expectation[] = [];
  private copy: CopyState | null = null;

  private readonly masker: Masker;

  constructor(
    private readonly sink: SessionEventSink,
    private readonly statementMasker: StatementMasker,
    private readonly opts: RecorderOptions,
  ) {
    this.masker = statementMasker.masker;
  }

  // ---- client -> server ---------------------------------------------------------------------

  onClientMessage(msg: ClientMessage): void {
    switch (msg.type) {
      case 'query': {
        const { text, counts, values } = this.statementMasker.record(msg.sql, msg.sqlCut, this.opts.maxValueBytes);
        const querySeq = this.sink.emit('db.query', { protocol: 'simple', sql: text }, counts);
        const result = this.newResult(querySeq, 0, EMPTY_COLUMNS);
        result.source = { sql: msg.sql, values };
        this.queue.push({ kind: 'query', result });
        break;
      }
      case 'parse':
        this.statements.set(msg.statement, { sql: msg.sql, sqlCut: msg.sqlCut, values: this.statementMasker.analyze(msg.sql), paramTypes: msg.paramTypes });
        this.queue.push({ kind: 'parse' });
        break;
      case 'bind': {
        const stmt = this.statements.get(msg.statement);
        this.portals.set(msg.portal, {
          sql: stmt?.sql ?? '',
          sqlCut: stmt?.sqlCut,
          values: stmt?.values ?? null,
          bind: msg,
          columns: stmt?.columns && withFormats(stmt.columns, msg.resultFormats),
        });
        this.queue.push({ kind: 'bind' });
        break;
      }
      case 'describe':
        this.queue.push({ kind: 'describe', target: msg.target, name: msg.name });
        break;
      case 'execute': {
        const portal = this.portals.get(msg.portal);
        const counts: MaskCounts = {};
        const sql = this.statementMasker.mask(portal?.sql ?? '', portal?.values ?? null, portal?.sqlCut, this.opts.maxValueBytes);
        mergeCounts(counts, sql.counts);
        const params = portal ? this.recordParams(portal, counts) : [];
        const querySeq = this.sink.emit(
          'db.query',
          {
            protocol: 'extended',
            sql: sql.text,
            statement: portal?.bind.statement ?? '',
            portal: msg.portal,
            params,
            maxRows: msg.maxRows,
          },
          nonEmpty(counts),
        );
        const result = this.newResult(querySeq, 0, portal?.columns ?? EMPTY_COLUMNS);
        if (portal) result.source = { sql: portal.sql, values: portal.values };
        this.queue.push({ kind: 'execute', portal: msg.portal, result });
        break;
      }
      case 'close':
        if (msg.target === 'S') this.statements.delete(msg.name);
        else this.portals.delete(msg.name);
        this.queue.push({ kind: 'close' });
        break;
      case 'sync':
        this.queue.push({ kind: 'sync' });
        break;
      case 'function-call': {
        const querySeq = this.sink.emit('db.query', { protocol: 'function', sql: `function oid ${msg.functionOid}` });
        this.queue.push({ kind: 'function', querySeq }, { kind: 'sync' });
        break;
      }
      case 'copy-data':
        if (this.copy?.direction === 'in') this.collectCopy(this.copy, msg.data);
        break;
      case 'copy-done':
      case 'copy-fail':
        // The event waits for the server's answer: its count, or its error.
        if (this.copy?.direction === 'in') this.copy.outcome ??= msg.type === 'copy-done' ? 'done' : 'failed';
        break;
      case 'flush':
      case 'terminate':
      case 'password':
        break;
    }
  }

  private recordParams({ bind, values }: Portal, counts: MaskCounts) {
    const types = this.statements.get(bind.statement)?.paramTypes ?? [];
    return bind.params.map((value, i) => {
      const binary = formatAt(bind.paramFormats, i) === 1;
      const format = binary ? ('binary' as const) : ('text' as const);
      if (value === null) return { value: null, format };
      // A parameter bound to a secret place ($1 of `INSERT INTO t(password) VALUES ($1)`) is masked whole.
      if (values?.params.has(i + 1)) {
        counts[SECRET_COLUMN] = (counts[SECRET_COLUMN] ?? 0) + 1;
        return { value: this.masker.columnMarker, format };
      }
      const kept = limitValue(value, bind.paramCuts?.[i], this.opts.maxValueBytes);
      const masked = kept.cut
        ? truncatedText(this.masker, kept.bytes, kept.cut, binary, types[i] ?? 0)
        : this.masker.maskText(cellText(value, binary, types[i] ?? 0)!);
      mergeCounts(counts, masked.counts);
      return { value: masked.text, format };
    });
  }

  // ---- server -> client ---------------------------------------------------------------------

  /**
   * Observes one whole server message, or the stand-in of a streamed one (cut set). Returns a
   * replacement to forward instead (a masked DataRow; always one for a streamed DataRow under
   * client masking) or undefined to forward the original bytes.
   */
  onServerMessage(code: number, message: Buffer, cut: MessageCut | null = null): Buffer | undefined {
    switch (code) {
      case BackendCode.DataRow:
        return this.onDataRow(message, cut);
      case BackendCode.CommandComplete: {
        const tag = readTag(message);
        if (this.copy) this.finishCopy(this.copy.outcome ?? 'done', tag);
        this.completeResult(tag);
        return undefined;
      }
      case BackendCode.RowDescription:
        this.onRowDescription(message);
        return undefined;
      case BackendCode.ReadyForQuery:
        this.onReadyForQuery();
        return undefined;
      case BackendCode.ParseComplete:
        this.popIf('parse');
        return undefined;
      case BackendCode.BindComplete:
        this.popIf('bind');
        return undefined;
      case BackendCode.CloseComplete:
        this.popIf('close');
        return undefined;
      case BackendCode.NoData:
        if (this.queue[0]?.kind === 'describe') this.onDescribed(EMPTY_COLUMNS);
        return undefined;
      case BackendCode.EmptyQuery:
        this.completeResult('');
        return undefined;
      case BackendCode.PortalSuspended:
        this.completeResult('SUSPENDED');
        return undefined;
      case BackendCode.ErrorResponse:
        this.onError(message);
        return undefined;
      case BackendCode.NoticeResponse:
        this.onNotice(message);
        return undefined;
      case BackendCode.NotificationResponse:
        this.onNotification(message);
        return undefined;
      case BackendCode.CopyInResponse:
      case BackendCode.CopyOutResponse:
        this.onCopyResponse(code, message);
        return undefined;
      case BackendCode.CopyData:
        if (this.copy?.direction !== 'out') return undefined;
        this.collectCopy(this.copy, message.subarray(5));
        return this.copy.client?.push(message.subarray(5));
      case BackendCode.CopyDone: {
        if (this.copy?.direction !== 'out') return undefined;
        this.copy.outcome ??= 'done';
        const rest = this.copy.client?.end();
        return rest?.length ? Buffer.concat([rest, message]) : undefined;
      }
      case BackendCode.FunctionCallResponse:
        this.popIf('function');
        return undefined;
      default:
        return undefined;
    }
  }

  private newResult(querySeq: number, statementIndex: number, columns: Column[]): ResultState {
    return { querySeq, startedAt: process.hrtime.bigint(), statementIndex, columns, rows: [], rowCount: 0, masked: {} };
  }

  /** The result that rows and completions belong to: the head simple query or Execute. */
  private currentResult(): ResultState | undefined {
    const head = this.queue[0];
    if (head?.kind === 'query' || head?.kind === 'execute') return head.result;
    return undefined;
  }

  private onRowDescription(message: Buffer): void {
    const decoded = decodeBackend(message) as { fields?: { name: string; tableID: number; columnID: number; dataTypeID: number; format: string }[] };
    const columns: Column[] = (decoded.fields ?? []).map((f) => ({
      name: f.name,
      typeOid: f.dataTypeID,
      binary: f.format === 'binary',
      secret: this.masker.isSecretColumn(f.name),
      computed: f.tableID === 0 || f.columnID <= 0,
    }));
    const head = this.queue[0];
    if (head?.kind === 'describe') {
      const values = head.target === 'S' ? this.statements.get(head.name)?.values : this.portals.get(head.name)?.values;
      this.onDescribed(withSecretOutputs(columns, values?.secretOutputs?.[0]));
    } else if (head?.kind === 'query') {
      head.result.columns = withSecretOutputs(columns, head.result.source?.values?.secretOutputs?.[head.result.statementIndex]);
    } else if (head?.kind === 'execute') head.result.columns = withSecretOutputs(columns, head.result.source?.values?.secretOutputs?.[0]);
  }

  private onDescribed(columns: Column[]): void {
    const head = this.queue.shift() as Extract<Expectation, { kind: 'describe' }>;
    if (head.target === 'S') {
      const stmt = this.statements.get(head.name);
      if (stmt) stmt.columns = columns;
    } else {
      const portal = this.portals.get(head.name);
      if (portal) portal.columns = columns;
      // An Execute already queued for this portal (pipelined P/B/D/E) takes the description too.
      for (const e of this.queue) if (e.kind === 'execute' && e.portal === head.name && e.result.columns.length === 0) e.result.columns = columns;
    }
  }

  private onDataRow(message: Buffer, cut: MessageCut | null): Buffer | undefined {
    const result = this.currentResult();
    if (!result) return undefined;
    result.rowCount++;
    const keep = result.rows.length < this.opts.maxRows;
    const clientMasking = this.opts.clientMasking;
    if (!keep && !clientMasking) return undefined;
    const cells = dataRowCells(message);
    const columns = result.columns;
    const limit = this.opts.maxValueBytes;
    // Cells over the value limit are kept apart: the recording keeps their masked start.
    const longAt: number[] = [];
    const texts = cells.map((cell, i) => {
      if (cell !== null && (cell.length > limit || cut?.values[i])) {
        longAt.push(i);
        return null;
      }
      const col = columns[i];
      return cellText(cell, col?.binary ?? false, col?.typeOid ?? 0);
    });
    const secrets = columns.length ? columns.map((c) => c.secret) : null;
    const counts: MaskCounts = {};
    const masked = this.maskEncodings(cells, texts, this.masker.maskRow(texts, secrets, counts), columns, counts);
    let recorded = masked;
    if (longAt.length > 0) {
      recorded = masked.slice();
      for (const i of longAt) recorded[i] = this.longCell(cells[i]!, cut?.values[i], columns[i], counts);
    }
    if (keep) {
      result.rows.push(recorded);
      mergeCounts(result.masked, counts);
    }
    if (!clientMasking || (masked === texts && longAt.length === 0 && cut === null)) return undefined;
    const long = new Set(longAt);
    return encodeDataRow(cells.map((cell, i) => {
      if (cell === null) return null;
      const col = columns[i];
      // A binary non-text value cannot carry a marker without breaking the client's decoder:
      // it is masked whole, as NULL.
      const opaque = col?.binary === true && !binaryIsText(col.typeOid);
      if (!long.has(i)) return masked[i] === texts[i] ? cell : opaque ? null : masked[i];
      // A cell cut from a streamed row cannot be masked whole: the client gets what the
      // recording keeps. A long cell of a whole row is masked whole for the client.
      if (cut?.values[i] || secrets?.[i]) return opaque ? null : recorded[i];
      const text = cellText(cell, col?.binary ?? false, col?.typeOid ?? 0)!;
      const m = (col?.computed ?? true) ? (maskEncoded(this.masker, opaque ? cell.toString('utf8') : text, opaque) ?? this.masker.maskText(text)) : this.masker.maskText(text);
      return m.text === text ? cell : opaque ? null : m.text;
    }));
  }

  /**
   * Computed values (a column of no table, or of unknown origin) read through their encodings:
   * `email::bytea` or base64 of an address is masked whole. A binary value of a non-text type is
   * read as its bytes. Secret and long cells are left to the caller.
   */
  private maskEncodings(cells: (Buffer | null)[], texts: (string | null)[], masked: (string | null)[], columns: Column[], counts: MaskCounts): (string | null)[] {
    let out = masked;
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i];
      const col = columns[i];
      if (cell === null || texts[i] === null || col?.secret || !(col?.computed ?? true)) continue;
      const opaque = col?.binary === true && !binaryIsText(col.typeOid);
      const found = maskEncoded(this.masker, opaque ? cell.toString('utf8') : texts[i]!, opaque);
      if (!found) continue;
      if (out === masked) out = masked.slice();
      out[i] = found.text;
      mergeCounts(counts, found.counts);
    }
    return out;
  }

  /** A cell over the value limit, as the recording keeps it: a secret column's marker, or its masked start and the cut. */
  private longCell(cell: Buffer, cut: ValueCut | undefined, col: Column | undefined, counts: MaskCounts): string {
    if (col?.secret) {
      counts[SECRET_COLUMN] = (counts[SECRET_COLUMN] ?? 0) + 1;
      return this.masker.columnMarker;
    }
    const kept = limitValue(cell, cut, this.opts.maxValueBytes);
    // A computed value's encodings are read in the start kept: a part of one is never recorded.
    const encoded = (col?.computed ?? true) ? maskEncoded(this.masker, kept.bytes.toString('utf8'), col?.binary === true && !binaryIsText(col.typeOid)) : null;
    const m = encoded ?? truncatedText(this.masker, kept.bytes, kept.cut!, col?.binary ?? false, col?.typeOid ?? 0);
    mergeCounts(counts, m.counts);
    return m.text;
  }

  private completeResult(command: string): void {
    const head = this.queue[0];
    if (head?.kind !== 'query' && head?.kind !== 'execute') return;
    const r = head.result;
    const rowCount = r.rowCount || rowCountFromTag(command);
    this.sink.emit(
      'db.result',
      {
        querySeq: r.querySeq,
        statementIndex: r.statementIndex,
        columns: r.columns.map((c) => ({ name: c.name, typeOid: c.typeOid, format: c.binary ? 'binary' : 'text' })),
        rows: r.rows,
        rowCount,
        truncated: rowCount > r.rows.length && r.columns.length > 0,
        command,
        durationUs: Number((process.hrtime.bigint() - r.startedAt) / 1000n),
      },
      nonEmpty(r.masked),
    );
    if (head.kind === 'execute') this.queue.shift();
    else {
      head.result = this.newResult(r.querySeq, r.statementIndex + 1, EMPTY_COLUMNS);
      head.result.source = r.source;
    }
  }

  /** A COPY TO STDOUT is under way whose data the client gets masked (from onServerMessage), not as it came. */
  get masksCopyOut(): boolean {
    return this.copy?.client != null;
  }

  /** Nothing sent is unanswered: the target is not running anything for this session. */
  get idle(): boolean {
    return this.queue.length === 0 && this.copy === null;
  }

  private onReadyForQuery(): void {
    // Everything up to and including the answered Sync (or simple Query) is done.
    const i = this.queue.findIndex((e) => e.kind === 'sync' || e.kind === 'query');
    this.queue.splice(0, i < 0 ? this.queue.length : i + 1);
    // A COPY the server never counted (its CommandComplete did not come) is recorded as it stands.
    if (this.copy) this.finishCopy(this.copy.outcome ?? 'failed');
  }

  private popIf(kind: Expectation['kind']): void {
    if (this.queue[0]?.kind === kind) this.queue.shift();
  }

  private onError(message: Buffer): void {
    const e = decodeBackend(message) as unknown as Record<string, string | undefined>;
    const counts: MaskCounts = {};
    const text = (s: string | undefined) => {
      if (s === undefined) return undefined;
      const m = limitedText(this.masker, s, undefined, this.opts.maxValueBytes);
      mergeCounts(counts, m.counts);
      return m.text;
    };
    const head = this.queue[0];
    let querySeq: number | undefined;
    if (head?.kind === 'query' || head?.kind === 'execute') querySeq = head.result.querySeq;
    else if (head?.kind === 'function') querySeq = head.querySeq;
    else {
      // An error in Parse/Bind/Describe belongs to the Execute queued after it, if any.
      for (const x of this.queue) {
        if (x.kind === 'sync') break;
        if (x.kind === 'execute') { querySeq = x.result.querySeq; break; }
      }
    }
    if (this.copy) this.finishCopy('failed');
    this.sink.emit(
      'db.error',
      {
        ...(querySeq ? { querySeq } : {}),
        severity: e.severity ?? 'ERROR',
        code: e.code ?? '',
        message: text(e.message) ?? '',
        ...(e.detail !== undefined ? { detail: text(e.detail) } : {}),
        ...(e.hint !== undefined ? { hint: text(e.hint) } : {}),
        ...(e.position !== undefined ? { position: e.position } : {}),
      },
      nonEmpty(counts),
    );
    if (head?.kind === 'query') return; // the rest of a simple query is skipped; ReadyForQuery ends it
    // Extended protocol: the server discards everything up to the next Sync.
    const syncAt = this.queue.findIndex((x) => x.kind === 'sync');
    this.queue.splice(0, syncAt < 0 ? this.queue.length : syncAt);
  }

  private onNotice(message: Buffer): void {
    const n = decodeBackend(message) as unknown as Record<string, string | undefined>;
    const counts: MaskCounts = {};
    const m = limitedText(this.masker, n.message ?? '', undefined, this.opts.maxValueBytes);
    mergeCounts(counts, m.counts);
    const d = n.detail !== undefined ? limitedText(this.masker, n.detail, undefined, this.opts.maxValueBytes) : undefined;
    if (d) mergeCounts(counts, d.counts);
    this.sink.emit(
      'db.notice',
      { severity: n.severity ?? 'NOTICE', code: n.code ?? '', message: m.text, ...(d ? { detail: d.text } : {}) },
      nonEmpty(counts),
    );
  }

  private onNotification(message: Buffer): void {
    const n = decodeBackend(message) as unknown as { channel: string; payload: string; processId: number };
    const payload = this.masker.maskText(n.payload);
    this.sink.emit('db.notification', { channel: n.channel, payload: payload.text, processId: n.processId }, payload.counts);
  }

  private onCopyResponse(code: number, message: Buffer): void {
    const binary = message.length > 5 && message[5] === 1;
    const result = this.currentResult();
    const source = result?.source;
    // A simple query's string may hold several COPYs: each response is the next one's.
    const index = source ? (source.copiesStarted = (source.copiesStarted ?? 0) + 1) - 1 : 0;
    const direction = code === BackendCode.CopyInResponse ? 'in' : 'out';
    const spec = this.copySpec(source, index);
    this.copy = {
      querySeq: result?.querySeq,
      source,
      index,
      spec,
      client: this.opts.clientMasking && direction === 'out'
        ? copyOutStream(spec, binary, this.masker, this.opts.maxMaskedRowBytes ?? MAX_MASKED_ROW_BYTES)
        : null,
      direction,
      binary,
      bytes: 0,
      rows: 0,
      binaryRows: binary ? new BinaryCopyRows() : null,
      chunks: [],
      keptBytes: 0,
      truncated: false,
      tail: '',
    };
  }

  private collectCopy(copy: CopyState, data: Buffer): void {
    copy.bytes += data.length;
    if (copy.binaryRows) {
      copy.binaryRows.push(data);
      return;
    }
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) copy.rows++;
    copy.tail = (copy.tail + data.subarray(Math.max(0, data.length - 4)).toString('latin1')).slice(-4);
    if (copy.truncated) return;
    const room = this.opts.maxCopyBytes - copy.keptBytes;
    if (data.length <= room) {
      copy.chunks.push(data.toString('utf8'));
      copy.keptBytes += data.length;
    } else {
      // Keep whole lines only: a value cut at the limit could be a secret the detectors miss.
      const cut = data.lastIndexOf(10, room - 1);
      if (cut >= 0) copy.chunks.push(data.subarray(0, cut + 1).toString('utf8'));
      copy.truncated = true;
    }
  }

  /**
   * The format and secret fields of the source's COPY number `index`. A table whose columns were
   * unknown when the statement was read (every field would be masked) is asked again: the look-up
   * it started has usually answered by now.
   */
  private copySpec(source: Source | undefined, index: number): CopySpec | undefined {
    const spec = source?.values?.copies?.[index]?.spec;
    if (spec?.secretFields !== null || !source) return spec;
    return this.statementMasker.analyze(source.sql)?.copies?.[index]?.spec ?? spec;
  }

  /**
   * COPY content masked field by field (secret columns, detectors, and for a query's fields their
   * encodings); without a known format, by the detectors over the whole text.
   */
  private maskCopyText(copy: CopyState, text: string): { text: string; counts: MaskCounts | null } {
    let spec = copy.spec;
    if (spec?.secretFields === null) spec = this.copySpec(copy.source, copy.index);
    if (!spec || spec.format === 'binary') return this.masker.maskText(text);
    return maskCopyContent(text, spec, this.masker, spec.fromQuery === true);
  }

  /** tag: the server's CommandComplete ("COPY n"), whose count is the one that holds. */
  private finishCopy(outcome: 'done' | 'failed', tag?: string): void {
    const copy = this.copy;
    if (!copy) return;
    this.copy = null;
    let content: string | undefined;
    let counts: MaskCounts | null = null;
    if (copy.binaryRows) copy.rows = copy.binaryRows.rows;
    else {
      let text = copy.chunks.join('');
      // `\.` on a line of its own ends the data (psql sends it); it is not a row.
      if (copy.tail === '\n\\.\n' || copy.tail.endsWith('\\.\n') && copy.rows === 1) {
        copy.rows--;
        if (text.endsWith('\\.\n')) text = text.slice(0, -3);
      }
      const m = this.maskCopyText(copy, text);
      content = m.text;
      counts = m.counts;
    }
    const counted = tag !== undefined ? /^COPY (\d+)$/.exec(tag) : null;
    if (counted) copy.rows = Number(counted[1]);
    this.sink.emit(
      'db.copy',
      {
        ...(copy.querySeq ? { querySeq: copy.querySeq } : {}),
        direction: copy.direction,
        format: copy.binary ? 'binary' : 'text',
        bytes: copy.bytes,
        rows: copy.rows,
        ...(content !== undefined ? { content } : {}),
        truncated: copy.truncated,
        outcome,
      },
      counts,
    );
  }
}

/**
 * Columns whose values come from a secret column or a secret-returning function, whatever they are
 * named (`SELECT upper(password) AS x`, `set_config('app.password', ...)`), are secret too.
 */
function withSecretOutputs(columns: Column[], outputs: ReadonlySet<number> | 'all' | undefined): Column[] {
  if (outputs === undefined) return columns;
  for (let i = 0; i < columns.length; i++) if (outputs === 'all' || outputs.has(i)) columns[i].secret = true;
  return columns;
}

function withFormats(columns: Column[], formats: readonly number[]): Column[] {
  return columns.map((c, i) => ({ ...c, binary: formatAt(formats, i) === 1 }));
}

function readTag(message: Buffer): string {
  // CommandComplete: 'C', int32 length, tag cstring.
  const end = message.indexOf(0, 5);
  return message.toString('utf8', 5, end < 0 ? message.length : end);
}

function rowCountFromTag(tag: string): number {
  const m = /(\d+)$/.exec(tag);
  return m ? Number(m[1]) : 0;
}

function nonEmpty(counts: MaskCounts): MaskCounts | null {
  for (const _ in counts) return counts;
  return null;
}
