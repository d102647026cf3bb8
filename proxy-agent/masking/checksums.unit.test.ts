import { describe, expect, it } from 'vitest';
import { ibanValid, luhnValid } from './checksums.ts';

describe('luhnValid', () => {
  it('when the check digit is right, then it accepts, with or without separators', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('5500-0000-0000-0004')).toBe(true);
    expect(luhnValid('3782 822463 10005')).toBe(true);
  });

  it('when one digit is off, then it rejects', () => {
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('378282246310006')).toBe(false);
  });
});

describe('ibanValid', () => {
  it('when length and mod-97 are right, then it accepts', () => {
    expect(ibanValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanValid('DE89370400440532013000')).toBe(true);
    expect(ibanValid('FR1420041010050500013M02606')).toBe(true);
    expect(ibanValid('NL91ABNA0417164300')).toBe(true);
  });

  it('when the checksum is wrong, then it rejects', () => {
    expect(ibanValid('GB82WEST12345698765433')).toBe(false);
    expect(ibanValid('GB83WEST12345698765432')).toBe(false);
  });

  it('when the length does not fit the country, then it rejects', () => {
    expect(ibanValid('DE8937040044053201300')).toBe(false);
  });
});
