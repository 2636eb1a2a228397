/**
 * The page's handle on the engine: a comlink proxy to the worker, or — when a module worker
 * cannot start — an EngineHost on the main thread behind the same async interface (the engine
 * yields between chunks there, so the page stays responsive). Why we ended up where we are is
 * reported to the user.
 */
import { proxy, transfer, wrap, type Remote } from 'comlink';
import type { EngineHost } from './host';

export type EngineApi = Remote<EngineHost> | EngineHost;

export interface EngineConnection {
  api: EngineApi;
  /** 'worker' or 'main thread', with the reason for a fallback. */
  thread: string;
  /** Wraps a callback so it can cross to the worker. */
  callback<T extends (...args: never[]) => void>(fn: T): T;
  /** Marks typed arrays for transfer (no copy) when talking to a worker. */
  send<T>(value: T, buffers: ArrayBufferLike[]): T;
  terminate(): void;
}

let current: EngineConnection | null = null;

/**
 * The connection connectEngine made last (null before). For diagnostics only (the
 * `window.ravine` scripting handle); the lab controller keeps and uses its own.
 */
export function currentEngine(): EngineConnection | null {
  return current;
}

async function mainThreadEngine(reason: string): Promise<EngineConnection> {
  await import('./backends');
  const { EngineHost } = await import('./host');
  return (current = {
    api: new EngineHost(),
    thread: `main thread (${reason})`,
    callback: (fn) => fn,
    send: (v) => v,
    terminate() {},
  });
}

/** Starts the engine worker and checks it answers; falls back to the main thread. */
export async function connectEngine(): Promise<EngineConnection> {
  if (typeof Worker === 'undefined') return mainThreadEngine('this browser has no Web Workers');
  let worker: Worker;
  try {
    worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'ravine-engine' });
  } catch (e) {
    return mainThreadEngine(`the engine worker could not start: ${(e as Error).message}`);
  }
  const api = wrap<EngineHost>(worker);
  const failed = new Promise<string>((resolve) => {
    worker.addEventListener('error', (e) => resolve(e.message || 'the worker script failed to load'), { once: true });
  });
  const answered = api.memory().then(() => null);
  const outcome = await Promise.race([answered, failed, new Promise<string>((r) => setTimeout(() => r('the worker did not answer within 20 s'), 20_000))]);
  if (outcome !== null) {
    worker.terminate();
    return mainThreadEngine(outcome);
  }
  return (current = {
    api,
    thread: 'Web Worker',
    callback: (fn) => proxy(fn),
    send: (v, buffers) => transfer(v, buffers as Transferable[]),
    terminate: () => worker.terminate(),
  });
}
