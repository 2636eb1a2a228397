/**
 * The "WebGL on a real GPU" section of docs/benchmarks.md, from bench/results/gpu-webgl.json
 * (recorded by `npx tsx bench/gpu.ts record`; see bench/gpu.ts for how it is made). That file is
 * a separate run on a lent GPU machine, so its figures are only compared with one another.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/io/datasetNode';
import { isKernelEntry, jobLabel, jobUnits, type JobKind } from './jobs';
import { fmtS, MODELS, median, type PeerResult } from './common';
import type { AutoResult, ProbeResult } from './browser/auto';
import type { LabAutoResult } from './gpu/labAuto';
import { DEFAULT_CONFIG, PREVIEW_RESOLUTION } from '../src/state/config';
import { WEBGL_CONV_FLAG } from '../src/engine/webglConv';

interface GpuRecord {
  recorded: string;
  machine: string;
  command: string;
  meta: { flags: string; chromeFlags: string[]; finished: boolean };
  result: AutoResult;
  peerCpu: PeerResult | null;
  peerCuda: PeerResult | null;
}

/** Where `npx tsx bench/gpu.ts record` keeps a GPU machine's figures. */
export const GPU_RESULT = join(REPO_ROOT, 'bench', 'results', 'gpu-webgl.json');
/** Where `npx tsx bench/gpu.ts record-lab` keeps the lab's run on a GPU machine. */
export const GPU_LAB_RESULT = join(REPO_ROOT, 'bench', 'results', 'gpu-lab.json');
/** A before/after comparison of one change on a lent GPU (npx tsx bench/gpu.ts record-ab). */
export const GPU_AB_RESULT = join(REPO_ROOT, 'bench', 'results', 'gpu-ab.json');

interface GpuAb {
  recorded: string;
  machine: string;
  change: string;
  before: AutoResult['configs'];
  after: AutoResult['configs'];
}

/** The recorded before/after comparison: the same surfaces' medians, pooled over the alternated page runs. */
export function gpuAbSection(file: string): string[] {
  if (!existsSync(file)) return [];
  const ab = JSON.parse(readFileSync(file, 'utf8')) as GpuAb;
  const pool = (side: AutoResult['configs'], pick: (c: AutoResult['configs'][number]) => number[] | undefined) => side.flatMap((c) => pick(c) ?? []);
  const lines: { label: string; pick: (c: AutoResult['configs'][number]) => number[] | undefined }[] = [];
  for (const r of ab.before[0]?.rows ?? []) {
    lines.push({ label: `\`${r.model}\` ${jobLabel(r.kind, r.size)} (${r.mode})`, pick: (c) => c.rows.find((x) => x.model === r.model && x.kind === r.kind && x.mode === r.mode && x.size === r.size)?.times });
  }
  for (const ch of ab.before[0]?.probe?.chunks ?? []) {
    lines.push({ label: `CNN surface 101², chunks of ${ch.chunk}`, pick: (c) => c.probe?.chunks.find((x) => x.chunk === ch.chunk)?.times });
  }
  for (const l of ab.before[0]?.probe?.labSizes ?? []) {
    const role = l.size === PREVIEW_RESOLUTION ? " (the lab's preview grid)" : l.size === DEFAULT_CONFIG.resolution ? " (the lab's default grid)" : '';
    lines.push({ label: `CNN surface ${l.size}²${role}`, pick: (c) => c.probe?.labSizes?.find((x) => x.size === l.size)?.times });
  }
  const L = [
    `### A later change, before and after, on a lent GPU (${ab.machine.split('\n')[0]}, ${ab.recorded.slice(0, 10)})`,
    '',
    `${ab.change} Medians over every timed run of ${ab.before.length} page load(s) before and ${ab.after.length} after, alternated on the same machine:`,
    '',
    '| job | before | after | before / after |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const l of lines) {
    const [b, a] = [pool(ab.before, l.pick), pool(ab.after, l.pick)];
    if (b.length && a.length) L.push(`| ${l.label} | ${fmtS(median(b))} | ${fmtS(median(a))} | ×${(median(b) / median(a)).toFixed(2)} |`);
  }
  L.push('');
  return L;
}

interface GpuLabRecord {
  recorded: string;
  machine: string;
  command: string;
  lab: { flags: string; runs: { grid: number; finished: boolean; seconds: number; result: LabAutoResult | null; screenshot: string | null }[] };
}

