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

/**
 * Canvases narrower than this (width / height) need the camera further back to keep the
 * footprint's width in view: below it the axis titles at the footprint corners reach the
 * canvas edge.
 */
const FRAMING_ASPECT = 1.4;

/**
 * How many times BASE_DISTANCE a canvas of the given aspect (width / height) needs: 1 from
 * FRAMING_ASPECT up (the height frames the view), growing as 1 / aspect below it (the width
 * does, so the footprint keeps the same width on screen).
 */
export function framingDistance(aspect: number): number {
  return Math.max(1, FRAMING_ASPECT / Math.max(0.2, aspect));
}

/** Aspect (width / height) assumed for a view not laid out yet (no size). */
export const DEFAULT_ASPECT = 4 / 3;

/** A view's aspect, width / height; {@link DEFAULT_ASPECT} while either side is 0 (not laid out). */
export function aspectOf(width: number, height: number): number {
  return width > 0 && height > 0 ? width / height : DEFAULT_ASPECT;
}

/** Camera position and target of a preset for a canvas of the given aspect (width / height). */
export function presetPose(preset: CameraPreset, aspect = DEFAULT_ASPECT): CameraState {
  const [azDeg, elDeg] = ANGLES[preset] ?? ANGLES.iso;
  // The plan view stands 3× further back and zooms 3× in: the same framing with a third of the
  // perspective, so high parts of the surface do not balloon over the axes.
  const flatten = preset === 'top' ? TOP_FLATTEN : 1;
  const d = BASE_DISTANCE * flatten * framingDistance(aspect);
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

/**
 * A pose seen on a canvas of aspect `from`, framed for a canvas of aspect `to` (width / height):
 * the target, the viewing direction and the zoom stay, and the distance changes as presetPose's
 * does between the two aspects. A preset goes over into the same preset at the new aspect, and
 * a pose the user dollied in or out keeps that dolly relative to the preset's framing. The
 * figure export uses it so a figure whose shape differs from the view's (a tall window) is
 * framed on the surface instead of showing it as a strip between blank bands.
 */
export function reframePose(pose: CameraState, from: number, to: number): CameraState {
  // No aspect to go by (a view with no size): keep the pose as it is.
  const k = from > 0 && to > 0 ? framingDistance(to) / framingDistance(from) : 1;
  return {
    position: [0, 1, 2].map((i) => pose.target[i] + k * (pose.position[i] - pose.target[i])) as Vec3,
    target: [...pose.target],
    ...(pose.zoom !== undefined ? { zoom: pose.zoom } : {}),
  };
}

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
