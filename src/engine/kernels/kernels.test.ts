/**
 * The committed kernel module (winogradWasm.ts) is what `npm run kernels` builds from the
 * AssemblyScript source today: an edit to the source without a rebuild fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KERNEL_MODULE, kernelModuleText } from '../../../scripts/kernels';

describe('WebAssembly kernels', () => {
  it('are up to date with their AssemblyScript source (else: npm run kernels)', async () => {
    expect(readFileSync(KERNEL_MODULE, 'utf8') === (await kernelModuleText()), 'src/engine/kernels/winogradWasm.ts is stale: run npm run kernels').toBe(true);
  });

  it('import their memory and carry no data of their own (they live in tfjs\'s wasm memory)', async () => {
    const builds = await import('./winogradWasm');
    for (const b64 of [builds.WINOGRAD_WASM_PLAIN, builds.WINOGRAD_WASM_SHARED, builds.WINOGRAD_WASM_PLAIN_RELAXED, builds.WINOGRAD_WASM_SHARED_RELAXED]) {
      const bytes = Buffer.from(b64, 'base64');
      const module = new WebAssembly.Module(bytes);
      expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
      // Section ids after the 8-byte header: a data (11) or start (8) section would write into
      // tfjs's memory when the module is instantiated.
      const ids: number[] = [];
      for (let i = 8; i < bytes.length; ) {
        ids.push(bytes[i++]);
        let size = 0;
        for (let shift = 0; ; shift += 7) {
          const byte = bytes[i++];
          size |= (byte & 0x7f) << shift;
          if (!(byte & 0x80)) break;
        }
        i += size;
      }
      expect(ids.filter((id) => id === 8 || id === 11)).toEqual([]);
    }
  });

  it('skip the products where the transformed filter is zero (its spans) and give the same bits as without them', async () => {
    const { WINOGRAD_WASM_PLAIN_RELAXED } = await import('./winogradWasm');
    const { transformFilter, transformSpans } = await import('../winograd');
    const memory = new WebAssembly.Memory({ initial: 256 });
    const k = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(WINOGRAD_WASM_PLAIN_RELAXED, 'base64')), { env: { memory } }).exports as Record<string, (...a: number[]) => number>;
    const f = new Float32Array(memory.buffer);
    let seed = 3;
    const next = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 31 - 1;
    };
    for (let i = 0; i < 6 * 14 * 14 * 16; i++) f[i] = next();
    const U = 1 << 20, BIAS = 2 << 20, SPANS = 3 << 20, OUT = 8_000_000, SCRATCH = 12_000_000;
    const w = Float32Array.from({ length: 5 * 5 * 16 * 32 }, next);
    const u = transformFilter(w, 2, 16, 32);
    f.set(u, U / 4);
    new Int32Array(memory.buffer).set(transformSpans(u, 64, 32), SPANS / 4);
    for (let c = 0; c < 32; c++) f[BIAS / 4 + c] = next();
    const outputs = [0, SPANS].map((spans) => {
      k.conv(0, 6, 14, 14, 16, U, BIAS, 32, 2, 1, 1, OUT, 7, 7, SCRATCH, 16, 0, 0, 1, spans);
      return f.slice(OUT / 4, OUT / 4 + 6 * 7 * 7 * 32);
    });
    expect(outputs[0].some((v) => v !== 0)).toBe(true);
    expect(outputs[1]).toEqual(outputs[0]);
  });

  it('compute the same without relaxed SIMD as with it, to float rounding (engines that lack it get that build)', async () => {
    const { WINOGRAD_WASM_PLAIN, WINOGRAD_WASM_PLAIN_RELAXED } = await import('./winogradWasm');
    expect(WebAssembly.validate(Buffer.from(WINOGRAD_WASM_PLAIN_RELAXED, 'base64')), 'relaxed SIMD on in this test process (scripts/vitestSetup.ts)').toBe(true);
    // Every kernel of both builds on the same inputs, each in a memory of its own.
    const run = (b64: string) => {
      const memory = new WebAssembly.Memory({ initial: 256 });
      const k = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(b64, 'base64')), { env: { memory } }).exports as Record<string, (...a: number[]) => number>;
      const f = new Float32Array(memory.buffer);
      let seed = 7;
      for (let i = 0; i < 2_000_000; i++) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        f[i] = seed / 2 ** 31 - 1;
      }
      const OUT = 8_000_000; // bytes: outputs from here, scratch beyond
      const SCRATCH = 12_000_000;
      const out: Float32Array[] = [];
      // Winograd, 5×5 stride 2 on 6 samples of 14×14×16 → 7×7×32 (U: 121 · 64 · 32 floats at 1 MB), ReLU.
      k.conv(0, 6, 14, 14, 16, 1 << 20, 2 << 20, 32, 2, 1, 1, OUT, 7, 7, SCRATCH, 16, 1, 0, 1, 0);
      out.push(f.slice(OUT / 4, OUT / 4 + 6 * 7 * 7 * 32));
      // Direct, 5×5 stride 2 on 5 samples of 28×28×1 → 14×14×16.
      k.direct1(0, 5, 28, 28, 3 << 20, 5, 5, 2 << 20, 16, 2, 1, 1, OUT, 14, 14, SCRATCH, 0);
      out.push(f.slice(OUT / 4, OUT / 4 + 5 * 14 * 14 * 16));
      // Matrix product 9 × 300 · 300 × 20 (edge rows, a 4-wide column tail), bias.
      k.gemm(0, 9, 300, 3 << 20, 20, 2 << 20, OUT, 0, 0, SCRATCH);
      out.push(f.slice(OUT / 4, OUT / 4 + 9 * 20));
      return out;
    };
    const plain = run(WINOGRAD_WASM_PLAIN);
    const relaxed = run(WINOGRAD_WASM_PLAIN_RELAXED);
    for (const [i, name] of ['Winograd', 'direct', 'matrix product'].entries()) {
      let diff = 0;
      let scale = 0;
      for (let j = 0; j < plain[i].length; j++) {
        diff = Math.max(diff, Math.abs(plain[i][j] - relaxed[i][j]));
        scale = Math.max(scale, Math.abs(plain[i][j]));
      }
      expect(scale, `${name}: outputs not all zero`).toBeGreaterThan(1);
      expect(Number.isFinite(diff) && diff <= 1e-5 * scale, `${name}: max |diff| ${diff} at max |value| ${scale}`).toBe(true);
    }
  });
});
