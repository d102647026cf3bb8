// One row per fault, printed as a Markdown table (the README carries one from a real run), and
// below it what each case noticed on the way.
export interface CaseRow {
  fault: string;
  sessions: number;
  events: number;
  /** Statements (and SSH output lines) the clients saw complete. */
  seen: number;
  lost: number;
  /** Ended sessions by reason. */
  reasons: Map<string, number>;
  unended: number;
  /** Longest time from a session's fault (or its client's end) to its end in the store, ms. */
  maxEndMs: number | null;
  /** From the fault until the store had everything the clients saw, ms (null: never). */
  completeAfterMs: number | null;
  hubAlive: boolean;
  rssMb: { hub: number; agent: number };
  notes: string[];
  /** What the case found wrong; the test fails on any. */
  problems: string[];
}

const seconds = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`);

function reasonsText(row: CaseRow): string {
  const parts = [...row.reasons].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`);
  if (row.unended) parts.push(`**not ended ${row.unended}**`);
  return parts.join(', ') || '-';
}

export function formatTable(rows: CaseRow[], profile: string): string {
  const lines = [
    `Chaos suite, ${profile} profile`,
    '',
    '| fault | sessions | events | statements seen by clients | lost | sessions ended (reasons) | max time to end | all stored after | hub alive | max RSS hub / agent |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | ---: |',
    ...rows.map((r) => `| ${r.fault} | ${r.sessions} | ${r.events.toLocaleString('en-US')} | ${r.seen.toLocaleString('en-US')} | ${r.lost ? `**${r.lost}**` : 0} | ${reasonsText(r)} | ${seconds(r.maxEndMs)} | ${seconds(r.completeAfterMs)} | ${r.hubAlive ? 'yes' : '**no**'} | ${Math.round(r.rssMb.hub)} / ${Math.round(r.rssMb.agent)} MB |`),
    '',
  ];
  for (const r of rows) {
    if (!r.notes.length && !r.problems.length) continue;
    lines.push(`- ${r.fault}: ${r.notes.join('; ')}`);
    for (const p of r.problems) lines.push(`  - PROBLEM: ${p}`);
  }
  return lines.join('\n');
}
