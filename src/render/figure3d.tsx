/**
 * PNG figures of the 3D view: the scene is mounted in an off-screen react-three-fiber root at
 * the figure's own pixel size (not an upscaled screenshot), then composed on a 2D canvas with
 * the title, panel labels and the colour bar, and encoded with the recipe in the PNG's text
 * chunks. One panel, or A and B side by side on one shared colour scale.
 */
import { createRoot } from '@react-three/fiber';
import { encode as encodePng } from 'fast-png';
import { renderToStaticMarkup } from 'react-dom/server';
import type { SurfaceResult } from '../engine/surface';
import { type CameraState, CAMERA_FOV, createCameraLink, reframePose } from './camera';
import { FigureColorBar } from './ColorBar';
import { sharedZRange } from './plot2d';
import { SurfaceScene, type SurfaceViewProps } from './SurfaceView';
import { FONT_FAMILY, THEMES } from './theme';

/** The figure draws each panel as the live view draws a surface: the same look props. */
export interface Figure3DInput extends Pick<SurfaceViewProps, 'quantity' | 'colorBy' | 'colormap' | 'wireframe' | 'epsBox' | 'theme'> {
  panels: Array<{ surface: SurfaceResult; label: string }>;
  /** Shared colour/height range; null = the extent over all panels (the view's null means its own surface's). */
  zRange: [number, number] | null;
  transparent: boolean;
  /** The pose as on screen, framed for a canvas of `viewAspect`. */
  camera: CameraState;
  /** Figure size in pixels (see figurePixelSize) and the scale it was derived with. */
  width: number;
  height: number;
  scale: number;
  /**
   * Aspect (width / height) of the on-screen view `camera` was framed for. Each panel fills its
   * share of the figure and reframes the pose for its own aspect (reframePose): the figure's
   * shape need not be the view's, so a tall window does not leave blank bands in the figure.
   */
  viewAspect: number;
  title: string;
  classNames?: readonly string[];
  /** Stored as PNG tEXt chunks (e.g. the recipe that rebuilds the figure). */
  metadata: Record<string, string>;
}

export interface FigureLayout {
  /** Where each panel's 3D rendering sits in the image (px). */
  panels: Array<{ x: number; y: number; width: number; height: number }>;
  /** The colour bar's gradient rectangle (px), or the class legend's box; null when absent. */
  colorbar: { x: number; y: number; width: number; height: number } | null;
}

export interface Figure3D {
  png: Uint8Array;
  width: number;
  height: number;
  layout: FigureLayout;
}

/** CSS px at scale 1: title band, panel label band, colour bar column (value map / class legend). */
const TITLE_BAND = 34;
const LABEL_BAND = 22;
const BAR_COLUMN = { value: 104, class: 160 };
/** The vertical colour bar's gradient: its x offset and thickness inside ColorBar's SVG (px). */
const BAR_TOP = 8;
const BAR_THICKNESS = 14;
/** Longest render of one panel we wait for (SwiftShader draws a 4K panel in a few seconds). */
const RENDER_TIMEOUT_MS = 60_000;

/** Renders one panel of the scene, seen from `camera`, into a detached canvas of the given size. */
async function renderPanel(input: Figure3DInput, surface: SurfaceResult, zRange: [number, number] | null, camera: CameraState, width: number, height: number): Promise<HTMLCanvasElement> {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const root = createRoot(canvas);
  try {
    await root.configure({
      size: { width, height, top: 0, left: 0 },
      dpr: 1,
      frameloop: 'demand',
      flat: true,
      gl: { antialias: true, preserveDrawingBuffer: true, alpha: true },
      camera: { fov: CAMERA_FOV, near: 0.1, far: 100, position: camera.position },
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('The figure took too long to render; try a smaller size.')), RENDER_TIMEOUT_MS);
      root.render(
        <SurfaceScene
          surface={surface}
          quantity={input.quantity}
          colorBy={input.colorBy}
          colormap={input.colormap}
          zRange={zRange}
          wireframe={input.wireframe}
          epsBox={input.epsBox}
          theme={input.theme}
          cameraLink={createCameraLink(camera)}
          pixelScale={input.scale}
          transparent={input.transparent}
          onRendered={() => {
            clearTimeout(timer);
            resolve();
          }}
        />,
      );
    });
    // The drawing buffer is preserved: copy it before the root (and its context) goes away.
    const copy = document.createElement('canvas');
    copy.width = width;
    copy.height = height;
    copy.getContext('2d')!.drawImage(canvas, 0, 0);
    return copy;
  } finally {
    root.unmount();
  }
}

