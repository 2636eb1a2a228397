/**
 * The 3D view of one surface: the height field of the loss or the margin with vertex colours,
 * the decision boundary drawn on it (and projected on the base plane), the ε-box, the clean
 * point, axes with labels, orbit controls and camera presets. It only reads the
 * SurfaceResult it is given; all geometry comes from the pure builders in mesh.ts and
 * contour.ts.
 *
 * Rendering is on demand (`frameloop="demand"`): nothing is drawn until a prop, the camera or
 * the canvas size changes, and a re-render that changes none of those requests no frame (a
 * software renderer spends tens of ms on one). The surface geometry is rewritten in place,
 * one per grid size; everything created here is disposed when it is replaced or unmounted.
 */
import { Canvas, addAfterEffect, useFrame, useThree, type ThreeEvent } from '@react-three/fiber';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import {
  BufferAttribute,
  BufferGeometry,
  Color,
  DoubleSide,
  LineBasicMaterial,
  LineSegments,
  type Mesh,
  type PerspectiveCamera,
  Vector3,
} from 'three';
import { LineMaterial } from 'three/examples/jsm/lines/LineMaterial.js';
import { LineSegments2 } from 'three/examples/jsm/lines/LineSegments2.js';
import { LineSegmentsGeometry } from 'three/examples/jsm/lines/LineSegmentsGeometry.js';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import type { SurfaceResult } from '../engine/surface';
import { Axes3D, FLOOR_Y } from './axes3d';
import { aspectOf, CAMERA_FOV, type CameraLink, type CameraPreset, type CameraState, presetPose } from './camera';
import type { ColormapName } from './colormaps';
import { decisionBoundary, liftPolyline, type Polyline, valueAt } from './contour';
import {
  type ColorBy,
  type MeshOptions,
  type Quantity,
  type SurfaceFrame,
  SURFACE_HEIGHT,
  createSurfaceGeometry,
  nearestIndex,
  quantityValues,
  resolveZRange,
  surfaceFrame,
  updateSurfaceGeometry,
} from './mesh';
import { AXIS_TITLES, QUANTITY_LABELS, type RenderTheme, THEMES } from './theme';

export { CAMERA_PRESETS, createCameraLink, presetPose } from './camera';
export type { CameraLink, CameraPreset, CameraState } from './camera';

/** The grid point under the pointer: indices into surface.a / surface.b and their values. */
export interface HoverPoint {
  i: number;
  j: number;
  a: number;
  b: number;
}

export interface SurfaceViewProps {
  surface: SurfaceResult;
  quantity: Quantity;
  colorBy: ColorBy;
  /** Ignored when colorBy === 'class'. */
  colormap: ColormapName;
  /** [lo, hi] in the quantity's units (shared for A/B comparison); null = auto from this surface. */
  zRange: [number, number] | null;
  wireframe: boolean;
  /** ε of the metric, in a/b units (input units); null = hide. */
  epsBox: number | null;
  theme: 'dark' | 'light';
  /** Applied when it changes (and on mount unless a cameraLink already holds a pose). */
  cameraPreset?: CameraPreset;
  onHover?: (p: HoverPoint | null) => void;
  /** Called after the first frame with this surface has been drawn (the page's ready signal). */
  onRendered?: () => void;
  /** Called with true when the browser takes the WebGL context away, false when it is back and redrawn. */
  onContextLost?: (lost: boolean) => void;
  /** Shared camera state for linked side-by-side views: when given, read/write it so two views move together. */
  cameraLink?: CameraLink;
  /** Called with the pose when the user finishes moving the camera or a preset is applied. */
  onCameraCommit?: (pose: CameraState) => void;
}

/** What an off-screen figure render adds to the view's props. */
export interface SceneExportProps {
  /** Multiplies every line width given in pixels (a 4× figure needs 4× thicker lines). */
  pixelScale?: number;
  /** No background: the figure's pixels outside the scene stay transparent. */
  transparent?: boolean;
}

