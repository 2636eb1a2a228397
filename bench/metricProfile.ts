/**
 * The WebGL metric's kernel profile in the benchmark report: per kernel, the GPU time per sample of
 * a batched run and of the naive loop (bench/browser.ts records both on Chromium's WebGL), which
 * kernels batching amortises and which it cannot, and what the gain of the whole job is bounded by.
 */
import type { KernelTime } from './jobs';

/** Per-kernel GPU time of one batched and one naive run of a job, each over its own number of samples. */
export interface MetricProfile {
  model: string;
  batched: { samples: number; kernels: KernelTime[]; wallMs: number };
  naive: { samples: number; kernels: KernelTime[]; wallMs: number };
}

/** The kernels that convolve: forward, and tfjs's input gradient. */
const CONV = ['FusedConv2D', 'Conv2D', 'Conv2DBackpropInput'];

/**
 * The per-kernel GPU time of a WebGL metric's batched and naive runs, per sample: which kernels
 * batching amortises and which it cannot (tf.profile's timer queries; a profiled run is slower
 * than a timed one, so the shares matter here, not the totals).
 */
export function metricProfileLines(p: MetricProfile): string[] {
  const perSample = (ks: KernelTime[], n: number) => new Map(ks.map((k) => [k.name, (k.ms ?? 0) / n]));
  const b = perSample(p.batched.kernels, p.batched.samples);
  const n = perSample(p.naive.kernels, p.naive.samples);
  const total = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + v, 0);
  const tb = total(b);
  const tn = total(n);
  const conv = (m: Map<string, number>) => CONV.reduce((s, k) => s + (m.get(k) ?? 0), 0);
  const names = [...b.keys()].filter((k) => (b.get(k) ?? 0) >= 0.01 * tb).slice(0, 8);
  const L = [
    '',
    `  Its kernels' GPU time per sample (tf.profile of one batched run of ${p.batched.samples} samples and one naive run of ${p.naive.samples}, after the timed runs; profiling slows both, so read the shares):`,
    '',
    '  | kernel | batched, ms per sample | naive, ms per sample | gain from batching |',
    '  | --- | ---: | ---: | ---: |',
  ];
  for (const k of names) {
    const vb = b.get(k) ?? 0;
    const vn = n.get(k) ?? 0;
    L.push(`  | ${k} | ${vb.toFixed(2)} | ${vn.toFixed(2)} | ×${(vn / vb).toFixed(1)} |`);
  }
  L.push(`  | all kernels | ${tb.toFixed(2)} | ${tn.toFixed(2)} | ×${(tn / tb).toFixed(1)} |`, '');
  const cb = conv(b);
  const cn = conv(n);
  const ob = tb - cb;
  const on = tn - cn;
  // Convolution shaders f times faster in both runs: gain (cn / f + on) / (cb / f + ob); ×4 at f below.
  const f = (cn - 4 * cb) / (4 * ob - on);
  const need =
    tn / tb >= 4
      ? 'by this profile the job already gains ×4'
      : on / ob <= 4
      ? `no speed-up of the convolution shaders alone would reach ×4 by this profile (with them free the gain would be ×${(on / ob).toFixed(1)})`
      : cn / cb >= 4
        ? 'the convolutions alone already gain ×4'
        : `×4 by this profile would take convolution shaders ×${f.toFixed(1)} as fast, in both runs (the gain with them free: ×${(on / ob).toFixed(1)})`;
  L.push(
    `  The convolutions (forward, and tfjs's Conv2DBackpropInput for the input gradients) are ${((100 * cb) / tb).toFixed(0)} % of the batched run's GPU time and gain ×${(cn / cb).toFixed(1)} from batching; every other kernel together gains ×${(on / ob).toFixed(1)}. ` +
      `On SwiftShader batching divides a convolution's cost per sample by only ×${(cn / cb).toFixed(1)}, so the job's gain stays near that: ${need}.`,
  );
  return L;
}
