/**
 * The benchmark page's script: starts the benchmark worker and hands its comlink proxy to
 * Playwright as `window.bench`. The engine runs in a worker, as in the lab, so that the wasm
 * backend may use threads when the page is cross-origin isolated. With `?auto` the page runs
 * `gpu-plan.json` by itself (bench/browser/auto.ts), for machines without Node.
 */
import { wrap } from 'comlink';
import type { BenchWorkerApi } from './bench.worker';

const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module', name: 'ravine-bench' });
const bench = wrap<BenchWorkerApi>(worker);
(window as unknown as { bench: typeof bench }).bench = bench;
if (new URLSearchParams(location.search).has('auto')) {
  void import('./auto').then(({ runAuto }) => runAuto(bench)).catch((e: Error) => fetch('/result', { method: 'POST', body: JSON.stringify({ error: e.message, configs: [] }) }));
}
