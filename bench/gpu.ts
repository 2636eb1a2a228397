/**
 * WebGL on a real GPU, for a machine that has one but no Node, npm or network (the GPU machines
 * lent to some work sessions). Two steps:
 *
 *   npx tsx bench/gpu.ts prepare   # here, after a bench run (needs .cache/bench's directions)
 *     builds the benchmark page into .cache/gpu/site (models and data are served from public/),
 *     writes its plan (.cache/gpu/site/gpu-plan.json: the Node bench's directions and reference
 *     surfaces, full-size batched jobs), and packs Debian's chromium-headless-shell with the
 *     shared libraries it links (apt-get installs it if missing) into .cache/gpu/chromium.tar.xz,
 *     split into parts of at most 38 MiB (.cache/gpu/part-*), which fit one transfer each;
 *   on the GPU machine: unpack the parts and run bench/gpu/serve.py (Python only), which finds
 *     Chromium flags that give a hardware WebGL renderer and lets the page run the plan;
 *     (bench/gpu/run.sh does both, and runs the PyTorch peer there on the CPU and on the GPU);
 *   npx tsx bench/gpu.ts record DIR   # here: DIR holds run.sh's gpu-*.json and peer-*.json files
 *     keeps them as bench/results/gpu-webgl.json, which bench/run.ts reports in docs/benchmarks.md;
 *   the lab as shipped: RAVINE_GPU_PAGE=lab bash bench/gpu/run.sh there (prepare packs it in
 *     lab.tar.xz), then npx tsx bench/gpu.ts record-lab DIR here: bench/results/gpu-lab.json and
 *     the screenshots in docs/screenshots/lab-on-gpu-*.png.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import { REPO_ROOT } from '../src/io/datasetNode';
import { DEFAULT_CONFIG, PREVIEW_RESOLUTION } from '../src/state/config';
import type { AutoPlan } from './browser/auto';
import { BENCH_DIR, jobPlan, loadF32, MODELS, SAMPLE_INDEX } from './common';
import { GPU_AB_RESULT, GPU_LAB_RESULT, GPU_RESULT } from './gpuReport';
import { WEBGL_CONV_FLAG } from '../src/engine/webglConv';

const GPU_DIR = join(REPO_ROOT, '.cache', 'gpu');
const SITE = join(GPU_DIR, 'site');
const LAB_SITE = join(GPU_DIR, 'lab');
const CHROME_DIR = '/usr/lib/chromium';
const CHROME_BIN = 'chromium-headless-shell';
const PART_BYTES = 38 * 2 ** 20;

async function prepare(): Promise<void> {
  if (!existsSync(join(BENCH_DIR, 'mnist-cnn-natural-d1.npy'))) throw new Error('run `npm run bench` first: the plan uses its directions and reference surfaces');
  mkdirSync(GPU_DIR, { recursive: true });
  process.env.VITE_CONFIG_NATIVE_IGNORE_WARNING = 'true';
  await build({ configFile: join(REPO_ROOT, 'bench', 'vite.bench.config.ts'), logLevel: 'error', build: { outDir: SITE, emptyOutDir: true } });
  // The machine gets the repository's public/ anyway: serve.py falls back to it.
  for (const d of ['models', 'data']) rmSync(join(SITE, d), { recursive: true, force: true });
  const ref = (id: string) => {
    const f = join(BENCH_DIR, `wasm1-${id}-surface-batched-101-loss.npy`);
    return existsSync(f) ? Array.from(loadF32(`wasm1-${id}-surface-batched-101-loss.npy`)) : null;
  };
  const jobs = jobPlan('gpu', 3);
  // The engine's chunk for the CNN's surface, as the bench's Node run found it (chunkSizeFor).
  const nodeRun = JSON.parse(readFileSync(join(BENCH_DIR, 'node-wasm1.json'), 'utf8')) as { chunks?: Record<string, { forward: number }> };
  const engineChunk = nodeRun.chunks?.['mnist-cnn-natural']?.forward;
  if (!engineChunk) throw new Error('run `npm run bench` first: the plan takes the engine\'s chunk from its Node run');
  const plan: AutoPlan = {
    x0Index: SAMPLE_INDEX,
    nMax: Math.max(...jobs.filter((j) => j.kind !== 'surface').map((j) => j.size)),
    configs: [
      { backend: 'webgl', threads: true, jobs }, // threads: only read by wasm (false would force its single-threaded build)
      // The same machine's CPU, for scale: the threaded wasm build, batched jobs only.
      { backend: 'wasm', threads: true, jobs: jobs.filter((j) => j.mode === 'batched') },
    ],
    models: MODELS.map((id) => ({ id, d1: Array.from(loadF32(`${id}-d1.npy`)), d2: Array.from(loadF32(`${id}-d2.npy`)), refLoss: ref(id), refSize: 101 })),
    // Where the WebGL time goes: the CNN surface in chunks from a quarter of the engine's own
    // (the bench's Node run records it) to the whole grid at once (one read-back), a kernel
    // profile at the engine's chunk, and the same jobs with
    // tfjs's own WebGL convolution kernels instead of Ravine's shaders (src/engine/webglConv.ts),
    // with its default im2col path and with its experimental packed convolution. (On the H100
    // on 2026-11-26, before Ravine's shaders, neither WEBGL_EXP_CONV nor WEBGL_CONV_IM2COL=false
    // beat the defaults.)
    probe: {
      model: 'mnist-cnn-natural',
      size: 101,
      chunks: [...new Set([Math.max(1, Math.floor(engineChunk / 4)), engineChunk, 4096, 101 * 101])].sort((a, b) => a - b),
      engineChunk,
      runs: 3,
      flags: [{ [WEBGL_CONV_FLAG]: false }, { [WEBGL_CONV_FLAG]: false, WEBGL_EXP_CONV: true }],
      // What a lab user waits for on a real GPU: its preview grid and its default grid.
      labSizes: [PREVIEW_RESOLUTION, DEFAULT_CONFIG.resolution],
    },
  };
  writeFileSync(join(SITE, 'gpu-plan.json'), JSON.stringify(plan));
  console.log(`site: ${SITE} (${dirBytes(SITE) >> 20} MiB)`);

  // The lab itself, as shipped, with bench/gpu/labAuto.ts beside it as lab-auto.js (serve.py's
  // lab mode adds it to index.html), packed on its own for the transfer.
  await build({ configFile: join(REPO_ROOT, 'vite.config.ts'), root: REPO_ROOT, logLevel: 'error', build: { outDir: LAB_SITE, emptyOutDir: true } });
  for (const d of ['models', 'data']) rmSync(join(LAB_SITE, d), { recursive: true, force: true });
  for (const f of readdirSync(join(LAB_SITE, 'assets'))) if (f.endsWith('.map')) rmSync(join(LAB_SITE, 'assets', f));
  await build({
    configFile: false,
    logLevel: 'error',
    build: { outDir: LAB_SITE, emptyOutDir: false, copyPublicDir: false, lib: { entry: join(REPO_ROOT, 'bench', 'gpu', 'labAuto.ts'), formats: ['es'], fileName: () => 'lab-auto.js' } },
  });
  // The GPU machine has no fonts: a page with text would crash Chromium's renderer there (Skia
  // FATAL "Not implemented" in its FontConfigInterface font manager; reproduced here with
  // /usr/share/fonts and /etc/fonts hidden). Debian's DejaVu Sans and Sans Mono go with the
  // lab, with a fontconfig file that finds them beside itself (run.sh points FONTCONFIG_FILE at it).
  const fonts = join(GPU_DIR, 'lab-fonts');
  rmSync(fonts, { recursive: true, force: true });
  mkdirSync(fonts, { recursive: true });
  const dejavu = '/usr/share/fonts/truetype/dejavu';
  if (!existsSync(join(dejavu, 'DejaVuSans.ttf'))) execFileSync('apt-get', ['install', '-y', 'fonts-dejavu-core'], { stdio: 'inherit' });
  for (const f of readdirSync(dejavu)) if (/^DejaVuSans(Mono)?(-Bold|-Oblique|-BoldOblique)?\.ttf$/.test(f)) copyFileSync(join(dejavu, f), join(fonts, f));
  writeFileSync(
    join(fonts, 'fonts.conf'),
    '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir prefix="relative">.</dir>\n  <cachedir>/tmp/ravine-fontconfig</cachedir>\n</fontconfig>\n',
  );
  execFileSync('tar', ['-C', GPU_DIR, '-cJf', join(GPU_DIR, 'lab.tar.xz'), 'lab', 'lab-fonts']);
  console.log(`lab: ${LAB_SITE} (${(dirBytes(LAB_SITE) / 2 ** 20).toFixed(1)} MiB), packed in lab.tar.xz (${(statSync(join(GPU_DIR, 'lab.tar.xz')).size / 2 ** 20).toFixed(1)} MiB)`);

  // The PyTorch peer's inputs (the same weights, sample, directions and random starts), so that
  // bench/peer.py can run on the GPU machine's CPU and on its GPU beside the page.
  const peerDir = join(GPU_DIR, 'peer');
  rmSync(peerDir, { recursive: true, force: true });
  mkdirSync(peerDir, { recursive: true });
  const meta = JSON.parse(readFileSync(join(BENCH_DIR, 'bench.json'), 'utf8')) as { models: Record<string, { layers: Record<string, unknown>[]; d1: string; d2: string }> } & Record<string, unknown>;
  const names = new Set<string>(['bench.json', ...['x0', 'xs', 'labels', 'metricStarts', 'attackStarts'].map((k) => String(meta[k]))]);
  for (const m of Object.values(meta.models)) {
    names.add(m.d1).add(m.d2);
    for (const l of m.layers) for (const k of ['kernel', 'bias']) if (typeof l[k] === 'string') names.add(l[k]);
  }
  for (const n of names) copyFileSync(join(BENCH_DIR, n), join(peerDir, n));
  console.log(`peer inputs: ${peerDir} (${(dirBytes(peerDir) / 2 ** 20).toFixed(1)} MiB)`);

  const tarball = join(GPU_DIR, 'chromium.tar.xz');
  if (!existsSync(tarball)) {
    if (!existsSync(join(CHROME_DIR, CHROME_BIN))) execFileSync('apt-get', ['install', '-y', 'chromium-headless-shell'], { stdio: 'inherit' });
    const stage = join(GPU_DIR, 'chr');
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(join(stage, 'lib'), { recursive: true });
    const files = [CHROME_BIN, 'headless_command_resources.pak', 'headless_lib_data.pak', 'headless_lib_strings.pak', 'icudtl.dat', 'libvulkan.so.1', 'snapshot_blob.bin', 'v8_context_snapshot.bin'];
    for (const f of files) execFileSync('cp', [join(CHROME_DIR, f), stage]);
    // Every library the binary links, but the C runtime, which the target has; NSS's modules
    // and glvnd's EGL/GL dispatchers are loaded at run time, so they are named.
    const ldd = execFileSync('ldd', [join(CHROME_DIR, CHROME_BIN)], { encoding: 'utf8' });
    const libs = [...ldd.matchAll(/=> (\/\S+)/g)].map((m) => m[1]).filter((p) => !/\/(libc|libm|libpthread|libgcc_s|libstdc\+\+|libdl|librt)\.so/.test(p));
    const multi = '/usr/lib/x86_64-linux-gnu';
    libs.push(...['libsoftokn3.so', 'libfreebl3.so', 'libfreeblpriv3.so', 'libnssckbi.so', 'libEGL.so.1', 'libGLdispatch.so.0', 'libGLESv2.so.2', 'libOpenGL.so.0'].map((f) => join(multi, f)).filter(existsSync));
    for (const l of libs) execFileSync('cp', ['-L', l, join(stage, 'lib')]);
    execFileSync('sh', ['-c', `tar -C "${GPU_DIR}" -cf - chr | xz -6 -T2 > "${tarball}"`], { stdio: 'inherit' });
    rmSync(stage, { recursive: true, force: true });
  }
  for (const f of readdirSync(GPU_DIR)) if (f.startsWith('part-')) rmSync(join(GPU_DIR, f));
  execFileSync('split', ['-b', String(PART_BYTES), '-d', tarball, join(GPU_DIR, 'part-')]);
  console.log(`chromium: ${tarball} (${statSync(tarball).size >> 20} MiB) in ${readdirSync(GPU_DIR).filter((f) => f.startsWith('part-')).join(', ')}`);
}

function dirBytes(d: string): number {
  return readdirSync(d, { withFileTypes: true }).reduce((s, e) => s + (e.isDirectory() ? dirBytes(join(d, e.name)) : statSync(join(d, e.name)).size), 0);
}

/** What every record keeps of a run.sh output folder: when, on what machine, by which command, and the flag probes. */
function runHeader(dir: string): { recorded: string; machine: string; command: string; probes: unknown } {
  const text = (f: string, missing: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').trim() : missing);
  return { recorded: new Date().toISOString(), machine: text('gpu-machine.txt', 'unknown'), command: text('gpu-command.txt', ''), probes: readJson(dir, 'gpu-probes.json') };
}

const readJson = (dir: string, f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown;

function writeResult(file: string, out: unknown): void {
  mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
  console.log(`wrote ${file}`);
}

function record(dir: string): void {
  const optional = (f: string) => (existsSync(join(dir, f)) ? readJson(dir, f) : null);
  writeResult(GPU_RESULT, {
    ...runHeader(dir),
    meta: readJson(dir, 'gpu-meta.json'),
    result: readJson(dir, 'gpu-result.json'),
    peerCpu: optional('peer-cpu.json'),
    peerCuda: optional('peer-cuda.json'),
  });
}

/** Keeps a lab run's figures (RAVINE_GPU_PAGE=lab bash bench/gpu/run.sh) and its screenshots. */
function recordLab(dir: string): void {
  const lab = readJson(dir, 'gpu-lab.json') as { runs: { grid: number; screenshot: string | null }[] };
  mkdirSync(join(REPO_ROOT, 'docs', 'screenshots'), { recursive: true });
  for (const r of lab.runs) {
    if (!r.screenshot) continue;
    const kept = `lab-on-gpu-${r.grid}.png`;
    copyFileSync(join(dir, r.screenshot), join(REPO_ROOT, 'docs', 'screenshots', kept));
    r.screenshot = `docs/screenshots/${kept}`;
  }
  writeResult(GPU_LAB_RESULT, { ...runHeader(dir), lab });
}

/**
 * Keeps a before/after comparison of one change on a GPU machine: run.sh output folders of the
 * page built before the change and after it, alternated on the same machine (comma-separated
 * lists), and a sentence saying what changed and how the pages were built.
 */
function recordAb(change: string, before: string, after: string): void {
  const load = (dirs: string) => dirs.split(',').map((d) => (readJson(d, 'gpu-result.json') as { configs: unknown[] }).configs[0]);
  const first = before.split(',')[0];
  writeResult(GPU_AB_RESULT, { ...runHeader(first), change, before: load(before), after: load(after) });
}

const [cmd, arg, ...rest] = process.argv.slice(2);
if (cmd === 'prepare') await prepare();
else if (cmd === 'record' && arg) record(arg);
else if (cmd === 'record-lab' && arg) recordLab(arg);
else if (cmd === 'record-ab' && arg && rest.length === 2) recordAb(arg, rest[0], rest[1]);
else {
  console.error('usage: npx tsx bench/gpu.ts prepare | record DIR | record-lab DIR | record-ab "WHAT CHANGED" BEFORE_DIR[,DIR…] AFTER_DIR[,DIR…]');
  process.exit(2);
}
