/**
 * The 3D view's axes: a faint grid on the base plane, the a and b axes along the two footprint
 * edges nearest the camera, and the value axis on the corner at the left of the screen, each
 * with ticks, numeric labels (input units; the quantity's units on the vertical axis) and a
 * title. Built imperatively (three objects, not React elements) so re-laying out on every
 * camera move is a few buffer writes, not a React render.
 *
 * `layout(camera)` moves each axis to the edges facing the camera (as matplotlib's 3D axes
 * do), anchors every label on the side away from its tick, and hides the labels of an axis
 * seen nearly end-on, where they would pile up.
 */
import {
  BufferAttribute,
  BufferGeometry,
  Group,
  LineBasicMaterial,
  LineSegments,
  type PerspectiveCamera,
  type Sprite,
  Vector3,
} from 'three';
import { HALF_FOOTPRINT, SURFACE_HEIGHT, type SurfaceFrame } from './mesh';
import { disposeTextSprite, makeTextSprite } from './textSprite';
import type { RenderTheme } from './theme';
import { niceTicks, tickFormatter } from './ticks';

/** Height of the base plane: a little below the surface's lowest point so lines on it are not hidden. */
export const FLOOR_Y = -0.04;

// Sizes in world units (the footprint is 2 × 2), chosen by eye on the default view.
const TICK_LEN = 0.05;
const LABEL_GAP = 0.045;
const TITLE_GAP = 0.36;
const TICK_TEXT = 0.095;
const TITLE_TEXT = 0.105;
/** Labels of an axis whose on-screen length is below this fraction of its true length are hidden. */
const MIN_FORESHORTENING = 0.35;
/** The a and b axes count as one screen line when the sine of the angle between them is below this (~17°). */
const MIN_AXES_ANGLE_SIN = 0.3;

interface Tick {
  value: number;
  sprite: Sprite;
}

export interface AxesOptions {
  frame: SurfaceFrame;
  theme: RenderTheme;
  /** Titles of the a, b and value axes. */
  titles: { a: string; b: string; value: string };
  /** Approximate tick counts (a and b, value). */
  tickCount?: { ab: number; value: number };
  /** Label textures are shared among the axes made with the same scope (the renderer drawing them; see makeTextSprite). */
  textScope?: object;
}

export class Axes3D {
  readonly group = new Group();
  private readonly frame: SurfaceFrame;
  private readonly aTicks: Tick[];
  private readonly bTicks: Tick[];
  private readonly vTicks: Tick[];
  private readonly titles: { a: Sprite; b: Sprite; value: Sprite };
  private readonly lines: LineSegments;
  private readonly linePositions: Float32Array;
  private readonly floor: LineSegments;
  private lastKey = '';

  constructor(opts: AxesOptions) {
    const { frame, theme } = opts;
    this.frame = frame;
    const counts = opts.tickCount ?? { ab: 6, value: 5 };
    const make = (values: number[]): Tick[] => {
      const fmt = tickFormatter(values);
      return values.map((value) => ({ value, sprite: makeTextSprite(fmt(value), { color: theme.muted, height: TICK_TEXT }, opts.textScope) }));
    };
    this.aTicks = make(niceTicks(frame.aMin, frame.aMax, counts.ab));
    this.bTicks = make(niceTicks(frame.bMin, frame.bMax, counts.ab));
    this.vTicks = make(niceTicks(frame.zRange[0], frame.zRange[1], counts.value));
    const title = (text: string) => makeTextSprite(text, { color: theme.text, height: TITLE_TEXT, weight: 600 }, opts.textScope);
    this.titles = { a: title(opts.titles.a), b: title(opts.titles.b), value: title(opts.titles.value) };
    for (const t of [...this.aTicks, ...this.bTicks, ...this.vTicks]) this.group.add(t.sprite);
    this.group.add(this.titles.a, this.titles.b, this.titles.value);

    // Axis lines and ticks: 3 axis segments + one per tick, moved by layout().
    const segments = 3 + this.aTicks.length + this.bTicks.length + this.vTicks.length;
    this.linePositions = new Float32Array(segments * 6);
    const lineGeometry = new BufferGeometry();
    lineGeometry.setAttribute('position', new BufferAttribute(this.linePositions, 3));
    this.lines = new LineSegments(lineGeometry, new LineBasicMaterial({ color: theme.axis }));
    this.lines.frustumCulled = false;

    // Base plane: border plus faint grid lines at the a and b ticks.
    const floor: number[] = [];
    const h = HALF_FOOTPRINT;
    const seg = (x0: number, z0: number, x1: number, z1: number) => floor.push(x0, FLOOR_Y, z0, x1, FLOOR_Y, z1);
    for (const t of this.aTicks) seg(frame.x(t.value), -h, frame.x(t.value), h);
    for (const t of this.bTicks) seg(-h, frame.z(t.value), h, frame.z(t.value));
    seg(-h, -h, h, -h);
    seg(h, -h, h, h);
    seg(h, h, -h, h);
    seg(-h, h, -h, -h);
    const floorGeometry = new BufferGeometry();
    floorGeometry.setAttribute('position', new BufferAttribute(new Float32Array(floor), 3));
    this.floor = new LineSegments(floorGeometry, new LineBasicMaterial({ color: theme.grid }));
    this.group.add(this.floor, this.lines);
    this.lines.raycast = () => {};
    this.floor.raycast = () => {};
  }

