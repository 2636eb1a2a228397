import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Cross-origin isolation lets the browser hand out SharedArrayBuffer, which the tfjs wasm
 * backend needs for its multi-threaded build. The dev server and `vite preview` both send
 * these headers; the app falls back to single-threaded wasm when they are absent.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Content-Security-Policy of the built app: scripts only from our own origin, no eval (wasm
 * compilation is allowed by 'wasm-unsafe-eval', which tfjs-wasm needs), no remote anything.
 * Inline styles stay allowed because React writes style attributes. Build only: the dev
 * server injects an inline React-refresh preamble that a strict policy would block.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

function contentSecurityPolicy(): Plugin {
  return {
    name: 'ravine-csp',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }],
  };
}

/**
 * Makes tfjs-backend-wasm's threaded build survive minification.
 *
 * The backend starts each pthread worker from a Blob holding
 * `'var WasmBackendModuleThreadedSimd = ' + factory.toString()`, i.e. the *text* of the
 * Emscripten factory function, evaluated in a fresh worker scope. That text must therefore
 * not mention any binding from the scope around it. In the npm file the factory reads
 * `_scriptDir`, a variable of the IIFE that wraps it, behind a `typeof _scriptDir !==
 * "undefined"` guard, which is harmless unminified. A minifier sees that the binding is
 * declared and rewrites the guard to `e !== void 0 && e` (with `e` the renamed `_scriptDir`),
 * and the pthread worker, where no `e` exists, dies with "e is not defined" before the
 * backend initialises. Declaring `_scriptDir` inside the factory keeps every reference local.
 * In a browser bundle the outer value is always undefined anyway (it is
 * `document.currentScript.src`, which is null in module scripts and absent in workers), so
 * nothing else changes. Only `vite build` needs this: the dev server does not minify.
 */
const THREADED_GLUE = /tfjs-backend-wasm-threaded-simd\.js$/;
const FACTORY_HEAD = 'function(WasmBackendModuleThreadedSimd) {';

export function selfContainedWasmThreadsGlue(): Plugin {
  return {
    name: 'ravine-wasm-threads-glue',
    apply: 'build',
    transform(code, id) {
      if (!THREADED_GLUE.test(id.split('?')[0])) return null;
      const at = code.indexOf(FACTORY_HEAD);
      // Fail the build rather than ship a threaded backend that cannot start.
      if (at < 0 || code.indexOf(FACTORY_HEAD, at + 1) >= 0) {
        this.error(`${id}: expected exactly one "${FACTORY_HEAD}"; tfjs-backend-wasm changed, revisit the threads fix in vite.config.ts`);
      }
      const end = at + FACTORY_HEAD.length;
      return { code: `${code.slice(0, end)}\nvar _scriptDir;${code.slice(end)}`, map: null };
    },
  };
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicy(), selfContainedWasmThreadsGlue()],
  base: './',
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  // Workers are bundled separately, with their own plugin list: the engine runs in one.
  worker: { format: 'es', plugins: () => [selfContainedWasmThreadsGlue()] },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 4096 },
});
