/**
 * Ravine's benchmark (not a test): `npm run bench`. Writes docs/benchmarks.md.
 *
 * Jobs, on the built-in MNIST CNN and MLP (bench/jobs.ts): a 101 × 101 surface, the metric on
 * 100 samples with PGD-20, FGSM and PGD-20 accuracy on 1,000 samples; each batched (the
 * engine's chunks) and naive (one grid point or sample per pass). Where:
 *   Node      tfjs-wasm SIMD with 1 thread (the CLI's default) and with 2 threads
 *             (src/cli/wasmThreads.ts, the CLI's --threads), and tfjs's cpu backend (scaled down); one process
 *             per configuration (bench/node.ts);
 *   Chromium  headless, the benchmark page (bench/browser/): wasm with threads, wasm
 *             single-threaded, WebGL on SwiftShader (scaled down);
 *   the lab   the built app: preview and full-surface latency after a click, long tasks,
 *             engine memory over 100 new surfaces (bench/lab.ts);
 *   PyTorch   the peer (bench/peer.py), same weights, inputs, directions and random starts,
 *             only with --peer (installs Debian's python3-torch with apt-get if missing); its
 *             batched jobs run twice (after the Node runs and at the end), the faster kept.
 * Medians of RUNS timed runs after untimed warm-ups (BATCHED_WARMUPS of a batched job), each job's runs back to back.
 *
 *   npm run bench                       # everything but the peer (~10 min on 2 cores)
 *   npm run bench -- --peer             # with the PyTorch peer
 *   npm run bench -- --quick            # smoke run: small jobs, one run each (does not write docs)
 *   npm run bench -- --skip=browser,lab # leave parts out (roofline, node, threads, cpu, browser,
 *                                       # lab); writes .cache/bench/benchmarks-partial.md, not docs
 *   npm run bench -- --report           # rewrite docs/benchmarks.md from the last full run's
 *                                       # figures (.cache/bench/report-input.json), measuring nothing
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/io/datasetNode';
import { CHUNK_BUDGET_BYTES } from '../src/engine/schedule';
import { runBrowserBench, type BrowserConfigResult } from './browser';
import { metricProfileLines } from './metricProfile';
import { WEBGL_CONV_FLAG } from '../src/engine/webglConv';
import { BATCHED_WARMUPS, BENCH_DIR, ensureBenchDir, fmtBytes, fmtS, type PeerResult, loadF32, machineSummary, maxAbsDiff, median, MODELS, throughput, type ModelId, type Row } from './common';
import { BENCH_EPS, isKernelEntry, jobLabel, jobUnits, type JobKind } from './jobs';
import { splitNote } from './splitNote';
import { runLabBench, type LabResult } from './lab';
import { DEFAULT_CONFIG, PREVIEW_RESOLUTION } from '../src/state/config';
import type { NodeResult } from './node';
import { GPU_RESULT, gpuSection } from './gpuReport';
import type { RoofResult } from './roofline';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const withPeer = args.includes('--peer');
const reportOnly = args.includes('--report');
const skip = new Set((args.find((a) => a.startsWith('--skip='))?.slice(7) ?? '').split(',').filter(Boolean));
/** Timed runs per job (medians); 3 keeps the whole bench near 10 minutes on 2 cores. */
const RUNS = quick ? 1 : 3;
/** The grid the issue's lab target names ("the full 101² surface follows"); the lab opens on 41². */
const LAB_ISSUE_GRID = 101;
/** The peer's Python: Debian's, where apt-get puts python3-torch (not a pyenv shim). */
const PYTHON = '/usr/bin/python3';

const started = Date.now();
const log = (s: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}`);

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average ${os.loadavg().map((v) => v.toFixed(2)).join(', ')}`;
  }
}

interface RoofSummary {
  cores: number;
  wasm: RoofResult[];
  native: RoofResult[];
  unsupported: string[];
}

/** The arithmetic ceiling of wasm SIMD (bench/roofline.ts), in its own process with relaxed SIMD on. */
function runRoofline(): RoofSummary | null {
  log('roofline: wasm SIMD and native multiply-add ceilings …');
  const file = join(BENCH_DIR, 'roofline.json');
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', join(REPO_ROOT, 'bench', 'roofline.ts'), '--json', file], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    log(`roofline failed (exit ${r.status})`);
    return null;
  }
  return JSON.parse(readFileSync(file, 'utf8')) as RoofSummary;
}

function runNode(config: 'wasm1' | 'wasm2' | 'cpu'): NodeResult | null {
  log(`Node: ${config} …`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', 'node.ts'), config, String(RUNS), ...(quick ? ['--quick'] : [])], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) {
    log(`Node ${config} failed (exit ${r.status}); its rows are missing from the report`);
    return null;
  }
  return JSON.parse(readFileSync(join(BENCH_DIR, `node-${config}.json`), 'utf8')) as NodeResult;
}

function peerAvailable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;
}

/** Installs the peer's packages with apt-get (Debian). Says what it does; false on failure. */
function installPeer(): boolean {
  log('peer: python3-torch is missing; installing it with apt-get (Debian packages: python3-torch, and libopenblas0-pthread so that its Linear layers do not run on the reference BLAS) …');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const cmd of [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', 'python3-torch', 'libopenblas0-pthread']]) {
    const r = spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit', env });
    if (r.status !== 0) return false;
  }
  return peerAvailable();
}

/** `file`: the result's name in .cache/bench for a batched-only run (default peer-1thread.json). */
function runPeer(cores: number, batchedOnly = false, file = 'peer-1thread.json'): PeerResult | null {
  if (!peerAvailable() && !installPeer()) {
    log('peer: PyTorch could not be installed; the peer is skipped');
    return null;
  }
  log(`peer: PyTorch on ${cores} thread(s)${batchedOnly ? ', batched jobs only' : ''} …`);
  const r = spawnSync(PYTHON, [join(REPO_ROOT, 'bench', 'peer.py'), BENCH_DIR, String(RUNS), String(cores), ...(batchedOnly ? ['batched', file] : [])], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, OMP_NUM_THREADS: String(cores), OPENBLAS_NUM_THREADS: '1' } });
  if (r.status !== 0) {
    log(`peer failed (exit ${r.status})`);
    return null;
  }
  return JSON.parse(readFileSync(join(BENCH_DIR, batchedOnly ? file : 'peer.json'), 'utf8')) as PeerResult;
}

/**
 * Keeps, per batched job, the faster of two PyTorch sessions (`early` ran right after Ravine's
 * Node runs, `late` at the end): another job on this shared machine slows whichever session it
 * overlaps, and a slowed peer would flatter Ravine. Returns how many jobs came from `early`.
 */
function keepFasterPeer(late: PeerResult, early: PeerResult | null): { fromEarly: number; jobs: number } {
  let fromEarly = 0;
  let jobs = 0;
  for (const [id, byKey] of Object.entries(late.models)) {
    for (const [key, entry] of Object.entries(byKey)) {
      if (!key.includes('/batched/')) continue;
      jobs++;
      const e = early?.models[id]?.[key];
      if (e && e.seconds < entry.seconds) {
        byKey[key] = { ...entry, seconds: e.seconds, times: e.times, batch: e.batch, session: 'early' };
        fromEarly++;
      }
    }
  }
  return { fromEarly, jobs };
}

const fmtRate = (r: Pick<Row, 'kind' | 'size' | 'seconds'>) => `${throughput(r).toFixed(0)} ${jobUnits(r).unit}/s`;
const gflops = (r: Row) => (r.flops / r.seconds / 1e9).toFixed(1);
const fmtE = (v: number) => (Number.isFinite(v) ? v.toExponential(1) : 'n/a');

/**
 * The agreement table's rows, read from the arrays this run left in .cache/bench (kept in the
 * report's input, so that `--report` does not read arrays a later run has replaced).
 */
function agreementRows(rows: Row[], node1: string, browser: BrowserConfigResult[], peer: PeerResult | null): string[] {
  const agree: string[] = [];
  for (const id of MODELS) {
    const g = findRow(rows, node1, id, 'surface', 'batched')?.size;
    if (!g) continue;
    const base = `wasm1-${id}-surface-batched-${g}`;
    const tryLoad = (n: string) => (existsSync(join(BENCH_DIR, n)) ? loadF32(n) : null);
    const loss = tryLoad(`${base}-loss.npy`);
    const margin = tryLoad(`${base}-margin.npy`);
    const nGrid = findRow(rows, node1, id, 'surface', 'naive')?.size;
    if (loss && nGrid === g) {
      const nl = tryLoad(`wasm1-${id}-surface-naive-${g}-loss.npy`);
      if (nl) agree.push(`| ${id} | surface loss, Node wasm batched vs naive | ${fmtE(maxAbsDiff(loss, nl))} |`);
    }
    const w2 = tryLoad(`wasm2-${id}-surface-batched-${g}-loss.npy`);
    if (loss && w2) agree.push(`| ${id} | surface loss, Node wasm 1 thread vs 2 threads | ${fmtE(maxAbsDiff(loss, w2))} |`);
    for (const b of browser) if (b.agreement[id] !== undefined) agree.push(`| ${id} | surface loss, Node wasm vs ${b.env} | ${fmtE(b.agreement[id])} |`);
    if (peer && loss && margin) {
      const pl = tryLoad(`peer-${id}-surface-batched-loss.npy`);
      const pm = tryLoad(`peer-${id}-surface-batched-margin.npy`);
      if (pl && pm) {
        agree.push(`| ${id} | surface ${g}² loss (CE), Ravine (Node wasm) vs PyTorch | ${fmtE(maxAbsDiff(loss, pl))} |`);
        agree.push(`| ${id} | surface ${g}² margin, Ravine vs PyTorch | ${fmtE(maxAbsDiff(margin, pm))} |`);
      }
      const mSize = findRow(rows, node1, id, 'metric', 'batched')?.size;
      const sk = tryLoad(`wasm1-${id}-startkl.npy`);
      const psk = tryLoad(`peer-${id}-metric-batched-startkl.npy`);
      if (sk && psk) agree.push(`| ${id} | metric: KL at each sample's random start (the first point both PGD runs evaluate), ${psk.length} samples | ${fmtE(maxAbsDiff(sk.subarray(0, psk.length), psk))} |`);
      const psi = mSize ? tryLoad(`wasm1-${id}-metric-batched-${mSize}-psi.npy`) : null;
      const ppsi = tryLoad(`peer-${id}-metric-batched-psi.npy`);
      if (psi && ppsi && psi.length === ppsi.length) {
        let within = 0;
        for (let i = 0; i < psi.length; i++) if (Math.abs(psi[i] - ppsi[i]) <= 1e-4) within++;
        const R = psi.reduce((s, v) => s + v, 0) / psi.length;
        const pR = ppsi.reduce((s, v) => s + v, 0) / ppsi.length;
        agree.push(`| ${id} | metric after PGD-20: psi max \\|diff\\| ${fmtE(maxAbsDiff(psi, ppsi))}, ${within}/${psi.length} samples within 1e-4; R ${R.toFixed(5)} vs ${pR.toFixed(5)} | ${fmtE(Math.abs(R - pR))} (R) |`);
      }
      for (const kind of ['fgsm', 'pgd'] as const) {
        const rb = findRow(rows, node1, id, kind, 'batched');
        const f = rb ? join(BENCH_DIR, `wasm1-${id}-${kind}-batched-${rb.size}.json`) : '';
        const pv = peer.models[id]?.[`${kind}/batched/${rb?.size}`];
        if (rb && existsSync(f) && pv?.correct !== undefined) {
          const mine = JSON.parse(readFileSync(f, 'utf8')) as { correct: number };
          agree.push(`| ${id} | ${kind.toUpperCase()} accuracy at ε = ${BENCH_EPS} on ${rb.size} samples: Ravine ${mine.correct}, PyTorch ${pv.correct} correct | ${Math.abs(mine.correct - pv.correct)} sample(s) |`);
        }
      }
    }
  }
  return agree;
}

