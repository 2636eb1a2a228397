/**
 * The 3D surface as a binary glTF (GLB) for Blender, ParaView and other 3D tools: the height
 * field with its vertex colours, the decision boundary as lines on it, and the ε-square on the
 * base plane. Coordinates are the view's (a along +x, b along −z, height along +y, footprint
 * [-1, 1]²); the mapping back to a, b and the quantity is stored in the scene's extras.
 */
import {
  BufferAttribute,
  BufferGeometry,
  Color,
  DoubleSide,
  LineBasicMaterial,
  LineSegments,
  Mesh,
  MeshStandardMaterial,
  Scene,
} from 'three';
import { GLTFExporter } from 'three/examples/jsm/exporters/GLTFExporter.js';
import type { SurfaceResult } from '../engine/surface';
import { FLOOR_Y } from './axes3d';
import { decisionBoundary, liftPolyline } from './contour';
import { type MeshOptions, SURFACE_HEIGHT, createSurfaceGeometry, quantityValues, resolveZRange, surfaceFrame } from './mesh';
import { THEMES } from './theme';

export interface GlbInput extends MeshOptions {
  surface: SurfaceResult;
  /** ε in a/b units; null = no ε-square. */
  epsBox: number | null;
  /** Written into the scene's extras (model, sample, settings). */
  metadata: Record<string, unknown>;
}

function segments(lines: Float32Array[]): Float32Array {
  const out: number[] = [];
  for (const l of lines) for (let p = 0; p + 5 < l.length; p += 3) out.push(...l.subarray(p, p + 6));
  return new Float32Array(out);
}

/** Builds the scene and exports it; every three object made here is disposed before returning. */
export async function surfaceGlb(input: GlbInput): Promise<ArrayBuffer> {
  const { surface } = input;
  const values = quantityValues(surface, input.quantity);
  const zRange = resolveZRange(values, input.zRange);
  const frame = surfaceFrame(surface, zRange);
  const theme = THEMES.light;
  const scene = new Scene();
  scene.name = 'ravine-surface';
  const geometry = createSurfaceGeometry(surface, { ...input, zRange });
  const material = new MeshStandardMaterial({ vertexColors: true, side: DoubleSide, roughness: 0.85, metalness: 0 });
  const mesh = new Mesh(geometry, material);
  mesh.name = 'surface';
  scene.add(mesh);
  const owned: Array<{ dispose(): void }> = [geometry, material];

  const addLines = (name: string, positions: Float32Array, color: string) => {
    if (positions.length === 0) return;
    const g = new BufferGeometry();
    g.setAttribute('position', new BufferAttribute(positions, 3));
    const m = new LineBasicMaterial({ color: new Color(color) });
    const lines = new LineSegments(g, m);
    lines.name = name;
    scene.add(lines);
    owned.push(g, m);
  };
  addLines('decision-boundary', segments(decisionBoundary(surface).map((l) => liftPolyline(l, surface, values, frame, 0.01))), theme.boundary);
  if (input.epsBox !== null && input.epsBox > 0) {
    const e = input.epsBox;
    const a0 = frame.x(Math.max(-e, frame.aMin));
    const a1 = frame.x(Math.min(e, frame.aMax));
    const b0 = frame.z(Math.max(-e, frame.bMin));
    const b1 = frame.z(Math.min(e, frame.bMax));
    const y = FLOOR_Y;
    addLines('epsilon-square', new Float32Array([a0, y, b0, a1, y, b0, a1, y, b0, a1, y, b1, a1, y, b1, a0, y, b1, a0, y, b1, a0, y, b0]), theme.eps);
  }
  scene.userData = {
    ...input.metadata,
    quantity: input.quantity,
    mapping: {
      x: `a = ${frame.aMin} + (x + 1) / 2 * ${frame.aMax - frame.aMin}`,
      z: `b = ${frame.bMin} + (1 - z) / 2 * ${frame.bMax - frame.bMin}`,
      y: `value = ${zRange[0]} + y / ${SURFACE_HEIGHT} * ${zRange[1] - zRange[0]}`,
    },
    aRange: [frame.aMin, frame.aMax],
    bRange: [frame.bMin, frame.bMax],
    valueRange: zRange,
    grid: [surface.b.length, surface.a.length],
  };
  try {
    const result = await new GLTFExporter().parseAsync(scene, { binary: true });
    if (!(result instanceof ArrayBuffer)) throw new Error('The glTF exporter returned JSON where a binary file was asked for.');
    return result;
  } finally {
    for (const o of owned) o.dispose();
  }
}
