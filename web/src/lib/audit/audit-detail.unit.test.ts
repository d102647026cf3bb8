import { describe, expect, it } from 'vitest';
import { detailFields, labelOf } from './audit-detail.ts';

const opts = { time: (iso: string) => `<${iso}>` };

describe('an audit entry\'s details as labelled fields', () => {
  it('when keys are camelCase or snake_case, then they read as words, acronyms in capitals', () => {
    expect(labelOf('agentGone')).toBe('Agent gone');
    expect(labelOf('request_id')).toBe('Request ID');
    expect(labelOf('shareId')).toBe('Share ID');
    expect(labelOf('durationMs')).toBe('Duration');
    expect(labelOf('lastSeq')).toBe('Last seq');
    expect(labelOf('HTTPStatus')).toBe('HTTP status');
    expect(labelOf('reason')).toBe('Reason');
  });

  it('when the detail holds durations, times, lists, flags and nothing, then each is in words', () => {
    expect(detailFields({
      reason: 'done for today', durationMs: 5_400_000, until: '2025-01-02T10:00:00.000Z', approvers: ['aaron', 'ada'],
      agentGone: true, missing: 0, comment: null, groups: [],
    }, opts)).toEqual([
      { label: 'Reason', value: 'done for today' },
      { label: 'Duration', value: '1h 30m' },
      { label: 'Until', value: '<2025-01-02T10:00:00.000Z>' },
      { label: 'Approvers', value: 'aaron, ada' },
      { label: 'Agent gone', value: 'yes' },
      { label: 'Missing', value: '0' },
      { label: 'Comment', value: 'none' },
      { label: 'Groups', value: 'none' },
    ]);
  });

  it('when the detail nests objects, then they are flattened under their parent\'s label', () => {
    expect(detailFields({ grant: { id: 4, ttlMs: 90_000, by: { user: 'aaron' } }, empty: {} }, opts)).toEqual([
      { label: 'Grant ID', value: '4' },
      { label: 'Grant TTL', value: '1m 30s' },
      { label: 'Grant by user', value: 'aaron' },
      { label: 'Empty', value: 'none' },
    ]);
    expect(detailFields({ a: { b: { c: { d: 1 } } } }, opts)).toEqual([{ label: 'A b c', value: '{"d":1}' }]);
    expect(detailFields({ holds: [{ sessionId: 's-1', user: 'bob' }] }, opts)).toEqual([{ label: 'Holds', value: 'session ID s-1; user bob' }]);
  });

  it('when a value is recorded text, then it is kept as text, whatever it holds', () => {
    expect(detailFields({ statement: '<img src=x onerror=alert(1)>\u001b[2J' }, opts)).toEqual([{ label: 'Statement', value: '<img src=x onerror=alert(1)>\u001b[2J' }]);
  });
});
