/**
 * Figure export: gathers what is on screen (surfaces, settings, camera, view size) from the
 * store and the page, checks the options, and hands the work to the renderers in render/.
 * The heavy modules (the off-screen 3D root, React's static renderer, the glTF exporter) load
 * on first use, so the lab itself starts without them.
 */
import { version as tfjsVersions } from '@tensorflow/tfjs';
import { version as ravineVersion } from '../../package.json';
import { checkFigureOptions, figurePixelSize, figureTheme, type FigureOptions } from '../io/figureOptions';
import { recipeToJson } from '../io/recipe';
import { aspectOf, presetPose, type CameraState } from '../render/camera';
import { isColormapName } from '../render/colormaps';
import { sharedZRange } from '../render/plot2d';
import type { SlotName } from '../state/config';
import { currentRecipe, currentSample } from '../state/lab';
import { useLab } from '../state/store';

export interface ExportedFile {
  name: string;
  bytes: Uint8Array;
  type: string;
}

/**
 * CSS size that "1×" means: the active slot's view on screen, or for a comparison the whole
 * view area (each panel as large as one unsplit view; the split screen's half views are too
 * narrow or too flat for a figure).
 */
export function viewSize(compare = false): { width: number; height: number } {
  const el = document.querySelector<HTMLElement>(`[data-testid=main-view] ${compare ? '.views' : '.slot-view'}`) ?? document.querySelector<HTMLElement>('[data-testid=main-view] .views');
  return el ? { width: el.clientWidth, height: el.clientHeight } : { width: 0, height: 0 };
}

/** PNG tEXt chunks are Latin-1: keep JSON in ASCII with \u escapes (still the same JSON). */
function asciiJson(text: string): string {
  return text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A file-name-safe fragment. */
function slug(s: string): string {
  return s.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'figure';
}

/** The slots a figure shows: the active one, or A and B for a comparison. */
function figureSlots(compare: boolean): SlotName[] {
  const s = useLab.getState();
  if (!compare) return [s.config.active];
  const both: SlotName[] = ['A', 'B'];
  const missing = both.filter((slot) => !s.surfaces[slot].result || s.surfaces[slot].preview);
  if (missing.length) throw new Error(`A comparison needs both surfaces; slot ${missing.join(' and ')} has none yet.`);
  return both;
}

/** Renders the figure the options describe from what is on screen. */
export async function exportFigure(raw: Partial<FigureOptions>): Promise<ExportedFile> {
  const options = checkFigureOptions(raw);
  const s = useLab.getState();
  const c = s.config;
  const slots = figureSlots(options.compare);
  const panels = slots.map((slot) => {
    const surface = s.surfaces[slot].result;
    if (!surface || s.surfaces[slot].preview) throw new Error(`The surface of slot ${slot} is not computed yet.`);
    return { surface, label: options.compare ? `${slot} · ${s.models[slot].info?.name ?? ''}` : '' };
  });
  const colormap = isColormapName(c.colormap) ? c.colormap : 'viridis';
  const theme = figureTheme(options.background, c.theme);
  const transparent = options.background === 'transparent';
  const eps = c.metric.eps ?? s.dataset?.manifest.defaultEps ?? null;
  // The on-screen colour range: shared over A and B in 'shared' mode, as the views draw it.
  const pool: SlotName[] = options.compare || c.zMode === 'shared' ? ['A', 'B'] : slots;
  const zRange = sharedZRange(pool.flatMap((slot) => s.surfaces[slot].result ?? []), c.quantity);
  const info = s.models[slots[0]].info;
  const sample = currentSample();
  const base = `ravine-${slug(options.compare ? 'compare' : (info?.builtinId ?? info?.sha256.slice(0, 12) ?? 'model'))}-${slug(sample?.id ?? 'sample')}`;
  const recipe = currentRecipe({ ravine: ravineVersion, tfjs: tfjsVersions.tfjs });

  if (options.kind === 'png') {
    // The pose is framed for the canvas it is seen on (in the split screen a half view);
    // renderFigure3D reframes it for each panel of the figure.
    const onScreen = viewSize(false);
    const size = figurePixelSize(options.compare ? viewSize(true) : onScreen, panels.length, options);
    const aspect = aspectOf(onScreen.width, onScreen.height);
    const camera: CameraState = options.camera === 'current' ? (c.camera ?? presetPose('iso', aspect)) : presetPose(options.camera, aspect);
    const { renderFigure3D } = await import('../render/figure3d');
    const fig = await renderFigure3D({
      panels,
      quantity: c.quantity,
      colorBy: c.colorBy,
      colormap,
      zRange,
      wireframe: c.wireframe,
      epsBox: eps,
      theme,
      transparent,
      camera,
      width: size.width,
      height: size.height,
      scale: size.scale,
      viewAspect: aspect,
      title: options.title,
      classNames: s.dataset?.manifest.classes,
      metadata: { Title: asciiJson(options.title), 'ravine:recipe': asciiJson(recipe ? recipeToJson(recipe) : '') },
    });
    return { name: `${base}-3d-${fig.width}x${fig.height}.png`, bytes: fig.png, type: 'image/png' };
  }
  if (options.kind === 'glb') {
    if (options.compare) throw new Error('A glTF file holds one surface; export A and B one at a time.');
    const { surfaceGlb } = await import('../render/gltf');
    const glb = await surfaceGlb({
      surface: panels[0].surface,
      quantity: c.quantity,
      colorBy: c.colorBy,
      colormap,
      zRange,
      epsBox: eps,
      metadata: { generator: `Ravine ${ravineVersion}`, model: info ? { name: info.name, id: info.builtinId, sha256: info.sha256 } : null, sample: sample?.id ?? '', directions: c.directions },
    });
    return { name: `${base}-surface.glb`, bytes: new Uint8Array(glb), type: 'model/gltf-binary' };
  }
  const { svgFigure } = await import('../render/figures2d');
  const svg = svgFigure({
    kind: options.kind === 'svg-heatmap' ? 'heatmap' : 'slices',
    panels,
    quantity: c.quantity,
    colorBy: c.colorBy,
    colormap,
    zRange: options.kind === 'svg-heatmap' || panels.length > 1 ? zRange : null,
    epsBox: eps,
    theme,
    transparent,
    title: options.title,
    classNames: s.dataset?.manifest.classes,
    scale: options.scale,
  });
  return { name: `${base}-${options.kind === 'svg-heatmap' ? 'heatmap' : 'slices'}.svg`, bytes: new TextEncoder().encode(svg), type: 'image/svg+xml' };
}

/** The recipe of the current view as a file. */
export function exportRecipe(): ExportedFile {
  const recipe = currentRecipe({ ravine: ravineVersion, tfjs: tfjsVersions.tfjs });
  if (!recipe) throw new Error('Load a model and a sample first.');
  const info = useLab.getState().models[useLab.getState().config.active].info;
  return {
    name: `ravine-recipe-${slug(info?.builtinId ?? info?.sha256.slice(0, 12) ?? 'model')}-${slug(recipe.sample.id)}.json`,
    bytes: new TextEncoder().encode(recipeToJson(recipe)),
    type: 'application/json',
  };
}

/** Starts a browser download of a file. */
export function download(file: ExportedFile): void {
  const url = URL.createObjectURL(new Blob([file.bytes as BlobPart], { type: file.type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.name;
  a.click();
  // The click has started the download; the object URL is not needed afterwards.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
