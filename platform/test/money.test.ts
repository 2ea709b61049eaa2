import { describe, expect, it } from 'vitest';
import {
  applyRate,
  divideHalfUp,
  formatMinor,
  formatRate,
  mulDivHalfUp,
  parseDecimal,
} from '../src/core/money.ts';

describe('Decimal ↔ minor units ( Money)', () => {
  it.each([
    ['10.00', 'USD', 1000],
    ['10', 'USD', 1000],
    ['-483.83', 'USD', -48383],
    ['500', 'JPY', 500],
    ['1.250', 'BHD', 1250],
    ['0.5', 'KWD', 500],
  ])('parses %s %s to %d', (text, currency, minor) => {
    expect(parseDecimal(text, currency)).toBe(minor);
  });

  it.each([
    [1000, 'USD', '10.00'],
    [-48383, 'USD', '-483.83'],
    [5, 'USD', '0.05'],
    [-5, 'USD', '-0.05'],
    [500, 'JPY', '500'],
    [1250, 'BHD', '1.250'],
    [0, 'EUR', '0.00'],
  ])('formats %d %s as %s', (minor, currency, text) => {
    expect(formatMinor(minor, currency)).toBe(text);
  });

  it.each([
    ['9.999', 'USD', 'INVALID_AMOUNT'],
    ['1.5', 'JPY', 'INVALID_AMOUNT'],
    ['1e3', 'USD', 'INVALID_AMOUNT'],
    ['NaN', 'USD', 'INVALID_AMOUNT'],
    ['Infinity', 'USD', 'INVALID_AMOUNT'],
    [' 1.00', 'USD', 'INVALID_AMOUNT'],
    ['01.00', 'USD', 'INVALID_AMOUNT'],
    ['1.', 'USD', 'INVALID_AMOUNT'],
    ['10.00', 'XXX', 'UNSUPPORTED_CURRENCY'],
    ['10.00', 'usd', 'UNSUPPORTED_CURRENCY'],
    ['99999999999999999999.00', 'USD', 'AMOUNT_OUT_OF_RANGE'],
  ])('rejects %s %s with %s', (text, currency, code) => {
    expect(() => parseDecimal(text, currency)).toThrow(expect.objectContaining({ code }));
  });

  it('rejects a float that is not a string', () => {
    expect(() => parseDecimal(9.95 as unknown as string, 'USD')).toThrow(
      expect.objectContaining({ code: 'INVALID_AMOUNT' }),
    );
  });
});

describe('HALF_UP, once, on the exact rational', () => {
  it('rounds halves away from zero', () => {
    expect(divideHalfUp(5n, 2n)).toBe(3n);
    expect(divideHalfUp(-5n, 2n)).toBe(-3n);
    expect(divideHalfUp(4n, 3n)).toBe(1n);
    expect(divideHalfUp(-4n, 3n)).toBe(-1n);
    expect(divideHalfUp(5n, -2n)).toBe(-3n);
  });

  it('prorates the the worked example: 9.95 × 25/31 = 8.024… → 8.02', () => {
    expect(mulDivHalfUp(995, 25, 31)).toBe(802);
  });

  it('applies a tax rate in parts per million', () => {
    expect(applyRate(3100, 190_000)).toBe(589); // 31.00 × 19% = 5.89
    expect(applyRate(250, 100_000)).toBe(25);
    expect(applyRate(5, 100_000)).toBe(1); // 0.5 → 1 (half up)
    expect(applyRate(-5, 100_000)).toBe(-1); // -0.5 → -1 (away from zero)
    expect(formatRate(190_000)).toBe('0.19');
    expect(formatRate(72_500)).toBe('0.0725');
    expect(formatRate(0)).toBe('0.0');
  });
});
