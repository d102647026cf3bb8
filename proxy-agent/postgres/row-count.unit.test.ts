import { describe, expect, it } from 'vitest';
import type { RowLimit } from '../guardrails/guardrail-policy.ts';
import { approverStatement, commandTag, countOf, notApprovedMessage, overLimitMessage } from './row-count.ts';
import { coded, cstr } from './protocol/test-wire.ts';

const limit = (over: Partial<RowLimit> = {}): RowLimit => ({ rule: 'bounded-deletes', maxRows: 1000, action: 'deny', kind: 'DELETE', ...over });

describe('row counts in CommandComplete tags', () => {
  it('when a write completes, then its tag gives the rows it wrote (INSERT after its oid)', () => {
    expect(countOf('DELETE 1204332', 'DELETE')).toBe(1204332);
    expect(countOf('UPDATE 0', 'UPDATE')).toBe(0);
    expect(countOf('INSERT 0 5', 'INSERT')).toBe(5);
    expect(countOf('MERGE 7', 'MERGE')).toBe(7);
    expect(countOf('COPY 12', 'COPY')).toBe(12);
    expect(countOf('DELETE 3')).toBe(3);
  });

  it('when the tag is another command\'s, then there is no count', () => {
    expect(countOf('SELECT 5', 'DELETE')).toBeNull();
    expect(countOf('UPDATE 5', 'DELETE')).toBeNull();
    expect(countOf('BEGIN')).toBeNull();
    expect(countOf('DELETE')).toBeNull();
    expect(countOf('DELETE 5 extra')).toBeNull();
  });

  it('when a kind is only known as a write, then any write\'s tag counts', () => {
    expect(countOf('UPDATE 9', 'write')).toBe(9);
  });

  it('reads the tag out of a CommandComplete message', () => {
    expect(commandTag(coded('C', cstr('INSERT 0 2')))).toBe('INSERT 0 2');
  });
});

describe('what the client and approvers read', () => {
  it('when a write passes its limit, then the message names the rule, the count and the limit with separators', () => {
    expect(overLimitMessage(limit(), 1204332)).toBe('Vigil guardrail bounded-deletes: this DELETE would remove 1,204,332 rows; the limit is 1,000');
    expect(overLimitMessage(limit({ kind: 'UPDATE', maxRows: 3, message: 'ask the DBA' }), 10)).toBe('Vigil guardrail bounded-deletes: this UPDATE would change 10 rows; the limit is 3; ask the DBA');
    expect(overLimitMessage(limit({ kind: 'INSERT' }), 2000)).toContain('would add 2,000 rows');
    expect(overLimitMessage(limit({ kind: 'MERGE' }), 2000)).toContain('would change 2,000 rows');
    expect(overLimitMessage(limit({ kind: 'COPY' }), 2000)).toContain('would copy 2,000 rows');
  });

  it('when approvers are asked, then they see the statement with what it would do', () => {
    expect(approverStatement('DELETE FROM t', limit(), 1204)).toBe('DELETE FROM t — would remove 1,204 rows (limit 1,000)');
    const long = approverStatement('x'.repeat(20_000), limit(), 1204);
    expect(long.length).toBeLessThanOrEqual(10_000);
    expect(long.endsWith('— would remove 1,204 rows (limit 1,000)')).toBe(true);
  });

  it('when approvers say no, then the client reads why', () => {
    expect(notApprovedMessage(limit(), 1204, 'request #4 was denied by aaron')).toBe(
      'Vigil guardrail bounded-deletes: this DELETE would remove 1,204 rows (the limit is 1,000) and it was not approved: request #4 was denied by aaron',
    );
  });
});
