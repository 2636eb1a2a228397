/**
 * The tfjs backend of a CLI run: wasm (XNNPACK, SIMD) by default, the plain JavaScript cpu
 * backend on request. The fast convolution gradients are registered once the backend is set,
 * so PGD and surfaces of CNNs run on wasm's forward-convolution path.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { chooseBackend, type BackendName } from '../engine/backend';
import { registerFastConvGradients } from '../engine/convGrad';
import type { CliIo } from './io';

/** Backends the CLI offers (WebGL needs a browser). */
export const CLI_BACKENDS = ['wasm', 'cpu'] as const;
export type CliBackend = (typeof CLI_BACKENDS)[number];

/**
 * Switches tfjs to `name` and returns the backend now active. If wasm cannot start, the
 * engine falls back to cpu; a note on stderr says so (the outputs record the real backend).
 */
export async function startBackend(name: CliBackend, io: CliIo): Promise<BackendName> {
  const choice = await chooseBackend(name);
  if (choice.backend !== name) {
    const why = choice.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
    io.stderr.write(`note: the ${name} backend could not start (${why}); running on ${choice.backend}\n`);
  }
  registerFastConvGradients();
  return choice.backend;
}

/** The tfjs version, for the records. */
export function tfjsVersion(): string {
  return tf.version.tfjs;
}
