import { describe, expect, it } from 'vitest';
import { colorFor } from './colormaps';
import { centralSlices, heatmapRGBA, linearScale, pathData, seriesLines } from './plot2d';
import { linspace, syntheticSurface } from './testGrids';

describe('linearScale', () => {
  it('maps and inverts, including reversed ranges (SVG y grows downwards)', () => {
    const s = linearScale([-0.3, 0.3], [0, 300]);
    expect(s(0)).toBeCloseTo(150, 9);
    expect(s.invert(300)).toBeCloseTo(0.3, 9);
    const y = linearScale([0, 10], [200, 0]);
    expect(y(10)).toBe(0);
    expect(y.invert(100)).toBe(5);
    expect(linearScale([1, 1], [0, 10])(5)).toBe(0);
  });
});

describe('pathData / seriesLines', () => {
  it('writes M/L commands and breaks at non-finite values', () => {
    expect(pathData([[[0, 0], [1, 2.5]]])).toBe('M0.00 0.00L1.00 2.50');
    expect(pathData([[[0, 0]]])).toBe('');
    const s = linearScale([0, 1], [0, 1]);
    const lines = seriesLines([0, 0.25, 0.5, 0.75, 1], [0, NaN, 0.5, Infinity, 1], s, s);
    expect(lines).toEqual([[[0, 0]], [[0.5, 0.5]], [[1, 1]]]);
    const clamped = seriesLines([0, 1], [-5, 5], s, linearScale([0, 1], [100, 0]), true);
    expect(clamped[0].map((p) => p[1])).toEqual([100, 0]);
  });
});

describe('heatmapRGBA', () => {
  it('puts b upwards: the top image row is the largest b, columns follow a', () => {
    const s = syntheticSurface(linspace(-1, 1, 3), Float32Array.from([0, 1]), { margin: () => 1, loss: (a, b) => a + 10 * b });
    const img = heatmapRGBA(s, { quantity: 'loss', colorBy: 'value', colormap: 'viridis', zRange: null });
    expect(img.width).toBe(3);
    expect(img.height).toBe(2);
    expect(img.zRange).toEqual([-1, 11]);
    const px = (x: number, y: number) => Array.from(img.data.subarray((y * 3 + x) * 4, (y * 3 + x) * 4 + 4));
    // Top-right pixel: (a, b) = (1, 1), loss 11 = top of the map.
    const top = colorFor(11, [-1, 11], 'viridis').map((c) => Math.round(c * 255));
    expect(px(2, 0)).toEqual([...top, 255]);
    // Bottom-left: (-1, 0), loss -1 = bottom of the map.
    const bottom = colorFor(-1, [-1, 11], 'viridis').map((c) => Math.round(c * 255));
    expect(px(0, 1)).toEqual([...bottom, 255]);
  });
});

describe('centralSlices', () => {
  it('reads the row at b = 0 and the column at a = 0', () => {
    const s = syntheticSurface(linspace(-0.3, 0.3, 7), linspace(-0.3, 0.3, 5), { margin: (a, b) => 2 - 8 * a + b });
    const { alongA, alongB } = centralSlices(s, 'margin');
    expect(alongA.at).toBe(0);
    expect(alongB.at).toBe(0);
    expect(alongA.x).toHaveLength(7);
    expect(alongB.x).toHaveLength(5);
    for (let i = 0; i < 7; i++) expect(alongA.y[i]).toBeCloseTo(2 - 8 * alongA.x[i], 5);
    for (let j = 0; j < 5; j++) expect(alongB.y[j]).toBeCloseTo(2 + alongB.x[j], 5);
  });
});
