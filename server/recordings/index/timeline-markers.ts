// The moments a recording's timeline marks, read off its events one at a time: commands run,
// statements and HTTP exchanges that failed or took long, file transfers, access decisions,
// guardrails, the end (a kill stands out). Typed command lines come from the search extractor's `input` documents,
// which already know how a line is edited; this module takes them as they are.
import type { VigilEvent } from '../../../common/events/index.ts';
import type { MarkerRow } from './index-store.ts';

/** A statement (or an HTTP exchange) slower than this is marked `slow`. */
export const SLOW_STATEMENT_MS = 1000;
/** Labels are for a timeline's tooltip: the rest is in the recording. */
const LABEL_MAX = 200;

const clip = (text: string) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > LABEL_MAX ? `${flat.slice(0, LABEL_MAX - 1)}…` : flat;
};

export function markerOf(event: VigilEvent): MarkerRow | null {
  const at = { seq: event.seq, time: event.time };
  switch (event.type) {
    case 'ssh.exec':
      return { ...at, kind: 'command', label: clip(event.data.command) };
    case 'ssh.file':
      return { ...at, kind: 'file', label: clip(`${event.data.protocol} ${event.data.direction} ${event.data.path} (${event.data.bytes} bytes)`) };
    case 'db.error':
      return { ...at, kind: 'error', label: clip(`${event.data.code} ${event.data.message}`) };
    case 'db.result': {
      const ms = event.data.durationUs / 1000;
      return ms >= SLOW_STATEMENT_MS ? { ...at, kind: 'slow', label: clip(`${event.data.command} in ${Math.round(ms)} ms`), durationMs: ms } : null;
    }
    case 'http.response':
      return event.data.status >= 500
        ? { ...at, kind: 'error', label: `HTTP ${event.data.status}${event.data.by === 'vigil' ? ' from Vigil' : ''}` }
        : null;
    case 'http.end': {
      const { outcome, detail, durationMs, requestSeq } = event.data;
      if (outcome === 'aborted' || outcome === 'refused') return { ...at, kind: 'error', label: clip(detail ? `${outcome}: ${detail}` : outcome) };
      // An upgraded exchange lasts as long as its WebSocket stays open: that is no slowness.
      return outcome === 'complete' && durationMs >= SLOW_STATEMENT_MS
        ? { ...at, kind: 'slow', label: `request #${requestSeq} in ${Math.round(durationMs)} ms`, durationMs }
        : null;
    }
    case 'guardrail.hit':
      return { ...at, kind: 'guardrail', label: clip(`${event.data.rule}: ${event.data.action} ${event.data.statement}`) };
    case 'access':
      return { ...at, kind: 'access', label: clip([event.data.action, `request ${event.data.requestId}`, event.data.by && `by ${event.data.by}`, event.data.reason].filter(Boolean).join(' ')) };
    case 'ssh.exit':
      return event.data.exitCode !== undefined && event.data.exitCode !== 0
        ? { ...at, kind: 'error', label: `exit ${event.data.exitCode}` }
        : event.data.signal ? { ...at, kind: 'error', label: `killed by ${event.data.signal}` } : null;
    case 'recording.gap':
      return { ...at, kind: 'error', label: `events ${event.data.fromSeq} to ${event.data.toSeq} not recorded (the agent's spool was full)` };
    case 'session.end':
      return { ...at, kind: event.data.reason === 'killed' ? 'kill' : 'end', label: clip([event.data.reason, event.data.message].filter(Boolean).join(': ')) };
    default:
      return null;
  }
}

/** A typed line (the search extractor's `input` document) as a command marker. */
export function typedLineMarker(doc: { seq: number; time: string; text: string }): MarkerRow | null {
  const label = clip(doc.text);
  return label ? { seq: doc.seq, time: doc.time, kind: 'command', label } : null;
}
