/**
 * Chunked, cancellable, progress-reporting execution shared by every long engine job.
 */
import type { Classifier } from './classifier';

/**
 * Activation memory one chunk of a job may use on the backend, in bytes. 64 MiB keeps a
 * chunk well inside what WebGL gives a tab on integrated GPUs (a few hundred MiB) and inside
 * the wasm heap's default growth, while batches stay large enough (hundreds of MNIST samples)
 * that per-call overhead does not dominate.
 */
export const CHUNK_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * Never batch more than this many samples, whatever the budget allows (diminishing returns).
 * 2048 rather than 1024: each chunk costs about 0.8 ms outside the kernels on wasm (tfjs's
 * dispatch, the loss head, the read-back, the yield), and the dense layers stream their weights
 * once per chunk. The CNN's 101² surface, Node wasm on 2 threads: 125.5 against 132 ms (two
 * alternating rounds); Chromium wasm on 2 threads, best of 15: 120–122 against 124–128 ms.
 */
export const MAX_CHUNK = 2048;

/** Progress of a chunked job. */
export interface Progress {
  /** Units finished (grid points, samples). */
  done: number;
  /** Units in the whole job. */
  total: number;
}

/** Options every long job takes. */
export interface JobOptions {
  /** Cancels the job between chunks; the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** Called after every chunk. */
  onProgress?: (p: Progress) => void;
  /** Override of the batch size (samples or grid points per chunk). */
  chunkSize?: number;
  /**
   * Awaited between chunks and PGD steps instead of a plain event-loop yield. A host running
   * several jobs on one thread uses it to hold a background job (the metric) while a
   * foreground one (the surface the user is looking at) runs.
   */
  pause?: () => Promise<void>;
  /**
   * Surface only: issue the next chunk before reading the last one back (default: on GPU
   * backends, where kernels run asynchronously; wasm and cpu finish each kernel as it is called).
   */
  overlapReadback?: boolean;
}

/** What a job awaits between chunks: the host's pause hook, or a plain yield. */
export function betweenChunks(options: Pick<JobOptions, 'pause'>): Promise<void> {
  return options.pause ? options.pause() : yieldToEventLoop();
}

/**
 * Samples per chunk for `classifier` under CHUNK_BUDGET_BYTES. Gradient jobs keep the
 * forward activations for the backward pass and hold gradients of the same size, so they
 * get a third of the forward-only batch.
 */
export function chunkSizeFor(classifier: Classifier, withGradients: boolean, override?: number): number {
  if (override !== undefined) return Math.max(1, Math.floor(override));
  const perSample = classifier.bytesPerSample * (withGradients ? 3 : 1);
  return Math.max(1, Math.min(MAX_CHUNK, Math.floor(CHUNK_BUDGET_BYTES / perSample)));
}

/** The scheduling primitives we look for; which exist depends on the host (Node, worker, page). */
interface HostTimers {
  setImmediate?: (fn: () => void) => unknown;
  MessageChannel?: new () => {
    port1: { onmessage: (() => void) | null; close(): void };
    port2: { postMessage(message: unknown): void };
  };
}

/**
 * Lets the event loop run (messages, abort requests, rendering) between chunks. A macrotask,
 * not a microtask: a resolved promise would not let a worker's onmessage in.
 */
export function yieldToEventLoop(): Promise<void> {
  // setImmediate (Node) and a MessageChannel round trip (workers, pages) avoid the 4 ms clamp
  // browsers put on nested setTimeout(0), which would add up over the steps of a PGD run.
  const g = globalThis as unknown as HostTimers;
  if (typeof g.setImmediate === 'function') return new Promise((resolve) => g.setImmediate?.(resolve));
  if (typeof g.MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new (g.MessageChannel as NonNullable<HostTimers['MessageChannel']>)();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}