/** The rows' name for the peer's 1-thread run. */
function peerOneThreadEnv(peer: PeerResult): string {
  return `PyTorch ${peer.torch} CPU (1 thread)`;
}

function findRow(rows: Row[], env: string, model: string, kind: JobKind, mode: string): Row | undefined {
  return rows.find((r) => r.env === env && r.model === model && r.kind === kind && r.mode === mode);
}

async function main(): Promise<void> {
  ensureBenchDir();
  if (reportOnly) {
    // The text only: the figures, the command and the date are those of the run that measured them.
    const file = join(BENCH_DIR, 'report-input.json');
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run bench\` (a full run) first`);
    writeFileSync(join(REPO_ROOT, 'docs', 'benchmarks.md'), report(JSON.parse(readFileSync(file, 'utf8')) as ReportInput, new Date().toISOString()));
    log(`rewrote docs/benchmarks.md from ${file}`);
    process.exit(0);
  }
  const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
  const machine = machineSummary();
  const loadBefore = uptime();
  log(`command: ${command}`);
  log(`machine: ${machine.text}`);
  log(`uptime before: ${loadBefore}`);

  // First, while nothing else runs: the ceiling the kernels below are measured against.
  const roof = skip.has('roofline') ? null : runRoofline();
  const nodeResults: NodeResult[] = [];
  if (!skip.has('node')) {
    const w1 = runNode('wasm1');
    if (w1) nodeResults.push(w1);
  }
  if (!skip.has('threads') && !skip.has('node')) {
    const w2 = runNode('wasm2');
    if (w2) nodeResults.push(w2);
  }
  if (!skip.has('cpu') && !skip.has('node')) {
    const c = runNode('cpu');
    if (c) nodeResults.push(c);
  }
  const rows: Row[] = nodeResults.flatMap((r) => r.rows);
  const wasm1 = nodeResults.find((r) => r.config === 'wasm1');
  const flopsPerSample = {} as Record<ModelId, number>;
  for (const id of MODELS) {
    const r = rows.find((x) => x.model === id && x.kind === 'surface');
    flopsPerSample[id] = r ? r.flops / (r.size * r.size) : 0;
  }

  // The peer's first session (batched jobs, all cores): see keepFasterPeer.
  const peerEarly = withPeer && existsSync(join(BENCH_DIR, 'bench.json')) ? runPeer(machine.cores, true, 'peer-early.json') : null;

  let browser: BrowserConfigResult[] = [];
  if (!skip.has('browser')) {
    if (!existsSync(join(BENCH_DIR, 'mnist-cnn-natural-d1.npy'))) log('browser: skipped (needs the directions that the Node wasm part writes)');
    else {
      log('browser: building the benchmark page and starting Chromium …');
      try {
        browser = await runBrowserBench(RUNS, quick, flopsPerSample, log);
        rows.push(...browser.flatMap((b) => b.rows));
      } catch (e) {
        log(`browser: failed: ${(e as Error).message}`);
      }
    }
  }

  let lab: LabResult | null = null;
  let labIssueGrid: LabResult | null = null;
  if (!skip.has('lab')) {
    log('lab: building the app and measuring latency and memory …');
    try {
      lab = await runLabBench(quick, log);
      // The issue's own condition: the preview, then the full 101² surface.
      log(`lab: latency again with a ${LAB_ISSUE_GRID}² grid …`);
      labIssueGrid = await runLabBench(quick, log, { resolution: LAB_ISSUE_GRID, latencyOnly: true, reuseBuild: true });
    } catch (e) {
      log(`lab: failed: ${(e as Error).message}`);
    }
  }

  let peer: PeerResult | null = null;
  let peer1: PeerResult | null = null;
  if (withPeer) {
    if (!existsSync(join(BENCH_DIR, 'bench.json'))) log('peer: skipped (needs the arrays the Node wasm part dumps)');
    else {
      peer = runPeer(machine.cores);
      if (peer) peer.sessions = keepFasterPeer(peer, peerEarly);
      // On a loaded machine OpenMP's threads wait on each other; one thread shows how much.
      if (peer && machine.cores > 1) peer1 = runPeer(1, true);
    }
  } else {
    log('peer: skipped (run `npm run bench -- --peer` to compare with PyTorch)');
  }
  const peerEnv = peer ? `PyTorch ${peer.torch} CPU (${peer.threads} threads)` : '';
  for (const [pr, env] of [[peer, peerEnv], [peer1, peer1 ? peerOneThreadEnv(peer1) : '']] as const) {
    if (!pr) continue;
    for (const id of MODELS) {
      for (const [key, v] of Object.entries(pr.models[id] ?? {})) {
        const [kind, mode, size] = key.split('/');
        const units = kind === 'surface' ? Number(size) ** 2 : Number(size);
        const ref = rows.find((r) => r.model === id && r.kind === kind && r.mode === mode && r.size === Number(size));
        rows.push({ env, model: id, kind: kind as JobKind, mode: mode as Row['mode'], size: Number(size), times: v.times, seconds: v.seconds, flops: ref ? (ref.flops / jobUnits(ref).units) * units : 0 });
      }
    }
  }
  const loadAfter = uptime();
  log(`uptime after: ${loadAfter}`);
  const agreement = agreementRows(rows, wasm1?.env ?? '', browser, peer);
  const input: ReportInput = { command, generatedAt: new Date().toISOString(), machine: machine.text, loadBefore, loadAfter, rows, agreement, nodeResults, wasm1, browser, lab, labIssueGrid, peer, peerEnv, roof, batchedWarmups: BATCHED_WARMUPS };
  // Only a full run's figures are what `--report` renders again; a run that leaves parts out
  // keeps its own, so it does not replace them.
  writeFileSync(join(BENCH_DIR, quick ? 'report-input-quick.json' : skip.size > 0 ? 'report-input-partial.json' : 'report-input.json'), JSON.stringify(input));
  const md = report(input);
  if (quick || skip.size > 0) {
    // docs/benchmarks.md reports every target from one full run; a smoke run or one that leaves
    // parts out would replace it with a document missing figures.
    const file = join(BENCH_DIR, quick ? 'benchmarks-quick.md' : 'benchmarks-partial.md');
    writeFileSync(file, md);
    log(`${quick ? 'quick' : 'partial'} run: wrote ${file} (docs/benchmarks.md is only written by a full run)`);
  } else {
    writeFileSync(join(REPO_ROOT, 'docs', 'benchmarks.md'), md);
    log('wrote docs/benchmarks.md');
  }
  process.exit(0);
}

interface ReportInput {
  command: string;
  /** When the run finished (ISO 8601). */
  generatedAt: string;
  machine: string;
  loadBefore: string;
  loadAfter: string;
  rows: Row[];
  /** The agreement table's rows (agreementRows). */
  agreement: string[];
  nodeResults: NodeResult[];
  wasm1: NodeResult | undefined;
  browser: BrowserConfigResult[];
  lab: LabResult | null;
  /** The lab's latency at the issue's 101² grid (clicks only); absent in runs before it was measured. */
  labIssueGrid?: LabResult | null;
  peer: PeerResult | null;
  peerEnv: string;
  roof: RoofSummary | null;
  /** Untimed runs of each batched job before its timed ones (BATCHED_WARMUPS); absent in runs made with one. */
  batchedWarmups?: number;
}

/** The helper threads of Ravine's wasm kernels in one configuration, for the header lines. */
function helperNote(h: unknown): string {
  const v = h as { started?: number; ready?: number; jobs?: number; samples?: number; build?: string | null } | undefined;
  if (!v || typeof v.started !== 'number') return '';
  const build = v.build === 'relaxed SIMD' ? ' (relaxed-SIMD build: fused multiply-adds)' : v.build === 'SIMD' ? ' (SIMD build, no relaxed SIMD: separate multiply and add)' : '';
  return v.started === 0 ? `, Ravine's kernels${build} on 1 thread` : `, Ravine's kernels${build} on ${v.started + 1} threads (${v.ready} helper${v.ready === 1 ? '' : 's'} ready, ${v.samples === undefined ? `${v.jobs} shares done by helpers` : `helpers took part in ${v.jobs} kernel calls, with ${v.samples} of their samples or rows`}; XNNPACK on the calling thread)`;
}

