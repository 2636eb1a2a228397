/**
 * The tfjs backend of a CLI run: wasm (XNNPACK, SIMD) by default, on one thread unless
 * `--threads` asks for more, or the plain JavaScript cpu backend on request. The fast
 * convolution gradients are registered once the backend is set, so PGD and surfaces of CNNs
 * run on wasm's forward-convolution path.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { availableParallelism } from 'node:os';
import { chooseBackend, type BackendName } from '../engine/backend';
import { wasmThreadCount } from '../engine/winograd';
import { registerFastConvGradients } from '../engine/convGrad';
import { type OptionSpec, type ParsedArgs, quote, UsageError } from './args';
import type { CliIo } from './io';
import { packageVersion } from './version';
import { enableNodeRelaxedSimd } from './relaxedSimd';
import { disableNodeWasmThreads, enableNodeWasmThreads, nodeWasmThreadsUnavailable } from './wasmThreads';

/** Backends the CLI offers (WebGL needs a browser). */
export const CLI_BACKENDS = ['wasm', 'cpu'] as const;
export type CliBackend = (typeof CLI_BACKENDS)[number];

/** Logical cores of this machine: `--threads auto`, and the largest `--threads`. */
const CORES = Math.max(1, availableParallelism());

/** The options every computing command takes. */
export const BACKEND_OPTIONS: Record<'backend' | 'threads', OptionSpec> = {
  backend: { type: 'string', value: 'wasm|cpu', help: 'TensorFlow.js backend', default: 'wasm' },
  threads: {
    type: 'string',
    value: '<n>|auto',
    help:
      `wasm threads, 1..${CORES} or auto (one per logical core); the results do not\n` +
      'depend on it. Pays off on runs of several seconds (it takes about 1 s to start)',
    default: '1',
  },
};

/** What `--backend` and `--threads` ask for. */
export interface BackendRequest {
  backend: CliBackend;
  threads: number;
}

/** Reads `--backend` and `--threads` (checked before any file is read). */
export function readBackendArgs(args: ParsedArgs): BackendRequest {
  const backend = args.choice('backend', CLI_BACKENDS, 'wasm');
  const text = args.string('threads') ?? '1';
  if (backend === 'cpu' && args.has('threads')) throw new UsageError('--threads applies to the wasm backend; the cpu backend runs on one thread');
  if (text === 'auto') return { backend, threads: CORES };
  const threads = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(threads >= 1 && threads <= CORES)) {
    throw new UsageError(`--threads must be auto or an integer between 1 and ${CORES} (the logical cores of this machine); got ${quote(text)}`);
  }
  return { backend, threads };
}

/** The backend a run got: its name, its threads, and both in words ("wasm, 2 threads"). */
export interface StartedBackend {
  backend: BackendName;
  threads: number;
  text: string;
}

/**
 * Switches tfjs to the requested backend and returns what is now active. wasm with more than
 * one thread starts tfjs's threaded build (src/cli/wasmThreads.ts); if that cannot start, the
 * single-threaded build runs instead (as it does at once where the bridge does not apply), and
 * if wasm cannot start at all, cpu does. A note on stderr says so (the outputs record what
 * really ran). The backend is set up once per process: a later call in the same process keeps
 * the first call's threads.
 */
export async function startBackend(request: BackendRequest, io: CliIo): Promise<StartedBackend> {
  const name = request.backend;
  const fresh = tf.findBackend('wasm') === null;
  let threaded = name === 'wasm' && request.threads > 1 && fresh;
  const unavailable = threaded ? nodeWasmThreadsUnavailable() : null;
  if (unavailable) {
    io.stderr.write(`note: ${unavailable}; running on one thread\n`);
    threaded = false;
  }
  if (threaded) enableNodeWasmThreads(request.threads);
  if (name === 'wasm') enableNodeRelaxedSimd();
  let choice = await chooseBackend(name);
  if (threaded && choice.backend !== 'wasm') {
    const why = choice.skipped.map((s) => s.reason).join('; ');
    io.stderr.write(`note: the threaded wasm backend could not start (${why}); running on one thread\n`);
    disableNodeWasmThreads();
    choice = await chooseBackend(name);
  }
  if (choice.backend !== name) {
    const why = choice.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
    io.stderr.write(`note: the ${name} backend could not start (${why}); running on ${choice.backend}\n`);
  }
  registerFastConvGradients();
  const threads = choice.backend === 'wasm' ? wasmThreadCount() : 1;
  const onThreads = `${threads} thread${threads === 1 ? '' : 's'}`;
  if (choice.backend === 'wasm' && !fresh && threads !== request.threads) {
    io.stderr.write(`note: the wasm backend already runs on ${onThreads} in this process\n`);
  }
  return { backend: choice.backend, threads, text: `${choice.backend}, ${onThreads}` };
}

/** What every JSON record says about the software and backend that computed it. */
export function provenance(started: StartedBackend): { ravine: string; tfjs: string; backend: BackendName; threads: number } {
  return { ravine: packageVersion(), tfjs: tf.version.tfjs, backend: started.backend, threads: started.threads };
}
