/**
 * Start-up diagnostics shown in the status bar: can this browser give us WebGL2, does
 * TF.js's webgl backend start on it, and which backend will the engine use (and why).
 */
import * as tf from '@tensorflow/tfjs';
import { chooseBackend, probeWebGL, type BackendChoice, type BackendPreference, type WebGLProbe } from '../engine/backend';

export interface Diagnostics {
  webgl: WebGLProbe;
  /** TF.js's webgl backend initialised and ran a matmul correctly. */
  tfWebgl: { ok: boolean; detail: string };
  choice: BackendChoice;
  crossOriginIsolated: boolean;
}

async function checkTfWebgl(webgl: WebGLProbe): Promise<Diagnostics['tfWebgl']> {
  if (!webgl.available) return { ok: false, detail: webgl.reason ?? 'no WebGL2' };
  try {
    if (!(await tf.setBackend('webgl'))) return { ok: false, detail: 'tf.setBackend("webgl") returned false' };
    const product = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])));
    const values = Array.from(await product.data());
    product.dispose();
    const ok = values[0] === 17 && values[1] === 39;
    return { ok, detail: ok ? 'initialised; a 2×2 matmul agrees with the CPU' : `wrong matmul result ${values.join(', ')}` };
  } catch (e) {
    return { ok: false, detail: (e as Error).message };
  }
}

/** Probes WebGL, checks the tfjs webgl backend, then settles on the backend for `preference`. */
export async function runDiagnostics(preference: BackendPreference): Promise<Diagnostics> {
  const webgl = probeWebGL();
  const tfWebgl = await checkTfWebgl(webgl);
  const choice = await chooseBackend(preference, webgl);
  return { webgl, tfWebgl, choice, crossOriginIsolated: globalThis.crossOriginIsolated === true };
}
