import { describe, expect, it } from 'vitest';
import { formatDelay, parseRate } from './rate.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseRate', () => {
  it('reads "N/<count><unit>"', () => {
    expect(parseRate('5/1h')).toEqual({ limit: 5, windowMs: HOUR, text: '5/1h' });
    expect(parseRate('1000/1d')).toEqual({ limit: 1000, windowMs: DAY, text: '1000/1d' });
    expect(parseRate('30/90s')).toEqual({ limit: 30, windowMs: 90 * SECOND, text: '30/90s' });
    expect(parseRate('2/15m')).toEqual({ limit: 2, windowMs: 15 * MINUTE, text: '2/15m' });
  });

  it('takes a window without a count as one unit', () => {
    expect(parseRate('10/m')).toEqual({ limit: 10, windowMs: MINUTE, text: '10/m' });
    expect(parseRate('10/m')?.windowMs).toBe(parseRate('10/1m')?.windowMs);
  });

  it('accepts a decimal N, for budgets', () => {
    expect(parseRate('0.5/1d')).toEqual({ limit: 0.5, windowMs: DAY, text: '0.5/1d' });
    expect(parseRate('0.01/1h')?.limit).toBe(0.01);
  });

  it('tolerates spaces and drops them from the text', () => {
    expect(parseRate(' 5 / 1 h ')).toEqual({ limit: 5, windowMs: HOUR, text: '5/1h' });
    expect(parseRate('5/ 1h')).toEqual({ limit: 5, windowMs: HOUR, text: '5/1h' });
  });

  it('rejects anything else', () => {
    for (const text of [
      '5',
      '5/0h',
      'x/1h',
      '5/1w',
      '',
      '/1h',
      '5/',
      '5/1',
      '-5/1h',
      '.5/1d',
      '5/1H',
      '5 per hour',
      '5/1h/2',
    ])
      expect(parseRate(text), text).toBeUndefined();
  });
});

describe('formatDelay', () => {
  it('gives whole seconds, rounded up, under two minutes', () => {
    expect(formatDelay(41_000)).toBe('41 s');
    expect(formatDelay(40_001)).toBe('41 s');
    expect(formatDelay(119_000)).toBe('119 s');
  });

  it('never says less than one second', () => {
    expect(formatDelay(1)).toBe('1 s');
    expect(formatDelay(0)).toBe('1 s');
    expect(formatDelay(-5_000)).toBe('1 s');
  });

  it('gives minutes, rounded up, under two hours', () => {
    expect(formatDelay(2 * MINUTE)).toBe('2 min');
    expect(formatDelay(12 * MINUTE)).toBe('12 min');
    expect(formatDelay(11 * MINUTE + 1_000)).toBe('12 min');
    expect(formatDelay(2 * HOUR - 1_000)).toBe('120 min');
  });

  it('gives hours, rounded up, beyond', () => {
    expect(formatDelay(2 * HOUR)).toBe('2 h');
    expect(formatDelay(3 * HOUR)).toBe('3 h');
    expect(formatDelay(3.5 * HOUR)).toBe('4 h');
    expect(formatDelay(DAY)).toBe('24 h');
  });
});
