import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../operator/src/api/v1alpha1/duration.ts';
import { parseQuantity } from '../../operator/src/api/v1alpha1/quantity.ts';

describe('parseDuration', () => {
  it.each([
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['0s', 0],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '2 hours', '-5m', '1d', 'h', '5'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('parseQuantity', () => {
  it.each([
    ['10Gi', 10 * 2 ** 30],
    ['500m', 0.5],
    ['2', 2],
    ['1k', 1000],
    ['1e3', 1000],
    ['1.5Mi', 1.5 * 2 ** 20],
    ['-5Gi', -5 * 2 ** 30],
  ])('%s is %d', (text, value) => {
    expect(parseQuantity(text)).toBe(value);
  });

  it.each(['', 'lots', '10 Gi', '10GiB', 'Gi'])('rejects %j', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});