  /**
   * Re-lays out the axes for a camera (looking at `target`). Cheap when nothing changed; call
   * it on every camera move.
   */
  layout(camera: PerspectiveCamera, target: Vector3): void {
    camera.updateMatrixWorld();
    const h = HALF_FOOTPRINT;
    const sx = camera.position.x - target.x >= 0 ? 1 : -1;
    const sz = camera.position.z - target.z >= 0 ? 1 : -1;
    const corner = this.valueCorner(camera);
    const key = [
      sx,
      sz,
      corner.x,
      corner.z,
      ...camera.position.toArray().map((v) => v.toFixed(3)),
      ...target.toArray().map((v) => v.toFixed(3)),
      camera.aspect.toFixed(3),
      camera.zoom.toFixed(3),
    ].join(',');
    if (key === this.lastKey) return;
    this.lastKey = key;

    const p = this.linePositions;
    let k = 0;
    const seg = (a: Vector3, b: Vector3) => {
      p.set([a.x, a.y, a.z, b.x, b.y, b.z], k);
      k += 6;
    };

    // An axis seen nearly end-on has its labels piled up: hide them. Seen from near the
    // horizon, the a and b axes also fall on one screen line: keep only the longer one.
    const fa = this.foreshortening(camera, new Vector3(1, 0, 0));
    const fb = this.foreshortening(camera, new Vector3(0, 0, 1));
    const ua = this.screenDirection(camera, new Vector3(1, 0, 0));
    const ub = this.screenDirection(camera, new Vector3(0, 0, 1));
    const collinear = Math.abs(ua[0] * ub[1] - ua[1] * ub[0]) < MIN_AXES_ANGLE_SIN;
    const aVisible = fa > MIN_FORESHORTENING && (!collinear || fa >= fb);
    const bVisible = fb > MIN_FORESHORTENING && (!collinear || fb > fa);

    // a axis along the near edge z = sz·h, ticks pointing away from the footprint.
    const aOut = new Vector3(0, 0, sz);
    seg(new Vector3(-h, FLOOR_Y, sz * h), new Vector3(h, FLOOR_Y, sz * h));
    const aCenter = this.anchorFor(camera, new Vector3(0, FLOOR_Y, sz * h), aOut);
    for (const t of this.aTicks) {
      const x = this.frame.x(t.value);
      const base = new Vector3(x, FLOOR_Y, sz * h);
      seg(base, base.clone().addScaledVector(aOut, TICK_LEN));
      t.sprite.position.copy(base).addScaledVector(aOut, TICK_LEN + LABEL_GAP);
      t.sprite.center.set(aCenter[0], aCenter[1]);
      t.sprite.visible = aVisible;
    }
    this.placeTitle(this.titles.a, camera, new Vector3(0, FLOOR_Y, sz * h), aOut, ua, aCenter);
    this.titles.a.visible = aVisible;

    // b axis along the near edge x = sx·h.
    const bOut = new Vector3(sx, 0, 0);
    seg(new Vector3(sx * h, FLOOR_Y, -h), new Vector3(sx * h, FLOOR_Y, h));
    const bCenter = this.anchorFor(camera, new Vector3(sx * h, FLOOR_Y, 0), bOut);
    for (const t of this.bTicks) {
      const z = this.frame.z(t.value);
      const base = new Vector3(sx * h, FLOOR_Y, z);
      seg(base, base.clone().addScaledVector(bOut, TICK_LEN));
      t.sprite.position.copy(base).addScaledVector(bOut, TICK_LEN + LABEL_GAP);
      t.sprite.center.set(bCenter[0], bCenter[1]);
      t.sprite.visible = bVisible;
    }
    this.placeTitle(this.titles.b, camera, new Vector3(sx * h, FLOOR_Y, 0), bOut, ub, bCenter);
    this.titles.b.visible = bVisible;

    // Value axis on the corner at the left of the screen, ticks pointing diagonally out.
    const vOut = new Vector3(corner.x, 0, corner.z).normalize();
    const vVisible = this.foreshortening(camera, new Vector3(0, 1, 0)) > MIN_FORESHORTENING;
    const cx = corner.x * h;
    const cz = corner.z * h;
    seg(new Vector3(cx, FLOOR_Y, cz), new Vector3(cx, SURFACE_HEIGHT, cz));
    const vCenter = this.anchorFor(camera, new Vector3(cx, SURFACE_HEIGHT / 2, cz), vOut);
    for (const t of this.vTicks) {
      const base = new Vector3(cx, this.frame.y(t.value), cz);
      seg(base, base.clone().addScaledVector(vOut, TICK_LEN));
      t.sprite.position.copy(base).addScaledVector(vOut, TICK_LEN + LABEL_GAP);
      t.sprite.center.set(vCenter[0], vCenter[1]);
      t.sprite.visible = vVisible;
    }
    this.titles.value.position.set(cx, SURFACE_HEIGHT + 0.12, cz);
    this.titles.value.center.set(0.5, 0);
    this.titles.value.visible = vVisible;

    this.lines.geometry.getAttribute('position').needsUpdate = true;
    this.lines.geometry.computeBoundingSphere();
  }