/** Rasterises an SVG string at `scale` (its width/height attributes are CSS px). */
async function svgImage(svg: string, width: number, height: number, scale: number): Promise<HTMLImageElement> {
  const wrapped = `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.round(width * scale)}" height="${Math.round(height * scale)}" viewBox="0 0 ${width} ${height}">${svg}</svg>`;
  const url = URL.createObjectURL(new Blob([wrapped], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  return m ? { width: Number(m[1]), height: Number(m[2]) } : { width: 100, height: 100 };
}

/** Renders the figure and encodes it as PNG. */
export async function renderFigure3D(input: Figure3DInput): Promise<Figure3D> {
  const { width: W, height: H, scale: s } = input;
  const theme = THEMES[input.theme];
  const zRange = input.zRange ?? sharedZRange(input.panels.map((p) => p.surface), input.quantity);
  const n = input.panels.length;
  const titleBand = input.title ? Math.round(TITLE_BAND * s) : 0;
  const labelBand = input.panels.some((p) => p.label) ? Math.round(LABEL_BAND * s) : 0;
  const barColumn = zRange ? Math.round(BAR_COLUMN[input.colorBy] * s) : 0;

  const out = document.createElement('canvas');
  out.width = W;
  out.height = H;
  const ctx = out.getContext('2d');
  if (!ctx) throw new Error('This browser cannot draw a 2D canvas for the figure.');
  if (!input.transparent) {
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, W, H);
  }

  // Each panel fills its share of the area left of the bar, with the camera framed for the
  // panel's own aspect (the view's pose, reframed), so the surface is centred in it whatever
  // the shapes of the window and the figure.
  const areaW = (W - barColumn) / n;
  const areaH = H - titleBand - labelBand;
  const pw = Math.max(1, Math.floor(areaW));
  const ph = Math.max(1, Math.floor(areaH));
  const camera = reframePose(input.camera, input.viewAspect, pw / ph);
  const layout: FigureLayout = { panels: [], colorbar: null };
  for (let k = 0; k < n; k++) {
    const x = Math.round(k * areaW + (areaW - pw) / 2);
    const y = Math.round(titleBand + labelBand + (areaH - ph) / 2);
    const panel = await renderPanel(input, input.panels[k].surface, zRange, camera, pw, ph);
    ctx.drawImage(panel, x, y);
    layout.panels.push({ x, y, width: pw, height: ph });
    if (input.panels[k].label) {
      ctx.fillStyle = theme.text;
      ctx.font = `600 ${Math.round(13 * s)}px ${FONT_FAMILY}`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'alphabetic';
      ctx.fillText(input.panels[k].label, Math.round(k * areaW + areaW / 2), titleBand + Math.round(16 * s), areaW - 8 * s);
    }
  }

  if (input.title) {
    ctx.fillStyle = theme.text;
    ctx.font = `600 ${Math.round(17 * s)}px ${FONT_FAMILY}`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    ctx.fillText(input.title, Math.round(W / 2), Math.round(24 * s), W - 16 * s);
  }

  if (zRange) {
    // The bar spans 70 % of the panel height, centred on it, in CSS px before scaling.
    const length = Math.max(60, Math.round((0.7 * ph) / s));
    const svg = renderToStaticMarkup(
      <FigureColorBar figure={input} domain={zRange} length={length} />,
    );
    const size = svgSize(svg);
    const img = await svgImage(svg, size.width, size.height, s);
    const bx = Math.round(W - barColumn + 8 * s);
    const by = Math.round(titleBand + labelBand + (areaH - size.height * s) / 2);
    ctx.drawImage(img, bx, by);
    layout.colorbar =
      input.colorBy === 'class'
        ? { x: bx, y: by, width: Math.round(size.width * s), height: Math.round(size.height * s) }
        : { x: bx, y: Math.round(by + BAR_TOP * s), width: Math.round(BAR_THICKNESS * s), height: Math.round(length * s) };
  }

  const pixels = ctx.getImageData(0, 0, W, H).data;
  const png = encodePng(
    { width: W, height: H, data: pixels, channels: 4, depth: 8, text: { Software: 'Ravine', ...input.metadata, 'ravine:layout': JSON.stringify(layout) } },
    // Level 6 (fflate's default) costs seconds on a 4K figure for a few % of size: 3 is the better trade.
    { zlib: { level: 3 } },
  );
  return { png, width: W, height: H, layout };
}