/** How far the boundary line floats above the surface (world units; the surface is 2 wide). */
const BOUNDARY_LIFT = 0.012;
/** Line widths in CSS pixels: the boundary core, its halo, and the projection on the base plane. */
const BOUNDARY_WIDTH = 3;
const BOUNDARY_HALO_WIDTH = 6;
const FLOOR_BOUNDARY_WIDTH = 1.5;
const EPS_WIDTH = 2;
/** Radius of the clean-point marker and the hover marker (world units). */
const CLEAN_RADIUS = 0.038;
const HOVER_RADIUS = 0.026;
/**
 * Light intensities. three's Lambert term divides by π, so intensity π·k contributes k × the
 * vertex colour: ambient 0.5 plus a key light 0.6 from above-left-front keeps flat regions near
 * the colour map's own colour while slopes read by shading; a weak fill from the other side
 * keeps slopes facing away from the key from going black.
 */
const AMBIENT = 0.5 * Math.PI;
const KEY_LIGHT = 0.6 * Math.PI;
const FILL_LIGHT = 0.15 * Math.PI;

const noRaycast = () => {};

/**
 * How long replaced materials live on (ms). three frees a shader program when the last
 * material using it is disposed; disposing the old boundary, ε-box and label materials before
 * the new ones are drawn would throw away programs the new ones need and force a recompile,
 * which costs a third of a second per new surface under a software renderer. Disposing once
 * the next frame has been drawn keeps the programs cached.
 */
const DISPOSE_DELAY_MS = 1000;
const disposeLater = (dispose: () => void) => () => void setTimeout(dispose, DISPOSE_DELAY_MS);

/** The 3D surface view. Fills its parent element (give the parent a size). */
export function SurfaceView(props: SurfaceViewProps) {
  const theme = THEMES[props.theme];
  return (
    <Canvas
      frameloop="demand"
      flat
      dpr={[1, 2]}
      // Pointer events use offsets within the canvas; re-measuring on every scroll of a side
      // panel would only resize (and so clear and reallocate) the drawing buffer for nothing.
      resize={{ scroll: false }}
      gl={{ antialias: true, preserveDrawingBuffer: true }}
      camera={{ fov: CAMERA_FOV, near: 0.1, far: 100, position: presetPose(props.cameraPreset ?? 'iso').position }}
      style={{ width: '100%', height: '100%', display: 'block', background: theme.background, touchAction: 'none' }}
      data-surface-view=""
    >
      <SurfaceScene {...props} />
      <ContextLossGuard onContextLost={props.onContextLost} />
    </Canvas>
  );
}

/**
 * Everything inside the view's canvas. Exported for figure rendering, which mounts it in an
 * off-screen root at the figure's pixel size.
 */
