import { describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../../common/events/index.ts';
import { BODY_CHARS, DOC_CHARS, SearchExtractor, type Extracted } from './search-documents.ts';
import { EventScript } from './test-support.ts';

/** A PostgreSQL session: statements, results, an error, COPY, a notice. */
function postgresSession(): VigilEvent[] {
  const s = new EventScript({ protocol: 'postgres' });
  const events: VigilEvent[] = [s.start()];
  const q1 = s.query('SELECT id, email FROM payments WHERE amount > 100');
  events.push(q1, s.result(q1.seq, { rows: [['1', '[EMAIL]'], ['2', '[EMAIL]']] }));
  const q2 = s.event('db.query', { protocol: 'extended', sql: 'UPDATE accounts SET frozen = $1 WHERE id = $2', params: [{ value: 'true', format: 'text' }, { value: '42', format: 'text' }] });
  events.push(q2, s.result(q2.seq, { command: 'UPDATE 1' }));
  const q3 = s.query('DROP TABLE payments');
  events.push(q3, s.error(q3.seq, 'must be owner of table payments'));
  const q4 = s.query('COPY audit TO STDOUT');
  events.push(q4, s.event('db.copy', { querySeq: q4.seq, direction: 'out', format: 'text', bytes: 20, rows: 2, content: 'row one\nrow two\n', truncated: false, outcome: 'done' }),
    s.result(q4.seq, { command: 'COPY 2' }));
  events.push(s.event('db.notice', { severity: 'NOTICE', code: '00000', message: 'table "tmp" does not exist, skipping' }));
  events.push(s.end());
  return events;
}

/** An SSH session: a shell with typing and output, an exec channel, a file transfer. */
function sshSession(): VigilEvent[] {
  const s = new EventScript({ protocol: 'ssh' });
  const events: VigilEvent[] = [s.start(), s.event('ssh.shell', { channel: 0, pty: { term: 'xterm', cols: 80, rows: 24 } })];
  events.push(s.output('\x1b]0;alice@box\x07\x1b[32malice@box\x1b[0m:~$ '));
  events.push(s.input('sudo systemctl restart payments\r'));
  events.push(s.output('sudo systemctl restart payments\r\n'));
  events.push(s.output('[sudo] password for alice: '));
  events.push(s.event('term.input', { channel: 0, hidden: 9 }));
  events.push(s.output('\r\nJob for payments.service failed.\r\nalice@box:~$ ', 0, 4000));
  events.push(s.event('ssh.exec', { channel: 1, command: 'cat /etc/hosts' }));
  events.push(s.output('127.0.0.1 localhost\n', 1));
  events.push(s.event('ssh.exit', { channel: 1, exitCode: 0 }));
  events.push(s.event('ssh.file', { channel: 2, protocol: 'sftp', direction: 'download', path: '/var/backups/db.dump', bytes: 1024 }));
  events.push(s.input('exit\r'));
  events.push(s.end());
  return events;
}

/** An HTTP session: a GET answered 404 with a JSON body, a POST with a body streamed back in two parts, a WebSocket. */
function httpSession(): VigilEvent[] {
  const s = new EventScript({ protocol: 'http' });
  const events: VigilEvent[] = [s.start()];
  const get = s.event('http.request', { method: 'GET', path: '/v1/invoices/7', query: 'expand=lines&token=[MASKED]', version: '1.1', headers: [['accept', 'application/json']] });
  events.push(get,
    s.event('http.response', { requestSeq: get.seq, status: 404, headers: [['content-type', 'application/json']] }),
    s.event('http.body', { requestSeq: get.seq, direction: 'response', contentType: 'application/json', text: '{"error":"no such invoice"}', bytes: 27 }),
    s.event('http.end', { requestSeq: get.seq, outcome: 'complete', durationMs: 12, requestBytes: 0, responseBytes: 27 }));
  const post = s.event('http.request', { method: 'POST', path: '/v1/refunds', query: '', version: '2', headers: [] });
  events.push(post,
    s.event('http.body', { requestSeq: post.seq, direction: 'request', contentType: 'application/json', text: '{"amount":42,"email":"[EMAIL]"}', bytes: 31 }),
    s.event('http.response', { requestSeq: post.seq, status: 299, headers: [], by: 'vigil' }),
    s.event('http.body', { requestSeq: post.seq, direction: 'response', text: 'data: refund queued\n\n', bytes: 21 }),
    s.event('http.body', { requestSeq: post.seq, direction: 'response', text: '   ', bytes: 3 }),
    s.event('http.body', { requestSeq: post.seq, direction: 'response', contentType: 'image/png', binary: true, bytes: 4096 }));
  const ws = s.event('http.request', { method: 'GET', path: '/live', query: '', version: '1.1', headers: [] });
  events.push(ws,
    s.event('http.response', { requestSeq: ws.seq, status: 101, headers: [] }),
    s.event('ws.message', { requestSeq: ws.seq, direction: 'client', kind: 'text', text: 'subscribe invoices', bytes: 18 }),
    s.event('ws.message', { requestSeq: ws.seq, direction: 'target', kind: 'text', text: 'invoice 7 paid', bytes: 14 }),
    s.event('ws.message', { requestSeq: ws.seq, direction: 'target', kind: 'binary', bytes: 99 }),
    s.event('ws.message', { requestSeq: ws.seq, direction: 'client', kind: 'close', text: 'bye', bytes: 5 }));
  events.push(s.end());
  return events;
}

const all = (extractor: SearchExtractor, events: VigilEvent[]) => extractor.push(events);

/** Feeds the events in batches of `size`, taking a snapshot and restoring from its JSON between batches. */
function inBatches(events: VigilEvent[], size: number, viaSnapshot: boolean): Extracted {
  let extractor = SearchExtractor.start(events[0].sessionId);
  const out: Extracted = { documents: [], statements: [] };
  for (let i = 0; i < events.length; i += size) {
    const got = extractor.push(events.slice(i, i + size));
    out.documents.push(...got.documents);
    out.statements.push(...got.statements);
    if (viaSnapshot) extractor = SearchExtractor.restore(JSON.parse(JSON.stringify(extractor.snapshot())));
  }
  return out;
}

const keyed = (x: Extracted) => ({
  documents: [...x.documents].sort((a, b) => a.seq - b.seq || a.kind.localeCompare(b.kind) || a.part - b.part),
  statements: [...x.statements].sort((a, b) => a.seq - b.seq),
});

describe('search documents', () => {
  it('when a PostgreSQL session is extracted, then statements, rows, errors, COPY content and notices are documents', () => {
    const events = postgresSession();
    const { documents } = all(SearchExtractor.start(events[0].sessionId), events);
    expect(documents.map((d) => [d.seq, d.kind, d.part, d.text])).toEqual([
      [2, 'query', 0, 'SELECT id, email FROM payments WHERE amount > 100'],
      [3, 'output', 0, 'c0\tc1\n1\t[EMAIL]\n2\t[EMAIL]'],
      [4, 'query', 0, 'UPDATE accounts SET frozen = $1 WHERE id = $2\n-- $1=true $2=42'],
      [6, 'query', 0, 'DROP TABLE payments'],
      [7, 'output', 0, 'ERROR:  must be owner of table payments'],
      [8, 'query', 0, 'COPY audit TO STDOUT'],
      [9, 'output', 0, 'row one\nrow two'],
      [11, 'output', 0, 'NOTICE:  table "tmp" does not exist, skipping'],
    ]);
    expect(documents.every((d) => d.sessionId === events[0].sessionId && d.time === events[d.seq - 1].time)).toBe(true);
  });

  it('when a PostgreSQL session is extracted, then each statement is paired with its answer', () => {
    const events = postgresSession();
    const { statements } = all(SearchExtractor.start(events[0].sessionId), events);
    expect(statements.map((e) => [e.seq, e.endSeq, e.rowCount, e.tag, e.error?.message ?? null])).toEqual([
      [2, 3, 2, 'SELECT 2', null],
      [4, 5, 1, 'UPDATE 1', null],
      [6, 7, null, null, 'must be owner of table payments'],
      [8, 10, 2, 'COPY 2', null],
    ]);
  });

  it('when an SSH session is extracted, then commands, typed lines and what the screen showed are documents, and no password', () => {
    const events = sshSession();
    const { documents, statements } = all(SearchExtractor.start(events[0].sessionId), events);
    expect(statements).toEqual([]);
    expect(documents.map((d) => [d.seq, d.kind, d.text])).toEqual([
      [4, 'input', 'sudo systemctl restart payments'],
      [3, 'output', 'alice@box:~$ sudo systemctl restart payments\n[sudo] password for alice:'],
      [9, 'command', 'cat /etc/hosts'],
      [10, 'output', '127.0.0.1 localhost'],
      [12, 'command', 'sftp download /var/backups/db.dump'],
      [13, 'input', 'exit'],
      [8, 'output', 'Job for payments.service failed.\nalice@box:~$'],
    ]);
  });

  it('when an HTTP session is extracted, then request lines, status lines, bodies and WebSocket text are documents', () => {
    const events = httpSession();
    const { documents, statements } = all(SearchExtractor.start(events[0].sessionId), events);
    expect(statements).toEqual([]);
    expect(documents.map((d) => [d.seq, d.kind, d.text])).toEqual([
      [2, 'command', 'GET /v1/invoices/7?expand=lines&token=[MASKED]'],
      [3, 'output', 'HTTP 404 Not Found'],
      [4, 'output', '{"error":"no such invoice"}'],
      [6, 'command', 'POST /v1/refunds'],
      [7, 'input', '{"amount":42,"email":"[EMAIL]"}'],
      [8, 'output', 'HTTP 299'],
      [9, 'output', 'data: refund queued'],
      [12, 'command', 'GET /live'],
      [13, 'output', 'HTTP 101 Switching Protocols'],
      [14, 'input', 'subscribe invoices'],
      [15, 'output', 'invoice 7 paid'],
    ]);
  });

  it('when an HTTP body is long, then its first characters are documents, cut into parts', () => {
    const s = new EventScript({ protocol: 'http' });
    const req = s.event('http.request', { method: 'POST', path: '/upload', query: '', version: '1.1', headers: [] });
    const text = 'word '.repeat(BODY_CHARS);
    const { documents } = all(SearchExtractor.start(s.sessionId), [req, s.event('http.body', { requestSeq: req.seq, direction: 'request', text, bytes: text.length })]);
    const body = documents.filter((d) => d.seq === 2);
    expect(body.map((d) => d.part)).toEqual(body.map((_, i) => i));
    expect(body.every((d) => d.kind === 'input' && d.text.length <= DOC_CHARS)).toBe(true);
    expect(body.reduce((n, d) => n + d.text.length, 0)).toBeLessThanOrEqual(BODY_CHARS);
  });

  it('when a long statement is extracted, then it is cut into parts of the same event', () => {
    const s = new EventScript({ protocol: 'postgres' });
    const sql = `INSERT INTO t VALUES ${Array.from({ length: 2000 }, (_, i) => `(${i})`).join(', ')}`;
    const { documents } = all(SearchExtractor.start(s.sessionId), [s.query(sql)]);
    expect(documents.map((d) => d.part)).toEqual(documents.map((_, i) => i));
    expect(documents.length).toBeGreaterThan(1);
    expect(documents.every((d) => d.text.length <= DOC_CHARS && d.seq === 1)).toBe(true);
  });

  it('when events come in batches of any size, through snapshots or not, then the documents and entries are the same', () => {
    for (const events of [postgresSession(), sshSession(), httpSession()]) {
      const whole = keyed(all(SearchExtractor.start(events[0].sessionId), events));
      for (let size = 1; size <= events.length; size++) {
        expect(keyed(inBatches(events, size, false))).toEqual(whole);
        expect(keyed(inBatches(events, size, true))).toEqual(whole);
      }
    }
  });

  it('when events already seen are fed again, then nothing new comes out', () => {
    const events = sshSession();
    const extractor = SearchExtractor.start(events[0].sessionId);
    extractor.push(events.slice(0, 8));
    const again = extractor.push(events.slice(0, 8));
    expect(again).toEqual({ documents: [], statements: [] });
    expect(extractor.nextSeq).toBe(9);
  });

  it('when an extractor starts fresh at a later seq, then it extracts from that event on', () => {
    const events = postgresSession();
    const extractor = SearchExtractor.start(events[0].sessionId, { fromSeq: 6 });
    const { documents, statements } = extractor.push(events);
    expect(documents[0]).toMatchObject({ seq: 6, text: 'DROP TABLE payments' });
    expect(statements.map((e) => e.seq)).toEqual([6, 8]);
  });

  it('when there is a gap in the events, then the line being typed is dropped and the output gathered is closed', () => {
    const s = new EventScript();
    const events = [s.output('before'), s.input('half'), s.event('term.resize', { channel: 0, cols: 1, rows: 1 }), s.input(' typed\r'), s.output('after')];
    const { documents } = all(SearchExtractor.start(s.sessionId), [events[0], events[1], events[3], events[4]]);
    expect(documents.map((d) => [d.seq, d.text])).toEqual([[1, 'before'], [4, 'typed']]);
  });

  it('when a live session is quiet, then flush makes its latest output searchable', () => {
    const s = new EventScript();
    const extractor = SearchExtractor.start(s.sessionId);
    expect(extractor.push([s.output('building...\r\n')]).documents).toEqual([]);
    expect(extractor.flush().documents.map((d) => d.text)).toEqual(['building...']);
  });

  it('when a snapshot is taken, then it is plain JSON and small', () => {
    const events = sshSession();
    const extractor = SearchExtractor.start(events[0].sessionId);
    extractor.push(events.slice(0, 6));
    const snapshot = extractor.snapshot();
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(JSON.stringify(snapshot).length).toBeLessThan(1000);
    expect(() => SearchExtractor.restore({ ...snapshot, v: 2 })).toThrow();
  });

  it('when an event of another session is fed, then the extractor refuses it', () => {
    const events = sshSession();
    expect(() => SearchExtractor.start('other').push(events)).toThrow(/other/);
  });
});
