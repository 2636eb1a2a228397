/**
 * Which tfjs backend runs the engine, and why.
 *
 * WebGL is the fast path on a real GPU, but a software WebGL renderer (SwiftShader, llvmpipe,
 * Microsoft's Basic Render Driver) runs a small CNN about 20× slower than the wasm backend on
 * the same CPU, so "WebGL is available" is not enough: the renderer string decides. The caller
 * registers the backends it bundles (this module imports none, so Node can leave WebGL out)
 * and passes where wasm binaries live when a bundler moved them.
 */
import * as tf from '@tensorflow/tfjs';
import { EngineError } from './errors';

export type BackendName = 'webgl' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | BackendName;

export interface WebGLProbe {
  /** A WebGL2 context could be created. */
  available: boolean;
  /** Unmasked renderer string (e.g. "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device ...))"). */
  renderer: string;
  /** Vendor string. */
  vendor: string;
  /** The renderer is a CPU emulation of a GPU. */
  software: boolean;
  /** Why WebGL is unavailable, when it is. */
  reason?: string;
}

export interface BackendChoice {
  /** The backend tfjs now runs on. */
  backend: BackendName;
  /** One sentence for the status bar: why this backend. */
  reason: string;
  /** What WebGL looked like, when it was probed. */
  webgl?: WebGLProbe;
  /** Backends tried before this one and why they were not taken. */
  skipped: { backend: BackendName; reason: string }[];
}

const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|softpipe|software|basic render|mesa offscreen|lavapipe/i;

/** True when a WebGL renderer string names a software (CPU) implementation. */
export function isSoftwareRenderer(renderer: string): boolean {
  return SOFTWARE_RENDERERS.test(renderer);
}

/**
 * Creates a throw-away WebGL2 context (OffscreenCanvas, so it works in workers) and reads its
 * renderer. Environments without OffscreenCanvas (Node) report unavailable.
 */
/** The slice of WebGL we read; typed locally so the engine compiles without DOM types. */
interface MinimalGL {
  RENDERER: number;
  VENDOR: number;
  getParameter(name: number): unknown;
  getExtension(name: string): unknown;
}
type OffscreenCanvasCtor = new (w: number, h: number) => { getContext(kind: 'webgl2'): MinimalGL | null };

export function probeWebGL(): WebGLProbe {
  const none = (reason: string): WebGLProbe => ({ available: false, renderer: '', vendor: '', software: false, reason });
  const Canvas = (globalThis as { OffscreenCanvas?: OffscreenCanvasCtor }).OffscreenCanvas;
  if (typeof Canvas !== 'function') return none('this environment has no OffscreenCanvas (no WebGL here)');
  let gl: MinimalGL | null;
  try {
    gl = new Canvas(1, 1).getContext('webgl2');
  } catch (e) {
    return none(`creating a WebGL2 context failed: ${(e as Error).message}`);
  }
  if (!gl) return none('the browser refused a WebGL2 context');
  const info = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number; UNMASKED_VENDOR_WEBGL: number } | null;
  const renderer = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  const vendor = String(info ? gl.getParameter(info.UNMASKED_VENDOR_WEBGL) : gl.getParameter(gl.VENDOR));
  (gl.getExtension('WEBGL_lose_context') as { loseContext(): void } | null)?.loseContext();
  return { available: true, renderer, vendor, software: isSoftwareRenderer(renderer) };
}

/** The order in which backends are tried for a preference, with the reason for each. */
export function backendPlan(preference: BackendPreference, webgl: WebGLProbe): { backend: BackendName; why: string }[] {
  const wasm = { backend: 'wasm' as const, why: 'wasm (SIMD) runs on the CPU' };
  const cpu = { backend: 'cpu' as const, why: 'plain JavaScript, the slowest fallback' };
  switch (preference) {
    case 'webgl':
      return [{ backend: 'webgl', why: `forced by the user (renderer: ${webgl.renderer || 'unknown'})` }, wasm, cpu];
    case 'wasm':
      return [{ backend: 'wasm', why: 'forced by the user' }, cpu];
    case 'cpu':
      return [{ backend: 'cpu', why: 'forced by the user' }];
    case 'auto':
      if (webgl.available && !webgl.software) return [{ backend: 'webgl', why: `GPU renderer ${webgl.renderer}` }, wasm, cpu];
      return [
        {
          backend: 'wasm',
          why: webgl.available
            ? `WebGL is a software renderer (${webgl.renderer}), about 20× slower than wasm on this CPU`
            : `no WebGL: ${webgl.reason ?? 'unavailable'}`,
        },
        cpu,
      ];
  }
}

/**
 * Switches tfjs to the best backend for `preference`, trying the next one when a backend fails
 * to initialise, and says why. The caller must have imported the backend packages it wants
 * considered (e.g. '@tensorflow/tfjs-backend-wasm').
 */
export async function chooseBackend(preference: BackendPreference = 'auto', probe: WebGLProbe = probeWebGL()): Promise<BackendChoice> {
  const skipped: BackendChoice['skipped'] = [];
  for (const { backend, why } of backendPlan(preference, probe)) {
    if (!tf.findBackendFactory(backend)) {
      skipped.push({ backend, reason: 'not bundled in this build' });
      continue;
    }
    try {
      if (await tf.setBackend(backend)) {
        await tf.ready();
        return { backend, reason: why, webgl: probe, skipped };
      }
      skipped.push({ backend, reason: 'failed to initialise' });
    } catch (e) {
      skipped.push({ backend, reason: `failed to initialise: ${(e as Error).message}` });
    }
  }
  throw new EngineError('backend', `No TensorFlow.js backend could start (${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}).`);
}
