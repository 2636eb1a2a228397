/**
 * Turns the evidence study's measurements (validationTypes.ts) into docs/validation.md, the
 * SVG figures beside it and the headline JSON for the About overlay. Every sentence that
 * states a finding is chosen by the numbers: nothing here knows in advance how the study
 * comes out.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PALETTE, svgFigure, type Marker, type Panel, type Series } from './svgPlot';
import { median, relativeSpread, type Crossing } from './validationStats';
import type { StabilityRow, StudyResults, SurfaceModel } from './validationTypes';

/** A stability comparison counts only where the mean PGD accuracy is at least this (a relative spread of ~0 % is meaningless). */
export const MIN_MEAN_ACCURACY = 0.05;

/** The headline numbers (src/ui/validationSummary.json); the type lives beside the file the app reads. */
export type { ValidationSummary } from '../../src/ui/validationSummary';
import type { ValidationSummary } from '../../src/ui/validationSummary';

// ---------------------------------------------------------------------------------------------
// Formatting: never prints NaN or Infinity; missing values read "n/a".

const NA = 'n/a';
const ok = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
const pct = (v: number | null | undefined, d = 1) => (ok(v) ? `${(100 * v).toFixed(d)} %` : NA);
const fix = (v: number | null | undefined, d = 3) => (ok(v) ? v.toFixed(d) : NA);
/** A value spanning many decades: 4 significant digits, exponent form outside [1e-3, 1e5). */
const sig = (v: number | null | undefined) => (!ok(v) ? NA : v === 0 ? '0' : Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(4))));
/** A relative change: percent, in exponent form when far below 0.01 %. */
const relPct = (v: number | null | undefined) => (!ok(v) ? NA : v === 0 ? '0 %' : Math.abs(v) < 1e-4 ? `${(100 * v).toExponential(1)} %` : `${(100 * v).toPrecision(3)} %`);
const rho = (v: number | null | undefined) => (ok(v) ? (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(2) : NA);
const secs = (v: number | null | undefined) => (!ok(v) ? NA : v < 10 ? `${v.toFixed(1)} s` : v < 120 ? `${v.toFixed(0)} s` : `${(v / 60).toFixed(1)} min`);
const code = (s: string) => `\`${s}\``;
const num = (v: number) => String(Number(v.toPrecision(6)));

function table(head: string[], rows: string[][], align?: ('l' | 'r')[]): string[] {
  const sep = head.map((_, i) => ((align?.[i] ?? 'l') === 'r' ? '---:' : '---'));
  return [`| ${head.join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`), ''];
}

const METHOD_NAME: Record<string, string> = { natural: 'natural', pgd: 'PGD', 'fgsm-rs': 'FGSM-RS' };
const METHOD_STYLE: Record<string, { color: string; marker: Marker }> = {
  natural: { color: PALETTE[1], marker: 'circle' },
  pgd: { color: PALETTE[0], marker: 'square' },
  'fgsm-rs': { color: PALETTE[2], marker: 'triangle' },
};

function crossingText(c: Crossing): string {
  if (c.kind === 'crosses') return fix(c.a, 3);
  if (c.kind === 'beyond') return `beyond range (> ${num(c.range)})`;
  return 'misclassified';
}

// ---------------------------------------------------------------------------------------------
// Derived numbers shared by the doc, the discussion and the summary.

interface Derived {
  /** Relative change of R (normaliser on / off) against ×1, per model and k ≠ 1. */
  invChanges: { model: string; k: number; on: number; off: number; cleanSame: boolean; ceChange: number }[];
  /** Stability rows whose accuracy spread is meaningful. */
  comparable: StabilityRow[];
  /** Per dataset and ε: for each non-default setting, whether R's and accuracy's order of the models equals the default setting's. */
  order: { dataset: string; eps: number; models: number; changedR: string[]; changedAcc: string[] }[];
}

/** (max − min) / mean of the error rate 1 − accuracy: accuracy's spread seen from the attack's side. */
export function errorRelRange(s: StabilityRow): number {
  const meanErr = 1 - s.spreadAcc.mean;
  return meanErr > 0 ? (s.spreadAcc.max - s.spreadAcc.min) / meanErr : NaN;
}

/**
 * How the order of items in `v` differs from that in `u`: 'same', 'ties' (only ties broken or
 * formed) or 'swap' (some pair strictly reversed).
 */
export function orderChange(u: readonly number[], v: readonly number[]): 'same' | 'ties' | 'swap' {
  let result: 'same' | 'ties' = 'same';
  for (let i = 0; i < u.length; i++) {
    for (let j = i + 1; j < u.length; j++) {
      const a = Math.sign(u[i] - u[j]);
      const b = Math.sign(v[i] - v[j]);
      if (a !== b) {
        if (a * b < 0) return 'swap';
        result = 'ties';
      }
    }
  }
  return result;
}

function derive(r: StudyResults): Derived {
  const invChanges: Derived['invChanges'] = [];
  for (const row of r.invariance) {
    if (row.k === 1) continue;
    const base = r.invariance.find((b) => b.model === row.model && b.k === 1);
    if (!base) continue;
    invChanges.push({
      model: row.model,
      k: row.k,
      on: Math.abs(row.rNorm - base.rNorm) / base.rNorm,
      off: Math.abs(row.rRaw - base.rRaw) / base.rRaw,
      cleanSame: row.clean === base.clean,
      ceChange: (row.meanCE - base.meanCE) / base.meanCE,
    });
  }
  const comparable = r.stability.filter((s) => s.spreadAcc.mean >= MIN_MEAN_ACCURACY && ok(s.spreadR.relRange) && ok(s.spreadAcc.relRange));
  const order: Derived['order'] = [];
  for (const ds of r.datasets) {
    const eps = [...new Set(r.stability.filter((x) => r.models.find((m) => m.id === x.model)?.dataset === ds.id).map((x) => x.eps))];
    for (const e of eps) {
      const rows = r.stability.filter((x) => x.eps === e && r.models.find((m) => m.id === x.model)?.dataset === ds.id);
      if (rows.length < 2) continue;
      const changedR: string[] = [];
      const changedAcc: string[] = [];
      r.settings.forEach((st, k) => {
        if (k === 0) return;
        const cr = orderChange(rows.map((x) => x.R[0]), rows.map((x) => x.R[k]));
        const ca = orderChange(rows.map((x) => x.acc[0]), rows.map((x) => x.acc[k]));
        if (cr !== 'same') changedR.push(cr === 'ties' ? `${st.label} (ties only)` : st.label);
        if (ca !== 'same') changedAcc.push(ca === 'ties' ? `${st.label} (ties only)` : st.label);
      });
      order.push({ dataset: ds.id, eps: e, models: rows.length, changedR, changedAcc });
    }
  }
  return { invChanges, comparable, order };
}

