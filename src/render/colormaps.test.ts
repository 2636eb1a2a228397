import { describe, expect, it } from 'vitest';
import {
  CLASS_COLORS,
  COLORMAP_KIND,
  COLORMAP_NAMES,
  DEFAULT_COLORMAP,
  MISSING_COLOR,
  type RGB,
  classColor,
  colorFor,
  colormap,
  colormapStops,
  isColormapName,
  lightness,
  normalize,
  parseColor,
  srgbToLinear,
  toHex,
} from './colormaps';

function lab(c: RGB): [number, number, number] {
  const [r, g, b] = c.map(srgbToLinear);
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

describe('colour map names', () => {
  it('lists what the UI offers: five sequential maps and the diverging rdbu', () => {
    expect([...COLORMAP_NAMES]).toEqual(['viridis', 'magma', 'inferno', 'cividis', 'turbo', 'rdbu']);
    expect(COLORMAP_NAMES.filter((n) => COLORMAP_KIND[n] === 'diverging')).toEqual(['rdbu']);
    expect(DEFAULT_COLORMAP).toEqual({ loss: 'viridis', margin: 'rdbu' });
    expect(isColormapName('magma')).toBe(true);
    expect(isColormapName('jet')).toBe(false);
    expect(isColormapName(3)).toBe(false);
  });
});

describe.each(COLORMAP_NAMES)('%s', (name) => {
  const f = colormap(name);

  it('has valid colour stops', () => {
    const stops = colormapStops(name, 33);
    expect(stops[0][0]).toBe(0);
    expect(stops[stops.length - 1][0]).toBe(1);
    for (const [t, c] of stops) {
      expect(t).toBeGreaterThanOrEqual(0);
      expect(t).toBeLessThanOrEqual(1);
      expect(c).toMatch(/^#[0-9a-f]{6}$/);
    }
    for (let k = 0; k <= 100; k++) {
      for (const v of f(k / 100)) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
  });

  it('clamps t outside [0, 1] and greys out NaN', () => {
    expect(f(-3)).toEqual(f(0));
    expect(f(7)).toEqual(f(1));
    expect(f(-Infinity)).toEqual(f(0));
    expect(f(Infinity)).toEqual(f(1));
    expect(f(NaN)).toEqual(MISSING_COLOR);
    expect(f(0)).not.toEqual(f(1));
  });
});

describe('sequential maps', () => {
  it.each(['viridis', 'magma', 'inferno', 'cividis'] as const)('%s rises in lightness from end to end', (name) => {
    const f = colormap(name);
    const l = Array.from({ length: 21 }, (_, k) => lightness(f(k / 20)));
    for (let k = 1; k < l.length; k++) expect(l[k]).toBeGreaterThan(l[k - 1] - 0.5);
    expect(l[20] - l[0]).toBeGreaterThan(50);
  });

  it('turbo is a rainbow: not monotone in lightness, but dark at both ends and bright in the middle', () => {
    // Turbo is offered for familiarity; its lightness rises then falls, so it is exempt above.
    const f = colormap('turbo');
    expect(lightness(f(0.5))).toBeGreaterThan(lightness(f(0)) + 20);
    expect(lightness(f(0.5))).toBeGreaterThan(lightness(f(1)) + 20);
  });

  it('maps the domain ends to the map ends and clamps values outside', () => {
    const f = colormap('viridis');
    expect(colorFor(2, [2, 6], 'viridis')).toEqual(f(0));
    expect(colorFor(6, [2, 6], 'viridis')).toEqual(f(1));
    expect(colorFor(4, [2, 6], 'viridis')).toEqual(f(0.5));
    expect(colorFor(100, [2, 6], 'viridis')).toEqual(f(1));
    expect(colorFor(-100, [2, 6], 'viridis')).toEqual(f(0));
  });
});

describe('diverging rdbu', () => {
  it('is neutral (near white) at 0 for asymmetric domains too', () => {
    for (const domain of [[-1, 1], [-3, 10], [-0.2, 0.05]] as Array<[number, number]>) {
      const [r, g, b] = colorFor(0, domain, 'rdbu');
      expect(Math.min(r, g, b)).toBeGreaterThan(0.9);
      expect(Math.max(r, g, b) - Math.min(r, g, b)).toBeLessThan(0.05);
    }
  });

  it('is blue for positive margins (correct) and red for negative (misclassified)', () => {
    const [r1, , b1] = colorFor(2, [-4, 4], 'rdbu');
    expect(b1).toBeGreaterThan(r1 + 0.2);
    const [r2, , b2] = colorFor(-2, [-4, 4], 'rdbu');
    expect(r2).toBeGreaterThan(b2 + 0.2);
  });

  it('is symmetric about 0: equal lightness at ±v', () => {
    for (const v of [0.5, 1, 3]) {
      expect(Math.abs(lightness(colorFor(v, [-3, 3], 'rdbu')) - lightness(colorFor(-v, [-3, 3], 'rdbu')))).toBeLessThan(8);
    }
  });

  it('centres on 0 and uses only the blue half when the domain is all positive', () => {
    expect(normalize(0, [-2, 8], 'rdbu')).toBe(0.5);
    expect(normalize(8, [-2, 8], 'rdbu')).toBe(1);
    expect(normalize(-2, [-2, 8], 'rdbu')).toBeCloseTo(0.375, 12);
    expect(normalize(1, [1, 5], 'rdbu')).toBeGreaterThan(0.5);
    expect(normalize(3, [0, 0], 'rdbu')).toBe(1);
  });
});

describe('degenerate domains', () => {
  it('do not divide by zero', () => {
    expect(normalize(2, [2, 2], 'viridis')).toBe(0.5);
    expect(normalize(3, [2, 2], 'viridis')).toBe(1);
    expect(colorFor(NaN, [0, 1], 'viridis')).toEqual(MISSING_COLOR);
  });
});

describe('class palette', () => {
  it('has 10 valid, clearly distinct colours', () => {
    expect(CLASS_COLORS).toHaveLength(10);
    const labs = CLASS_COLORS.map((c) => lab(parseColor(c)));
    let minDist = Infinity;
    for (let i = 0; i < labs.length; i++) {
      for (let j = i + 1; j < labs.length; j++) {
        minDist = Math.min(minDist, Math.hypot(labs[i][0] - labs[j][0], labs[i][1] - labs[j][1], labs[i][2] - labs[j][2]));
      }
    }
    // ΔE*76 ≈ 2.3 is a just-noticeable difference; 15 is clearly different side by side.
    expect(minDist).toBeGreaterThan(15);
  });

  it('wraps past 10 and greys out invalid classes', () => {
    expect(classColor(12)).toEqual(classColor(2));
    expect(classColor(-1)).toEqual(MISSING_COLOR);
    expect(classColor(1.5)).toEqual(MISSING_COLOR);
  });
});

describe('colour parsing', () => {
  it('reads the forms d3 emits and round-trips hex', () => {
    expect(parseColor('#ff0000')).toEqual([1, 0, 0]);
    expect(parseColor('#0f0')).toEqual([0, 1, 0]);
    expect(parseColor('rgb(0, 0, 255)')).toEqual([0, 0, 1]);
    expect(toHex([1, 0.5, 0])).toBe('#ff8000');
    expect(() => parseColor('banana')).toThrow();
  });
});
