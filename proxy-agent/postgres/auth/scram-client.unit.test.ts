import { describe, expect, it } from 'vitest';
import { ScramClient, ScramError, chooseMechanism } from './scram-client.ts';

// RFC 7677 section 3.
const NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

function rfcClient(password = 'pencil'): ScramClient {
  return new ScramClient('user', password, { nonce: NONCE });
}

describe('ScramClient', () => {
  it('when run with the RFC 7677 example, then every message matches the RFC', () => {
    const client = rfcClient();
    expect(client.clientFirst()).toBe(`n,,n=user,r=${NONCE}`);
    expect(client.handleServerFirst(SERVER_FIRST)).toBe(CLIENT_FINAL);
    expect(() => client.verifyServerFinal(SERVER_FINAL)).not.toThrow();
  });

  it('when the server signature is wrong, then verification throws', () => {
    const client = rfcClient();
    client.clientFirst();
    client.handleServerFirst(SERVER_FIRST);
    expect(() => client.verifyServerFinal('v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toThrow(/server signature does not match/);
  });

  it('when the server does not know the password, then its signature does not verify', () => {
    // The server side computed with "pencil", the client holds another password.
    const client = rfcClient('pencil2');
    client.clientFirst();
    client.handleServerFirst(SERVER_FIRST);
    expect(() => client.verifyServerFinal(SERVER_FINAL)).toThrow(ScramError);
  });

  it('when the server final message is an error, truncated or not base64, then verification throws', () => {
    for (const final of ['e=invalid-proof', 'v=', 'v=!!!!', 'x=abc', SERVER_FINAL.slice(0, -4)]) {
      const client = rfcClient();
      client.clientFirst();
      client.handleServerFirst(SERVER_FIRST);
      expect(() => client.verifyServerFinal(final)).toThrow(ScramError);
    }
  });

  it('when the server nonce does not extend the client nonce, then the exchange stops', () => {
    for (const first of [
      'r=someoneElse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
      `r=${NONCE},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`,
    ]) {
      const client = rfcClient();
      client.clientFirst();
      expect(() => client.handleServerFirst(first)).toThrow(/nonce/);
    }
  });

  it('when the server-first message is malformed, then the exchange stops', () => {
    for (const first of [
      `r=${NONCE}x,s=,i=4096`,
      `r=${NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0`,
      `r=${NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=abc`,
      `r=${NONCE}x,i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ==`,
      `m=ext,r=${NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`,
    ]) {
      const client = rfcClient();
      client.clientFirst();
      expect(() => client.handleServerFirst(first)).toThrow(ScramError);
    }
  });

  it('when the server asks for more iterations than the limit, then the exchange stops before hashing', () => {
    const client = new ScramClient('user', 'pencil', { nonce: NONCE, maxIterations: 10_000 });
    client.clientFirst();
    expect(() => client.handleServerFirst(`r=${NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=2000000000`)).toThrow(/more than the limit/);
  });

  it('when the user is empty or has special characters, then the client-first message carries it escaped', () => {
    expect(new ScramClient('', 'p', { nonce: NONCE }).clientFirst()).toBe(`n,,n=,r=${NONCE}`);
    expect(new ScramClient('a=b,c', 'p', { nonce: NONCE }).clientFirst()).toBe(`n,,n=a=3Db=2Cc,r=${NONCE}`);
  });

  it('when no nonce is given, then a random printable one is used', () => {
    const a = new ScramClient('', 'p').clientFirst();
    const b = new ScramClient('', 'p').clientFirst();
    expect(a).toMatch(/^n,,n=,r=[\x21-\x2b\x2d-\x7e]{24}$/);
    expect(a).not.toBe(b);
  });

  it('when steps come out of order, then they are refused', () => {
    const client = rfcClient();
    expect(() => client.handleServerFirst(SERVER_FIRST)).toThrow(/unexpected SCRAM step/);
    const other = rfcClient();
    other.clientFirst();
    expect(() => other.verifyServerFinal(SERVER_FINAL)).toThrow(/unexpected SCRAM step/);
  });
});

describe('chooseMechanism', () => {
  it('when SCRAM-SHA-256 is offered, then it is chosen', () => {
    expect(chooseMechanism(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'])).toBe('SCRAM-SHA-256');
  });

  it('when only SCRAM-SHA-256-PLUS is offered, then the error says channel binding is not supported', () => {
    expect(() => chooseMechanism(['SCRAM-SHA-256-PLUS'])).toThrow(/channel binding/);
  });

  it('when nothing usable is offered, then the error lists the offer', () => {
    expect(() => chooseMechanism(['OAUTHBEARER'])).toThrow(/offered: OAUTHBEARER/);
  });
});
