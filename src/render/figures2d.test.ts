import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { base64ToBytes } from '../io/base64';
import { svgFigure, svgFigureSize, type SvgFigureInput } from './figures2d';
import { linspace, syntheticSurface } from './testGrids';
import { AXIS_TITLES } from './theme';

const a = linspace(-0.3, 0.3, 21);
const b = linspace(-0.3, 0.3, 17);
// Boundary at a = 0.1: the margin is positive left of it.
const natural = syntheticSurface(a, b, { margin: (x) => 2 * (0.1 - x), loss: (x, y) => 1 + 10 * x + y });
const robust = syntheticSurface(a, b, { margin: (x) => 4 - x, loss: (x) => 0.1 + 0.2 * x });

const base: SvgFigureInput = {
  kind: 'heatmap',
  panels: [{ surface: natural, label: '' }],
  quantity: 'loss',
  colorBy: 'value',
  colormap: 'viridis',
  zRange: null,
  epsBox: 0.1,
  theme: 'light',
  transparent: false,
  title: '',
  scale: 1,
};

const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

describe('svgFigure', () => {
  it('draws a heatmap with real text axis titles, tick labels and a colour bar', () => {
    const svg = svgFigure(base);
    expect(svg.startsWith('<?xml')).toBe(true);
    const t = texts(svg);
    expect(t).toContain(AXIS_TITLES.a);
    expect(t).toContain(AXIS_TITLES.b);
    expect(t).toContain('cross-entropy loss');
    // Tick labels of a ∈ [-0.3, 0.3] include 0 and ±0.2 (minus sign as typeset).
    expect(t.some((s) => /^0$/.test(s))).toBe(true);
    expect(t.filter((s) => /0\.2$/.test(s)).length).toBeGreaterThanOrEqual(2);
    // The colour bar: a gradient with many stops.
    expect((svg.match(/<stop /g) ?? []).length).toBeGreaterThanOrEqual(32);
    // No interactive leftovers.
    expect(svg).not.toContain('data-export-ignore');
  });

  it('embeds the heatmap as a PNG with one pixel per grid point', () => {
    const svg = svgFigure(base);
    const m = /href="data:image\/png;base64,([^"]+)"/.exec(svg);
    expect(m).not.toBeNull();
    const png = decode(base64ToBytes(m![1]));
    expect([png.width, png.height]).toEqual([21, 17]);
    // b grows upwards: the top image row is b = +0.3, where the loss (1 + 10a + b) is highest at the right end.
    const px = (x: number, y: number) => Array.from(png.data.slice((y * 21 + x) * 4, (y * 21 + x) * 4 + 3));
    const brightness = (c: number[]) => c[0] + c[1] + c[2];
    expect(brightness(px(20, 0))).toBeGreaterThan(brightness(px(0, 16)) + 200);
  });

  it('puts A and B side by side on one scale with one colour bar', () => {
    const svg = svgFigure({ ...base, panels: [{ surface: natural, label: 'A · natural' }, { surface: robust, label: 'B · robust' }], title: 'Natural vs robust' });
    const size = svgFigureSize({ ...base, panels: [base.panels[0], base.panels[0]], title: 'x' });
    expect(svg).toContain(`width="${size.width}"`);
    const t = texts(svg);
    expect(t).toContain('A · natural');
    expect(t).toContain('B · robust');
    expect(t).toContain('Natural vs robust');
    expect((svg.match(/<linearGradient/g) ?? []).length).toBe(1);
    expect((svg.match(/data:image\/png/g) ?? []).length).toBe(2);
  });

  it('draws slices with a legend and the decision boundary label for the margin', () => {
    const svg = svgFigure({ ...base, kind: 'slices', quantity: 'margin' });
    const t = texts(svg);
    expect(t.some((s) => s.startsWith('along d1 (adversarial)'))).toBe(true);
    expect(t.some((s) => s.startsWith('along d2 (random)'))).toBe(true);
    expect(t).toContain('margin = 0 (decision boundary)');
    expect(t).toContain('logit margin');
  });

  it('escapes a title holding markup and scales only the outer size', () => {
    const svg = svgFigure({ ...base, title: '<script>alert(1)</script> & co', scale: 4 });
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;');
    const size = svgFigureSize({ ...base, title: 'x' });
    expect(svg).toContain(`width="${size.width * 4}"`);
    expect(svg).toContain(`viewBox="0 0 ${size.width} ${size.height}"`);
  });

  it('leaves the background out when transparent', () => {
    const opaque = svgFigure(base);
    const clear = svgFigure({ ...base, transparent: true });
    expect(opaque).toContain('fill="#ffffff"');
    expect(clear.match(/<rect width="\d+" height="\d+" fill="#ffffff"/)).toBeNull();
  });
});
