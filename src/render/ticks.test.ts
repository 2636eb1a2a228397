import { describe, expect, it } from 'vitest';
import { formatValue, niceStep, niceTicks, stepDecimals, tickFormatter } from './ticks';

describe('niceTicks', () => {
  it('gives round values covering a symmetric grid range, including 0 exactly', () => {
    expect(niceTicks(-0.3, 0.3, 6)).toEqual([-0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3]);
    const t = niceTicks(-0.3, 0.3, 6);
    expect(Object.is(t[3], 0)).toBe(true);
  });

  it('tolerates float32 ends that miss a tick by rounding noise', () => {
    const lo = Math.fround(-0.3);
    const hi = Math.fround(0.3);
    const t = niceTicks(lo, hi, 6);
    expect(t[0]).toBe(-0.3);
    expect(t[t.length - 1]).toBe(0.3);
  });

  it('stays inside the range and uses 1/2/2.5/5 steps', () => {
    for (const [lo, hi, n] of [
      [0, 1, 5],
      [0.013, 7.9, 5],
      [-12, 130, 4],
      [1e-4, 3e-4, 5],
      [-2.5, 9, 6],
    ] as const) {
      const t = niceTicks(lo, hi, n);
      expect(t.length).toBeGreaterThanOrEqual(2);
      expect(t.length).toBeLessThanOrEqual(2 * n + 1);
      for (const v of t) {
        expect(v).toBeGreaterThanOrEqual(lo - 1e-12);
        expect(v).toBeLessThanOrEqual(hi + 1e-12);
      }
      const step = t[1] - t[0];
      const mantissa = step / Math.pow(10, Math.floor(Math.log10(step)));
      expect([1, 2, 2.5, 5].some((m) => Math.abs(mantissa - m) < 1e-6)).toBe(true);
    }
  });

  it('accepts reversed ends, and handles empty and bad ranges', () => {
    expect(niceTicks(1, 0, 5)).toEqual(niceTicks(0, 1, 5));
    expect(niceTicks(2, 2, 5)).toEqual([2]);
    expect(niceTicks(NaN, 1, 5)).toEqual([]);
    expect(niceTicks(0, Infinity, 5)).toEqual([]);
  });
});

describe('niceStep / stepDecimals', () => {
  it('picks the smallest nice step not below span / count', () => {
    expect(niceStep(1, 10)).toBeCloseTo(0.1, 12);
    expect(niceStep(1, 4)).toBeCloseTo(0.25, 12);
    expect(niceStep(7, 5)).toBeCloseTo(2, 12);
    expect(niceStep(30, 5)).toBeCloseTo(10, 12);
  });
  it('counts the decimals a step needs', () => {
    expect(stepDecimals(0.25)).toBe(2);
    expect(stepDecimals(0.1)).toBe(1);
    expect(stepDecimals(5)).toBe(0);
    expect(stepDecimals(0.0005)).toBe(4);
  });
});

describe('tickFormatter', () => {
  it('prints one precision per axis with a typographic minus sign', () => {
    const f = tickFormatter([-0.2, -0.1, 0, 0.1, 0.2]);
    expect(f(-0.2)).toBe('\u22120.2');
    expect(f(0)).toBe('0.0');
    expect(f(0.1)).toBe('0.1');
    const g = tickFormatter([0, 2.5, 5, 7.5]);
    expect(g(5)).toBe('5.0');
    expect(g(7.5)).toBe('7.5');
    expect(tickFormatter([0, 5, 10])(10)).toBe('10');
  });
  it('never prints a negative zero', () => {
    expect(tickFormatter([-1, 0, 1])(-0)).toBe('0');
    expect(tickFormatter([-0.1, 0, 0.1])(-0.00001)).toBe('0.0');
  });
  it('switches to exponent notation for tiny or huge magnitudes', () => {
    expect(tickFormatter([0, 1e-4, 2e-4])(1e-4)).toBe('1e\u22124');
    expect(tickFormatter([0, 5e5, 1e6])(1e6)).toBe('1.0e+6');
  });
});

describe('formatValue', () => {
  it('rounds to significant digits', () => {
    expect(formatValue(0.123456)).toBe('0.123');
    expect(formatValue(-2.5)).toBe('\u22122.5');
    expect(formatValue(0)).toBe('0');
    expect(formatValue(NaN)).toBe('NaN');
  });
});
