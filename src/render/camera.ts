/**
 * Camera presets and the shared camera state of linked views (pure: no three, no React).
 * World frame as in mesh.ts: a along +x, b along −z, height along +y, the surface inside
 * x, z ∈ [-1, 1] and y ∈ [0, SURFACE_HEIGHT].
 */
import { SURFACE_HEIGHT } from './mesh';

export const CAMERA_PRESETS = ['iso', 'along-d1', 'along-d2', 'top'] as const;
/**
 * 'iso': the default three-quarter view. 'along-d1': a side view with the a axis across
 * the screen (the profile of the surface along d1). 'along-d2': the same with the b axis
 * across. 'top': the plan view, a to the right and b up, like the 2D heatmap.
 */
export type CameraPreset = (typeof CAMERA_PRESETS)[number];

export type Vec3 = [number, number, number];

export interface CameraState {
  position: Vec3;
  target: Vec3;
  /** PerspectiveCamera.zoom (1 unless set; the top view uses it to flatten the perspective). */
  zoom?: number;
}

/** Vertical field of view (degrees): narrow, so the perspective distorts the surface little. */
export const CAMERA_FOV = 30;

/**
 * Distance from the target that frames the footprint, its labels and the vertical axis at
 * CAMERA_FOV on a landscape canvas (found by eye on 4:3 and 16:9 canvases).
 */
const BASE_DISTANCE = 5.9;

const TARGET: Vec3 = [0, SURFACE_HEIGHT * 0.3, 0];

/**
 * Azimuth (from +z towards +x) and elevation, degrees, of each preset. The iso camera sits on
 * the −a side: a rises to the right and away, so a surface that climbs along the adversarial
 * direction rises behind the clean point instead of hiding it.
 */
const ANGLES: Record<CameraPreset, [number, number]> = {
  iso: [-40, 27],
  'along-d1': [0, 8],
  'along-d2': [90, 8],
  // Just off vertical (and a hair towards −x) so "up" on screen is +b and the b axis sits on
  // the left, as on the heatmap; exactly vertical would leave the view's roll undefined.
  top: [-0.01, 89.9],
};

/** Camera position and target of a preset for a canvas of the given aspect (width / height). */
export function presetPose(preset: CameraPreset, aspect = 4 / 3): CameraState {
  const [azDeg, elDeg] = ANGLES[preset] ?? ANGLES.iso;
  // Narrow canvases need the camera further back to keep the footprint's width in view.
  // (1.4: below that aspect the axis titles at the footprint corners reach the canvas edge.)
  // The plan view stands 3× further back and zooms 3× in: the same framing with a third of the
  // perspective, so high parts of the surface do not balloon over the axes.
  const flatten = preset === 'top' ? TOP_FLATTEN : 1;
  const d = BASE_DISTANCE * flatten * Math.max(1, 1.4 / Math.max(0.2, aspect));
  const az = (azDeg * Math.PI) / 180;
  const el = (elDeg * Math.PI) / 180;
  const target: Vec3 = preset === 'top' ? [0, 0, 0] : [...TARGET];
  return {
    position: [target[0] + d * Math.cos(el) * Math.sin(az), target[1] + d * Math.sin(el), target[2] + d * Math.cos(el) * Math.cos(az)],
    target,
    zoom: flatten,
  };
}

/** Distance and zoom factor of the plan view (see presetPose). */
const TOP_FLATTEN = 3;

export type CameraListener = (state: CameraState, source: unknown) => void;

/**
 * A tiny observable holding the camera pose shared by linked views: each view writes its pose
 * when the user moves it (with itself as `source`) and applies poses written by others.
 */
export interface CameraLink {
  get(): CameraState | null;
  set(state: CameraState, source?: unknown): void;
  subscribe(listener: CameraListener): () => void;
}

export function createCameraLink(initial: CameraState | null = null): CameraLink {
  let state: CameraState | null = initial ? clone(initial) : null;
  const listeners = new Set<CameraListener>();
  return {
    get: () => (state ? clone(state) : null),
    set(next, source) {
      if (state && sameState(state, next)) return;
      state = clone(next);
      for (const l of [...listeners]) l(clone(next), source);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

function clone(s: CameraState): CameraState {
  return { position: [...s.position], target: [...s.target], ...(s.zoom !== undefined ? { zoom: s.zoom } : {}) };
}

/** Poses closer than this (world units) count as equal, which stops linked views ping-ponging. */
const SAME_POSE_TOLERANCE = 1e-6;

function sameState(p: CameraState, q: CameraState): boolean {
  for (let k = 0; k < 3; k++) {
    if (Math.abs(p.position[k] - q.position[k]) > SAME_POSE_TOLERANCE) return false;
    if (Math.abs(p.target[k] - q.target[k]) > SAME_POSE_TOLERANCE) return false;
  }
  return Math.abs((p.zoom ?? 1) - (q.zoom ?? 1)) <= SAME_POSE_TOLERANCE;
}
