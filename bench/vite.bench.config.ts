/**
 * Builds the benchmark page (bench/browser/) into .cache/bench/site: not part of the app.
 * It shares the app's public/ (models, data), the threads fix of the wasm glue, and the
 * cross-origin isolation headers (for `vite preview`), so its wasm backend behaves as the lab's.
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { ISOLATION_HEADERS, selfContainedWasmThreadsGlue } from '../vite.config';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('./browser'),
  base: './',
  publicDir: here('../public'),
  plugins: [selfContainedWasmThreadsGlue()],
  // Workers are bundled separately, with their own plugin list: the engine runs in one.
  worker: { format: 'es', plugins: () => [selfContainedWasmThreadsGlue()] },
  logLevel: 'warn',
  build: { outDir: here('../.cache/bench/site'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 8192, reportCompressedSize: false },
  preview: { headers: ISOLATION_HEADERS },
  server: { headers: ISOLATION_HEADERS },
});