export function SurfaceScene(props: SurfaceViewProps & SceneExportProps) {
  const { surface, quantity, colorBy, colormap, zRange, wireframe, epsBox, onHover } = props;
  const pixelScale = props.pixelScale ?? 1;
  const transparent = props.transparent ?? false;
  const theme = THEMES[props.theme];
  const invalidate = useThree((s) => s.invalidate);
  const scene = useThree((s) => s.scene);
  const values = quantityValues(surface, quantity);
  const z0 = zRange?.[0];
  const z1 = zRange?.[1];
  const [lo, hi] = useMemo(() => resolveZRange(values, z0 !== undefined && z1 !== undefined ? [z0, z1] : null), [values, z0, z1]);
  const frame = useMemo(() => surfaceFrame(surface, [lo, hi]), [surface, lo, hi]);
  const geometry = useSurfaceGeometry(surface, { quantity, colorBy, colormap, zRange: [lo, hi] });
  const boundary = useMemo(() => decisionBoundary(surface), [surface]);
  const lineMaterials = useLineMaterials(theme, pixelScale);
  // The target the orbit controls turn around; the axes read it to lay themselves out.
  const target = useMemo(() => new Vector3(), []);

  useEffect(() => {
    scene.background = transparent ? null : new Color(theme.background);
    invalidate();
  }, [scene, theme.background, transparent, invalidate]);

  // Any change of what is drawn needs a frame (geometry updated in place included). A layout
  // effect, so the request joins the commit's own: a passive effect can run after the frame
  // that already drew the change and cost a second, identical one.
  useLayoutEffect(() => invalidate(), [invalidate, geometry, frame, boundary, wireframe, epsBox, theme]);

  const hoverMarker = useRef<Mesh>(null);
  const lastHover = useRef<string>('');
  // The pointer handlers read the drawn surface through a ref and keep their identity: a new
  // function on the mesh is a changed prop, and r3f redraws the whole scene for one, so
  // every re-render of the page (progress, other panels) would cost a WebGL frame.
  const live = useRef({ surface, frame, values, onHover });
  useLayoutEffect(() => {
    live.current = { surface, frame, values, onHover };
  }, [surface, frame, values, onHover]);

  const onPointerMove = useCallback(
    (e: ThreeEvent<PointerEvent>) => {
      const { surface: sf, frame: fr, values: vs, onHover: hover } = live.current;
      const i = nearestIndex(sf.a, fr.a(e.point.x));
      const j = nearestIndex(sf.b, fr.b(e.point.z));
      if (i < 0 || j < 0) return;
      const key = `${i},${j}`;
      if (key === lastHover.current) return;
      lastHover.current = key;
      const marker = hoverMarker.current;
      if (marker) {
        marker.visible = true;
        marker.position.set(fr.x(sf.a[i]), fr.y(vs[j * sf.a.length + i]) + HOVER_RADIUS * 0.5, fr.z(sf.b[j]));
        invalidate();
      }
      hover?.({ i, j, a: sf.a[i], b: sf.b[j] });
    },
    [invalidate],
  );
  const onPointerOut = useCallback(() => {
    lastHover.current = '';
    if (hoverMarker.current) hoverMarker.current.visible = false;
    invalidate();
    live.current.onHover?.(null);
  }, [invalidate]);

  const showClean = frame.aMin <= 0 && frame.aMax >= 0 && frame.bMin <= 0 && frame.bMax >= 0;
  const cleanY = showClean ? frame.y(valueAt(surface, values, 0, 0)) : 0;

  return (
    <>
      <ambientLight intensity={AMBIENT} />
      <directionalLight position={[-3, 5, 3]} intensity={KEY_LIGHT} />
      <directionalLight position={[3, 2, -2]} intensity={FILL_LIGHT} />
      <mesh geometry={geometry} onPointerMove={onPointerMove} onPointerOut={onPointerOut}>
        <meshLambertMaterial vertexColors side={DoubleSide} polygonOffset polygonOffsetFactor={1} polygonOffsetUnits={1} />
      </mesh>
      {wireframe && (
        <mesh geometry={geometry} raycast={noRaycast} renderOrder={1}>
          <meshBasicMaterial wireframe color={theme.wire} transparent opacity={0.28} depthWrite={false} />
        </mesh>
      )}
      <Boundary lines={boundary} surface={surface} values={values} frame={frame} materials={lineMaterials} />
      {epsBox !== null && epsBox > 0 && <EpsBox eps={epsBox} frame={frame} surface={surface} values={values} materials={lineMaterials} />}
      {showClean && <CleanPoint x={frame.x(0)} y={cleanY} z={frame.z(0)} theme={theme} material={lineMaterials.drop} />}
      <mesh ref={hoverMarker} visible={false} raycast={noRaycast} renderOrder={3}>
        <sphereGeometry args={[HOVER_RADIUS, 16, 12]} />
        <meshBasicMaterial color={theme.clean} transparent opacity={0.85} depthTest={false} />
      </mesh>
      <Axes frame={frame} theme={theme} quantity={quantity} target={target} />
      <CameraRig preset={props.cameraPreset} link={props.cameraLink} target={target} onCommit={props.onCameraCommit} />
      <RenderSignal surface={surface} onRendered={props.onRendered} />
    </>
  );
}

/** Surface geometries kept per view: the preview's grid size and the full grid's. */
const GEOMETRIES_KEPT = 2;

