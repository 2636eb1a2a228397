/**
 * Runs in every Vitest worker before its tests: relaxed SIMD on, as the CLI and the benchmark
 * turn it on (src/cli/relaxedSimd.ts), so the engine's tests run the kernels' relaxed-SIMD build
 * that they run. src/engine/kernels/kernels.test.ts checks the build without it against this one.
 */
import { enableNodeRelaxedSimd } from '../src/cli/relaxedSimd';

enableNodeRelaxedSimd();
