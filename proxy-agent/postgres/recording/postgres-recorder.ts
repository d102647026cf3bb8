// Builds the recording of one PostgreSQL session beside the relay. It follows the protocol's own
// state machine rather than guessing: every client message that the server answers pushes an
// expectation on a FIFO queue, and server messages consume them in order. That pairs each result
// with its statement under pipelining, resumes portals, and after an error skips to the next Sync
// as the server does.
//
// It sees client messages (already forwarded) and whole server messages (before they are
// forwarded); with client masking on it may hand back a re-encoded DataRow to forward instead.
import type { MaskCounts } from '../../../common/events/index.ts';
import type { Masker } from '../../masking/masker.ts';
import { mergeCounts } from '../../masking/masker.ts';
import type { ClientMessage } from '../protocol/client-messages.ts';
import { BackendCode, dataRowCells, decodeBackend, encodeDataRow } from '../protocol/backend-decoder.ts';
import type { SessionEventSink } from '../../recording/session-event-sink.ts';
import { binaryIsText, cellText, formatAt } from './cell-text.ts';

export interface RecorderOptions {
  maxRows: number;
  maxCopyBytes: number;
  /** Rewrite DataRow values the client receives. */
  clientMasking: boolean;
}

interface Column {
  name: string;
  typeOid: number;
  binary: boolean;
  secret: boolean;
}

interface Statement {
  sql: string;
  paramTypes: number[];
  /** From Describe(S): columns in text format; Bind's result formats apply per portal. */
  columns?: Column[];
}

interface Portal {
  sql: string;
  /** The Bind that created the portal: its parameters are recorded with each Execute. */
  bind: BindMessage;
  columns?: Column[];
}

type BindMessage = Extract<ClientMessage, { type: 'bind' }>;

/** Results being collected for a statement (simple query) or an Execute. */
interface ResultState {
  querySeq: number;
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
  bytes: number;
  rows: number;
  chunks: string[];
  keptBytes: number;
  truncated: boolean;
  /** The last bytes seen, to recognise the end-of-data marker `\.` that psql sends as a line. */
  tail: string;
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

  constructor(
    private readonly sink: SessionEventSink,
    private readonly masker: Masker,
    private readonly opts: RecorderOptions,
  ) {}

  // ---- client -> server ---------------------------------------------------------------------

