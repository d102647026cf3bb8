import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../store/store-unavailable.ts';
import { AppError, toAppError } from './errors.ts';

const withStatus = (status: number, message = 'raw parser message with details') => Object.assign(new Error(message), { status });

describe('toAppError', () => {
  it.each([
    [400, 'bad_request'],
    [404, 'not_found'],
    [413, 'payload_too_large'],
    [415, 'unsupported_media_type'],
    [414, 'uri_too_long'],
    [429, 'rate_limited'],
    [418, 'bad_request'],
  ])('when Express or body-parser raise %i, then the code is %s and their message is not passed on', (status, code) => {
    const appError = toAppError(withStatus(status));
    expect({ status: appError.status, code: appError.code }).toEqual({ status, code });
    expect(appError.message).not.toContain('raw parser message');
  });

  it('when the store cannot be reached, then 503 unavailable without the cause\'s text', () => {
    const appError = toAppError(new StoreUnavailableError(new Error('connect ECONNREFUSED 10.1.2.3:5432')));
    expect({ status: appError.status, code: appError.code }).toEqual({ status: 503, code: 'unavailable' });
    expect(appError.message).not.toMatch(/ECONNREFUSED|10\.1\.2\.3/);
  });

  it('when an AppError or an unknown error is thrown, then it stays one or becomes a bare 500', () => {
    const own = AppError.forbidden('no');
    expect(toAppError(own)).toBe(own);
    expect(toAppError(new Error('secret internals'))).toMatchObject({ status: 500, code: 'internal', message: 'internal error' });
    expect(toAppError(withStatus(500))).toMatchObject({ status: 500, code: 'internal' });
  });
});
