/**
 * The evidence study: its statistics and SVG helpers on known answers, and the reduced study
 * (`--quick`) end to end into a temporary folder: the doc has its five sections with tables,
 * the figures are well-formed SVG with real axis titles, every number is finite, and the
 * measured invariance is what PAPER.md requires.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { svgFigure } from './lib/svgPlot';
import type { StudyResults } from './lib/validationTypes';
import { averageRanks, firstZeroCrossing, maxInBox, relativeSpread, spearman } from './lib/validationStats';
import { attackSettings, QUICK_STUDY, runValidation } from './validate';

/** Checks that every tag is closed in order (a small well-formedness test; our SVG has no CDATA or comments). */
function checkWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:"[^"]*"|'[^']*'|[^'">])*?)(\/?)>/g)) {
    const [, close, name, , selfClose] = m;
    if (selfClose) continue;
    if (close) {
      expect(stack.pop(), `closing </${name}>`).toBe(name);
    } else {
      stack.push(name);
    }
  }
  expect(stack).toEqual([]);
  // No stray '<' outside tags: text content is escaped.
  expect(svg.replace(/<(\/?)([a-zA-Z][\w:-]*)((?:"[^"]*"|'[^']*'|[^'">])*?)(\/?)>/g, '')).not.toContain('<');
}

/** Every number anywhere in a JSON value. */
function numbersIn(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.flatMap(numbersIn);
  if (v && typeof v === 'object') return Object.values(v).flatMap(numbersIn);
  return [];
}

describe('validation statistics', () => {
  it('ranks ties by their average rank', () => {
    expect(averageRanks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
    expect(averageRanks([0, 0, 0])).toEqual([2, 2, 2]);
  });

  it('computes Spearman ρ, with ties, against known values', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // Monotone but nonlinear: still ±1.
    expect(spearman([1, 2, 3, 4, 5], [1, 8, 27, 64, 1000])).toBeCloseTo(1, 12);
    // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]) = 0.9486832980505138.
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(0.9486832980505138, 12);
    // Three models tied at 0 % accuracy: ranks(R) = [1, 2, 3, 4], ranks(acc) = [4, 2, 2, 2], so
    // dx = [-1.5, -.5, .5, 1.5], dy = [1.5, -.5, -.5, -.5], Σdx·dy = -3, Σdx² = 5, Σdy² = 3.
    expect(spearman([0.1, 2, 3, 4], [0.9, 0, 0, 0])).toBeCloseTo(-3 / Math.sqrt(5 * 3), 12);
    expect(spearman([1, 2, 3], [5, 5, 5])).toBeNaN();
    expect(() => spearman([1, 2], [1])).toThrow();
  });

  it('measures spread relative to the mean', () => {
    const s = relativeSpread([1, 2, 3]);
    expect(s.mean).toBe(2);
    expect(s.relRange).toBe(1);
    expect(s.cv).toBeCloseTo(Math.sqrt(2 / 3) / 2, 12);
    expect(relativeSpread([0, 0]).relRange).toBeNaN();
  });

  it('finds the first zero crossing of the margin along +a, interpolated', () => {
    const a = [-0.2, -0.1, 0, 0.1, 0.2, 0.3];
    expect(firstZeroCrossing(a, [9, 9, 3, 1, -1, -5])).toEqual({ kind: 'crosses', a: expect.closeTo(0.15, 12) });
    // Positive again later does not matter: the first crossing counts; negative a is ignored.
    expect(firstZeroCrossing(a, [-9, -9, 2, 0, 4, 4])).toEqual({ kind: 'crosses', a: 0.1 });
    expect(firstZeroCrossing(a, [1, 1, 1, 1, 1, 1])).toEqual({ kind: 'beyond', range: 0.3 });
    expect(firstZeroCrossing(a, [1, 1, -1, 1, 1, 1])).toEqual({ kind: 'misclassified' });
  });

  it('takes the maximum inside the ε-box only', () => {
    const axis = [-0.2, -0.1, 0, 0.1, 0.2];
    const values = Array.from({ length: 25 }, (_, p) => p);
    // Rows 1..3, columns 1..3 lie in |a|, |b| <= 0.1; the largest index there is 3 * 5 + 3.
    expect(maxInBox(axis, axis, values, 0.1)).toBe(18);
    expect(maxInBox(axis, axis, values, 0.2)).toBe(24);
  });

  it('varies one attack setting at a time around the default, without duplicates', () => {
    const s = attackSettings({ samples: 1, steps: [5, 10, 20, 50], stepFactors: [0.5, 1, 2], restarts: [1, 5], smallestEps: false });
    expect(s.map((x) => [x.steps, x.factor, x.restarts])).toEqual([
      [20, 1, 1],
      [5, 1, 1],
      [10, 1, 1],
      [50, 1, 1],
      [20, 0.5, 1],
      [20, 2, 1],
      [20, 1, 5],
    ]);
  });
});

describe('svg figures', () => {
  it('draw axes, ticks, titles and a legend as real text, on white', () => {
    const svg = svgFigure({
      title: 'A & B',
      panels: [
        { title: 'log panel', x: { title: 'samples n', log: true }, y: { title: 'value <log>', log: true }, series: [{ name: 'one', color: '#000', line: true, points: [{ x: 10, y: 0.5 }, { x: 1000, y: 0.01 }] }] },
        { x: { title: 'x lin' }, y: { title: 'y lin', min: 0, max: 1 }, series: [{ name: 'two', color: '#f00', points: [{ x: 1, y: 0.2, label: 'p' }] }], refLines: [{ axis: 'y', value: 0.5, label: 'half' }] },
      ],
    });
    checkWellFormed(svg);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('fill="#ffffff"');
    for (const t of ['A &amp; B', 'samples n', 'value &lt;log&gt;', 'x lin', 'y lin', '>one<', '>two<', '>half<', '>p<', '>1000<', '>0.01<']) expect(svg).toContain(t);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });
});

