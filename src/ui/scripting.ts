/**
 * A small, stable scripting surface on `window.ravine` for people (and tests) who drive the
 * page: engine memory counters, the current camera, and the store's state. Read-only.
 */
import type { CameraLink } from '../render/camera';
import { engineMemory } from '../state/lab';
import { useLab } from '../state/store';

export interface RavineHandle {
  /** tfjs memory counters inside the engine (worker). */
  memory: typeof engineMemory;
  /** Pose of the 3D camera (shared by A, B and the split view). */
  camera: () => ReturnType<CameraLink['get']>;
  /** A snapshot of the lab's store (config, models, results). */
  state: () => ReturnType<typeof useLab.getState>;
}

export function exposeScriptingHandle(link: CameraLink): void {
  (window as unknown as { ravine: RavineHandle }).ravine = { memory: engineMemory, camera: () => link.get(), state: () => useLab.getState() };
}
