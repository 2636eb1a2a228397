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
    const { WINOGRAD_WASM_PLAIN, WINOGRAD_WASM_SHARED } = await import('./winogradWasm');
    for (const b64 of [WINOGRAD_WASM_PLAIN, WINOGRAD_WASM_SHARED]) {
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
});