/**
 * The surface's BufferGeometry, one per grid size (up to GEOMETRIES_KEPT): a new sample
 * alternates between its preview and its full grid, and each is rewritten in place rather than
 * built and uploaded anew. The least recently used size beyond that, and all on unmount, are
 * disposed.
 */
function useSurfaceGeometry(surface: SurfaceResult, opts: MeshOptions & { zRange: [number, number] }): BufferGeometry {
  const bySize = useRef(new Map<string, BufferGeometry>());
  const { quantity, colorBy, colormap } = opts;
  const [lo, hi] = opts.zRange;
  const geometry = useMemo(() => {
    const o: MeshOptions = { quantity, colorBy, colormap, zRange: [lo, hi] };
    const kept = bySize.current;
    const size = `${surface.a.length}x${surface.b.length}`;
    let g = kept.get(size);
    if (!g || !updateSurfaceGeometry(g, surface, o)) {
      g?.dispose();
      g = createSurfaceGeometry(surface, o);
    }
    // Most recently used last.
    kept.delete(size);
    kept.set(size, g);
    for (const [k, old] of kept) {
      if (kept.size <= GEOMETRIES_KEPT) break;
      old.dispose();
      kept.delete(k);
    }
    return g;
  }, [surface, quantity, colorBy, colormap, lo, hi]);
  useEffect(() => {
    const kept = bySize.current;
    return () => {
      for (const g of kept.values()) g.dispose();
      kept.clear();
    };
  }, []);
  return geometry;
}

/**
 * WebGL contexts can be lost (GPU reset, driver update, too many contexts). three keeps the
 * scene and re-uploads it on restore, but with a demand frame loop nothing redraws by itself:
 * ask for frames once the context is back, and tell the page in both directions.
 */
function ContextLossGuard({ onContextLost }: { onContextLost?: (lost: boolean) => void }) {
  const gl = useThree((s) => s.gl);
  const invalidate = useThree((s) => s.invalidate);
  const callback = useRef(onContextLost);
  useLayoutEffect(() => {
    callback.current = onContextLost;
  }, [onContextLost]);
  useEffect(() => {
    const canvas = gl.domElement;
    const lost = (e: Event) => {
      // Without preventDefault the browser never offers the context back.
      e.preventDefault();
      callback.current?.(true);
    };
    const restored = () => {
      invalidate();
      requestAnimationFrame(() => {
        invalidate();
        callback.current?.(false);
      });
    };
    canvas.addEventListener('webglcontextlost', lost);
    canvas.addEventListener('webglcontextrestored', restored);
    return () => {
      canvas.removeEventListener('webglcontextlost', lost);
      canvas.removeEventListener('webglcontextrestored', restored);
    };
  }, [gl, invalidate]);
  return null;
}

/** Calls onRendered after the first frame that drew a new surface (via r3f's after-render hook). */
function RenderSignal({ surface, onRendered }: { surface: SurfaceResult; onRendered?: () => void }) {
  const invalidate = useThree((s) => s.invalidate);
  const pending = useRef(false);
  const drawn = useRef(false);
  const callback = useRef(onRendered);
  // A layout effect, declared before the one that requests the frame: the frame must call the
  // callback of this render (which knows the new surface), not the previous one.
  useLayoutEffect(() => {
    callback.current = onRendered;
  }, [onRendered]);
  useLayoutEffect(() => {
    pending.current = true;
    invalidate();
  }, [surface, invalidate]);
  useFrame(() => {
    if (pending.current) {
      pending.current = false;
      drawn.current = true;
    }
  });
  useEffect(
    () =>
      addAfterEffect(() => {
        if (drawn.current) {
          drawn.current = false;
          callback.current?.();
        }
      }),
    [],
  );
  return null;
}

/** Segment pairs (x, y, z, x, y, z, ...) from polylines of points. */
function segmentsOf(lines: Float32Array[]): Float32Array {
  let n = 0;
  for (const l of lines) n += Math.max(0, l.length / 3 - 1);
  const out = new Float32Array(n * 6);
  let k = 0;
  for (const l of lines) {
    for (let p = 0; p + 5 < l.length; p += 3) {
      out.set(l.subarray(p, p + 6), k);
      k += 6;
    }
  }
  return out;
}