/** `rewrittenAt`: when `--report` rendered the text again from the run's figures. */
function report(x: ReportInput, rewrittenAt?: string): string {
  const { rows, peer, peerEnv, lab, wasm1 } = x;
  const L: string[] = [];
  const envs = [...new Set(rows.map((r) => r.env))];
  const node1 = wasm1?.env ?? '';
  const node2 = x.nodeResults.find((r) => r.config === 'wasm2')?.env ?? '';
  const chromeWasm = x.browser.find((b) => b.env.includes('wasm') && Number(b.info.threads) > 1)?.env ?? x.browser[0]?.env ?? '';
  L.push('# Benchmarks', '');
  L.push(`Generated by \`${x.command}\` (bench/run.ts) on ${x.generatedAt.slice(0, 16).replace('T', ' ')} UTC. Every figure below comes from that one run.${rewrittenAt ? ` The text was rendered again from that run's figures by \`npm run bench -- --report\` on ${rewrittenAt.slice(0, 16).replace('T', ' ')} UTC.` : ''}`, '');
  L.push(`- machine: ${x.machine}`);
  L.push(`- load: before \`${x.loadBefore}\`; after \`${x.loadAfter}\`. The machine is shared with other jobs; figures from a loaded machine are slower and noisier than a quiet one would give.`);
  L.push(`- tfjs 4.22 with Ravine's forward-convolution gradients on wasm (src/engine/convGrad.ts), its own wasm kernels for the CNN's and MLP's layers (src/engine/winograd.ts: Winograd and direct convolutions, the CNN's two run as one pass a few samples at a time where nothing records gradients, matrix products, a loss surface's inputs and loss head; section "Ravine's wasm kernels" below), its own WebGL convolution shaders (src/engine/webglConv.ts; section "Ravine's WebGL convolution shaders") and its fused layers, whose input gradients run without tfjs's tape (src/engine/layerChain.ts); chunk budget ${fmtBytes(CHUNK_BUDGET_BYTES)} (src/engine/schedule.ts), chunks: ${Object.entries(wasm1?.chunks ?? {}).map(([id, c]) => `${id} ${c.forward} points (surface) / ${c.gradient} samples (PGD)`).join(', ')}`);
  for (const r of x.nodeResults) if (r.winogradHelpers) L.push(`- ${r.env}${helperNote(r.winogradHelpers)}`);
  for (const b of x.browser) L.push(`- ${b.env}: ${String(b.info.userAgent ?? '').replace(/^.*(HeadlessChrome\/[\d.]+).*$/, '$1')}, cross-origin isolated ${String(b.info.isolated)}${b.info.renderer ? `, renderer ${String(b.info.renderer)}` : ''}${helperNote(b.info.winogradHelpers)}`);
  if (peer) L.push(`- peer: PyTorch ${peer.torch} (Debian python3-torch), Python ${peer.python}, numpy ${peer.numpy}, torch.set_num_threads(${peer.threads}), oneDNN ${peer.mkldnn ? 'on' : 'off'}, BLAS: ${peer.blas.map((b) => `\`${b}\``).join(', ') || 'unknown'} on one thread (OPENBLAS_NUM_THREADS=1: its own threads would compete with oneDNN's), ${peer.mallocTuned ? "malloc keeping freed memory (bench/peer.py keep_freed_memory: without it PyTorch's surface spent up to half its time in page faults)" : 'malloc as the system sets it'}`);
  else L.push('- peer: PyTorch was not run (`npm run bench -- --peer` runs it)');
  if (peer) {
    const batches = MODELS.flatMap((id) =>
      Object.entries(peer.models[id] ?? {})
        .filter(([key]) => key.includes('/batched/'))
        .map(([key, v]) => `${id.replace('mnist-', '').replace('-natural', '')} ${key.split('/')[0]} ${v.batch}${v.ravineChunk !== undefined && v.ravineChunk !== v.batch ? ` (Ravine's chunk ${v.ravineChunk})` : ''}`),
    );
    L.push(`- PyTorch's batch sizes, each the fastest of a sweep (64 … 4096, the job's size, Ravine's chunk; best of two rounds of timed passes): ${batches.join(', ')}`);
    if (peer.sessions) {
      L.push(
        `- PyTorch on ${peer.threads} threads ran its batched jobs in two sessions, one right after Ravine's Node runs and one at the end of the bench; each job's figure is the faster session's median (${peer.sessions.fromEarly} of ${peer.sessions.jobs} from the first), so that another job slowing one session on this shared machine does not flatter Ravine. Naive loops and the 1-thread run are from the end only.`,
      );
    }
    // The peer runs after everything else, on its own: if its second thread bought little on the
    // big CNN surface, the other core was taken while it ran. On a quiet machine it buys ×1.59–1.62
    // (the 14:30 and 17:06 runs of 2026-11-26); the 18:22 run's ×1.24 came with PyTorch 35 % slower
    // than usual, which a threshold of 1.2 let pass.
    const s2 = findRow(rows, peerEnv, 'mnist-cnn-natural', 'surface', 'batched');
    const s1 = findRow(rows, peerOneThreadEnv(peer), 'mnist-cnn-natural', 'surface', 'batched');
    if (s1 && s2 && peer.threads > 1 && s1.seconds / s2.seconds < 1.4) {
      L.push(`- **caution:** PyTorch's ${peer.threads} threads ran the CNN surface only ×${(s1.seconds / s2.seconds).toFixed(2)} faster than its 1 thread in this run: another job most likely held the machine's other core while the peer ran, so PyTorch's figures here are slower than this machine gives, and every Ravine / PyTorch ratio below is flattered by it.`);
    }
  }
  // The same check on Ravine's side: the 1-thread Node CNN surface against the sum of its three
  // layers' kernel times measured in this run (bench/kernels.ts, 1024 samples each, section
  // "Ravine's wasm kernels"). On a quiet machine the job takes ×1.0–1.1 of that sum (the 00:40 run
  // of 2026-11-27: 0.33 s against 0.31 s); in the 01:11 run, ×2.0, its 2-thread jobs as slow.
  const layers = x.nodeResults.find((r) => r.config === 'wasm1')?.kernelLayers ?? [];
  const forward = layers.filter((t) => t.layer.includes('forward') && t.layer.includes('1024 samples'));
  const surf = findRow(rows, node1, 'mnist-cnn-natural', 'surface', 'batched');
  if (surf && forward.length === 3) {
    const predicted = (forward.reduce((sum, t) => sum + t.ravineMs, 0) / 1000) * ((surf.size * surf.size) / 1024);
    if (surf.seconds > 1.4 * predicted) {
      L.push(`- **caution:** ${node1} ran the CNN surface in ${surf.seconds.toFixed(2)} s, ×${(surf.seconds / predicted).toFixed(2)} the ${predicted.toFixed(2)} s that its three layers' kernels, timed alone in this run, add up to for ${surf.size}² points: another job most likely held the machine while Ravine's Node jobs ran, so their figures here are slower than this machine gives, and their Ravine / PyTorch ratios are inflated by it.`);
    }
  }
  // And on each of Ravine's 1-thread / 2-thread pairs, as for the peer: a second thread that
  // bought little on the CNN's jobs means the other core was taken while they ran. On a quiet
  // machine it buys ×1.8–2.0 on the surface and ×1.5–1.8 on the metric (the 02:46 and 02:55 runs
  // of 2026-11-27, Node and Chromium); the 03:12 run's Chromium metric got ×1.17.
  const cw1 = x.browser.find((b) => b.env.includes('wasm') && Number(b.info.threads) <= 1)?.env;
  for (const [one, many] of [[node1, node2], [cw1 ?? '', chromeWasm]]) {
    if (!one || !many || one === many) continue;
    for (const [kind, least] of [['surface', 1.4], ['metric', 1.3]] as [JobKind, number][]) {
      const a = findRow(rows, one, 'mnist-cnn-natural', kind, 'batched');
      const b = findRow(rows, many, 'mnist-cnn-natural', kind, 'batched');
      if (a && b && a.size === b.size && a.seconds / b.seconds < least) {
        L.push(`- **caution:** ${many} ran the CNN ${kind === 'surface' ? 'surface' : 'metric'} only ×${(a.seconds / b.seconds).toFixed(2)} faster than ${one} in this run (below ×${least}): another job most likely held the machine's other core meanwhile, so that figure is slower than this machine gives, and its Ravine / PyTorch ratio is inflated by it.`);
      }
    }
  }
  const warmups = x.batchedWarmups ?? 1;
  L.push(`- figures: medians of ${RUNS} timed runs after ${warmups === 1 ? 'an untimed warm-up' : `untimed warm-ups (${warmups} of a batched job, while V8 tiers its WebAssembly and JavaScript up: bench/common.ts BATCHED_WARMUPS; 1 of a naive one)`}; ${x.batchedWarmups ? "each job's timed runs back to back, as the peer's (alternating with a naive loop, which leaves one core idle for seconds, slowed the next batched run on 2 threads)" : 'batched and naive runs interleaved'}; ε = ${BENCH_EPS} (L∞), PGD-20 with α = 2.5 ε / 20, one random start; FLOPs are nominal (jobs.ts: a forward pass per point, 2 forward passes per gradient step; multiply-add = 2 FLOPs)`);
  L.push('');

  // Targets.
  L.push('## Targets', '');
  L.push('| target | measured | met? |', '| --- | --- | --- |');
  const cnn = 'mnist-cnn-natural';
  const best = (kind: JobKind, mode: string, pool: string[]) =>
    pool
      .map((e) => findRow(rows, e, cnn, kind, mode))
      .filter((r): r is Row => r !== undefined)
      .sort((a, b) => a.seconds - b.seconds)[0];
  const ravineEnvs = envs.filter((e) => !e.startsWith('PyTorch') && !e.includes('WebGL') && !e.includes('cpu'));
  const peerSurf = peer ? findRow(rows, peerEnv, cnn, 'surface', 'batched') : undefined;
  const peerMetric = peer ? findRow(rows, peerEnv, cnn, 'metric', 'batched') : undefined;
  const ratioLine = (kind: JobKind, goal: number, what: string) => {
    const p = kind === 'surface' ? peerSurf : peerMetric;
    if (!p) return `| ${what}: Ravine ≤ ${goal.toFixed(1)}× PyTorch | not measured (no peer in this run) | — |`;
    const parts = ravineEnvs
      .map((e) => findRow(rows, e, cnn, kind, 'batched'))
      .filter((r): r is Row => r !== undefined)
      .map((r) => `${r.env}: ${fmtS(r.seconds)} = ${(r.seconds / p.seconds).toFixed(2)}×`);
    const b = best(kind, 'batched', ravineEnvs);
    const ratio = b ? b.seconds / p.seconds : Infinity;
    const c = b ? ceiling(x, b.flops, goal * p.seconds) : null;
    const fast = b && c ? winogradFloor(x, b, c.roof.gflops) : null;
    const bound =
      c && !c.reachable
        ? `; even at the wasm ceiling measured on this CPU (${c.roof.gflops.toFixed(1)} GFLOP/s on ${c.roof.threads} threads) the nominal work would take ${fmtS(c.floorSeconds)}, above the target's ${fmtS(goal * p.seconds)}: out of reach for kernels that do the nominal multiply-adds${fast ? `; a Winograd F(${fast.tile}×${fast.tile}) kernel's floor is ${fmtS(fast.seconds)}${fast.seconds <= goal * p.seconds ? ', within the target, so not shown out of reach' : ', also above it'}` : ''}`
        : '';
    return `| ${what}: Ravine ≤ ${goal.toFixed(1)}× PyTorch (PyTorch ${fmtS(p.seconds)}) | ${parts.join('; ')} | ${ratio <= goal ? 'yes' : `no: best ${ratio.toFixed(2)}×, ${((ratio / goal - 1) * 100).toFixed(0)} % over${bound}`} |`;
  };
  L.push(ratioLine('surface', 0.8, `${peerSurf ? `${peerSurf.size}²` : '101²'} CNN surface`));
  L.push(ratioLine('metric', 1.0, `metric, ${peerMetric ? peerMetric.size : 100} samples × PGD-20, CNN`));
  const speedups: string[] = [];
  const belowFour: { batched: Row; naive: Row }[] = [];
  let allFour = true;
  // tfjs's cpu backend is reported apart: its kernels are plain loops whose cost grows with
  // the batch, so there is no per-call overhead for batching to amortise.
  const cpuSpeedups: string[] = [];
  for (const e of envs.filter((v) => !v.startsWith('PyTorch') && v.includes('cpu'))) {
    for (const id of MODELS) {
      for (const kind of ['surface', 'metric', 'fgsm', 'pgd'] as JobKind[]) {
        const b = findRow(rows, e, id, kind, 'batched');
        const n = findRow(rows, e, id, kind, 'naive');
        if (b && n) cpuSpeedups.push(`${id.replace('mnist-', '').replace('-natural', '')} ${kind} ×${(throughput(b) / throughput(n)).toFixed(1)}`);
      }
    }
  }
  for (const e of envs.filter((v) => !v.startsWith('PyTorch') && !v.includes('cpu'))) {
    for (const id of MODELS) {
      for (const kind of ['surface', 'metric', 'fgsm', 'pgd'] as JobKind[]) {
        const b = findRow(rows, e, id, kind, 'batched');
        const n = findRow(rows, e, id, kind, 'naive');
        if (!b || !n) continue;
        const s = throughput(b) / throughput(n);
        if (s < 4) {
          allFour = false;
          speedups.push(`${e} ${id.replace('mnist-', '').replace('-natural', '')} ${kind} ×${s.toFixed(1)}`);
          belowFour.push({ batched: b, naive: n });
        }
      }
    }
  }
  L.push(`| batched ≥ 4× the naive loop on the same backend (wasm, WebGL) | ${allFour ? 'every pair ≥ ×4 (table below)' : `below ×4: ${speedups.join('; ')}`} | ${allFour ? 'yes' : 'no (see the table)'} |`);
  if (cpuSpeedups.length) L.push(`| the same on tfjs's cpu backend (Node) | ${cpuSpeedups.join('; ')} | no: its kernels are plain JavaScript loops whose cost grows with the batch, so there is no per-call overhead for batching to amortise |`);
  if (lab) {
    const labRuns = labLatencyRuns(x);
    for (const r of labRuns) {
      const p = r.previewMedianMs;
      L.push(`| lab: coarse preview ≤ 0.2 s after the click, ${labGridLabel(r)} | median ${p === null ? 'n/a' : `${(p / 1000).toFixed(3)} s`}, max ${r.previewMaxMs === null ? 'n/a' : `${(r.previewMaxMs / 1000).toFixed(3)} s`} over ${r.clicks.length} clicks; full ${r.resolution}² surface after ${(r.fullMedianMs / 1000).toFixed(2)} s (median) | ${p !== null && (r.previewMaxMs ?? Infinity) <= 200 ? 'yes' : p !== null && p <= 200 ? 'median yes, max no' : 'no'} |`);
    }
    const long = labRuns.flatMap((r) => r.longTasksDuringCompute);
    const clicks = labRuns.reduce((n, r) => n + r.clicks.length, 0);
    L.push(`| lab: no main-thread task > 50 ms during a computation | ${long.length} long task(s) during the ${clicks} computations (${labRuns.map((r) => `${r.resolution}²`).join(' and ')} grids)${long.length ? `, longest ${Math.max(...long).toFixed(0)} ms` : ''} | ${long.length === 0 ? 'yes' : 'no'} |`);
    const m0 = lab.memory[0];
    const mN = lab.memory[lab.memory.length - 1];
    if (m0 && mN) L.push(`| lab: no memory growth over ${mN.run} runs | engine tensors ${m0.numTensors} → ${mN.numTensors}, bytes ${fmtBytes(m0.numBytes)} → ${fmtBytes(mN.numBytes)} (after run ${m0.run} → ${mN.run}) | ${mN.numTensors <= m0.numTensors && mN.numBytes <= m0.numBytes ? 'yes' : 'no'} |`);
  }
  if (wasm1?.memory) {
    const m = wasm1.memory;
    L.push(`| peak memory of a surface bounded by the chunk budget (${fmtBytes(CHUNK_BUDGET_BYTES)}) | Node wasm 101² CNN surface: peak tensor memory ${fmtBytes(m.surfacePeakBytes)}; metric (100 samples, one chunk) ${fmtBytes(m.metricPeakBytes)}; wasm heap ${fmtBytes(m.heapBytesAfterLast)} | ${m.surfacePeakBytes <= CHUNK_BUDGET_BYTES ? 'yes' : 'no'} |`);
    L.push(`| no growth over ${m.repeats} runs (Node) | ${m.repeats} × ${m.grid}² surfaces: tensors ${m.tensorsAfterFirst} → ${m.tensorsAfterLast}, tensor bytes ${fmtBytes(m.bytesAfterFirst)} → ${fmtBytes(m.bytesAfterLast)}, wasm heap ${fmtBytes(m.heapBytesAfterFirst)} → ${fmtBytes(m.heapBytesAfterLast)} | ${m.tensorsAfterLast <= m.tensorsAfterFirst && m.heapBytesAfterLast <= m.heapBytesAfterFirst ? 'yes' : 'no'} |`);
  }
  for (const b of x.browser) if (b.peakBytes !== undefined) L.push(`| peak memory, ${b.env} | CNN surface: peak tensor memory ${fmtBytes(b.peakBytes)} | ${b.peakBytes <= CHUNK_BUDGET_BYTES ? 'yes' : 'no'} |`);
  L.push('');

  L.push(...analysis(x, peerSurf, peerMetric, best('surface', 'batched', ravineEnvs), best('metric', 'batched', ravineEnvs)));
  L.push(...naiveSection(x, belowFour));
  L.push(...ceilingSection(x, best('surface', 'batched', ravineEnvs), peerSurf));

  // Per-job tables.
  L.push('## Jobs', '');
  L.push('Naive = the same engine call with a chunk of 1 (one grid point, or one sample, per pass). Naive attack jobs run on fewer samples than the batched ones; the speed-up compares throughput. GFLOP/s = nominal FLOPs / median time.', '');
  L.push('| where | model | job | batched | naive | batched throughput | naive throughput | speed-up | GFLOP/s (batched) |' + (peer ? ' Ravine / PyTorch (batched) |' : ''));
  L.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |' + (peer ? ' ---: |' : ''));
  for (const e of envs) {
    for (const id of MODELS) {
      for (const kind of ['surface', 'metric', 'fgsm', 'pgd'] as JobKind[]) {
        const b = findRow(rows, e, id, kind, 'batched');
        const n = findRow(rows, e, id, kind, 'naive');
        if (!b && !n) continue;
        const p = peer && e !== peerEnv ? findRow(rows, peerEnv, id, kind, 'batched') : undefined;
        const sameSize = p && b && p.size === b.size;
        const cells = [
          e,
          `\`${id}\``,
          jobLabel(kind, (b ?? n)!.size),
          b ? fmtS(b.seconds) : '—',
          n ? `${fmtS(n.seconds)}${b && n.size !== b.size ? ` (${jobUnits(n).units} ${jobUnits(n).unit})` : ''}` : '—',
          b ? fmtRate(b) : '—',
          n ? fmtRate(n) : '—',
          b && n ? `×${(throughput(b) / throughput(n)).toFixed(1)}` : '—',
          b ? gflops(b) : '—',
        ];
        if (peer) cells.push(e === peerEnv ? '1' : e.startsWith('PyTorch') && p && b ? `${(b.seconds / p.seconds).toFixed(2)}× (vs ${peer.threads} threads)` : p && b && sameSize ? `${(b.seconds / p.seconds).toFixed(2)}×` : p && b ? `${(throughput(p) / throughput(b)).toFixed(2)}× (by throughput)` : '—');
        L.push(`| ${cells.join(' | ')} |`);
      }
    }
  }
  L.push('');

  // Threads.
  if (node2 || x.browser.length) {
    L.push('## Threads', '');
    const pairs: [string, string][] = [];
    if (node1 && node2) pairs.push([node1, node2]);
    if (cw1 && chromeWasm && cw1 !== chromeWasm) pairs.push([cw1, chromeWasm]);
    for (const [one, many] of pairs) {
      for (const id of MODELS) {
        for (const kind of ['surface', 'metric', 'pgd'] as JobKind[]) {
          const a = findRow(rows, one, id, kind, 'batched');
          const b = findRow(rows, many, id, kind, 'batched');
          if (a && b && a.size === b.size) L.push(`- ${id} ${jobLabel(kind, a.size)}: ${one} ${fmtS(a.seconds)} → ${many} ${fmtS(b.seconds)} (×${(a.seconds / b.seconds).toFixed(2)})`);
        }
      }
    }
    L.push('', 'Threads in Node: tfjs-wasm 4.22 refuses them there (its pthreads start from blob: URLs); src/cli/wasmThreads.ts bridges that, for this benchmark and for the CLI\'s `--threads` (`ravine metric … --threads 2` is the Node 2-thread row; the CLI\'s default is one thread, as its threaded build takes about 1 s to start). In the browser the lab\'s engine worker now runs the threaded build when the page is cross-origin isolated (src/worker/backends.ts, vite.config.ts). In the threaded build Ravine\'s kernels split their samples between the calling thread and helper threads of their own (src/engine/winogradHelpers.ts), one fewer than the thread count, and XNNPACK\'s pool gets no thread of its own: it runs the small operations on the calling thread (src/engine/winograd.ts `setWasmThreads`; with its pool on both threads the CNN metric took 173–183 ms against 143–153 ms).', '');
  }

  L.push(...kernelSection(x));
  L.push(...webglShaderSection(x));

  const sweeps = x.nodeResults.filter((r) => r.chunkSweep?.length);
  if (sweeps.length) {
    L.push('## Chunk size (CNN surface, batched)', '');
    L.push(`The engine's chunk for this model is ${wasm1?.chunks?.['mnist-cnn-natural']?.forward ?? '?'} points (the ${fmtBytes(CHUNK_BUDGET_BYTES)} budget, capped at MAX_CHUNK). Medians of ${RUNS} interleaved runs per size:`, '');
    const sizes = sweeps[0].chunkSweep!.map((c) => c.chunk);
    L.push(`| where | ${sizes.map((c) => `chunk ${c}`).join(' | ')} |`, `| --- | ${sizes.map(() => '---:').join(' | ')} |`);
    for (const r of sweeps) L.push(`| ${r.env} | ${r.chunkSweep!.map((c) => fmtS(c.seconds)).join(' | ')} |`);
    L.push('');
  }

  // Agreement.
  L.push('## Agreement', '');
  const agree = x.agreement;
  if (agree.length) {
    L.push('| model | compared | max \\|diff\\| |', '| --- | --- | ---: |', ...agree, '');
    if (peer) L.push('Surfaces and the loss at a given point are deterministic functions of the same weights and inputs, so they are compared to 1e-4. PGD takes sign steps: where a gradient component is within float noise of 0 the two implementations may step differently and the iterates diverge from then on, so psi and attack counts are reported side by side rather than asserted equal.', '');
  } else L.push('No agreement figures in this run.', '');

  // Kernel profile.
  if (wasm1?.profile?.length) {
    L.push('## Where the time goes (Node wasm, 1 thread, CNN)', '');
    L.push('tf.profile of one batched run (kernel times, synchronous on wasm), per kernel and input shapes, so each layer shows apart (a convolution\'s input is `[batch, height, width, channels]`, its filter `[kh, kw, in, out]`). Some of Ravine\'s wasm kernels run others inside (the transposed `BatchMatMul` its `Transpose`, `Conv2DBackpropInput` its forward convolutions), which are then counted in both; the scopes that wrap kernels (an op\'s `…__op`, a custom gradient\'s such as the fused layers\') are left out.', '');
    for (const p of wasm1.profile) {
      // wasm times every kernel (ms is never null here).
      const kernels = p.kernels.filter((k) => isKernelEntry(k.name)).map((k) => ({ ...k, ms: k.ms ?? 0 }));
      const total = kernels.reduce((s, k) => s + k.ms, 0);
      L.push(`**${p.job}** (profiled wall time ${(p.wallMs / 1000).toFixed(2)} s):`, '');
      L.push('| kernel | input shapes | ms | calls | share of kernel time |', '| --- | --- | ---: | ---: | ---: |');
      for (const k of kernels.slice(0, 10)) L.push(`| ${k.name} | \`${k.shapes}\` | ${k.ms.toFixed(1)} | ${k.calls} | ${((100 * k.ms) / total).toFixed(0)} % |`);
      L.push('');
    }
  }

  // Lab.
  if (lab) {
    L.push('## The lab (built app, headless Chromium)', '');
    L.push(`Backend ${lab.backend}; engine in ${lab.thread}; cross-origin isolated: ${lab.isolated}; preview ${PREVIEW_RESOLUTION}². The page first computes its default surface and both slots' metric and attacks; clicks start after that, so they time an idle lab. Times are from the click event to the first animation frame that shows the result (read via \`window.ravine.state()\`).`, '');
    for (const r of labLatencyRuns(x)) {
      L.push(`**${r.resolution}² grid** (${r === lab ? 'the lab\'s default' : `the issue's "full ${r.resolution}² surface", set through the URL hash in a fresh page`}):`, '');
      L.push('| sample | preview in the store | preview drawn | full surface drawn | long tasks (> 50 ms) during the computation |', '| ---: | ---: | ---: | ---: | --- |');
      for (const c of r.clicks) L.push(`| #${c.index} | ${c.previewStoredMs === null || c.previewStoredMs === undefined ? 'not seen' : `${c.previewStoredMs.toFixed(0)} ms`} | ${c.previewMs === null ? 'not seen (full grid came first)' : `${c.previewMs.toFixed(0)} ms`} | ${c.fullMs.toFixed(0)} ms | ${c.longTasks.map((d) => `${d.toFixed(0)} ms`).join(', ') || 'none'} |`);
      L.push('');
    }
    L.push('"In the store": the first animation frame at which the preview\'s numbers had reached the page (the worker computed them and the page received them); "drawn": the first frame that showed them.');
    L.push('', `Long tasks over the whole session at the default grid (page load, first surfaces and metric included): ${lab.longTasksTotal.length}${lab.longTasksTotal.length ? `, longest ${Math.max(...lab.longTasksTotal).toFixed(0)} ms` : ''}.`, '');
    L.push(`Engine memory over ${lab.memory[lab.memory.length - 1]?.run ?? 0} new surfaces (→ key): ${lab.memory.map((m) => `run ${m.run}: ${m.numTensors} tensors, ${fmtBytes(m.numBytes)}`).join('; ')}.`, '');
    const mt = lab.mainThread;
    if (mt) {
      L.push(`Main-thread CPU profile over ${mt.clicks} more new samples (after the timed ones; sampled, self time; \`(program)\` is native work: style, layout, paint and WebGL calls into SwiftShader): busy ${mt.busyMs.toFixed(0)} ms, ${(mt.busyMs / mt.clicks).toFixed(0)} ms per new sample.`, '');
      L.push('| function (bundle file:line) | self ms | share |', '| --- | ---: | ---: |');
      for (const t of mt.top) L.push(`| \`${t.fn.replace(/\|/g, '\\|')}\` | ${t.ms.toFixed(0)} | ${((100 * t.ms) / mt.busyMs).toFixed(0)} % |`);
      L.push('');
    }
  }

  L.push(...gpuSection(GPU_RESULT));

  L.push('## Commands', '');
  L.push(`This document: \`${x.command}\`. Others:`, '');
  L.push('```sh', 'npm run bench                   # everything but the PyTorch peer', 'npm run bench -- --peer         # with the peer (apt-get installs python3-torch and OpenBLAS if missing)', 'npm run bench -- --quick        # smoke run, small jobs, writes .cache/bench/benchmarks-quick.md', 'npm run bench -- --skip=browser,lab,cpu,threads   # leave parts out; writes .cache/bench/benchmarks-partial.md', 'npm run bench -- --report       # rewrite this document from the last full run\'s figures, measuring nothing', 'npx tsx bench/labProfile.ts     # main-thread CPU profile of the built lab (after a bench run)', 'npx tsx bench/convGrad.ts       # Conv2D and Dense gradients on wasm: native vs Ravine\'s kernels', 'npx tsx bench/kernels.ts [n]   # the CNN\'s layers: Ravine\'s wasm kernels vs tfjs-wasm\'s own, on n threads', 'npx tsx bench/gpu.ts prepare    # pack the page, Chromium and the peer\'s inputs for a GPU machine; there: bash bench/gpu/run.sh', 'npx tsx bench/gpu.ts record DIR # keep its results (bench/results/gpu-webgl.json) for this document', 'npx tsx bench/gpu.ts record-ab "WHAT CHANGED" BEFORE_DIRS AFTER_DIRS # a before/after comparison of one change on a GPU machine (bench/results/gpu-ab.json)', '```', '');
  return L.join('\n');
}

/** The fastest register-only wasm loop on `threads` threads (the gemm loop, which also loads, is reported beside them). */
function wasmCeiling(x: ReportInput, threads: number): RoofResult | undefined {
  return x.roof?.wasm.filter((r) => r.threads === threads && r.variant !== 'gemm' && r.variant !== 'gemm madd').sort((a, b) => b.gflops - a.gflops)[0];
}

/** The fastest wasm ceiling on every core, and what it implies for a job of `flops` with a time target. */
function ceiling(x: ReportInput, flops: number, targetSeconds: number): { roof: RoofResult; floorSeconds: number; reachable: boolean } | null {
  const roof = x.roof ? wasmCeiling(x, x.roof.cores) : undefined;
  if (!roof) return null;
  const floorSeconds = flops / (roof.gflops * 1e9);
  return { roof, floorSeconds, reachable: floorSeconds <= targetSeconds };
}

function ceilingSection(x: ReportInput, surf: Row | undefined, peerSurf: Row | undefined): string[] {
  const r = x.roof;
  if (!r) return [];
  const L: string[] = ['## The ceiling: WebAssembly SIMD on this CPU', ''];
  L.push(
    `bench/roofline.ts times loops that do nothing but multiply-adds on vectors held in registers, on 1 thread and on all ${r.cores}, in Node with relaxed SIMD enabled (the best of 5 runs of ~0.3 s each: other work on the machine only slows a loop down). No kernel that also loads, stores and loops can beat its figure, so a job's nominal FLOPs divided by it is a floor on the job's time for any WebAssembly kernel that does the nominal multiply-adds (fast-convolution algorithms do fewer; see the sections above). The native row is the same loop in C with AVX2 and FMA, the instructions PyTorch's kernels use here.`,
    '',
  );
  L.push(`| loop | 1 thread | ${r.cores} threads |`, '| --- | ---: | ---: |');
  const row = (label: string, list: RoofResult[]) => {
    const one = list.find((v) => v.threads === 1);
    const all = list.find((v) => v.threads === r.cores);
    if (one || all) L.push(`| ${label} | ${one ? `${one.gflops.toFixed(1)} GFLOP/s` : '—'} | ${all ? `${all.gflops.toFixed(1)} GFLOP/s` : '—'} |`);
  };
  row('wasm SIMD, `f32x4.mul` + `f32x4.add` (what XNNPACK\'s wasm kernels use), 6 accumulators', r.wasm.filter((v) => v.variant === 'mul+add'));
  row('wasm relaxed SIMD, `f32x4.relaxed_madd` (fused where the CPU has FMA), 10 accumulators', r.wasm.filter((v) => v.variant === 'madd'));
  row('native C, AVX2 `vfmadd231ps` (8 lanes), 10 accumulators, gcc -O3', r.native);
  row('wasm SIMD matrix-product inner loop: a 4 × 8 tile of C in 8 accumulators, A splatted (`v128.load32_splat`) and B loaded from L1 each step', r.wasm.filter((v) => v.variant === 'gemm'));
  row('the same loop with `f32x4.relaxed_madd` (Ravine\'s relaxed-SIMD build)', r.wasm.filter((v) => v.variant === 'gemm madd'));
  if (r.unsupported.length) L.push('', `Not measured (the engine refused the module): ${r.unsupported.join(', ')}.`);
  L.push('');
  const gemm = r.wasm.find((v) => v.variant === 'gemm' && v.threads === r.cores);
  const gemmFused = r.wasm.find((v) => v.variant === 'gemm madd' && v.threads === r.cores);
  const reg = ceiling(x, 1, Infinity);
  if (gemm && reg) {
    const fusedNote = gemmFused
      ? ` With a fused multiply-add the same loop keeps ${((100 * gemmFused.gflops) / reg.roof.gflops).toFixed(0)} % (×${(gemmFused.gflops / gemm.gflops).toFixed(2)}): it issues fewer instructions for the same arithmetic, which is why Ravine's kernels use it where the engine has relaxed SIMD.`
      : '';
    L.push(
      `The matrix-product rows are the loop at the heart of a matrix product or convolution kernel, with the loads such a kernel cannot avoid: with a separate multiply and add it keeps ${((100 * gemm.gflops) / reg.roof.gflops).toFixed(0)} % of the register-only rate on ${r.cores} threads.${fusedNote} So the ceiling above is one a purpose-built WebAssembly kernel could come close to; what a whole job loses beyond it is packing, edges, small layers, threads and the work between kernels.`,
      '',
    );
  }
  if (surf) {
    const best = ceiling(x, surf.flops, Infinity);
    const nat = r.native.find((v) => v.threads === r.cores);
    const gf = surf.flops / surf.seconds / 1e9;
    const parts = [`Ravine's CNN surface (${surf.env}) ran at ${gf.toFixed(1)} GFLOP/s${best ? `, ${((100 * gf) / best.roof.gflops).toFixed(0)} % of the wasm ceiling on ${best.roof.threads} threads` : ''}`];
    if (peerSurf) {
      const pg = peerSurf.flops / peerSurf.seconds / 1e9;
      parts.push(`PyTorch's at ${pg.toFixed(1)} GFLOP/s${nat ? `, ${((100 * pg) / nat.gflops).toFixed(0)} % of the native ceiling` : ''}${best ? ` and ${(pg / best.roof.gflops).toFixed(2)}× the wasm ceiling` : ''}`);
    }
    L.push(`For scale: ${parts.join('; ')}.`, '');
  }
  return L;
}

/** Ravine's WebGL convolution shaders against tfjs's kernels, from the browser run's WebGL configuration. */
function webglShaderSection(x: ReportInput): string[] {
  const c = x.browser.find((b) => b.convShaders?.length);
  if (!c?.convShaders) return [];
  const L = [
    `## Ravine's WebGL convolution shaders (${c.env})`,
    '',
    "On WebGL every convolution of the CNN, forward (with its bias and ReLU) and in the input gradients of PGD and the metric, runs in Ravine's own shaders (src/engine/webglConv.ts) instead of tfjs-backend-webgl's. tfjs runs a convolution as im2col (a texture holding every receptive field) followed by a matrix product, and its input gradient as a shader that walks every filter tap and drops, with a float division and a branch, those the stride skips. Ravine's read tfjs's packed textures directly: each fragment computes 2 pixels × 2 channels, the tap layout is unrolled for the layer when the shader is built, each input texel is fetched once for every tap that uses it, and texels are found from their flat index with one integer division per filter row (tfjs's samplers divide once per fetch; under SwiftShader, leaving them took the second layer on 100 samples from 59–69 to 43 ms). Layers they do not cover (dilation, a horizontal stride above 2, activations other than ReLU, 1 × 1 stride-1 filters, WebGL 1) stay on tfjs's kernels; e2e/webglConv.spec.ts compares the two on the CNN's layers and on edge cases.",
    '',
    `The CNN's batched jobs with Ravine's shaders and with tfjs's kernels (\`${WEBGL_CONV_FLAG}=false\`), interleaved run by run after a warm-up of each, medians of ${c.convShaders[0].ravine.length}:`,
    '',
    "| job | Ravine's shaders | tfjs's kernels | speed-up |",
    '| --- | ---: | ---: | ---: |',
  ];
  for (const ab of c.convShaders) {
    L.push(`| ${ab.model} ${jobLabel(ab.kind, ab.size)} | ${fmtS(median(ab.ravine))} | ${fmtS(median(ab.tfjs))} | ×${(median(ab.tfjs) / median(ab.ravine)).toFixed(2)} |`);
  }
  L.push('');
  return L;
}

/** Ravine's wasm kernels against wasm's own (XNNPACK), per CNN layer, from the Node wasm runs (bench/kernels.ts). */
function kernelSection(x: ReportInput): string[] {
  const one = x.nodeResults.find((r) => r.config === 'wasm1' && r.kernelLayers?.length);
  if (!one?.kernelLayers) return [];
  const two = x.nodeResults.find((r) => r.config === 'wasm2' && r.kernelLayers?.length);
  const L = ["## Ravine's wasm kernels (per layer, Node wasm)", ''];
  L.push(
    "Every layer of the built-in CNN, forward and in a PGD step's input gradient, runs in one of Ravine's own WebAssembly SIMD kernels (AssemblyScript, src/engine/kernels/as/, working in tfjs's wasm memory; src/engine/winograd.ts): 5×5 stride-2 convolutions as Winograd F(4×4, 3×3) over their four stride phases, and the stacked 3×3 stride-1 convolutions that src/engine/convGrad.ts makes of the input gradients as plain F(4×4, 3×3) (0.36× and 0.25× the direct multiply-adds before the transforms), with F(3, 3) tiles at an edge whose length is not a multiple of 4 (a 7 × 7 output takes 121 transform points per channel pair instead of 144), and skipping the products where the transformed filter is zero (a stride-2 filter's two-tap phases at the points at infinity: 400 of the 484 phase blocks of a 7 × 7 output remain; the stacked phase filters have the same zeros in their output columns); the input gradients also apply the layer's ReLU mask as the kernel reads dy, and write the stride phases to their rows themselves (no transpose after them); convolutions of a one-channel input (the first layer) as a direct convolution that holds a tile of 2 pixels × 16 channels in registers (4 × 8 where the channels are not a multiple of 16); dense layers and their input gradients as a blocked matrix product that skips the zeros of its left operand (for every 4 rows, the columns where any of them is not zero are listed once, with the four rows' values packed beside them, and every tile of output columns runs over the list: in a surface chunk neighbouring grid points share most of the ReLU's zeros), takes any number of output columns (the last layer's 10 logits included) and, through a ReLU, masks the input gradient's dy as it reads it (one kernel where the ops took three). In forward passes that record no gradient (a surface's chunks) the two convolutions run as one kernel call, 64 samples at a time through both, so that the first layer's output stays in the cache (src/engine/winograd.ts ravineConvPair), and the surface's loss head (cross-entropy, margin, class, confidence) is a kernel too, its rows shared between the threads. Each is timed here against wasm's own kernel (XNNPACK) on one thread, in the same process, interleaved call by call after a warm-up (bench/kernels.ts, medians of 15 calls each), as a PGD run calls them: the weights are variables, so the phase filters derived from them and their Winograd transforms are computed once (and a transform outlives its filter, for the next PGD run's filters of the same values); without the Winograd kernel the input gradient of the second convolution runs one convolution per stride phase, as before." +
      (two ? ' The last column is Ravine\'s kernel on 2 threads (one helper), in the 2-thread run; wasm\'s own kernels run on one thread there by design (section "Threads").' : ''),
    '',
    `| layer | kernel | shapes | XNNPACK, 1 thread | Ravine, 1 thread | speed-up | max \\|diff\\| |${two ? ' Ravine, 2 threads |' : ''}`,
    `| --- | --- | --- | ---: | ---: | ---: | ---: |${two ? ' ---: |' : ''}`,
  );
  for (const t of one.kernelLayers) {
    const t2 = two?.kernelLayers?.find((u) => u.layer === t.layer);
    L.push(`| ${t.layer} | ${t.kernel} | \`${t.shapes}\` | ${fmtS(t.xnnpackMs / 1000)} | ${fmtS(t.ravineMs / 1000)} | ×${(t.xnnpackMs / t.ravineMs).toFixed(2)} | ${t.maxDiff.toExponential(1)} |${two ? ` ${t2 ? fmtS(t2.ravineMs / 1000) : '—'} |` : ''}`);
  }
  L.push('', 'Inputs and filters are uniform in [−1, 1] here, so convolution outputs reach about ±10 and the differences are relative 1e-5 (Winograd\'s transforms), and the dense layer\'s input has no zeros: these rows time its full product, while the jobs above skip the zeros of a real ReLU output; the direct and matrix-product kernels sum in XNNPACK\'s order, but with relaxed SIMD each of their multiply-adds rounds once rather than twice, so they differ from XNNPACK\'s in the last bits. On 2 threads a batch is shared between the calling thread and a helper unless each would get under 1M multiply-adds (for Winograd, its transform-domain products): both take shares of it as they come, about a third of what is left each time, in whole kernel blocks (16 samples for Winograd, 4 samples or rows otherwise) while one fits, so a helper that wakes late (about 50 µs after it is posted) or runs slower takes fewer, and the caller never waits for one that has not started. Every layer of the metric\'s 100 samples is shared, the first convolution (7.8M) and its input gradient (3.4M) included.', '');
  return L;
}

/** Kernel-time shares of a profiled job: convolutions, matmuls, the rest. */
function shares(kernels: { name: string; ms: number | null }[]): { conv: number; matmul: number; top: string } {
  const ks = kernels.filter((k) => isKernelEntry(k.name)).map((k) => ({ name: k.name, ms: k.ms ?? 0 }));
  const total = ks.reduce((sum, k) => sum + k.ms, 0) || 1;
  const sum = (re: RegExp) => ks.filter((k) => re.test(k.name)).reduce((acc, k) => acc + k.ms, 0) / total;
  // The profile lists each kernel per input shapes; the top three here are per kernel name.
  const byName = new Map<string, number>();
  for (const k of ks) byName.set(k.name, (byName.get(k.name) ?? 0) + k.ms);
  const top = [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
  return { conv: sum(/Conv2D|ConvPair/), matmul: sum(/MatMul/), top: top.map(([name, ms]) => `${name} ${((100 * ms) / total).toFixed(0)} %`).join(', ') };
}

/** What the measured ceiling says about a missed time target. */
function floorNote(x: ReportInput, job: Row, targetSeconds: number, what: string, peer?: Row): string {
  const c = ceiling(x, job.flops, targetSeconds);
  if (!c) return 'The ceiling of wasm SIMD on this CPU was not measured in this run (`--skip=roofline`).';
  const madd = x.roof?.wasm.find((r) => r.variant === 'madd' && r.threads === x.roof?.cores);
  const mul = x.roof?.wasm.find((r) => r.variant === 'mul+add' && r.threads === x.roof?.cores);
  const fused = madd && mul
    ? ` In registers, relaxed SIMD's fused multiply-add measured ${madd.gflops.toFixed(1)} against ${mul.gflops.toFixed(1)} GFLOP/s for a separate multiply and add (the ceiling is the higher); Ravine's kernels use it where the engine has relaxed SIMD (this run's wasm rows do: Chromium ships it, and Ravine turns on Node 20's flag), and in their product loops, which issue more instructions than their multiply-adds need, it measured ×1.37 (src/engine/kernels/as/madd.ts).`
    : '';
  // How close the peer's own kernels come to their (native) ceiling on the same job: the target
  // asks wasm kernels for `need` of theirs.
  const need = job.flops / targetSeconds / 1e9 / c.roof.gflops;
  const native = x.roof?.native.find((r) => r.threads === x.roof?.cores);
  const peerShare = peer && native ? peer.flops / peer.seconds / 1e9 / native.gflops : null;
  const relative = peerShare
    ? ` PyTorch itself runs this job at ${(100 * peerShare).toFixed(0)} % of the native ceiling (${native?.gflops.toFixed(1)} GFLOP/s with AVX2 FMA on ${native?.threads} threads): on this job's small kernels oneDNN and OpenBLAS stay far from their peak too, and the target asks wasm kernels to come ${(need / peerShare).toFixed(1)}× closer to their ceiling than PyTorch's come to theirs.`
    : '';
  const base = c.reachable
    ? `At the wasm ceiling measured on this CPU (${c.roof.gflops.toFixed(1)} GFLOP/s, ${c.roof.threads} threads, section below) this job's ${(job.flops / 1e9).toFixed(1)} GFLOP would take ${fmtS(c.floorSeconds)}, within ${what} (${fmtS(targetSeconds)}): the ceiling alone does not rule the target out, but the kernels would need ${(100 * need).toFixed(0)} % of it, where this run's reach ${((100 * job.flops) / job.seconds / 1e9 / c.roof.gflops).toFixed(0)} % (nominal FLOPs, Winograd layers included).${relative}${fused}`
    : `At the wasm ceiling measured on this CPU (${c.roof.gflops.toFixed(1)} GFLOP/s on ${c.roof.threads} threads: register-only multiply-adds, section below) this job's ${(job.flops / 1e9).toFixed(1)} GFLOP would take at least ${fmtS(c.floorSeconds)}, more than ${what} allows (${fmtS(targetSeconds)}). No WebAssembly kernel that does these nominal multiply-adds (direct or matrix-product convolutions, as XNNPACK's and oneDNN's are), tfjs's or one written for Ravine, can meet it on this CPU.${fused}`;
  return `${base}${winogradNote(x, job, c.roof.gflops, targetSeconds, what, c.reachable)}`;
}

/** The job's floor at `gflops` if its convolutions ran as F(m×m) Winograd convolutions (bench/flops.ts). */
function winogradFloor(x: ReportInput, job: Row, gflops: number): { seconds: number; flops: number; tile: number } | null {
  const f = x.wasm1?.flopsPerSample?.[job.model];
  if (!f || f.nominal <= 0) return null;
  const flops = (job.flops * f.winograd) / f.nominal;
  return { seconds: flops / (gflops * 1e9), flops, tile: f.tile };
}

/** The floor above counts nominal multiply-adds; what a fast-convolution kernel would do instead. */
function winogradNote(x: ReportInput, job: Row, gflops: number, targetSeconds: number, what: string, nominalWithin: boolean): string {
  const w = winogradFloor(x, job, gflops);
  if (!w) return '';
  const within = w.seconds <= targetSeconds;
  const counted = `with Winograd F(${w.tile}×${w.tile}, ·) convolutions (each strided convolution split into its stride-1 phases; bench/flops.ts counts them, transforms left out) this job does ${(w.flops / 1e9).toFixed(1)} GFLOP of multiply-adds, ${((100 * w.flops) / job.flops).toFixed(0)} % of the nominal count`;
  const need = (100 * w.flops) / (targetSeconds * gflops * 1e9);
  const kernel = `every convolution running as Winograd at ${need.toFixed(0)} % of the ceiling end to end, transforms included. Ravine's own Winograd kernel (src/engine/winograd.ts; XNNPACK has none, and oneDNN, under PyTorch, has one only for AVX-512) runs the second convolution and both input gradients, and this run's figures above are with it (per layer: section "Ravine's wasm kernels"); the first convolution (one input channel, where Winograd measured slower than a direct convolution) runs the nominal multiply-adds in Ravine's direct kernel, and the dense layers the nominal ones less those against zeros of their input (a ReLU's output), which Ravine's matrix-product kernel skips.`;
  if (nominalWithin) {
    // The nominal floor already leaves room: say how much less of the ceiling fewer multiplications would need.
    return ` Fast-convolution algorithms trade multiplications for additions: ${counted}. Meeting the target that way would take ${kernel}`;
  }
  return (
    ` That floor does not bind fast-convolution algorithms, which trade multiplications for additions: ${counted}, which at the same ceiling take ${fmtS(w.seconds)}, ${within ? `within ${what}` : `still more than ${what} allows`}.` +
    (within ? ` So the target is not shown out of reach: it would take ${kernel}` : '')
  );
}

/**
 * The metric thread for thread: PyTorch on one thread against the one-thread wasm ceiling, and
 * the second core's gain a wasm kernel would need on all cores against the gains measured.
 */
function threadForThread(x: ReportInput, metric: Row, peerMetric: Row, m1: Row | undefined, m2: Row | undefined): string | null {
  const peer1 = x.peer ? findRow(x.rows, peerOneThreadEnv(x.peer), metric.model, 'metric', 'batched') : undefined;
  const roof1 = wasmCeiling(x, 1);
  if (!peer1 || !roof1 || (x.roof?.cores ?? 1) < 2) return null;
  const floor1 = metric.flops / (roof1.gflops * 1e9);
  const gf = (r: Row) => r.flops / r.seconds / 1e9;
  const fast1 = winogradFloor(x, metric, roof1.gflops);
  const fastOne = fast1
    ? ` With Winograd F(${fast1.tile}×${fast1.tile}) convolutions the one-thread floor is ${fmtS(fast1.seconds)}, ${fast1.seconds < peer1.seconds ? "below PyTorch's one-thread time, so that route is open on one thread too" : "still above PyTorch's one-thread time"}.`
    : '';
  const oneThread =
    floor1 > peer1.seconds
      ? `Thread for thread no WebAssembly kernel that does the nominal multiply-adds can match PyTorch on this job: on one thread PyTorch runs it in ${fmtS(peer1.seconds)} (${gf(peer1).toFixed(1)} GFLOP/s), above the one-thread wasm ceiling (${roof1.gflops.toFixed(1)} GFLOP/s), at which it would take at least ${fmtS(floor1)}.${fastOne}`
      : `On one thread PyTorch runs this job in ${fmtS(peer1.seconds)} (${gf(peer1).toFixed(1)} GFLOP/s); at the one-thread wasm ceiling (${roof1.gflops.toFixed(1)} GFLOP/s) it would take ${fmtS(floor1)}.${fastOne}`;
  // A kernel at the one-thread ceiling meets the target on all cores only if the other cores
  // speed the job up by at least floor1 / target.
  const need = floor1 / peerMetric.seconds;
  const gains = [`PyTorch's ×${(peer1.seconds / peerMetric.seconds).toFixed(2)}`, ...(m1 && m2 ? [`Ravine's on wasm ×${(m1.seconds / m2.seconds).toFixed(2)}`] : [])].join(' and ');
  return `${oneThread} On ${x.roof?.cores} threads, doing the nominal work, the target stays open only for a kernel that runs at the one-thread ceiling and gains at least ×${need.toFixed(2)} from the other core${(x.roof?.cores ?? 2) > 2 ? 's' : ''}; on this job the second thread gains ${gains}.`;
}

/** Why XNNPACK on wasm does less arithmetic per cycle than the peer's kernels. */
/**
 * Why a batched job is below ×4 its naive loop: both GFLOP/s rates and, on wasm, how far the
 * batched one is from the ceiling on the same number of threads (how much batching could gain at most).
 */
function naiveSection(x: ReportInput, pairs: { batched: Row; naive: Row }[]): string[] {
  if (pairs.length === 0) return [];
  const gf = (r: Row) => r.flops / r.seconds / 1e9;
  const L = ['### Why some batched jobs are below ×4 the naive loop', ''];
  L.push(
    "The naive loop is the same engine call one grid point or one sample at a time, so it gains from everything the engine does per pass: with the layers fused and their input gradients taken without tfjs's tape (src/engine/layerChain.ts), a Conv2D or Dense layer with a ReLU is one kernel, not three, so a pass of one point costs less beyond its arithmetic than it did, and what batching gains is bounded by how close the batched kernels come to the ceiling. Where the batched job is below ×4:",
    '',
  );
  for (const { batched: b, naive: n } of pairs) {
    const threads = Number(/\((\d+) threads?\)/.exec(b.env)?.[1] ?? NaN);
    const roof = b.env.includes('wasm') ? wasmCeiling(x, threads) : undefined;
    const head = `- ${b.env}, ${b.model}, ${jobLabel(b.kind, b.size)}: batched ${gf(b).toFixed(1)} GFLOP/s, naive ${gf(n).toFixed(1)} GFLOP/s (×${(gf(b) / gf(n)).toFixed(1)} by throughput).`;
    L.push(
      roof
        ? `${head} ×4 would need the batched job at ${(4 * gf(n)).toFixed(1)} GFLOP/s, ${((400 * gf(n)) / roof.gflops).toFixed(0)} % of the wasm ceiling on ${threads} thread${threads === 1 ? '' : 's'} (${roof.gflops.toFixed(1)} GFLOP/s), where it runs at ${((100 * gf(b)) / roof.gflops).toFixed(0)} %; at the ceiling itself batching would gain ×${(roof.gflops / gf(n)).toFixed(1)} over this naive loop.`
        : `${head} No ceiling is measured for this backend${b.env.includes('WebGL') ? ' (SwiftShader runs the shaders on the CPU)' : ''}.`,
    );
    const prof = x.browser.find((c) => c.env === b.env)?.metricProfile;
    if (prof && b.kind === 'metric' && prof.model === b.model) L.push(...metricProfileLines(prof));
  }
  L.push('');
  return L;
}


function hardwareNote(x: ReportInput): string {
  const blas = (x.peer?.blas ?? []).some((b) => /openblas/i.test(b)) ? 'OpenBLAS' : (x.peer?.blas ?? []).length ? `the BLAS at ${(x.peer?.blas ?? [])[0]}` : 'its BLAS';
  return (
    `What limits the kernels: Ravine's kernels (and XNNPACK's, under tfjs-backend-wasm 4.22) are WebAssembly SIMD, 128-bit vectors (4 float32 lanes); XNNPACK's multiply and add in separate instructions, Ravine's in one where the engine has relaxed SIMD (its fused multiply-add). The peer's convolutions run in oneDNN and its matmuls in ${blas}, with AVX2 and fused multiply-add (this torch build reports \`CPU capability usage: AVX2\`), 8 lanes per instruction. ` +
    'Per core that is about twice the floating-point work per instruction (and up to 4× per cycle, depending on the CPU), before any difference in kernel tuning; threads split the work over the cores on both sides and do not change that ratio.'
  );
}

/** A model's batched job of one kind in the Node wasm run on 1 or 2 threads. */
function nodeWasmRow(x: ReportInput, model: string, kind: JobKind, threads: 1 | 2): Row | undefined {
  const tag = threads === 1 ? '(1 thread)' : '(2 threads)';
  return x.rows.find((r) => r.env.startsWith('Node wasm') && r.env.includes(tag) && r.model === model && r.kind === kind && r.mode === 'batched');
}

/** What the figures say where a target is missed (generated from this run's numbers). */
function analysis(x: ReportInput, peerSurf: Row | undefined, peerMetric: Row | undefined, surf: Row | undefined, metric: Row | undefined): string[] {
  const L: string[] = [];
  const prof = x.wasm1?.profile ?? [];
  const gf = (r: Row) => r.flops / r.seconds / 1e9;
  if (peerSurf && surf && surf.seconds / peerSurf.seconds > 0.8) {
    const sh = prof[0] ? shares(prof[0].kernels) : null;
    L.push('### Why the surface target is missed', '');
    L.push(
      `Ravine's fastest ${surf.size}² CNN surface (${surf.env}) takes ${fmtS(surf.seconds)} against PyTorch's ${fmtS(peerSurf.seconds)}: ${(surf.seconds / peerSurf.seconds).toFixed(2)}×, ` +
        `${((surf.seconds / peerSurf.seconds / 0.8 - 1) * 100).toFixed(0)} % above the 0.8× target. Both do the same nominal work (${(surf.flops / 1e9).toFixed(1)} GFLOP: one forward pass per grid point); ` +
        `Ravine achieves ${gf(surf).toFixed(1)} GFLOP/s, PyTorch ${gf(peerSurf).toFixed(1)} GFLOP/s.` +
        (sh ? ` The kernel profile of the single-threaded Node run (below) puts ${(100 * sh.conv).toFixed(0)} % of kernel time in the convolutions and ${(100 * sh.matmul).toFixed(0)} % in the dense matmuls (top: ${sh.top}), so the job is bound by its arithmetic kernels (Ravine's direct, Winograd and matrix-product kernels), not by Ravine's code around them (building the batch, the losses, the read-back).` : ''),
      '',
    );
    const surfaceSplit = splitNote(`${surf.size}² surface`, nodeWasmRow(x, surf.model, 'surface', 1), nodeWasmRow(x, surf.model, 'surface', 2));
    if (surfaceSplit) L.push(surfaceSplit, '');
    L.push(hardwareNote(x), '');
    L.push(
      'No forward pass can be skipped: every grid point needs its own. The input is clipped to [0, 1] before the first layer, so not even the first convolution is affine in (a, b) and could be shared across the grid (the PyTorch peer clips too; the surfaces agree to 2e-5).',
      '',
    );
    L.push(floorNote(x, surf, 0.8 * peerSurf.seconds, 'the 0.8× target'), '');
  }
  if (peerMetric && metric && metric.seconds / peerMetric.seconds > 1.0) {
    const sh = prof[1] ? shares(prof[1].kernels) : null;
    L.push('### Why the metric target is missed', '');
    L.push(
      `Ravine's fastest metric (${metric.env}) takes ${fmtS(metric.seconds)} against PyTorch's ${fmtS(peerMetric.seconds)}: ${(metric.seconds / peerMetric.seconds).toFixed(2)}×, ${((metric.seconds / peerMetric.seconds - 1) * 100).toFixed(0)} % above the 1.0× target; ` +
        `${gf(metric).toFixed(1)} against ${gf(peerMetric).toFixed(1)} nominal GFLOP/s.` +
        (sh ? ` Kernel time (single-threaded Node profile below): ${(100 * sh.conv).toFixed(0)} % convolutions (forward, and the input gradients that src/engine/convGrad.ts computes as forward convolutions), ${(100 * sh.matmul).toFixed(0)} % matmuls; top: ${sh.top}.` : ''),
      '',
    );
    const m1 = nodeWasmRow(x, metric.model, 'metric', 1);
    const m2 = nodeWasmRow(x, metric.model, 'metric', 2);
    const s1 = nodeWasmRow(x, metric.model, 'surface', 1);
    const s2 = nodeWasmRow(x, metric.model, 'surface', 2);
    if (m1 && m2 && s1 && s2) {
      L.push(`A PGD step on 100 samples is a batch of 100: its kernels are small, so a second thread gains ×${(m1.seconds / m2.seconds).toFixed(2)} on the metric against ×${(s1.seconds / s2.seconds).toFixed(2)} on the surface's 1024-point chunks, and the metric runs at ${gf(m2).toFixed(1)} GFLOP/s against the surface's ${gf(s2).toFixed(1)}. PyTorch runs this job at ${gf(peerMetric).toFixed(1)} GFLOP/s.`, '');
    }
    const metricSplit = splitNote('metric', m1, m2);
    if (metricSplit) L.push(metricSplit, '');
    if (!(peerSurf && surf && surf.seconds / peerSurf.seconds > 0.8)) L.push(hardwareNote(x), '');
    L.push(floorNote(x, metric, peerMetric.seconds, 'the 1.0× target', peerMetric), '');
    const thread = threadForThread(x, metric, peerMetric, m1, m2);
    if (thread) L.push(thread, '');
  }
  const lab = x.lab;
  const missed = labLatencyRuns(x).filter((r) => r.previewMedianMs === null || (r.previewMaxMs ?? Infinity) > 200 || r.longTasksDuringCompute.length > 0);
  if (lab && missed.length) {
    L.push('### The lab', '');
    const mt = lab.mainThread;
    const verdict = (r: LabResult) => `${labGridLabel(r)}: the preview target (≤ 0.2 s) is ${r.previewMedianMs !== null && (r.previewMaxMs ?? Infinity) <= 200 ? 'met' : r.previewMedianMs === null ? 'missed: no preview was seen' : `missed: max ${((r.previewMaxMs ?? 0) / 1000).toFixed(2)} s, median ${(r.previewMedianMs / 1000).toFixed(2)} s`}, and ${r.longTasksDuringCompute.length} main-thread long task(s) fell inside the timed computations`;
    L.push(
      `${missed.map(verdict).join('; ')}. ` +
        "The engine's share of a preview is small (a 15² grid is 225 forward passes, a few ms on wasm); the rest is the page's main thread: " +
        (mt ? `the profile in the lab section shows ${(mt.busyMs / mt.clicks).toFixed(0)} ms of main-thread work per new sample, led by ${mt.top.slice(0, 3).map((t) => `\`${t.fn}\` (${((100 * t.ms) / mt.busyMs).toFixed(0)} %)`).join(', ')}.` : 'see the profile in the lab section.'),
      '',
    );
  }
  return L;
}

/** The lab's latency runs in the report: the default grid, then the issue's 101² where measured. */
function labLatencyRuns(x: ReportInput): LabResult[] {
  return [x.lab, x.labIssueGrid].filter((r): r is LabResult => !!r);
}

function labGridLabel(r: LabResult): string {
  return r.resolution === DEFAULT_CONFIG.resolution ? `${r.resolution}² grid (the lab's default)` : `${r.resolution}² grid`;
}

await main();
