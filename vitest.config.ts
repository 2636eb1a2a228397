import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts'],
    environment: 'node',
    // Engine tests run real tfjs on the wasm backend; a PGD run on 2 cores takes seconds.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Relaxed SIMD on in each worker, as the CLI has it (the kernels' fused multiply-add build).
    setupFiles: ['scripts/vitestSetup.ts'],
  },
});