describe('npm run validate --quick', () => {
  let dir: string;
  let results: StudyResults;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ravine-validate-'));
    results = await runValidation({ quick: true, outDir: dir, summaryPath: join(dir, 'validationSummary.json'), command: 'npx tsx scripts/validate.ts --quick (test)', log: () => {} });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes the doc with all five sections, each with a table, and a discussion', async () => {
    const doc = await readFile(join(dir, 'validation.md'), 'utf8');
    const headings = ['## 1. Ranking', '## 2. Invariance', '## 3. Stability', '## 4. Cost', '## 5. Surfaces', '## Discussion'];
    const at = headings.map((h) => doc.indexOf(h));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    for (let k = 0; k < 5; k++) {
      const section = doc.slice(at[k], at[k + 1]);
      expect(section, headings[k]).toMatch(/^\| .+ \|\n\| (---:?|:?---) \|/m);
    }
    expect(doc).not.toMatch(/NaN|Infinity|undefined|\[object/);
    expect(doc).toContain('--quick');
    // The numbers in the doc are the measured ones.
    const first = results.ranking[0];
    expect(doc).toContain(`${first.R.toFixed(3)} ± ${first.halfWidth.toFixed(3)}`);
    expect(doc).toContain(results.machine.cpu);
    for (const f of ['validation/ranking.svg', 'validation/stability.svg', 'validation/cost.svg']) expect(doc).toContain(`](${f})`);
  });

  it('writes well-formed SVG figures with axis titles and finite coordinates', async () => {
    const titles: Record<string, string[]> = {
      'ranking.svg': ['PGD-20 accuracy at ε = 0.3 (%)', 'R (log scale; lower = more robust)', 'natural training'],
      'stability.svg': ['PGD accuracy: (max − min) / mean (%)', 'R: (max − min) / mean (%)'],
      'cost.svg': ['samples n (log scale)', 'half-width / R (%, log scale)', 'mnist-cnn-pgd'],
    };
    for (const [file, expected] of Object.entries(titles)) {
      const svg = await readFile(join(dir, 'validation', file), 'utf8');
      checkWellFormed(svg);
      expect(svg.startsWith('<svg')).toBe(true);
      for (const t of expected) expect(svg, `${file}: ${t}`).toContain(`>${t}<`);
      expect(svg, file).not.toMatch(/NaN|Infinity|undefined/);
      expect((svg.match(/<text/g) ?? []).length, file).toBeGreaterThan(8);
    }
  });

  it('exports the example pair as CSV grids', async () => {
    const files = (await readdir(join(dir, 'validation'))).filter((f) => f.endsWith('.csv')).sort();
    expect(files).toEqual(['surface-mnist-cnn-natural-sample0.csv', 'surface-mnist-cnn-pgd-sample0.csv']);
    const lines = (await readFile(join(dir, 'validation', files[0]), 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('a,b,loss,margin,pred,confidence');
    expect(lines.length).toBe(1 + QUICK_STUDY.surfaces.grid ** 2);
    for (const l of lines.slice(1)) expect(l.split(',').map(Number).every(Number.isFinite)).toBe(true);
  });

  it('writes a summary of finite headline numbers', async () => {
    const summary = JSON.parse(await readFile(join(dir, 'validationSummary.json'), 'utf8'));
    expect(numbersIn(summary).every(Number.isFinite)).toBe(true);
    expect(summary.spearman.map((s: { dataset: string }) => s.dataset)).toEqual(['mnist']);
    for (const s of summary.spearman) expect(Math.abs(s.rho)).toBeLessThanOrEqual(1);
    expect(summary.command).toContain('--quick');
    expect(typeof summary.stableR.maxSamples).toBe('number');
    expect(summary.stability.settings).toBe(attackSettings(QUICK_STUDY.stability).length);
  });

  it('measures what PAPER.md requires of the normaliser: R within 1 % under logit rescaling, raw KL not', () => {
    for (const row of results.invariance) {
      const base = results.invariance.find((b) => b.model === row.model && b.k === 1);
      expect(base).toBeDefined();
      if (!base || row.k === 1) continue;
      expect(row.logitRelError).toBeLessThan(1e-4);
      expect(row.clean).toBe(base.clean);
      expect(Math.abs(row.rNorm - base.rNorm) / base.rNorm).toBeLessThan(0.01);
      expect(Math.abs(row.rRaw - base.rRaw) / base.rRaw).toBeGreaterThan(0.1);
      expect(row.meanCE).not.toBeCloseTo(base.meanCE, 3);
    }
    // Every ranking, stability and cost number is finite.
    const all = [...results.ranking.flatMap((r) => [r.R, r.clean, ...r.pgd, ...r.fgsm]), ...results.stability.flatMap((s) => [...s.R, ...s.acc]), ...results.cost.flatMap((c) => [...c.R, ...c.halfWidth, c.stableSeconds])];
    expect(all.every(Number.isFinite)).toBe(true);
  });
});