function fatLines(segments: Float32Array, material: LineMaterial): LineSegments2 {
  const geometry = new LineSegmentsGeometry();
  geometry.setPositions(segments);
  const line = new LineSegments2(geometry, material);
  line.raycast = noRaycast;
  return line;
}

const fatMaterial = (color: string, width: number, opacity = 1) => new LineMaterial({ color: new Color(color).getHex(), linewidth: width, transparent: opacity < 1, opacity });

/** The materials of the boundary, the ε-box and the clean point's drop line. */
interface LineMaterials {
  halo: LineMaterial;
  core: LineMaterial;
  floor: LineMaterial;
  eps: LineMaterial;
  epsFrame: LineBasicMaterial;
  drop: LineBasicMaterial;
}

/**
 * The line materials for one theme and pixel scale, shared by the lines of every surface drawn
 * with them: three.js works out and binds a program for each new material on its first frame,
 * which a new surface would otherwise pay for six times. Disposed when replaced (see
 * DISPOSE_DELAY_MS) or unmounted; the lines' geometries are their users' to dispose.
 */
function useLineMaterials(theme: RenderTheme, pixelScale: number): LineMaterials {
  const materials = useMemo(() => {
    // Opaque (a transparent halo would be drawn after the opaque core and cover it) and without
    // depth writes, so the core drawn at the same depth right after it never z-fights with it.
    const halo = fatMaterial(theme.boundaryHalo, BOUNDARY_HALO_WIDTH * pixelScale);
    halo.depthWrite = false;
    return {
      halo,
      core: fatMaterial(theme.boundary, BOUNDARY_WIDTH * pixelScale),
      floor: fatMaterial(theme.boundary, FLOOR_BOUNDARY_WIDTH * pixelScale, 0.7),
      eps: fatMaterial(theme.eps, EPS_WIDTH * pixelScale),
      epsFrame: new LineBasicMaterial({ color: theme.eps, transparent: true, opacity: 0.22, depthWrite: false }),
      drop: new LineBasicMaterial({ color: theme.clean, transparent: true, opacity: 0.6 }),
    };
  }, [theme, pixelScale]);
  useEffect(() => disposeLater(() => Object.values(materials).forEach((m) => m.dispose())), [materials]);
  return materials;
}

const disposeGeometry = (line: LineSegments2 | LineSegments) => line.geometry.dispose();

/** The decision boundary on the surface (bold, with a halo) and projected on the base plane. */
function Boundary(props: { lines: Polyline[]; surface: SurfaceResult; values: Float32Array; frame: SurfaceFrame; materials: LineMaterials }) {
  const { lines, surface, values, frame, materials } = props;
  const objects = useMemo(() => {
    if (lines.length === 0) return null;
    const lifted = lines.map((l) => liftPolyline(l, surface, values, frame, BOUNDARY_LIFT));
    const onSurface = segmentsOf(lifted);
    const onFloor = onSurface.slice();
    for (let k = 1; k < onFloor.length; k += 3) onFloor[k] = FLOOR_Y + 0.002;
    const halo = fatLines(onSurface, materials.halo);
    const core = fatLines(onSurface, materials.core);
    const floor = fatLines(onFloor, materials.floor);
    // Halo first, core over it at the same depth (LessEqual depth test lets the later one win).
    halo.renderOrder = 1;
    core.renderOrder = 2;
    return [halo, core, floor];
  }, [lines, surface, values, frame, materials]);
  useEffect(() => disposeLater(() => objects?.forEach(disposeGeometry)), [objects]);
  if (!objects) return null;
  return (
    <>
      {objects.map((o) => (
        <primitive key={o.id} object={o} />
      ))}
    </>
  );
}

/** Points per side of the ε-square draped on the surface (enough to follow a 201-point grid's curvature). */
const EPS_DRAPE_POINTS = 64;