/** "The lab on a GPU" (bench/results/gpu-lab.json), or nothing when no such run was recorded. */
export function gpuLabSection(file: string): string[] {
  if (!existsSync(file)) return [];
  const g = JSON.parse(readFileSync(file, 'utf8')) as GpuLabRecord;
  const [gpuLine] = g.machine.split('\n');
  const first = g.lab.runs.find((r) => r.result && !r.result.error)?.result;
  const L = ['### The lab on this GPU', ''];
  L.push(
    `\`${g.command.replace(/ \(.*\)$/, '')}\` (${gpuLine}), ${g.recorded.slice(0, 10)}: the built lab as shipped, opened once per grid in Chromium's headless shell with the flags above (window 1280 × 800); a script added to the page (bench/gpu/labAuto.ts) clicks five test images once the lab is idle and times each click with the same watcher as the CPU run. ` +
      (first ? `The lab chose: ${first.backend}; engine in ${first.thread}; renderer ${first.renderer || 'n/a'}; cross-origin isolated: ${first.isolated}.` : 'No run finished.'),
    '',
    '| grid | first surfaces and metrics done after | preview drawn (median, max) | full surface drawn (median) | long tasks (> 50 ms) during the computations |',
    '| --- | ---: | ---: | ---: | --- |',
  );
  for (const r of g.lab.runs) {
    const res = r.result;
    if (!res || res.error) {
      L.push(`| ${r.grid}² | ${res?.error ? `failed: ${res.error}` : `no result (${r.finished ? 'finished without figures' : `timed out after ${r.seconds.toFixed(0)} s`})`} | — | — | — |`);
      continue;
    }
    const previews = res.clicks.map((c) => c.previewMs).filter((v): v is number => v !== null);
    const long = res.clicks.flatMap((c) => c.longTasks);
    L.push(
      `| ${r.grid}² | ${(res.setupMs / 1000).toFixed(1)} s | ${previews.length ? `${fmtS(median(previews) / 1000)}, ${fmtS(Math.max(...previews) / 1000)}` : 'not seen'} | ${fmtS(median(res.clicks.map((c) => c.fullMs)) / 1000)} | ${long.length ? long.map((d) => `${d.toFixed(0)} ms`).join(', ') : 'none'} |`,
    );
  }
  const shots = g.lab.runs.filter((r) => r.screenshot);
  L.push('');
  if (shots.length) L.push(`Screenshots after the last click: ${shots.map((r) => `[${r.grid}²](${String(r.screenshot).replace(/^docs\//, '')})`).join(', ')}.`, '');
  return L;
}

const KINDS: JobKind[] = ['surface', 'metric', 'fgsm', 'pgd'];

export function gpuSection(file: string): string[] {
  if (!existsSync(file)) return [];
  const g = JSON.parse(readFileSync(file, 'utf8')) as GpuRecord;
  const webgl = g.result.configs.find((c) => c.backend === 'webgl');
  const wasm = g.result.configs.find((c) => c.backend === 'wasm');
  if (!webgl) return [];
  const L: string[] = ['## WebGL on a real GPU (a lent machine, a separate run)', ''];
  const [gpuLine, cpuLine] = g.machine.split('\n');
  L.push(
    `Not from the run above: \`${g.command.replace(/ \(.*\)$/, '')}\` on a GPU machine lent to one work session (${gpuLine}; ${cpuLine}), ${g.recorded.slice(0, 10)}, after \`npx tsx bench/gpu.ts prepare\` here; the figures are kept in bench/results/gpu-webgl.json and every bench run reports them again. ` +
      `Chromium ${String(webgl.info.userAgent ?? '').replace(/^.*HeadlessChrome\/([\d.]+).*$/, '$1')} (Debian's headless shell), renderer ${String(webgl.info.renderer)}, flags \`${g.meta.chromeFlags.filter((f) => /angle|gl|vulkan|gpu/i.test(f)).join(' ')}\`. ` +
      `The same machine's CPU ran the wasm build (${String(wasm?.info.threads ?? '?')} threads) and the PyTorch peer (${g.peerCpu ? `torch ${g.peerCpu.torch}, ${g.peerCpu.threads} threads` : 'not run'}), and its GPU ran the peer with CUDA${g.peerCuda?.device ? ` (${g.peerCuda.device})` : ''}. Ratios compare figures from that machine only. Medians of 3 timed runs after a warm-up; naive WebGL loops are shorter than the batched jobs and compared by throughput.`,
    '',
  );
  L.push('| model | job | WebGL (GPU) | WebGL naive | batched vs naive | wasm (CPU) | PyTorch CPU | PyTorch CUDA | WebGL / PyTorch CPU | WebGL / PyTorch CUDA |');
  L.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const speedups: number[] = [];
  const vsCpu: number[] = [];
  const vsCuda: number[] = [];
  for (const id of MODELS) {
    for (const kind of KINDS) {
      const find = (rows: GpuRecord['result']['configs'][number]['rows'] | undefined, mode: string) => rows?.find((r) => r.model === id && r.kind === kind && r.mode === mode);
      const b = find(webgl.rows, 'batched');
      if (!b) continue;
      const n = find(webgl.rows, 'naive');
      const w = find(wasm?.rows, 'batched');
      const bs = median(b.times);
      const rate = (size: number, s: number) => jobUnits({ kind, size }).units / s;
      const peer = (p: PeerResult | null) => p?.models[id]?.[`${kind}/batched/${b.size}`]?.seconds;
      const pc = peer(g.peerCpu);
      const pg = peer(g.peerCuda);
      if (n) speedups.push(rate(b.size, bs) / rate(n.size, median(n.times)));
      if (pc) vsCpu.push(bs / pc);
      if (pg) vsCuda.push(bs / pg);
      L.push(
        `| \`${id}\` | ${jobLabel(kind, b.size)} | ${fmtS(bs)} | ${n ? `${fmtS(median(n.times))} (${n.size}${kind === 'surface' ? '²' : ''})` : '—'} | ${n ? `×${(rate(b.size, bs) / rate(n.size, median(n.times))).toFixed(1)}` : '—'} | ${w ? fmtS(median(w.times)) : '—'} | ${pc ? fmtS(pc) : '—'} | ${pg ? fmtS(pg) : '—'} | ${pc ? `${(bs / pc).toFixed(1)}×` : '—'} | ${pg ? `${(bs / pg).toFixed(0)}×` : '—'} |`,
      );
    }
  }
  L.push('');
  const agree = Object.entries(webgl.agreement).map(([id, d]) => `${id} ${d.toExponential(1)}`);
  if (agree.length) L.push(`Agreement: the WebGL 101² surface's loss against Node wasm's (from this repository's bench run, same weights, sample and directions), max |diff|: ${agree.join(', ')}.`, '');
  const cnn = webgl.rows.find((r) => r.model === 'mnist-cnn-natural' && r.kind === 'surface' && r.mode === 'batched');
  const cudaSurf = g.peerCuda?.models['mnist-cnn-natural']?.['surface/batched/101']?.seconds;
  const span = (v: number[], digits: number) => (v.length ? `${Math.min(...v).toFixed(digits)}–${Math.max(...v).toFixed(digits)}×` : 'n/a');
  const probe = webgl.probe;
  if (cnn && cudaSurf) {
    L.push(
      `What this says: batched, the WebGL jobs reach ${span(speedups, 0)} the naive loop's throughput on this GPU, but they take ${span(vsCpu, 1)} the time of PyTorch on the same machine's CPU and ${span(vsCuda, 0)} that of PyTorch with CUDA. ` +
        `The CNN surface took ${cnn.times.map(fmtS).join(', ')} in its three timed runs (${webgl.backToBack ? 'back to back after its warm-ups' : "interleaved with the naive loop's"})${probe ? `, and ${(probe.chunks.find((c) => c.chunk === engineChunk(probe))?.times ?? []).map(fmtS).join(', ')} at the same chunk size in the runs below` : ''}; PyTorch with CUDA did the same work in ${fmtS(cudaSurf)}, so arithmetic is not what costs the time.` +
        (webgl.probe ? ' Where it goes instead is measured below.' : " Where it goes inside tfjs's WebGL backend was not profiled in this run."),
      '',
    );
  }
  if (webgl.probe) L.push(...probeSection(webgl.probe, cudaSurf));
  L.push(...gpuAbSection(GPU_AB_RESULT));
  L.push(...gpuLabSection(GPU_LAB_RESULT));
  return L;
}

/** The engine's chunk in a probe: recorded since MAX_CHUNK became 2048, and 1024 in the results from before. */
function engineChunk(p: ProbeResult): number {
  return p.engineChunk ?? 1024;
}

/** The probe of the WebGL configuration: the CNN surface by chunk size, and its kernel profile. */
function probeSection(p: ProbeResult, cudaSeconds: number | undefined): string[] {
  const L = ['### Where the WebGL time goes (CNN surface 101², the same machine)', ''];
  L.push('| points per batch | batches | time (median of 3) | runs |', '| ---: | ---: | ---: | --- |');
  for (const c of p.chunks) L.push(`| ${c.chunk} | ${Math.ceil((101 * 101) / c.chunk)} | ${fmtS(median(c.times))} | ${c.times.map(fmtS).join(', ')} |`);
  L.push('');
  // Scopes wrap the kernels they run (counted there); they take no GPU time of their own.
  const kernels = p.kernels.filter((k) => isKernelEntry(k.name));
  const timed = kernels.filter((k) => k.ms !== null) as { name: string; ms: number; calls: number }[];
  const gpuMs = timed.reduce((s, k) => s + k.ms, 0);
  const calls = kernels.reduce((s, k) => s + k.calls, 0);
  if (timed.length && p.timer.reliable) {
    L.push(
      `Kernel profile (tf.profile at the engine's chunk size, GPU time from WebGL timer queries): ${calls} kernel calls; the GPU was busy ${gpuMs.toFixed(1)} ms of the profiled run's ${p.wallMs.toFixed(0)} ms wall time (${((100 * gpuMs) / p.wallMs).toFixed(0)} %)${cudaSeconds ? `, against ${fmtS(cudaSeconds)} for PyTorch's whole job with CUDA` : ''}. Largest:`,
      '',
      '| kernel | GPU ms | calls |',
      '| --- | ---: | ---: |',
      ...timed.slice(0, 8).map((k) => `| ${k.name} | ${k.ms.toFixed(2)} | ${k.calls} |`),
      '',
    );
    const top = timed[0];
    const at = (chunk: number) => p.chunks.find((c) => c.chunk === chunk);
    const [engine, whole] = [at(engineChunk(p)), at(101 * 101)];
    L.push(
      `What dominates: the GPU's own work, and within it ${top.name} (${((100 * top.ms) / gpuMs).toFixed(0)} % of the GPU time: ${top.ms.toFixed(1)} ms${cudaSeconds ? ` for work that PyTorch with CUDA finishes, whole job included, in ${fmtS(cudaSeconds)}` : ''}). WebGL runs a convolution as a fragment shader over textures, each fragment writing one 2 × 2 block of outputs (for tfjs's kernels and Ravine's alike, compared below), which is the cost here; transfers, dispatch and read-backs are the remaining ${(100 - (100 * gpuMs) / p.wallMs).toFixed(0)} % of the wall time` +
        (engine && whole ? `, and bigger batches amortise part of them: one ${whole.chunk}-point batch takes ${fmtS(median(whole.times))} against ${fmtS(median(engine.times))} in the engine's ${engine.chunk}-point chunks (its 64 MiB budget is sized for integrated GPUs).` : '.'),
      '',
    );
  } else {
    L.push(`Kernel profile: ${calls} kernel calls in ${p.wallMs.toFixed(0)} ms of wall time; WebGL timer queries were not available (version ${p.timer.version}), so the GPU's share was not measured.`, '');
  }
  if (p.labSizes?.length) L.push(...labSizesSection(p.labSizes));
  if (p.flags?.length) L.push(...flagsSection(p.flags));
  return L;
}

/** The surface at the lab's own grid sides on this GPU (the probe's `labSizes`). */
function labSizesSection(sizes: NonNullable<ProbeResult['labSizes']>): string[] {
  const preview = sizes.find((l) => l.size === PREVIEW_RESOLUTION);
  return [
    `The lab's own grids on this GPU (the CNN surface at the engine's chunk size, timed in the page's worker from the call to the values read back; the lab then draws them), ${sizes[0]?.times.length ?? 0} runs each after a warm-up, interleaved:`,
    '',
    '| grid | points | median | fastest | slowest |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...sizes.map((l) => `| ${l.size}²${l.size === PREVIEW_RESOLUTION ? ' (preview)' : l.size === DEFAULT_CONFIG.resolution ? ' (default)' : ''} | ${l.size * l.size} | ${fmtS(median(l.times))} | ${fmtS(Math.min(...l.times))} | ${fmtS(Math.max(...l.times))} |`),
    '',
    ...(preview
      ? [
          Math.max(...preview.times) < 0.2
            ? `The lab's preview target (≤ 0.2 s from the click to the drawn preview) leaves ${fmtS(0.2 - Math.max(...preview.times))} beyond the slowest preview computation here for the message to the page and the drawing.`
            : `The slowest preview computation here (${fmtS(Math.max(...preview.times))}) alone exceeds the lab's 0.2 s preview target.`,
          '',
        ]
      : []),
  ];
}

/**
 * The same jobs with other WebGL convolution kernels against the defaults (the probe's `flags`):
 * tfjs's own kernels instead of Ravine's shaders (`RAVINE_WEBGL_CONV=false`), or, in runs
 * recorded before those shaders, tfjs's own kernel variants.
 */
function flagsSection(variants: NonNullable<ProbeResult['flags']>): string[] {
  const name = (f: Record<string, boolean | number>) => (Object.keys(f).length ? Object.entries(f).map(([k, v]) => `\`${k}=${String(v)}\``).join(', ') : 'defaults');
  const base = variants.find((v) => Object.keys(v.flags).length === 0);
  const tfjsOwn = (v: (typeof variants)[number]) => v.flags[WEBGL_CONV_FLAG] === false;
  const versusRavine = variants.some(tfjsOwn);
  const L = [
    versusRavine
      ? `The same jobs at the engine's chunk size (CNN surface 101², metric on 100 samples × PGD-20) with the convolutions in tfjs's own WebGL kernels (\`${WEBGL_CONV_FLAG}=false\`: im2col and a matrix product, and its input-gradient shader; with \`WEBGL_EXP_CONV=true\`, its experimental packed convolution) instead of Ravine's shaders (the defaults; src/engine/webglConv.ts), interleaved run by run after a warm-up each; max |diff| is the surface's loss against the defaults':`
      : "tfjs's other WebGL convolution kernels, chosen by its environment flags, on the same jobs at the engine's chunk size (CNN surface 101², metric on 100 samples × PGD-20), interleaved run by run after a warm-up each; max |diff| is the surface's loss against the defaults':",
    '',
    '| flags | surface (median of 3) | metric (median of 3) | surface time vs defaults | metric time vs defaults | max \\|diff\\| |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  // A flag that tfjs had read before the probe set it changes nothing: the same kernels run, and
  // the surface comes out identical to the bit. Such a row measures the defaults again.
  const inert = (v: (typeof variants)[number]) => v !== base && v.maxDiff === 0;
  const vs = (v: (typeof variants)[number], job: 'surface' | 'metric') => (base && v !== base ? median(v[job]) / median(base[job]) : 1);
  for (const v of variants) {
    const cell = (job: 'surface' | 'metric') => (base && v !== base ? `×${vs(v, job).toFixed(2)}` : '—');
    L.push(`| ${name(v.flags)}${inert(v) ? ' (no effect)' : ''} | ${fmtS(median(v.surface))} | ${fmtS(median(v.metric))} | ${cell('surface')} | ${cell('metric')} | ${v.maxDiff.toExponential(1)} |`);
  }
  const real = variants.filter((v) => v !== base && !inert(v));
  if (variants.some(inert)) {
    L.push('', `"No effect": ${variants.filter(inert).map((v) => name(v.flags)).join(', ')} gave a surface identical to the defaults' to the bit, so the same kernels ran (most likely tfjs had read the flag before the probe set it); that row measures the defaults again and shows the run-to-run spread.`);
  }
  if (base && versusRavine) {
    const tfjs = real.filter(tfjsOwn);
    const fastest = (job: 'surface' | 'metric') => tfjs.reduce((a, v) => (median(v[job]) < median(a[job]) ? v : a));
    const [s, m] = [fastest('surface'), fastest('metric')];
    L.push(
      '',
      `Against tfjs's faster kernel on each job, Ravine's shaders take the surface from ${fmtS(median(s.surface))} to ${fmtS(median(base.surface))} (×${vs(s, 'surface').toFixed(2)} faster) and the metric from ${fmtS(median(m.metric))} to ${fmtS(median(base.metric))} (×${vs(m, 'metric').toFixed(2)}), with the surfaces agreeing to ${Math.max(...tfjs.map((v) => v.maxDiff)).toExponential(1)}.`,
      '',
    );
    return L;
  }
  const best = base && real.length ? Math.max(...real.map((v) => 1 / vs(v, 'surface'))) : 0;
  L.push(
    '',
    base && real.length && best < 1.2
      ? `${best < 1.005 ? `None of them is faster than the defaults on the surface (the best ×${best.toFixed(2)})` : `None of them is more than ×${best.toFixed(2)} faster than the defaults on the surface`}, so the lab keeps tfjs's defaults: on this GPU the convolution kernels themselves, not the choice between them, are what is slow.`
      : 'Speed-ups above are relative to the defaults in this run only.',
    '',
  );
  return L;
}