  /** Frees every geometry, material and label texture this object created. */
  dispose(): void {
    for (const t of [...this.aTicks, ...this.bTicks, ...this.vTicks]) disposeTextSprite(t.sprite);
    disposeTextSprite(this.titles.a);
    disposeTextSprite(this.titles.b);
    disposeTextSprite(this.titles.value);
    for (const l of [this.lines, this.floor]) {
      l.geometry.dispose();
      (l.material as LineBasicMaterial).dispose();
    }
    this.group.clear();
  }

  /** The footprint corner (signs of x and z) furthest left on screen; the nearer one on a tie. */
  private valueCorner(camera: PerspectiveCamera): { x: number; z: number } {
    let best = { x: -1, z: 1 };
    let bestX = Infinity;
    let bestDist = Infinity;
    for (const x of [-1, 1]) {
      for (const z of [-1, 1]) {
        const world = new Vector3(x * HALF_FOOTPRINT, 0, z * HALF_FOOTPRINT);
        const dist = world.distanceTo(camera.position);
        const sxp = world.project(camera).x;
        if (sxp < bestX - 0.02 || (Math.abs(sxp - bestX) <= 0.02 && dist < bestDist)) {
          best = { x, z };
          bestX = sxp;
          bestDist = dist;
        }
      }
    }
    return best;
  }

  /** How much of a unit world direction survives projection (1 = parallel to the screen). */
  private foreshortening(camera: PerspectiveCamera, dir: Vector3): number {
    const v = dir.clone().transformDirection(camera.matrixWorldInverse);
    return Math.hypot(v.x, v.y);
  }

  /**
   * Puts an axis title beyond its tick labels: along `out` (away from the footprint) when that
   * moves it off the axis on screen; otherwise (an end-on `out`, as in the side views, or one
   * running along the axis near the horizon) perpendicular to the axis on screen, on the side
   * away from the footprint's centre.
   */
  private placeTitle(title: Sprite, camera: PerspectiveCamera, mid: Vector3, out: Vector3, axis: [number, number], center: [number, number]): void {
    if (this.separates(camera, out, axis)) {
      title.position.copy(mid).addScaledVector(out, TITLE_GAP);
      title.center.set(center[0], center[1]);
      return;
    }
    let px = -axis[1];
    let py = axis[0];
    // Point away from the footprint's centre on screen.
    const m = mid.clone().project(camera);
    const c = new Vector3(0, FLOOR_Y, 0).project(camera);
    if (px * (m.x - c.x) * camera.aspect + py * (m.y - c.y) < 0) {
      px = -px;
      py = -py;
    }
    const right = new Vector3().setFromMatrixColumn(camera.matrixWorld, 0);
    const up = new Vector3().setFromMatrixColumn(camera.matrixWorld, 1);
    // TITLE_GAP is measured along the footprint; on screen the title needs a bit less.
    title.position.copy(mid).addScaledVector(right, px * TITLE_GAP * 0.55).addScaledVector(up, py * TITLE_GAP * 0.55);
    title.center.set(0.5 - 0.5 * px, 0.5 - 0.5 * py);
  }

  /** Whether offsetting along `out` moves a label off an axis whose screen direction is `axis`. */
  private separates(camera: PerspectiveCamera, out: Vector3, axis: [number, number]): boolean {
    const u = this.screenDirection(camera, out);
    return this.foreshortening(camera, out) > MIN_FORESHORTENING && Math.abs(u[0] * axis[1] - u[1] * axis[0]) > MIN_AXES_ANGLE_SIN;
  }

  /** Unit screen direction (x right, y up; aspect-corrected) of a world direction at the target. */
  private screenDirection(camera: PerspectiveCamera, dir: Vector3): [number, number] {
    const v = dir.clone().transformDirection(camera.matrixWorldInverse);
    const n = Math.hypot(v.x, v.y);
    return n < 1e-9 ? [1, 0] : [v.x / n, v.y / n];
  }

  /**
   * Sprite anchor (`center`) for a label placed from `at` in world direction `out`: the side
   * of the label nearest its tick, so text never runs back over the axis.
   */
  private anchorFor(camera: PerspectiveCamera, at: Vector3, out: Vector3): [number, number] {
    const a = at.clone().project(camera);
    const b = at.clone().addScaledVector(out, 0.1).project(camera);
    let dx = (b.x - a.x) * camera.aspect;
    let dy = b.y - a.y;
    const n = Math.hypot(dx, dy);
    if (n < 1e-9) return [0.5, 0.5];
    dx /= n;
    dy /= n;
    return [0.5 - 0.5 * dx, 0.5 - 0.5 * dy];
  }
}
