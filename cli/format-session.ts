// Human-readable output of recordings for the terminal. Recorded text is attacker-controlled: a
// query can carry escape sequences meant for the reviewer's terminal, so every recorded string is
// shown with control characters made visible.
import type { VigilEvent } from '../common/events/index.ts';
import type { SessionSummary } from '../common/api-contract.ts';
import { sessionEnding } from '../common/end-reasons.ts';
import { formatDuration, formatTime } from '../common/time-format.ts';

const RESULT_ROWS_SHOWN = 5;
const TEXT_LIMIT = 500;

/** Control characters (C0, DEL, C1) become \xNN; newlines and tabs become \n, \t. */
export function visible(text: string, limit = TEXT_LIMIT): string {
  const cut = text.length > limit ? `${text.slice(0, limit)}…` : text;
  return cut.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** A moment as the dashboard and the audit log write it, in UTC: `2026-12-07 21:46:19.573 UTC`. */
const moment = (iso: string | null) => (iso ? formatTime(iso, { zone: 'utc', ms: true }) : '?');

/** How it ended, in words: "client quit after 3s", "killed by rita: INC-7 after 12m 05s", "live". */
export function sessionStatus(s: SessionSummary): string {
  if (!s.endedAt) return 'live';
  const ending = sessionEnding(s)!;
  const took = s.startedAt ? ` after ${formatDuration(Date.parse(s.endedAt) - Date.parse(s.startedAt))}` : '';
  return `${ending.words}${ending.who ? ` ${visible(ending.who, 200)}` : ''}${took}`;
}

export function sessionTable(sessions: SessionSummary[]): string {
  if (sessions.length === 0) return 'no sessions recorded yet';
  return table(
    ['ID', 'USER', 'TARGET', 'STARTED', 'STATUS', 'QUERIES', 'ERRORS'],
    sessions.map((s) => [
      s.id, visible(s.user, 40), visible(s.target, 40), moment(s.startedAt),
      sessionStatus(s), String(s.queryCount), String(s.errorCount),
    ]),
  );
}

export function sessionHeader(s: SessionSummary): string {
  return [
    `Session ${s.id}`,
    `  ${s.protocol}  user ${visible(s.user, 100)}  target ${visible(s.target, 100)}  client ${visible(s.client, 100)}  agent ${visible(s.agent, 100)}`,
    `  started ${moment(s.startedAt)}  ${s.endedAt ? `ended ${moment(s.endedAt)} (${sessionStatus(s)})` : 'live'}`,
    `  ${plural(s.eventCount, 'event')}, ${plural(s.queryCount, 'query', 'queries')}, ${plural(s.errorCount, 'error')}${s.persistedSeq < s.lastSeq ? `  (stored up to #${s.persistedSeq} of #${s.lastSeq})` : ''}`,
  ].join('\n');
}

function masked(e: VigilEvent): string {
  if (!e.masked) return '';
  const parts = Object.entries(e.masked).map(([rule, n]) => `${rule}×${n}`);
  return parts.length ? `  masked ${parts.join(' ')}` : '';
}

const cell = (value: string | null) => (value === null ? 'NULL' : visible(value, 80));

/** One event as a line (and, for results and COPY, a few indented lines of content). */
export function eventLines(e: VigilEvent): string[] {
  const head = `${String(e.seq).padStart(5)} ${e.time.slice(11, 23)} ${e.type.padEnd(15)}`;
  const indent = ' '.repeat(head.length + 1);
  switch (e.type) {
    case 'session.start': {
      const d = e.data;
      if (e.protocol !== 'postgres') return [`${head} upstream ${visible(d.upstream, 200)}${d.auth ? `  login by ${d.auth}` : ''}  recording ${d.recording}${d.clientMasking ? '  client masking on' : ''}`];
      return [`${head} database ${visible(d.database ?? '?', 100)}  app ${visible(d.applicationName ?? '-', 100)}  upstream ${visible(d.upstream, 200)}  recording ${d.recording}${d.clientMasking ? '  client masking on' : ''}`];
    }
    case 'session.end': {
      const d = e.data;
      const bytes = d.bytesUp !== undefined && d.bytesDown !== undefined ? `  ${d.bytesUp} bytes up, ${d.bytesDown} bytes down` : '';
      const gap = d.missing ? `  (${d.missing} events never arrived)` : '';
      return [`${head} ${d.reason}${d.message ? `: ${visible(d.message)}` : ''}  after ${duration(d.durationMs)}${bytes}${gap}`];
    }
    case 'db.query': {
      const d = e.data;
      const lines = [`${head} ${visible(d.sql.replace(/\s+/g, ' ').trim())}${masked(e)}`];
      const where = [
        d.protocol !== 'simple' ? d.protocol : '',
        d.statement ? `statement ${visible(d.statement, 64)}` : '',
        d.portal ? `portal ${visible(d.portal, 64)}` : '',
        d.maxRows ? `max ${d.maxRows} rows` : '',
      ].filter(Boolean);
      if (where.length) lines.push(`${indent}(${where.join(', ')})`);
      if (d.params?.length) lines.push(`${indent}params: ${d.params.map((p, i) => `$${i + 1}=${p.value === null ? 'NULL' : `'${visible(p.value, 80)}'`}`).join(' ')}`);
      return lines;
    }
    case 'db.result': {
      const d = e.data;
      const rows = plural(d.rowCount, 'row');
      const lines = [`${head} ${visible(d.command || '(empty query)', 100)}  ${rows}  ${(d.durationUs / 1000).toFixed(1)} ms  (query #${d.querySeq})${masked(e)}`];
      if (d.columns.length) {
        lines.push(`${indent}${d.columns.map((c) => visible(c.name, 64)).join(' | ')}`);
        for (const row of d.rows.slice(0, RESULT_ROWS_SHOWN)) lines.push(`${indent}${row.map(cell).join(' | ')}`);
        const hidden = d.rowCount - Math.min(d.rows.length, RESULT_ROWS_SHOWN);
        if (hidden > 0) lines.push(`${indent}… ${hidden} more row${hidden === 1 ? '' : 's'}${d.truncated ? ' (not all recorded)' : ''}`);
      }
      return lines;
    }
    case 'db.error': {
      const d = e.data;
      const lines = [`${head} ${d.severity} ${d.code}: ${visible(d.message)}${d.querySeq ? `  (query #${d.querySeq})` : ''}${masked(e)}`];
      if (d.detail) lines.push(`${indent}DETAIL: ${visible(d.detail)}`);
      if (d.hint) lines.push(`${indent}HINT: ${visible(d.hint)}`);
      return lines;
    }
    case 'db.notice':
      return [`${head} ${e.data.severity} ${e.data.code}: ${visible(e.data.message)}${masked(e)}`];
    case 'db.notification':
      return [`${head} channel ${visible(e.data.channel, 64)}: ${visible(e.data.payload)}`];
    case 'db.copy': {
      const d = e.data;
      const lines = [`${head} ${d.direction === 'in' ? 'FROM STDIN' : 'TO STDOUT'} ${d.format}  ${d.rows} rows, ${d.bytes} bytes  ${d.outcome}${masked(e)}`];
      if (d.content) {
        const shown = d.content.split('\n').filter((l) => l.length > 0).slice(0, RESULT_ROWS_SHOWN);
        for (const line of shown) lines.push(`${indent}${visible(line, 200)}`);
        if (d.truncated) lines.push(`${indent}… (content truncated)`);
      }
      return lines;
    }
    case 'ssh.shell':
      return [`${head} channel ${e.data.channel}: shell${pty(e.data.pty)}`];
    case 'ssh.exec':
      return [`${head} channel ${e.data.channel}: ${visible(e.data.command, 400)}${pty(e.data.pty)}${masked(e)}`];
    case 'ssh.subsystem':
      return [`${head} channel ${e.data.channel}: ${visible(e.data.name, 64)}`];
    case 'ssh.exit':
      return [`${head} channel ${e.data.channel}: ${e.data.signal ? `killed by SIG${visible(e.data.signal, 32)}` : `exit ${e.data.exitCode ?? '?'}`}`];
    case 'ssh.file':
      return [`${head} channel ${e.data.channel}: ${e.data.protocol} ${e.data.direction} ${visible(e.data.path, 300)}  ${plural(e.data.bytes, 'byte')}`];
    case 'guardrail.hit':
      return [`${head} ${e.data.action} by rule ${visible(e.data.rule, 64)}: ${visible(e.data.statement, 200)}${masked(e)}`];
    case 'access':
      return [`${head} ${accessLine(e.data)}`];
    case 'recording.gap':
      return [`${head} events ${e.data.fromSeq} to ${e.data.toSeq} were not recorded (${e.data.reason === 'spool_full' ? 'the agent\'s spool was full' : e.data.reason})`];
    case 'ssh.forward':
      return [`${head} ${e.data.direction} forwarding ${visible(e.data.host, 100)}:${e.data.port}`];
    case 'ssh.denied':
      return [`${head} refused ${visible(e.data.request, 64)}${e.data.detail ? `: ${visible(e.data.detail, 200)}` : ''}`];
    case 'term.output':
      return [`${head} channel ${e.data.channel}${e.data.stream === 'stderr' ? ' (stderr)' : ''}: ${visible(e.data.text, 200)}${masked(e)}`];
    case 'term.input':
      return [`${head} channel ${e.data.channel}: ${e.data.hidden !== undefined ? `[${plural(e.data.hidden, 'hidden character')}]` : visible(e.data.text ?? '', 200)}${masked(e)}`];
    case 'term.resize':
      return [`${head} channel ${e.data.channel}: ${e.data.cols}x${e.data.rows}`];
    case 'http.request': {
      const d = e.data;
      return [`${head} ${visible(d.method, 16)} ${visible(d.path, 300)}${d.query ? `?${visible(d.query, 200)}` : ''}  HTTP/${visible(d.version, 8)}${masked(e)}`];
    }
    case 'http.response':
      return [`${head} ${e.data.status}${e.data.by === 'vigil' ? ' (answered by Vigil)' : ''}  (request #${e.data.requestSeq})${masked(e)}`];
    case 'http.body': {
      const d = e.data;
      const what = d.binary || d.text === undefined ? `[${d.contentType ? `${visible(d.contentType, 100)}, ` : ''}${plural(d.bytes, 'byte')}]` : visible(d.text, 200);
      return [`${head} ${d.direction} body: ${what}${d.truncated ? '  (truncated)' : ''}  (request #${d.requestSeq})${masked(e)}`];
    }
    case 'http.end': {
      const d = e.data;
      return [`${head} ${d.outcome}${d.detail ? `: ${visible(d.detail, 200)}` : ''}  ${duration(Math.round(d.durationMs))}  ${d.requestBytes} bytes up, ${d.responseBytes} bytes down  (request #${d.requestSeq})`];
    }
    case 'ws.message': {
      const d = e.data;
      return [`${head} ${d.direction === 'client' ? '→' : '←'} ${d.kind}: ${d.text !== undefined ? visible(d.text, 200) : plural(d.bytes, 'byte')}${d.truncated ? '  (truncated)' : ''}  (request #${d.requestSeq})${masked(e)}`];
    }
  }
}

const pty = (p: { term: string; cols: number; rows: number } | undefined) => (p ? `  (pty ${visible(p.term, 32)} ${p.cols}x${p.rows})` : '');

/** An access event in words, e.g. "granted by aaron (request #4) until 12:30:00". */
export function accessLine(d: { action: string; requestId: number; by?: string; reason?: string; expiresAt?: string }): string {
  return `${d.action}${d.by ? ` by ${visible(d.by, 300)}` : ''} (request #${d.requestId})${d.expiresAt ? ` until ${d.expiresAt.slice(11, 19)} UTC` : ''}${d.reason ? `: ${visible(d.reason)}` : ''}`;
}