export function summaryOf(r: StudyResults, d: Derived, docPath: string): ValidationSummary {
  const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);
  const maxOf = (v: number[]) => (v.length ? Math.max(...v) : NaN);
  const minOf = (v: number[]) => (v.length ? Math.min(...v) : NaN);
  const needs = r.cost.map((c) => ({ model: c.model, n: c.stableN ?? c.projectedN }));
  const worst = needs.reduce<{ model: string; n: number } | undefined>((a, b) => (!a || b.n > a.n ? b : a), undefined);
  return {
    generatedAt: r.date,
    command: r.command,
    quick: r.quick,
    doc: docPath,
    spearman: r.correlations.map((c) => {
      const ds = r.datasets.find((x) => x.id === c.dataset);
      return { dataset: c.dataset, name: ds?.name ?? c.dataset, eps: ds?.defaultEps ?? NaN, models: c.models, rho: finiteOrNull(c.rhoPgd[c.defaultIndex]) };
    }),
    invariance: {
      scales: r.config.invarianceScales,
      maxRelChangeNormalized: finiteOrNull(maxOf(d.invChanges.map((c) => c.on))),
      minRelChangeRaw: finiteOrNull(minOf(d.invChanges.map((c) => c.off))),
      maxRelChangeRaw: finiteOrNull(maxOf(d.invChanges.map((c) => c.off))),
    },
    stability: {
      settings: r.settings.length,
      medianRelRangeR: finiteOrNull(median(d.comparable.map((s) => s.spreadR.relRange))),
      medianRelRangePgdAccuracy: finiteOrNull(median(d.comparable.map((s) => s.spreadAcc.relRange))),
      medianRelRangePgdError: finiteOrNull(median(d.comparable.map(errorRelRange))),
      rMovedLess: d.comparable.filter((s) => s.spreadR.relRange < s.spreadAcc.relRange).length,
      comparisons: d.comparable.length,
      orderCases: d.order.length * (r.settings.length - 1),
      orderKeptR: d.order.reduce((a, o) => a + r.settings.length - 1 - o.changedR.length, 0),
      orderKeptAccuracy: d.order.reduce((a, o) => a + r.settings.length - 1 - o.changedAcc.length, 0),
    },
    stableR: {
      relHalfWidth: r.config.cost.stableRelHalfWidth,
      maxSamples: worst ? worst.n : null,
      maxSamplesModel: worst?.model ?? '',
      reachedWithin: r.cost.filter((c) => c.stableN !== null).length,
      models: r.cost.length,
      medianSecondsStableR: finiteOrNull(median(r.cost.map((c) => c.stableSeconds))),
      medianSecondsPgdFullSplit: finiteOrNull(median(r.cost.map((c) => c.pgdFullSeconds))),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Figures.

const shortName = (id: string) => id.replace(/^(mnist|fashion)-/, '');

function rankingFigure(r: StudyResults): string {
  const panels: Panel[] = r.datasets.map((ds) => {
    const corr = r.correlations.find((c) => c.dataset === ds.id);
    const di = corr?.defaultIndex ?? 0;
    const rows = r.ranking.filter((x) => x.model.dataset === ds.id);
    const series: Series[] = Object.entries(METHOD_STYLE)
      .map(([method, style]) => ({
        name: `${METHOD_NAME[method]} training`,
        color: style.color,
        marker: style.marker,
        points: rows.filter((x) => x.model.method === method).map((x) => ({ x: 100 * x.pgd[di], y: x.R, label: x.model.arch.toUpperCase() })),
      }))
      .filter((s) => s.points.length > 0);
    return {
      title: `${ds.name} (ρ = ${rho(corr?.rhoPgd[di])})`,
      // A little room beyond 0 % and 100 % keeps markers off the frame.
      x: { title: `PGD-20 accuracy at ε = ${num(ds.defaultEps)} (%)`, min: -4, max: 104 },
      y: { title: 'R (log scale; lower = more robust)', log: true },
      series,
    };
  });
  return svgFigure({ panels, title: 'Robustness metric R against PGD-20 accuracy', panelWidth: 430, panelHeight: 330 });
}

function stabilityFigure(r: StudyResults, d: Derived): string {
  const rows = d.comparable;
  const maxV = Math.max(0.05, ...rows.flatMap((s) => [s.spreadR.relRange, s.spreadAcc.relRange]));
  const top = 100 * maxV * 1.08;
  const series: Series[] = r.datasets.map((ds, i) => ({
    name: ds.name,
    color: PALETTE[i === 0 ? 0 : 1],
    marker: i === 0 ? 'circle' : 'square',
    points: rows
      .filter((s) => r.models.find((m) => m.id === s.model)?.dataset === ds.id)
      .map((s) => ({ x: 100 * s.spreadAcc.relRange, y: 100 * s.spreadR.relRange, label: `${shortName(s.model)} @${num(s.eps)}` })),
  }));
  return svgFigure({
    title: `Spread across ${r.settings.length} attack settings, relative to the mean`,
    panels: [
      {
        x: { title: 'PGD accuracy: (max − min) / mean (%)', min: -0.03 * top, max: top },
        y: { title: 'R: (max − min) / mean (%)', min: -0.03 * top, max: top },
        series,
        segments: [{ from: [0, 0], to: [top, top], label: 'equal spread', color: '#888' }],
      },
    ],
    panelWidth: 560,
    panelHeight: 420,
  });
}

function costFigure(r: StudyResults): string {
  const series = (rel: boolean): Series[] =>
    r.cost.map((c, i) => ({
      name: c.model,
      color: PALETTE[i % PALETTE.length],
      marker: (['circle', 'square', 'triangle', 'diamond'] as Marker[])[i % 4],
      line: true,
      dashed: r.models.find((m) => m.id === c.model)?.dataset !== r.datasets[0]?.id,
      points: c.counts.map((n, k) => ({ x: n, y: rel ? (100 * c.halfWidth[k]) / c.R[k] : c.halfWidth[k] })).filter((p) => ok(p.y) && p.y > 0),
    }));
  const threshold = 100 * r.config.cost.stableRelHalfWidth;
  return svgFigure({
    title: 'Half-width of the 95 % confidence interval of R against sample count',
    panels: [
      { title: 'relative to R', x: { title: 'samples n (log scale)', log: true }, y: { title: 'half-width / R (%, log scale)', log: true }, series: series(true), refLines: [{ axis: 'y', value: threshold, label: `${num(threshold)} % ("stable")` }] },
      { title: 'absolute', x: { title: 'samples n (log scale)', log: true }, y: { title: 'half-width of R (log scale)', log: true }, series: series(false) },
    ],
    panelWidth: 440,
    panelHeight: 340,
  });
}

// ---------------------------------------------------------------------------------------------
// The document.

function rankingSection(r: StudyResults): string[] {
  const L: string[] = ['## 1. Ranking', ''];
  L.push(
    `R (PAPER.md §2 defaults: L∞, the dataset's ε, 20 steps, α = 2.5 ε / 20, 1 restart, s = std of the clean logits, seed 0) on the first ${r.config.metricSamples} test images; FGSM and PGD-20 (random start, α = 2.5 ε / 20, a sample counts as broken if any iterate is misclassified) on the first ${r.config.attackSamples} test images at each ε of the dataset's grid; clean accuracy on ${r.config.cleanSamples > 0 ? `the first ${r.config.cleanSamples}` : 'all'} test images.`,
    '',
  );
  for (const ds of r.datasets) {
    const rows = r.ranking.filter((x) => x.model.dataset === ds.id);
    const corr = r.correlations.find((c) => c.dataset === ds.id);
    const di = corr?.defaultIndex ?? 0;
    const rankR = ranksOf(rows.map((x) => x.R));
    const rankA = ranksOf(rows.map((x) => -x.pgd[di]));
    L.push(`**${ds.name}** (ε grid ${ds.epsGrid.map(num).join(' / ')}, R at ε = ${num(ds.defaultEps)}):`, '');
    L.push(
      ...table(
        ['model', 'arch', 'training', 'clean', 'FGSM', 'PGD-20', 'R (95 % CI)', 'rank by R', `rank by PGD-20 @ ${num(ds.defaultEps)}`],
        rows.map((x, i) => [
          code(x.model.id),
          x.model.arch.toUpperCase(),
          x.model.method === 'natural' ? 'natural' : `${METHOD_NAME[x.model.method] ?? x.model.method} ε ${num(x.model.trainEps)}`,
          pct(x.clean),
          x.fgsm.map((v) => pct(v)).join(' / '),
          x.pgd.map((v) => pct(v)).join(' / '),
          `${fix(x.R)} ± ${fix(x.halfWidth)}`,
          num(rankR[i]),
          num(rankA[i]),
        ]),
        ['l', 'l', 'l', 'r', 'l', 'l', 'l', 'r', 'r'],
      ),
    );
  }
  L.push('Spearman rank correlation between R and accuracy (average ranks for ties). Lower R means more robust, so perfect agreement is ρ = −1.', '');
  L.push(
    ...table(
      ['dataset', 'models', ...[0, 1, 2].map((e) => `ρ(R, PGD-20 @ ε_${e + 1})`), 'ρ(R, FGSM @ default ε)', 'discordant pairs @ default ε'],
      r.correlations.map((c) => {
        const ds = r.datasets.find((x) => x.id === c.dataset);
        return [
          ds?.name ?? c.dataset,
          String(c.models),
          ...[0, 1, 2].map((e) => (c.rhoPgd[e] !== undefined ? `${rho(c.rhoPgd[e])} (ε ${num(ds?.epsGrid[e] ?? NaN)})` : NA)),
          rho(c.rhoFgsm),
          c.discordant.length ? c.discordant.map(([a, b]) => `${code(a)} / ${code(b)}`).join(', ') : 'none',
        ];
      }),
      ['l', 'r', 'l', 'l', 'l', 'l', 'l'],
    ),
  );
  L.push('![R against PGD-20 accuracy per dataset](validation/ranking.svg)', '');
  return L;
}

function ranksOf(values: number[]): number[] {
  // Rank 1 = most robust (smallest value), ties averaged.
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  for (let k = 0; k < order.length; ) {
    let e = k;
    while (e + 1 < order.length && order[e + 1][0] === order[k][0]) e++;
    for (let j = k; j <= e; j++) out[order[j][1]] = (k + e + 2) / 2;
    k = e + 1;
  }
  return out;
}

function invarianceSection(r: StudyResults, d: Derived): string[] {
  const L: string[] = ['## 2. Invariance', ''];
  L.push(
    `Each model's last Dense layer (kernel and bias) multiplied by k ∈ {${r.config.invarianceScales.map(num).join(', ')}}, which multiplies the logits by k and changes no decision. R on the first ${r.config.invarianceSamples} test images with the same seed, with the normaliser s = std(z) on and off (s = 1); clean accuracy and mean cross-entropy on ${r.config.cleanSamples > 0 ? `the first ${r.config.cleanSamples}` : 'all'} test images. "logit check" is max |z_k − k·z| / max |k·z| on 32 images (it confirms the rescaling is exact up to float32 rounding). Changes are relative to k = 1.`,
    '',
  );
  const rows = r.invariance.map((x) => {
    const ch = d.invChanges.find((c) => c.model === x.model && c.k === x.k);
    return [
      x.k === 1 ? code(x.model) : '',
      `× ${num(x.k)}`,
      x.k === 1 ? '—' : sig(x.logitRelError),
      pct(x.clean, 2),
      sig(x.meanCE),
      sig(x.rNorm),
      ch ? relPct(ch.on) : '—',
      sig(x.rRaw),
      ch ? relPct(ch.off) : '—',
    ];
  });
  L.push(...table(['model', 'last layer', 'logit check', 'clean acc.', 'mean CE', 'R (s = std z)', 'change', 'R (s = 1)', 'change'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
  return L;
}

function stabilitySection(r: StudyResults, d: Derived): string[] {
  const L: string[] = ['## 3. Stability', ''];
  const eps = r.config.stability.smallestEps ? "the dataset's default ε and the smallest ε of its grid" : "the dataset's default ε";
  L.push(
    `R and PGD accuracy on the first ${r.config.stability.samples} test images at ${eps}, under ${r.settings.length} attack settings varied one factor at a time around the default (20 steps, α = 2.5 ε / steps, 1 restart): ${r.settings.map((s) => s.label).join('; ')}. The same images and seed throughout, so the spread is the settings' effect, not sampling noise. Spread = (max − min) / mean ("rel. range") and std / mean (CV, population std over the settings). Accuracy spreads are left out of the comparison ("—") where the mean accuracy is below ${pct(MIN_MEAN_ACCURACY, 0)}: at 0 % there is nothing left to move.`,
    '',
  );
  const head = ['model', 'ε', ...r.settings.map((s) => `${s.steps}/×${num(s.factor)}/${s.restarts}`)];
  L.push('R per setting (steps / step-size factor / restarts):', '');
  const align = (extra: number) => ['l' as const, ...new Array<'r'>(head.length - 1 + extra).fill('r')];
  L.push(...table([...head, 'rel. range', 'CV'], r.stability.map((s) => [code(s.model), num(s.eps), ...s.R.map((v) => sig(v)), pct(s.spreadR.relRange), pct(s.spreadR.cv)]), align(2)));
  L.push('PGD accuracy per setting:', '');
  L.push(
    ...table(
      [...head, 'range (points)', 'rel. range', 'CV'],
      r.stability.map((s) => {
        const comparable = d.comparable.includes(s);
        return [code(s.model), num(s.eps), ...s.acc.map((v) => pct(v)), (100 * (s.spreadAcc.max - s.spreadAcc.min)).toFixed(1), comparable ? pct(s.spreadAcc.relRange) : '—', comparable ? pct(s.spreadAcc.cv) : '—'];
      }),
      align(3),
    ),
  );
  L.push(
    `Side by side where both spreads are defined. With ${r.config.stability.samples} images, accuracy moves in steps of ${(100 / r.config.stability.samples).toFixed(2)} points, so a spread below one step reads as 0. The last spread column divides accuracy's range by the mean error rate 1 − accuracy instead (the attack's success rate), which is the fairer scale for accuracies near 100 %:`,
    '',
  );
  L.push(
    ...table(
      ['model', 'ε', 'mean R', 'R rel. range', 'mean PGD acc.', 'acc. rel. range', 'moved less', 'range / mean error'],
      d.comparable.map((s) => [
        code(s.model),
        num(s.eps),
        sig(s.spreadR.mean),
        pct(s.spreadR.relRange),
        pct(s.spreadAcc.mean),
        pct(s.spreadAcc.relRange),
        s.spreadR.relRange < s.spreadAcc.relRange ? 'R' : s.spreadR.relRange > s.spreadAcc.relRange ? 'accuracy' : 'tie',
        pct(errorRelRange(s)),
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'l', 'r'],
    ),
  );
  L.push(
    "What a ranking uses: for each dataset and ε, is the models' order (by R, and by accuracy) under a setting the order under the default setting? A tie that breaks or forms counts as a change, marked \"ties only\" when no pair of models swaps.",
    '',
  );
  L.push(
    ...table(
      ['dataset', 'ε', 'models', "settings that change R's order", "settings that change accuracy's order"],
      d.order.map((o) => [
        r.datasets.find((x) => x.id === o.dataset)?.name ?? o.dataset,
        num(o.eps),
        String(o.models),
        o.changedR.length ? `${o.changedR.length}: ${o.changedR.join('; ')}` : 'none',
        o.changedAcc.length ? `${o.changedAcc.length}: ${o.changedAcc.join('; ')}` : 'none',
      ]),
      ['l', 'r', 'r', 'l', 'l'],
    ),
  );
  L.push('![Relative spread of R against that of PGD accuracy](validation/stability.svg)', '');
  return L;
}

function costSection(r: StudyResults): string[] {
  const L: string[] = ['## 4. Cost', ''];
  const thr = r.config.cost.stableRelHalfWidth;
  L.push(
    `R's 95 % CI half-width (Student t) on the first n of the ${r.config.metricSamples} images of section 1 (nested prefixes, so the curves show how one growing run converges). "Stable" means a half-width of at most ${pct(thr, 0)} of R at that n and at every larger n listed; "projected" is n ≈ (t · sd / (${num(thr)} · R))² from the largest n's sd and R. Time to a stable R: computeMetric on exactly that many images, timed afresh; where no listed n is stable, it is extrapolated linearly from section 1's timed run to the projected n (marked *). A full PGD-20 evaluation means all ${r.datasets.map((ds) => `${ds.testCount} ${ds.name}`).join(' / ')} test images at the three radii of the grid; it was **not** run in full: its time is section 1's timed PGD-20 run on ${r.config.attackSamples} images extrapolated linearly to the split size. One radius alone costs about a third of it. The two times in the ratio are single wall-clock measurements taken minutes apart on a shared machine, so the ratio carries the load's noise; the last column gives a like-for-like pair timed back to back in section 1 (R at one ε, PGD-20 at the grid's three radii, which also checks the prediction after every step).`,
    '',
  );
  const counts = r.cost[0]?.counts ?? [];
  L.push(
    ...table(
      ['model', ...counts.map((n) => `n = ${n}`), 'stable from n', 'projected n', 'time to stable R', 'PGD-20, full split (extrap.)', 'ratio', `section 1: R vs PGD-20 on the same ${r.config.attackSamples === r.config.metricSamples ? r.config.metricSamples : `${r.config.metricSamples} / ${r.config.attackSamples}`} images`],
      r.cost.map((c) => [
        code(c.model),
        ...c.counts.map((_, k) => `${sig(c.R[k])} ± ${sig(c.halfWidth[k])} (${pct(c.halfWidth[k] / c.R[k], 0)})`),
        c.stableN === null ? `> ${counts[counts.length - 1]}` : String(c.stableN),
        String(c.projectedN),
        `${secs(c.stableSeconds)}${c.stableTimed ? '' : ' *'}`,
        secs(c.pgdFullSeconds),
        `${(c.pgdFullSeconds / c.stableSeconds).toFixed(0)} ×`,
        (() => {
          const row = r.ranking.find((x) => x.model.id === c.model);
          return row ? `${secs(row.metricSeconds)} vs ${secs(row.pgdSeconds)}` : NA;
        })(),
      ]),
      ['l', ...counts.map(() => 'r' as const), 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  L.push('![CI half-width of R against sample count](validation/cost.svg)', '');
  return L;
}

function surfacesSection(r: StudyResults): string[] {
  const L: string[] = ['## 5. Surfaces', ''];
  const cfg = r.config.surfaces;
  L.push(
    `For each natural/adversarial pair, the first ${cfg.samples} test images of the dataset. Each model gets its own directions (d1 = sign ∇x CE of that model, d2 = Rademacher with seed 0, as in the lab) and a ${cfg.grid} × ${cfg.grid} grid over a, b ∈ [−${cfg.rangeFactor} ε, ${cfg.rangeFactor} ε]. "Crossing a" is where the logit margin along the row b = 0 first reaches zero for a > 0, linearly interpolated between grid points; "beyond range" when it stays positive up to ${cfg.rangeFactor} ε (such images sort above every crossing when the median is taken). "Max loss in box" is the largest cross-entropy over the grid points with |a|, |b| ≤ ε. Only images both models of the pair classify correctly are counted, so the two rows of a pair describe the same images.`,
    '',
  );
  const rows: string[][] = [];
  for (const p of r.pairs) {
    const ds = r.datasets.find((x) => x.id === p.dataset);
    for (const id of [p.natural, p.adversarial]) {
      const sm = r.surfaces.find((x) => x.model === id);
      if (!sm) continue;
      // The natural model of several pairs is summarised once per pair over that pair's images.
      const both = new Set(pairedIndicesFor(p, r));
      const sub = { ...sm, samples: sm.samples.filter((q) => both.has(q.index)) };
      const t = surfaceSummaryPlain(sub);
      rows.push([
        id === p.natural ? `${ds?.name ?? p.dataset}: ${code(shortName(p.natural))} vs ${code(shortName(p.adversarial))}` : '',
        code(id),
        String(t.n),
        `${t.withinEps} (${pct(t.n ? t.withinEps / t.n : NaN, 0)})`,
        `${t.n - t.withinRange} (${pct(t.n ? (t.n - t.withinRange) / t.n : NaN, 0)})`,
        t.medianAText,
        sig(t.medianMaxLoss),
        sig(t.meanMaxLoss),
      ]);
    }
  }
  L.push(...table(['pair', 'model', 'images', 'crosses within ε', 'beyond range', 'median crossing a', 'median max loss in box', 'mean max loss in box'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r']));
  const ex = r.pairs.find((p) => r.exampleCsv.some((e) => e.model === p.natural) && r.exampleCsv.some((e) => e.model === p.adversarial));
  if (ex) {
    const nat = r.surfaces.find((s) => s.model === ex.natural);
    const adv = r.surfaces.find((s) => s.model === ex.adversarial);
    if (nat && adv) {
      L.push(`Per image, ${code(ex.natural)} against ${code(ex.adversarial)} (ε = ${num(nat.eps)}, range ${num(nat.range)}):`, '');
      L.push(
        ...table(
          ['test image', 'label', 'crossing a, natural', 'crossing a, adversarial', 'max loss in box, natural', 'max loss in box, adversarial'],
          nat.samples.map((q) => {
            const o = adv.samples.find((x) => x.index === q.index);
            return [`#${q.index}`, String(q.label), crossingText(q.crossing), o ? crossingText(o.crossing) : NA, sig(q.maxLoss), o ? sig(o.maxLoss) : NA];
          }),
          ['l', 'r', 'r', 'r', 'r', 'r'],
        ),
      );
    }
    L.push(
      `The full grids of test image #${r.exampleCsv[0]?.sample ?? 0} for this pair (columns a, b, loss, margin, pred, confidence; one row per grid point, b outer): ${r.exampleCsv.map((e) => `[${e.model}](${e.file})`).join(', ')}.`,
      '',
    );
    for (const f of r.exampleFigures) L.push(`![Surface of the example pair](${f})`, '');
  }
  return L;
}

function pairedIndicesFor(p: { natural: string; adversarial: string }, r: StudyResults): number[] {
  const a = r.surfaces.find((s) => s.model === p.natural);
  const b = r.surfaces.find((s) => s.model === p.adversarial);
  if (!a || !b) return [];
  return a.samples
    .filter((q) => q.crossing.kind !== 'misclassified')
    .map((q) => q.index)
    .filter((i) => b.samples.some((o) => o.index === i && o.crossing.kind !== 'misclassified'));
}

function surfaceSummaryPlain(s: SurfaceModel) {
  const rows = s.samples;
  const sorted = rows.map((q) => (q.crossing.kind === 'crosses' ? q.crossing.a : Infinity)).sort((a, b) => a - b);
  let medianA: number | null = null;
  let medianAText = NA;
  if (sorted.length) {
    const lo = sorted[Math.floor((sorted.length - 1) / 2)];
    const hi = sorted[Math.ceil((sorted.length - 1) / 2)];
    if (Number.isFinite(hi)) {
      medianA = (lo + hi) / 2;
      medianAText = fix(medianA, 3);
    } else medianAText = `beyond range (> ${num(s.range)})`;
  }
  return {
    n: rows.length,
    withinEps: rows.filter((q) => q.crossing.kind === 'crosses' && q.crossing.a <= s.eps).length,
    withinRange: rows.filter((q) => q.crossing.kind === 'crosses').length,
    medianA,
    medianAText,
    medianMaxLoss: median(rows.map((q) => q.maxLoss)),
    meanMaxLoss: rows.length ? rows.reduce((a, q) => a + q.maxLoss, 0) / rows.length : NaN,
  };
}

function discussion(r: StudyResults, d: Derived, sum: ValidationSummary): string[] {
  const L: string[] = ['## Discussion', ''];
  L.push('What the numbers above say about the paper\'s three claims (PAPER.md §2) and its surface picture (§1), for these models:', '');

  // Ranking.
  const parts: string[] = [];
  for (const c of r.correlations) {
    const ds = r.datasets.find((x) => x.id === c.dataset);
    const v = c.rhoPgd[c.defaultIndex];
    const rows = r.ranking.filter((x) => x.model.dataset === c.dataset);
    let verdict: string;
    if (!ok(v)) verdict = 'undefined (no variation)';
    else if (v <= -0.999) verdict = 'R orders the models exactly as PGD-20 accuracy does';
    else if (v <= -0.7) verdict = `R mostly agrees with PGD-20 accuracy; discordant: ${c.discordant.map(([a, b]) => `${code(a)} / ${code(b)}`).join(', ') || 'none (the gap comes from ties)'}`;
    else if (v < 0) verdict = `only weak agreement; discordant: ${c.discordant.map(([a, b]) => `${code(a)} / ${code(b)}`).join(', ')}`;
    else verdict = 'R does **not** rank the models like PGD-20 accuracy';
    const ties = tiedGroups(rows.map((x) => x.pgd[c.defaultIndex]));
    const tieText = ties.length
      ? ` At ε = ${num(ds?.defaultEps ?? NaN)}, ${ties.map((g) => `${g.map((i) => code(rows[i].model.id)).join(' and ')} tie at ${pct(rows[g[0]].pgd[c.defaultIndex])} PGD accuracy, while R still separates them (${g.map((i) => fix(rows[i].R)).join(' vs ')})`).join('; ')}.`
      : '';
    parts.push(`${ds?.name ?? c.dataset}, ${c.models} models: ρ = ${rho(v)}, ${verdict}.${tieText}`);
  }
  L.push(`- **Ranking (claim 2, first half).** ${parts.join(' ')} With ${r.correlations.map((c) => c.models).join(' and ')} models per dataset, ρ can take only a handful of values; it is a check of order, not a statistical test.`);

  // Invariance.
  const inv = sum.invariance;
  const within = ok(inv.maxRelChangeNormalized) && inv.maxRelChangeNormalized < 0.01;
  const cleanAll = d.invChanges.every((c) => c.cleanSame);
  const ceMin = Math.min(...d.invChanges.map((c) => Math.abs(c.ceChange)));
  L.push(
    `- **Invariance (claim 1).** Multiplying the last layer by ${inv.scales.map(num).join(' or ')} changes R with the normaliser by at most ${relPct(inv.maxRelChangeNormalized)} over ${d.invChanges.length} model–scale cases, ${within ? 'inside' : '**outside**'} the 1 % PAPER.md requires. With s = 1 the same rescaling changes R by ${relPct(inv.minRelChangeRaw)} to ${relPct(inv.maxRelChangeRaw)}, so the raw KL is not a usable scale across parameterisations. Clean accuracy is ${cleanAll ? 'identical in every case' : '**not** identical in every case'}, while the mean cross-entropy changes by at least ${relPct(ceMin)}: a loss-based number would call the rescaled models more or less robust although not one decision changed.`,
  );

  // Stability.
  const st = sum.stability;
  const pinned = r.stability.filter((s) => !d.comparable.includes(s));
  const mover = mostMovingSetting(r);
  const rMed = st.medianRelRangeR;
  const accMeds = [st.medianRelRangePgdAccuracy, st.medianRelRangePgdError].filter(ok);
  let verdict: string;
  if (st.comparisons === 0 || !ok(rMed) || accMeds.length === 0) verdict = 'There is no case to compare, so this run says nothing about the claim.';
  else if (accMeds.every((v) => rMed < v)) verdict = 'This supports the claim that R depends less on the attack settings than accuracy does, on these models.';
  else if (accMeds.every((v) => rMed >= v)) verdict = '**This does not support the claim** on these models: relative to its own size, R moves more with the attack settings than accuracy does, on either scale.';
  else verdict = 'The verdict depends on the scale: R moves less than accuracy relative to the error rate but not relative to accuracy itself, so the claim is not clearly supported.';
  let without = '';
  if (mover) {
    const k = r.settings.findIndex((x) => x.label === mover.label);
    const drop = <T,>(v: T[]) => v.filter((_, i) => i !== k);
    const rs = median(d.comparable.map((s) => relativeSpread(drop(s.R)).relRange));
    const as = median(d.comparable.map((s) => relativeSpread(drop(s.acc)).relRange));
    without = ` The setting that moves R most is ${mover.label} (R changes by ${relPct(mover.change)} from the default in the median case); without it, the medians are ${pct(rs)} for R and ${pct(as)} for accuracy. R is a maximum found by a fixed-budget ascent, so whatever makes the search better or worse (step size, steps, starts) moves it, as it moves accuracy under attack.`;
  }
  L.push(
    `- **Stability (claim 2, second half).** Over ${st.settings} attack settings, the median relative range (max − min) / mean is ${pct(rMed)} for R and ${pct(st.medianRelRangePgdAccuracy)} for PGD accuracy (${pct(st.medianRelRangePgdError)} relative to the error rate 1 − accuracy), over the ${st.comparisons} model–ε cases where accuracy is not pinned near 0 %; R moved less than accuracy in ${st.rMovedLess} of ${st.comparisons}. ${verdict}${without} The order of the models, which is what a ranking uses, ${
      st.orderKeptR > st.orderKeptAccuracy ? 'is steadier under R' : st.orderKeptR === st.orderKeptAccuracy ? 'is as steady under R as under accuracy' : 'is less steady under R'
    }: it stays as under the default setting in ${st.orderKeptR} of ${st.orderCases} (dataset, ε, setting) cases for R and in ${st.orderKeptAccuracy} of ${st.orderCases} for accuracy${orderNote(d)}.${
      pinned.length
        ? ` In ${pinned.length} case${pinned.length > 1 ? 's' : ''} (${pinned.map((s) => `${code(s.model)} at ε ${num(s.eps)}`).join(', ')}) accuracy averages below ${pct(MIN_MEAN_ACCURACY, 0)} over the settings, so accuracy cannot tell these models apart there, while R still does.`
        : ''
    }`,
  );

  // Cost.
  const sr = sum.stableR;
  const timed = r.cost.map((c) => c.pgdFullSeconds / c.stableSeconds);
  L.push(
    `- **Cost (claim 3).** A 95 % CI half-width of at most ${pct(sr.relHalfWidth, 0)} of R is reached within ${r.config.cost.counts[r.config.cost.counts.length - 1]} images for ${sr.reachedWithin} of ${sr.models} models; the most demanding, ${code(sr.maxSamplesModel)}, needs about ${sr.maxSamples ?? NA} images${sr.reachedWithin < sr.models ? ' (projected beyond the largest sample count: the psi of a robust model is mostly near 0 with a few large values, a heavy tail that widens the CI relative to a small mean)' : ''}. ${(() => {
    const few = r.cost.filter((c) => c.stableN !== null && c.stableN <= 500).length;
    return few === r.cost.length ? '"A few hundred samples" holds for every model here.' : `"A few hundred samples" (stable by n = 500) holds for ${few} of ${r.cost.length} models: ${r.cost.filter((c) => !(c.stableN !== null && c.stableN <= 500)).map((c) => code(c.model)).join(', ')} need${r.cost.length - few === 1 ? 's' : ''} more.`;
  })()} Time to a stable R is ${secs(sr.medianSecondsStableR)} in the median against ${secs(sr.medianSecondsPgdFullSplit)} for PGD-20 over the grid on the full test split (extrapolated), ${Math.min(...timed).toFixed(0)}× to ${Math.max(...timed).toFixed(0)}× less. Part of that gap is only the sample count; per image, one R is one PGD run at one ε.`,
  );

  // Surfaces.
  const sParts: string[] = [];
  for (const p of r.pairs) {
    const nat = r.surfaces.find((s) => s.model === p.natural);
    const adv = r.surfaces.find((s) => s.model === p.adversarial);
    if (!nat || !adv) continue;
    const keep = new Set(pairedIndicesFor(p, r));
    const a = surfaceSummaryPlain({ ...nat, samples: nat.samples.filter((q) => keep.has(q.index)) });
    const b = surfaceSummaryPlain({ ...adv, samples: adv.samples.filter((q) => keep.has(q.index)) });
    sParts.push(
      `${code(shortName(p.natural))} → ${code(shortName(p.adversarial))} (${r.datasets.find((x) => x.id === p.dataset)?.name}, ε = ${num(nat.eps)}): crossing within ε in ${a.withinEps}/${a.n} → ${b.withinEps}/${b.n} images, median crossing a ${a.medianAText} → ${b.medianAText}, median max loss in the box ${sig(a.medianMaxLoss)} → ${sig(b.medianMaxLoss)}`,
    );
  }
  const flatter = r.pairs.every((p) => {
    const keep = new Set(pairedIndicesFor(p, r));
    const nat = r.surfaces.find((s) => s.model === p.natural);
    const adv = r.surfaces.find((s) => s.model === p.adversarial);
    if (!nat || !adv) return true;
    const a = surfaceSummaryPlain({ ...nat, samples: nat.samples.filter((q) => keep.has(q.index)) });
    const b = surfaceSummaryPlain({ ...adv, samples: adv.samples.filter((q) => keep.has(q.index)) });
    return b.withinEps <= a.withinEps && b.medianMaxLoss < a.medianMaxLoss;
  });
  const smallerEps = r.models.filter((m) => m.robust && r.pairs.some((p) => p.adversarial === m.id) && m.trainEps < (r.datasets.find((x) => x.id === m.dataset)?.defaultEps ?? 0));
  L.push(
    `- **Surfaces (§1).** ${sParts.join('; ')}. ${flatter ? 'In every pair the adversarially trained model crosses the boundary within ε on no more images and has a lower loss in the box, the picture the papers draw.' : 'Not every pair shows the papers\' picture (fewer crossings and lower loss in the box for the adversarial model); see the table.'}${smallerEps.length ? ` ${smallerEps.map((m) => `${code(m.id)} was trained at ε = ${num(m.trainEps)}`).join(' and ')}, below the dataset's ε, so ${smallerEps.length > 1 ? 'they are' : 'it is'} not expected to be flat in the whole box.` : ''}`,
  );

  // The robust-looking model where masking would matter most: the highest PGD accuracy at its dataset's ε.
  const strongest = r.ranking
    .filter((x) => x.model.robust)
    .map((x) => ({ x, acc: x.pgd[r.correlations.find((c) => c.dataset === x.model.dataset)?.defaultIndex ?? 0] }))
    .sort((a, b) => b.acc - a.acc)[0];
  const mnist = r.datasets.find((x) => x.id === 'mnist');
  L.push(
    `- **What this study does not show.** Every attack here is gradient-based, and R is itself found by gradient ascent, so a model that masks or obfuscates its gradients would look robust to both at once, and their agreement would not reveal it.${
      strongest
        ? ` This matters most for the model that looks most robust, ${code(strongest.x.model.id)} (PGD-20 accuracy ${pct(strongest.acc)} at ε = ${num(r.datasets.find((x) => x.id === strongest.x.model.dataset)?.defaultEps ?? NaN)}, R = ${fix(strongest.x.R)}): its robustness could be partly gradient masking, since it was not checked with gradient-free attacks (e.g. SPSA, Square Attack) or an ensemble such as AutoAttack, and flat surfaces along d1 and a random direction are consistent with real robustness and with masking alike.`
        : ''
    } All numbers come from one seed and the first images of each test split${mnist ? ` (the shipped MNIST split has ${mnist.testCount.toLocaleString('en-US')} images)` : ''}; the invariance test covers only a rescaling of the logits, not other reparameterisations.`,
    '',
  );
  return L;
}

/** Whether the order changes found are only ties breaking or forming (said, since that is a weaker change than a swap). */
function orderNote(d: Derived): string {
  const all = d.order.flatMap((o) => [...o.changedR.map((c) => ['R', c]), ...o.changedAcc.map((c) => ['accuracy', c])]);
  if (all.length === 0) return '';
  const swaps = all.filter(([, c]) => !c.endsWith('(ties only)'));
  return swaps.length === 0 ? ' (every change only breaks or forms a tie; no two models swap)' : ` (${swaps.length} of the ${all.length} changes swap two models: ${swaps.map(([w, c]) => `${w} under ${c}`).join('; ')})`;
}

/** Groups (indices) of at least two equal values. */
function tiedGroups(values: number[]): number[][] {
  const groups = new Map<number, number[]>();
  values.forEach((v, i) => groups.set(v, [...(groups.get(v) ?? []), i]));
  return [...groups.values()].filter((g) => g.length > 1);
}

/** The non-default setting with the largest median |R − R_default| / R_default over the stability rows. */
function mostMovingSetting(r: StudyResults): { label: string; change: number } | undefined {
  let best: { label: string; change: number } | undefined;
  r.settings.forEach((s, k) => {
    if (k === 0) return;
    const change = median(r.stability.map((row) => Math.abs(row.R[k] - row.R[0]) / row.R[0]));
    if (ok(change) && (!best || change > best.change)) best = { label: s.label, change };
  });
  return best;
}

function header(r: StudyResults): string[] {
  const m = r.machine;
  const s = r.seconds;
  const c = r.config;
  const L = ['# Validation: does R behave as the paper says?', ''];
  L.push(
    `Generated by ${code(r.command)} on ${r.date.slice(0, 10)}; do not edit by hand (every number, sentence of findings and figure comes from that run). Machine: ${m.cpu} × ${m.cores} cores (os.cpus()), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; tfjs ${m.tfjs} on the ${m.backend} backend, one thread. The run took **${secs(s.total)}** of wall time (ranking ${secs(s.ranking)}, invariance ${secs(s.invariance)}, stability ${secs(s.stability)}, cost ${secs(s.cost)}, surfaces ${secs(s.surfaces)}) on a machine shared with other work, so times are upper bounds.`,
    '',
  );
  if (r.quick) L.push('> **Reduced run (`--quick`)**: few samples, a subset of the models and settings. The numbers below show that the pipeline works, not what the full study finds.', '');
  L.push(
    `Models: ${r.models.map((x) => code(x.id)).join(', ')} (public/models/index.json). Sample counts: clean accuracy on ${c.cleanSamples > 0 ? c.cleanSamples : 'all'} test images, FGSM/PGD on ${c.attackSamples}, R on ${c.metricSamples} (ranking and cost), ${c.invarianceSamples} (invariance), ${c.stability.samples} per setting (stability), surfaces on ${c.surfaces.samples} images per dataset. Always the first images of each shipped test split, seed 0 for every random start and for d2.`,
    '',
  );
  return L;
}

/** Writes validation.md, validation/*.svg and the summary JSON; returns the paths written. */
export async function writeReport(r: StudyResults, outDir: string, summaryPath: string): Promise<string[]> {
  const d = derive(r);
  const figDir = join(outDir, 'validation');
  await mkdir(figDir, { recursive: true });
  const summary = summaryOf(r, d, 'docs/validation.md');
  const doc = [
    ...header(r),
    ...rankingSection(r),
    ...invarianceSection(r, d),
    ...stabilitySection(r, d),
    ...costSection(r),
    ...surfacesSection(r),
    ...discussion(r, d, summary),
  ].join('\n');
  const files: [string, string][] = [
    [join(outDir, 'validation.md'), doc],
    [join(figDir, 'ranking.svg'), rankingFigure(r)],
    [join(figDir, 'stability.svg'), stabilityFigure(r, d)],
    [join(figDir, 'cost.svg'), costFigure(r)],
    [summaryPath, JSON.stringify(summary, null, 1) + '\n'],
  ];
  for (const [path, text] of files) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }
  return files.map(([p]) => p);
}

