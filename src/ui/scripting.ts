/**
 * A small, stable scripting surface on `window.ravine` for people (and tests) who drive the
 * page: engine memory counters, the current camera, the store's state, and one diagnostic
 * hook (injectFault) that lets a test make the engine fail on purpose. Nothing here changes
 * what the lab computes unless injectFault is called.
 */
import type { CameraLink } from '../render/camera';
import { engineMemory } from '../state/lab';
import { useLab } from '../state/store';
import { currentEngine } from '../worker/client';
import type { EngineFault } from '../worker/host';

export interface RavineHandle {
  /** tfjs memory counters inside the engine (worker). */
  memory: typeof engineMemory;
  /** Pose of the 3D camera (shared by A, B and the split view). */
  camera: () => ReturnType<CameraLink['get']>;
  /** A snapshot of the lab's store (config, models, results). */
  state: () => ReturnType<typeof useLab.getState>;
  /**
   * Test and diagnostic hook, not a feature: makes the engine's next surface job fail after
   * `fault.afterChunks` chunks of the grid, as an out-of-memory or kernel error would (null
   * disarms). Used by e2e/hardening.spec.ts to check that a failure mid-way shows a message,
   * leaks no tensors and leaves the lab usable.
   */
  injectFault: (fault: EngineFault | null) => Promise<void>;
}

export function exposeScriptingHandle(link: CameraLink): void {
  (window as unknown as { ravine: RavineHandle }).ravine = {
    memory: engineMemory,
    camera: () => link.get(),
    state: () => useLab.getState(),
    injectFault: async (fault) => {
      const engine = currentEngine();
      if (!engine) throw new Error('The engine has not started yet.');
      await engine.api.injectFault(fault);
    },
  };
}
