import { describe, expect, it } from 'vitest';
import { checkFigureOptions, FIGURE_PANEL_ASPECT, figurePixelSize, FigureOptionError } from './figureOptions';

describe('figurePixelSize', () => {
  const at = (scale: number, width: number | null = null) => ({ scale, width });

  it('keeps the on-screen view size times the scale when the view is between 1:1 and 2:1', () => {
    // The 1280 × 800 window's view; the compare figure puts two such panels side by side.
    expect(figurePixelSize({ width: 660, height: 617 }, 1, at(4))).toEqual({ width: 2640, height: 2468, scale: 4 });
    expect(figurePixelSize({ width: 660, height: 617 }, 2, at(1))).toEqual({ width: 1320, height: 617, scale: 1 });
    expect(figurePixelSize({ width: 800, height: 577 }, 1, at(2))).toEqual({ width: 1600, height: 1154, scale: 2 });
  });

  it('brings a tall view (a 900 × 1400 window) to a square panel and a very wide one to 2:1', () => {
    // 600 × 1217 css px is the view of a 900 × 1400 window (the narrow, stacked layout).
    expect(figurePixelSize({ width: 600, height: 1217 }, 1, at(1))).toEqual({ width: 600, height: 600, scale: 1 });
    expect(figurePixelSize({ width: 600, height: 1217 }, 1, at(4))).toEqual({ width: 2400, height: 2400, scale: 4 });
    expect(figurePixelSize({ width: 600, height: 1217 }, 2, at(2))).toEqual({ width: 2400, height: 1200, scale: 2 });
    expect(figurePixelSize({ width: 600, height: 1217 }, 1, at(1, 1800))).toEqual({ width: 1800, height: 1800, scale: 3 });
    expect(figurePixelSize({ width: 1300, height: 417 }, 1, at(1))).toEqual({ width: 1300, height: 650, scale: 1 });
    for (const view of [{ width: 300, height: 2000 }, { width: 2000, height: 300 }, { width: 640, height: 480 }]) {
      const { width, height } = figurePixelSize(view, 1, at(1));
      expect(width / height).toBeGreaterThanOrEqual(FIGURE_PANEL_ASPECT.min - 0.01);
      expect(width / height).toBeLessThanOrEqual(FIGURE_PANEL_ASPECT.max + 0.01);
    }
  });

  it('refuses a view with no size and figures over the limits', () => {
    expect(() => figurePixelSize({ width: 0, height: 500 }, 1, at(1))).toThrow(FigureOptionError);
    expect(() => figurePixelSize({ width: 3000, height: 3000 }, 1, at(4))).toThrow(/8192 px limit/);
    expect(() => figurePixelSize({ width: 100, height: 400 }, 1, at(1))).toThrow(/too small/);
  });
});

describe('checkFigureOptions', () => {
  it('fills defaults and names a bad field', () => {
    expect(checkFigureOptions({}).kind).toBe('png');
    expect(() => checkFigureOptions({ scale: 0 })).toThrow(/scale must be/);
    expect(() => checkFigureOptions({ width: 12.5 })).toThrow(/width must be/);
    expect(() => checkFigureOptions({ camera: 'fisheye' })).toThrow(/camera must be one of/);
  });
});
