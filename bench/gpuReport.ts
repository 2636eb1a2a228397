/**
 * The "WebGL on a real GPU" section of docs/benchmarks.md, from bench/results/gpu-webgl.json
 * (recorded by `npx tsx bench/gpu.ts record`; see bench/gpu.ts for how it is made). That file is
 * a separate run on a lent GPU machine, so its figures are only compared with one another.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/io/datasetNode';
import { jobLabel, jobUnits, type JobKind } from './jobs';
import { fmtS, MODELS, median, type PeerResult } from './common';
import type { AutoResult } from './browser/auto';

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
  if (cnn && cudaSurf) {
    L.push(
      `What this says: batched, the WebGL jobs reach ${span(speedups, 0)} the naive loop's throughput on this GPU, but they take ${span(vsCpu, 1)} the time of PyTorch on the same machine's CPU and ${span(vsCuda, 0)} that of PyTorch with CUDA. ` +
        `The CNN surface took ${cnn.times.map(fmtS).join(', ')} in its three timed runs; PyTorch with CUDA did the same work in ${fmtS(cudaSurf)}, so arithmetic is not what costs the time. ` +
        "Where it goes inside tfjs's WebGL backend (a shader pass per layer over textures, packing, the read-back of each chunk) was not profiled in this run.",
      '',
    );
  }
  return L;
}