/**
 * The square |a| ≤ ε, |b| ≤ ε: draped on the surface (so the part of the surface inside the
 * budget is outlined), solid on the base plane, and a faint vertical frame between them.
 */
function EpsBox(props: { eps: number; frame: SurfaceFrame; surface: SurfaceResult; values: Float32Array; materials: LineMaterials }) {
  const { eps, frame, surface, values, materials } = props;
  const objects = useMemo(() => {
    const a0 = frame.x(Math.max(-eps, frame.aMin));
    const a1 = frame.x(Math.min(eps, frame.aMax));
    const b0 = frame.z(Math.max(-eps, frame.bMin));
    const b1 = frame.z(Math.min(eps, frame.bMax));
    const y = FLOOR_Y + 0.003;
    const square = (h: number) => [a0, h, b0, a1, h, b0, a1, h, b0, a1, h, b1, a1, h, b1, a0, h, b1, a0, h, b1, a0, h, b0];
    const base = fatLines(new Float32Array(square(y)), materials.eps);
    const ea0 = Math.max(-eps, frame.aMin);
    const ea1 = Math.min(eps, frame.aMax);
    const eb0 = Math.max(-eps, frame.bMin);
    const eb1 = Math.min(eps, frame.bMax);
    const ring: Polyline = [];
    const corners: Array<[number, number]> = [
      [ea0, eb0],
      [ea1, eb0],
      [ea1, eb1],
      [ea0, eb1],
      [ea0, eb0],
    ];
    for (let c = 0; c < 4; c++) {
      for (let k = 0; k < EPS_DRAPE_POINTS; k++) {
        const t = k / EPS_DRAPE_POINTS;
        ring.push([corners[c][0] + t * (corners[c + 1][0] - corners[c][0]), corners[c][1] + t * (corners[c + 1][1] - corners[c][1])]);
      }
    }
    ring.push(corners[4]);
    const draped = fatLines(segmentsOf([liftPolyline(ring, surface, values, frame, BOUNDARY_LIFT * 0.8)]), materials.eps);
    const top = SURFACE_HEIGHT;
    const verticals: number[] = [];
    for (const [x, z] of [
      [a0, b0],
      [a1, b0],
      [a1, b1],
      [a0, b1],
    ]) {
      verticals.push(x, y, z, x, top, z);
    }
    const frameGeometry = new BufferGeometry();
    frameGeometry.setAttribute('position', new BufferAttribute(new Float32Array([...verticals, ...square(top)]), 3));
    const faint = new LineSegments(frameGeometry, materials.epsFrame);
    faint.raycast = noRaycast;
    return [base, faint, draped] as const;
  }, [eps, frame, surface, values, materials]);
  useEffect(() => disposeLater(() => objects.forEach(disposeGeometry)), [objects]);
  return (
    <>
      {objects.map((o) => (
        <primitive key={o.id} object={o} />
      ))}
    </>
  );
}

/** The clean input (a = b = 0): a small sphere on the surface and a drop line to the base. */
function CleanPoint({ x, y, z, theme, material }: { x: number; y: number; z: number; theme: RenderTheme; material: LineBasicMaterial }) {
  const drop = useMemo(() => {
    const g = new BufferGeometry();
    g.setAttribute('position', new BufferAttribute(new Float32Array([x, FLOOR_Y, z, x, y, z]), 3));
    const line = new LineSegments(g, material);
    line.raycast = noRaycast;
    return line;
  }, [x, y, z, material]);
  useEffect(() => disposeLater(() => disposeGeometry(drop)), [drop]);
  return (
    <>
      <primitive object={drop} />
      <mesh position={[x, y + CLEAN_RADIUS * 0.4, z]} raycast={noRaycast} renderOrder={3}>
        <sphereGeometry args={[CLEAN_RADIUS, 20, 14]} />
        <meshLambertMaterial color={theme.clean} emissive={theme.clean} emissiveIntensity={0.35} />
      </mesh>
    </>
  );
}

