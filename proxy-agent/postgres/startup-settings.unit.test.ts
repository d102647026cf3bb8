import { describe, expect, it } from 'vitest';
import { DEFAULT_STARTUP_SETTINGS } from '../../common/config/schema.ts';
import { optionSettings, readStartupSettings, StartupRefusal, utf8Session } from './startup-settings.ts';

const read = (params: Record<string, string>, allowed: readonly string[] = DEFAULT_STARTUP_SETTINGS) =>
  readStartupSettings(params, allowed, 'pg');

function refusal(fn: () => unknown): StartupRefusal {
  try {
    fn();
  } catch (err) {
    if (err instanceof StartupRefusal) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('startup settings', () => {
  it('when a client sets allowed settings in its packet and in options, then they all go on, options first', () => {
    const { settings } = read({
      user: 'alice',
      database: 'shop',
      application_name: 'psql',
      TimeZone: 'UTC',
      options: '-c statement_timeout=1234 --idle-in-transaction-session-timeout=5s -csearch_path=a,b -c lock_timeout=1s',
      lock_timeout: '2s',
    });
    expect(settings).toEqual({
      statement_timeout: '1234',
      idle_in_transaction_session_timeout: '5s',
      search_path: 'a,b',
      lock_timeout: '2s',
      application_name: 'psql',
      timezone: 'UTC',
    });
  });

  it('when options escape a space with a backslash, then the value keeps it', () => {
    expect(optionSettings('-c application_name=my\\ app  -c search_path=x')).toEqual([['application_name', 'my app'], ['search_path', 'x']]);
  });

  it('when a setting is not allowed, then the refusal names it (in the packet or in options)', () => {
    expect(refusal(() => read({ user: 'a', work_mem: '1GB' }))).toMatchObject({ sqlstate: '42501', message: expect.stringContaining('"work_mem" is not allowed on target "pg"') });
    expect(refusal(() => read({ user: 'a', options: '-c role=admin' })).message).toContain('"role" (in options) is not allowed');
    expect(refusal(() => read({ user: 'a', options: '-d 5' })).message).toContain('start-up option "-d"');
    expect(refusal(() => read({ user: 'a', options: '-c statement_timeout' })).sqlstate).toBe('08P01');
  });

  it('when the target allows another list, then that list holds, case-insensitively; client_encoding is always accepted', () => {
    expect(read({ user: 'a', WORK_MEM: '64kB', client_encoding: 'UTF8' }, ['work_mem']).settings).toEqual({ work_mem: '64kB', client_encoding: 'UTF8' });
    expect(() => read({ user: 'a', statement_timeout: '1' }, ['work_mem'])).toThrow(StartupRefusal);
  });

  it('when a client asks for replication, then it is refused; replication=false is no request', () => {
    expect(refusal(() => read({ user: 'a', replication: 'database' })).sqlstate).toBe('08004');
    expect(read({ user: 'a', replication: 'false' }).settings).toEqual({});
  });

  it('when protocol options (_pq_.*) come, then they are set apart to be named back, not passed on', () => {
    expect(read({ user: 'a', '_pq_.compression': 'on' })).toEqual({ settings: {}, protocolOptions: ['_pq_.compression'] });
  });

  it('when client_encoding is given in the packet or in options, then utf8Session reads it', () => {
    expect(utf8Session(read({ user: 'a', client_encoding: 'UTF8' }).settings)).toBe(true);
    expect(utf8Session(read({ user: 'a', options: '-c client_encoding=SJIS' }).settings)).toBe(false);
    expect(utf8Session(read({ user: 'a', options: '-c client-encoding=unicode' }).settings)).toBe(true);
    expect(utf8Session(read({ user: 'a' }).settings)).toBe(true);
  });
});
