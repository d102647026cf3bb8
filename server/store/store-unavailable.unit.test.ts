import { describe, expect, it } from 'vitest';
import { isStoreUnavailable, rethrowUnavailable, StoreUnavailableError } from './store-unavailable.ts';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('isStoreUnavailable', () => {
  it.each([
    ['the server terminated the connection (57P01)', withCode('57P01', 'terminating connection due to administrator command')],
    ['the server is starting up (57P03)', withCode('57P03', 'the database system is starting up')],
    ['a connection exception (08006)', withCode('08006')],
    ['too many connections (53300)', withCode('53300')],
    ['connection refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a reset connection', withCode('ECONNRESET')],
    ['pg: the connection ended under a query', new Error('Connection terminated unexpectedly')],
    ['pg: a client that already failed', new Error('Client has encountered a connection error and is not queryable')],
    ['pg-pool: no connection in time', new Error('timeout exceeded when trying to connect')],
    ['every address of a host name refused', new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')])],
  ])('when %s, then the store is unavailable', (_what, err) => {
    expect(isStoreUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique violation (23505)', withCode('23505')],
    ['a syntax error (42601)', withCode('42601')],
    ['an invalid byte sequence (22021)', withCode('22021')],
    ['a plain error', new Error('something else')],
    ['not an error at all', undefined],
  ])('when %s, then it is not', (_what, err) => {
    expect(isStoreUnavailable(err)).toBe(false);
  });

  it('when rethrown, then a connection failure becomes a StoreUnavailableError with its cause, anything else stays as it is', () => {
    const cut = new Error('Connection terminated unexpectedly');
    expect(() => rethrowUnavailable(cut)).toThrow(StoreUnavailableError);
    try {
      rethrowUnavailable(cut);
    } catch (err) {
      expect((err as Error).cause).toBe(cut);
    }
    const constraint = withCode('23505');
    expect(() => rethrowUnavailable(constraint)).toThrow(constraint);
  });
});