/** The axes rig, rebuilt when the frame, theme or quantity changes, re-laid out every frame. */
function Axes({ frame, theme, quantity, target }: { frame: SurfaceFrame; theme: RenderTheme; quantity: Quantity; target: Vector3 }) {
  // Label textures are cached per renderer: a new surface reuses the labels it shares with the last.
  const gl = useThree((s) => s.gl);
  const axes = useMemo(
    () => new Axes3D({ frame, theme, titles: { a: AXIS_TITLES.a, b: AXIS_TITLES.b, value: QUANTITY_LABELS[quantity] }, textScope: gl }),
    [frame, theme, quantity, gl],
  );
  useEffect(() => disposeLater(() => axes.dispose()), [axes]);
  // Runs only when a frame is drawn (demand loop), before it is rendered.
  useFrame(({ camera }) => axes.layout(camera as PerspectiveCamera, target));
  return <primitive object={axes.group} />;
}

/**
 * OrbitControls wired by hand: every change asks for a frame and, with a cameraLink,
 * publishes the pose; poses published by a linked view are applied here.
 */
function CameraRig({ preset, link, target, onCommit }: { preset?: CameraPreset; link?: CameraLink; target: Vector3; onCommit?: (pose: CameraState) => void }) {
  const camera = useThree((s) => s.camera) as PerspectiveCamera;
  const gl = useThree((s) => s.gl);
  const invalidate = useThree((s) => s.invalidate);
  const size = useThree((s) => s.size);
  const applyPreset = useRef<((s: CameraState) => void) | null>(null);
  const applying = useRef(false);
  const appliedPreset = useRef<CameraPreset | undefined>(undefined);
  const aspect = aspectOf(size.width, size.height);
  const aspectRef = useRef(aspect);
  aspectRef.current = aspect;
  // The preset as of the controls' (re)creation; later changes go through the preset effect.
  const presetRef = useRef(preset);
  presetRef.current = preset;
  const commitRef = useRef(onCommit);
  useLayoutEffect(() => {
    commitRef.current = onCommit;
  }, [onCommit]);

  useEffect(() => {
    const c = new OrbitControls(camera, gl.domElement);
    c.target = target;
    c.enableDamping = false;
    c.minDistance = 1.5;
    c.maxDistance = 60;
    // Stay above the base plane: from below, the axes and the ε-square sit behind the surface.
    c.maxPolarAngle = Math.PI / 2;
    const token = {};
    const pose = (): CameraState => ({ position: camera.position.toArray(), target: target.toArray(), zoom: camera.zoom });
    const apply = (s: CameraState) => {
      applying.current = true;
      camera.position.set(...s.position);
      target.set(...s.target);
      if (camera.zoom !== (s.zoom ?? 1)) {
        camera.zoom = s.zoom ?? 1;
        camera.updateProjectionMatrix();
      }
      c.update();
      applying.current = false;
      invalidate();
    };
    const onChange = () => {
      invalidate();
      if (!applying.current) link?.set(pose(), token);
    };
    c.addEventListener('change', onChange);
    // 'end' fires when a drag or wheel gesture is over: the pose worth keeping in the link/recipe.
    const onEnd = () => commitRef.current?.(pose());
    c.addEventListener('end', onEnd);
    const shared = link?.get();
    const initial = shared ?? presetPose(presetRef.current ?? 'iso', aspectRef.current);
    appliedPreset.current = presetRef.current;
    apply(initial);
    if (!shared) link?.set(pose(), token);
    const unsubscribe = link?.subscribe((s, source) => {
      if (source !== token) apply(s);
    });
    applyPreset.current = (s) => {
      apply(s);
      link?.set(pose(), token);
      commitRef.current?.(pose());
    };
    return () => {
      unsubscribe?.();
      c.removeEventListener('change', onChange);
      c.removeEventListener('end', onEnd);
      c.dispose();
      applyPreset.current = null;
    };
  }, [camera, gl, invalidate, link, target]);

  useEffect(() => {
    if (!applyPreset.current || !preset || preset === appliedPreset.current) return;
    appliedPreset.current = preset;
    applyPreset.current(presetPose(preset, aspectRef.current));
  }, [preset]);

  return null;
}