  onClientMessage(msg: ClientMessage): void {
    switch (msg.type) {
      case 'query': {
        const { text, counts } = this.masker.maskText(msg.sql);
        const querySeq = this.sink.emit('db.query', { protocol: 'simple', sql: text }, counts);
        this.queue.push({ kind: 'query', result: this.newResult(querySeq, 0, EMPTY_COLUMNS) });
        break;
      }
      case 'parse':
        this.statements.set(msg.statement, { sql: msg.sql, paramTypes: msg.paramTypes });
        this.queue.push({ kind: 'parse' });
        break;
      case 'bind': {
        const stmt = this.statements.get(msg.statement);
        this.portals.set(msg.portal, {
          sql: stmt?.sql ?? '',
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
        const sql = this.masker.maskText(portal?.sql ?? '');
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
        this.queue.push({ kind: 'execute', portal: msg.portal, result: this.newResult(querySeq, 0, portal?.columns ?? EMPTY_COLUMNS) });
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
        if (this.copy?.direction === 'in') this.finishCopy(msg.type === 'copy-done' ? 'done' : 'failed');
        break;
      case 'flush':
      case 'terminate':
      case 'password':
        break;
    }
  }

  private recordParams({ bind }: Portal, counts: MaskCounts) {
    const types = this.statements.get(bind.statement)?.paramTypes ?? [];
    return bind.params.map((value, i) => {
      const binary = formatAt(bind.paramFormats, i) === 1;
      const text = cellText(value, binary, types[i] ?? 0);
      if (text === null) return { value: null, format: binary ? ('binary' as const) : ('text' as const) };
      const masked = this.masker.maskText(text);
      mergeCounts(counts, masked.counts);
      return { value: masked.text, format: binary ? ('binary' as const) : ('text' as const) };
    });
  }

  // ---- server -> client ---------------------------------------------------------------------

  /**
   * Observes one whole server message. Returns a replacement to forward instead (a masked
   * DataRow) or undefined to forward the original bytes.
   */
  onServerMessage(code: number, message: Buffer): Buffer | undefined {
    switch (code) {
      case BackendCode.DataRow:
        return this.onDataRow(message);
      case BackendCode.CommandComplete:
        this.completeResult(readTag(message));
        return undefined;
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
        if (this.copy?.direction === 'out') this.collectCopy(this.copy, message.subarray(5));
        return undefined;
      case BackendCode.CopyDone:
        if (this.copy?.direction === 'out') this.finishCopy('done');
        return undefined;
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
    const decoded = decodeBackend(message) as { fields?: { name: string; dataTypeID: number; format: string }[] };
    const columns: Column[] = (decoded.fields ?? []).map((f) => ({
      name: f.name,
      typeOid: f.dataTypeID,
      binary: f.format === 'binary',
      secret: this.masker.isSecretColumn(f.name),
    }));
    const head = this.queue[0];
    if (head?.kind === 'describe') this.onDescribed(columns);
    else if (head?.kind === 'query') head.result.columns = columns;
    else if (head?.kind === 'execute') head.result.columns = columns;
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

  private onDataRow(message: Buffer): Buffer | undefined {
    const result = this.currentResult();
    if (!result) return undefined;
    result.rowCount++;
    const keep = result.rows.length < this.opts.maxRows;
    if (!keep && !this.opts.clientMasking) return undefined;
    const cells = dataRowCells(message);
    const columns = result.columns;
    const texts = cells.map((cell, i) => {
      const col = columns[i];
      return cellText(cell, col?.binary ?? false, col?.typeOid ?? 0);
    });
    const secrets = columns.length ? columns.map((c) => c.secret) : null;
    const counts: MaskCounts = {};
    const masked = this.masker.maskRow(texts, secrets, counts);
    if (keep) {
      result.rows.push(masked);
      mergeCounts(result.masked, counts);
    }
    if (!this.opts.clientMasking || masked === texts) return undefined;
    return encodeDataRow(cells.map((cell, i) => {
      if (masked[i] === texts[i]) return cell;
      const col = columns[i];
      // A binary non-text value cannot carry a marker without breaking the client's decoder:
      // it is masked whole, as NULL.
      if (col?.binary && !binaryIsText(col.typeOid)) return null;
      return masked[i];
    }));
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
    else head.result = this.newResult(r.querySeq, r.statementIndex + 1, EMPTY_COLUMNS);
  }

  /** Nothing sent is unanswered: the target is not running anything for this session. */
  get idle(): boolean {
    return this.queue.length === 0 && this.copy === null;
  }

  private onReadyForQuery(): void {
    // Everything up to and including the answered Sync (or simple Query) is done.
    const i = this.queue.findIndex((e) => e.kind === 'sync' || e.kind === 'query');
    this.queue.splice(0, i < 0 ? this.queue.length : i + 1);
    this.copy = null;
  }

  private popIf(kind: Expectation['kind']): void {
    if (this.queue[0]?.kind === kind) this.queue.shift();
  }

  private onError(message: Buffer): void {
    const e = decodeBackend(message) as unknown as Record<string, string | undefined>;
    const counts: MaskCounts = {};
    const text = (s: string | undefined) => {
      if (s === undefined) return undefined;
      const m = this.masker.maskText(s);
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
    const m = this.masker.maskText(n.message ?? '');
    mergeCounts(counts, m.counts);
    const d = n.detail !== undefined ? this.masker.maskText(n.detail) : undefined;
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
    this.copy = {
      querySeq: this.currentResult()?.querySeq,
      direction: code === BackendCode.CopyInResponse ? 'in' : 'out',
      binary,
      bytes: 0,
      rows: 0,
      chunks: [],
      keptBytes: 0,
      truncated: false,
      tail: '',
    };
  }

  private collectCopy(copy: CopyState, data: Buffer): void {
    copy.bytes += data.length;
    if (copy.binary) {
      copy.rows++;
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

  private finishCopy(outcome: 'done' | 'failed'): void {
    const copy = this.copy;
    if (!copy) return;
    this.copy = null;
    let content: string | undefined;
    let counts: MaskCounts | null = null;
    if (!copy.binary) {
      let text = copy.chunks.join('');
      // `\.` on a line of its own ends the data (psql sends it); it is not a row.
      if (copy.tail === '\n\\.\n' || copy.tail.endsWith('\\.\n') && copy.rows === 1) {
        copy.rows--;
        if (text.endsWith('\\.\n')) text = text.slice(0, -3);
      }
      const m = this.masker.maskText(text);
      content = m.text;
      counts = m.counts;
    }
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
