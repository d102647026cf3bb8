// bench:seek's page in Chromium: the dashboard's own terminal drawing (InertTerminal, the
// TerminalChannel rule, the keyframe recipe) fed by the hub's /timeline and /seek, timed from the
// request to the frame drawn. Bundled by esbuild from the dashboard's sources at bench time.
import type { SeekResponse, SessionTimelineResponse } from '../../../common/api-contract.ts';
import { InertTerminal } from '../../../web/src/lib/inert-terminal.ts';
import { TerminalChannel } from '../../../web/src/lib/terminal-channel.ts';

interface Timing {
  /** Request sent to answer parsed (the hub, the network, JSON). */
  serverMs: number;
  /** Keyframe restored and events drawn, to the next animation frame. */
  clientMs: number;
  events: number;
}

const container = document.getElementById('terminal')!;
const term = new InertTerminal(container);
const auth = { authorization: `Bearer ${new URLSearchParams(location.search).get('token')}` };

async function get<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: auth });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json() as Promise<T>;
}

/** Resolves once everything written so far is parsed and a frame has been drawn after it. */
function drawn(): Promise<void> {
  return new Promise((resolve) => term.term.write('', () => requestAnimationFrame(() => resolve())));
}

/** Diagnostic (?history=0): keyframes restored without their history, to see what parsing it costs the page. */
const withHistory = new URLSearchParams(location.search).get('history') !== '0';

async function seek(id: string, query: string, channel: number | null): Promise<Timing> {
  const t0 = performance.now();
  const answer = await get<SeekResponse>(`/api/sessions/${id}/seek?${query}`);
  const t1 = performance.now();
  const draw = new TerminalChannel(answer.keyframe?.channel ?? channel);
  if (answer.keyframe && !withHistory) answer.keyframe = { ...answer.keyframe, prelude: '', scrollback: 0 };
  if (answer.keyframe) term.restore(answer.keyframe);
  else term.reset();
  for (const e of answer.events) draw.draw(e, term);
  await drawn();
  return { serverMs: t1 - t0, clientMs: performance.now() - t1, events: answer.events.length };
}

Object.assign(window, {
  benchSeek: (id: string, seq: number) => seek(id, `seq=${seq}`, 0),
  /** Opening a recording: its timeline, then its first moment drawn. */
  benchOpen: async (id: string): Promise<Timing & { timelineMs: number }> => {
    const t0 = performance.now();
    await get<SessionTimelineResponse>(`/api/sessions/${id}/timeline`);
    const timelineMs = performance.now() - t0;
    const first = await seek(id, 't=0', 0);
    return { ...first, timelineMs, serverMs: timelineMs + first.serverMs };
  },
  benchRows: () => [...container.querySelectorAll('.xterm-rows > div')].map((d) => d.textContent ?? ''),
});
