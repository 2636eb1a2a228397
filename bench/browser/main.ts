/**
 * The benchmark page's script: starts the benchmark worker and hands its comlink proxy to
 * Playwright as `window.bench`. The engine runs in a worker, as in the lab, so that the wasm
 * backend may use threads when the page is cross-origin isolated.
 */
import { wrap } from 'comlink';
import type { BenchWorkerApi } from './bench.worker';

const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module', name: 'ravine-bench' });
(window as unknown as { bench: ReturnType<typeof wrap<BenchWorkerApi>> }).bench = wrap<BenchWorkerApi>(worker);
