import { describe, expect, it } from 'vitest';
import { defaultMasker } from './test-support.ts';

const masker = defaultMasker();
const mask = (text: string) => masker.maskText(text);

describe('CARD', () => {
  it.each([
    '4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005', '4242424242424242',
    '3782 822463 10005', '6011111111111117', '3530111333300000', '2223000048400011',
  ])('when a Luhn-valid card %s appears, then it is masked whole', (card) => {
    const r = mask(`paid with ${card}, thanks`);
    expect(r.text).toBe('paid with [CARD], thanks');
    expect(r.counts).toEqual({ CARD: 1 });
  });

  it.each([
    '4111 1111 1111 1112', '4111111111111112', '5500-0000-0000-0005',
  ])('when a card-shaped number fails Luhn (%s), then it is left alone', (text) => {
    expect(mask(text)).toEqual({ text, counts: null });
  });

  it.each([
    '1704448800000', '20240105120000', '4111 1111 1111 1111 1111 1111', '41111111111111111111', '2024-01-05 2024-01-06',
  ])('when a long number is not a card (%s), then it is left alone', (text) => {
    expect(mask(text).counts?.CARD).toBeUndefined();
  });

  it('when other numbers sit next to a card, then the card is still masked alone', () => {
    expect(mask('4111 1111 1111 1111 12/25 cvc 123').text).toBe('[CARD] 12/25 cvc 123');
    expect(mask('qty 2 4111111111111111 3').text).toBe('qty 2 [CARD] 3');
  });

  it('when a card sits in a SQL literal, then only the number is replaced', () => {
    expect(mask("insert into pay values ('4111111111111111', 12)").text).toBe("insert into pay values ('[CARD]', 12)");
  });
});

describe('SSN', () => {
  it('when a valid SSN appears, then it is masked', () => {
    expect(mask('ssn: 123-45-6789.')).toEqual({ text: 'ssn: [SSN].', counts: { SSN: 1 } });
  });

  it.each(['000-12-3456', '666-12-3456', '900-12-3456', '123-00-4567', '123-45-0000', '1123-45-6789', '123-45-67890'])(
    'when %s is outside the issued ranges or part of a longer number, then it is left alone',
    (text) => {
      expect(mask(text)).toEqual({ text, counts: null });
    },
  );
});

describe('IBAN', () => {
  it.each(['GB82WEST12345698765432', 'DE89370400440532013000', 'FR1420041010050500013M02606', 'GB82 WEST 1234 5698 7654 32'])(
    'when a valid IBAN %s appears, then it is masked',
    (iban) => {
      expect(mask(`iban ${iban} ok`)).toEqual({ text: 'iban [IBAN] ok', counts: { IBAN: 1 } });
    },
  );

  it.each(['GB82WEST12345698765433', 'DE89370400440532013001', 'GB82WEST1234569876543'])(
    'when the checksum or length is wrong (%s), then it is left alone',
    (text) => {
      expect(mask(text)).toEqual({ text, counts: null });
    },
  );
});
