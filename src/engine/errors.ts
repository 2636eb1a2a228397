/**
 * Typed errors the engine throws. Each carries a message written for the person using the
 * lab or the CLI (what is wrong and, where we know, what to do), and a machine-readable
 * `code` so the UI can pick an icon or the CLI an exit status.
 */

export type EngineErrorCode =
  | 'model-output' // output is not [N, K] logits/probabilities with K >= 2
  | 'model-input' // input shape or count we cannot feed
  | 'model-unsupported' // a model format or structure we do not handle
  | 'input-shape' // a sample or direction that does not match the model
  | 'bad-setting' // an option outside its sane bounds
  | 'backend'; // no usable tfjs backend

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
  }
}

/** True for the error an aborted job rejects with (DOMException 'AbortError' or ours). */
export function isAbortError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: string }).name === 'AbortError';
}

/** Throws the signal's abort reason (an 'AbortError') when the job has been cancelled. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof Error) throw reason;
    const err = new Error('The operation was aborted.');
    err.name = 'AbortError';
    throw err;
  }
}

/** Checks a numeric setting and throws a 'bad-setting' EngineError naming it. */
export function checkSetting(name: string, value: number, min: number, max: number, integer = false): void {
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const kind = integer ? 'an integer' : 'a number';
    throw new EngineError('bad-setting', `${name} must be ${kind} between ${min} and ${max}; got ${value}.`);
  }
}
