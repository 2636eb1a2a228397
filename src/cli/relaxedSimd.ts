/**
 * Relaxed SIMD in Node, for Ravine's kernels (src/engine/kernels/as/madd.ts: their product loops
 * use its fused multiply-add, ×1.37 on the tile loop here; src/engine/winograd.ts falls back to a
 * build without it where the engine cannot compile it). Chromium ships relaxed SIMD from 114 and
 * Node from 22 (V8 11.4); Node 20's V8 11.3 has the same instructions behind
 * --experimental-wasm-relaxed-simd. This turns that flag on for the process when its engine lacks
 * them, before any kernel module is compiled: the CLI and the benchmark call it first. V8 flags
 * are process-wide, so worker threads see it too.
 */
import * as v8 from 'node:v8';
import { WINOGRAD_WASM_PLAIN_RELAXED } from '../engine/kernels/winogradWasm';

/** Whether this process compiles relaxed SIMD now (turning the flag on first if it must). */
export function enableNodeRelaxedSimd(): boolean {
  const probe = Buffer.from(WINOGRAD_WASM_PLAIN_RELAXED, 'base64');
  if (WebAssembly.validate(probe)) return true;
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return WebAssembly.validate(probe);
}
