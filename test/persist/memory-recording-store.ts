// A small RecordingStore in memory for persister tests: idempotent on (sessionId, seq), a
// contiguous persisted watermark per session, and knobs to make writes fail or lag.
import type {
  AppendResult, RecordingStore, SegmentInfo, SessionSummary, StoredEvent,
} from '../../server/recordings/store/recording-store.ts';

export class TestRecordingStore implements RecordingStore {
  private readonly sessions = new Map<string, Map<number, StoredEvent>>();
  private readonly marks = new Map<string, number>();
  /** Append calls to fail before writing anything. */
  failNext = 0;
  /** Fail every append while true. */
  failing = false;
  /** Latency of each append, to let a backlog build up on the bus. */
  delayMs = 0;
  appendCalls = 0;

  async migrate(): Promise<void> {}

  async append(events: readonly StoredEvent[]): Promise<AppendResult> {
    this.appendCalls++;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failing || this.failNext > 0) {
      if (this.failNext > 0) this.failNext--;
      throw new Error('store unavailable (test)');
    }
    let inserted = 0;
    const touched = new Set<string>();
    for (const e of events) {
      const id = e.event.sessionId;
      let rows = this.sessions.get(id);
      if (!rows) this.sessions.set(id, (rows = new Map()));
      touched.add(id);
      if (rows.has(e.event.seq)) continue;
      rows.set(e.event.seq, e);
      inserted++;
    }
    const watermarks = new Map<string, number>();
    for (const id of touched) {
      const rows = this.sessions.get(id)!;
      let mark = this.marks.get(id) ?? 0;
      while (rows.has(mark + 1)) mark++;
      this.marks.set(id, mark);
      watermarks.set(id, mark);
    }
    return { inserted, watermarks };
  }

  async listSessions(): Promise<SessionSummary[]> {
    const out: SessionSummary[] = [];
    for (const id of this.sessions.keys()) out.push((await this.getSession(id))!);
    return out;
  }

  async ping(): Promise<void> {}

  async noteAgents(): Promise<void> {}

  async knownAgents(): Promise<Set<string>> {
    return new Set();
  }

  async liveSessions(): Promise<SessionSummary[]> {
    return (await this.listSessions()).filter((s) => !s.endedAt);
  }

  async countLiveSessions(): Promise<number> {
    return (await this.listSessions()).filter((s) => !s.endedAt).length;
  }

  async getSession(id: string): Promise<SessionSummary | null> {
    const rows = this.sessions.get(id);
    if (!rows) return null;
    const first = rows.values().next().value!.event;
    return {
      id, protocol: first.protocol, user: first.user, target: first.target,
      client: first.connection.client, agent: first.connection.agent,
      startedAt: null, endedAt: null, endReason: null,
      lastSeq: Math.max(...rows.keys()), persistedSeq: this.marks.get(id) ?? 0,
      eventCount: rows.size, queryCount: 0, errorCount: 0,
    };
  }

  async readEvents(sessionId: string, fromSeq = 1, limit = Infinity): Promise<StoredEvent[]> {
    const rows = this.sessions.get(sessionId);
    if (!rows) return [];
    return [...rows.values()]
      .filter((r) => r.event.seq >= fromSeq)
      .sort((a, b) => a.event.seq - b.event.seq)
      .slice(0, limit);
  }

  // The player's reads: not what the persister tests look at.
  async listSegments(): Promise<SegmentInfo[]> {
    return [];
  }

  async seqAtTime(): Promise<number | null> {
    return null;
  }

  async close(): Promise<void> {}
}
