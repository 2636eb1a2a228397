import { expect, type Page } from '@playwright/test';

/**
 * Settings that keep e2e runs light under SwiftShader + single-threaded wasm: a 15² grid and
 * a metric over 8 samples with 5 PGD steps.
 */
export const LIGHT = { resolution: 15, metric: { samples: 8, steps: 5 } };

export function labUrl(config: Record<string, unknown> = LIGHT, query = ''): string {
  return `/${query}#${encodeURIComponent(JSON.stringify(config))}`;
}

/** Waits until the main view says the surface is computed and drawn. */
export async function waitReady(page: Page, timeout = 120_000): Promise<void> {
  await expect(page.getByTestId('main-view')).toHaveAttribute('data-surface-state', 'ready', { timeout });
}

/** The key of the surface drawn for the active slot (changes with every new surface). */
export async function drawnKey(page: Page): Promise<string> {
  return page.evaluate(() => {
    const s = (window as unknown as { ravine?: { state(): { drawn: Record<string, string>; config: { active: string } } } }).ravine?.state();
    return s ? s.drawn[s.config.active] : '';
  });
}

/** Runs `action` and waits until a different surface than before is computed and drawn. */
export async function afterNewSurface(page: Page, action: () => Promise<void>, timeout = 120_000): Promise<void> {
  const before = await drawnKey(page);
  await action();
  await expect.poll(() => drawnKey(page), { timeout }).not.toBe(before);
  await waitReady(page, timeout);
}

export interface CanvasStats {
  width: number;
  height: number;
  /** Pixels that differ clearly from the corner (background) colour. */
  drawn: number;
  /** Pixels in viridis' yellow-green end (high loss). */
  yellow: number;
  /** Pixels in viridis' purple end (low loss). */
  purple: number;
  /** A coarse fingerprint: mean RGB of a 16×16 grid of cells. */
  cells: number[];
}

/** Reads the 3D canvas's pixels (the renderer keeps its drawing buffer). */
export async function canvasStats(page: Page, index = 0): Promise<CanvasStats> {
  return page.evaluate((i) => {
    const canvas = document.querySelectorAll<HTMLCanvasElement>('[data-testid=main-view] .slot-view canvas')[i];
    if (!canvas) throw new Error('no canvas');
    const w = canvas.width;
    const h = canvas.height;
    const copy = document.createElement('canvas');
    copy.width = w;
    copy.height = h;
    const ctx = copy.getContext('2d') as CanvasRenderingContext2D;
    ctx.drawImage(canvas, 0, 0);
    const d = ctx.getImageData(0, 0, w, h).data;
    const bg = [d[0], d[1], d[2]];
    let drawn = 0;
    let yellow = 0;
    let purple = 0;
    const cells = new Array(16 * 16 * 3).fill(0);
    const counts = new Array(16 * 16).fill(0);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = 4 * (y * w + x);
        const [r, g, b] = [d[p], d[p + 1], d[p + 2]];
        if (Math.abs(r - bg[0]) + Math.abs(g - bg[1]) + Math.abs(b - bg[2]) > 40) drawn++;
        if (r > 120 && g > 140 && b < 110) yellow++;
        if (b > 50 && b > g + 20 && r > g + 10) purple++;
        const c = Math.min(15, Math.floor((16 * y) / h)) * 16 + Math.min(15, Math.floor((16 * x) / w));
        cells[3 * c] += r;
        cells[3 * c + 1] += g;
        cells[3 * c + 2] += b;
        counts[c]++;
      }
    }
    return { width: w, height: h, drawn, yellow, purple, cells: cells.map((v, k) => v / counts[Math.floor(k / 3)]) };
  }, index);
}

/** Builds File objects in the page from URLs (or inline text) and dispatches a real drop event. */
export async function dropFiles(page: Page, files: { name: string; url?: string; text?: string; base64?: string; type?: string }[]): Promise<void> {
  await page.evaluate(async (list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      let blob: Blob;
      if (f.url) blob = await (await fetch(f.url)).blob();
      else if (f.base64) blob = new Blob([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))]);
      else blob = new Blob([f.text ?? '']);
      dt.items.add(new File([blob], f.name, { type: f.type ?? '' }));
    }
    const target = document.querySelector('[data-testid=main-view]') ?? document.body;
    target.dispatchEvent(new DragEvent('dragenter', { bubbles: true, dataTransfer: dt }));
    target.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
    target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
  }, files);
}

export function cellDistance(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** The engine's tfjs memory counters (window.ravine.memory()): tensors and bytes. */
export async function engineMemory(page: Page): Promise<{ numTensors: number; numBytes: number }> {
  const m = await page.evaluate(() => (window as unknown as { ravine: { memory(): Promise<{ numTensors: number; numBytes: number } | null> } }).ravine.memory());
  if (!m) throw new Error('the engine has not started');
  return { numTensors: m.numTensors, numBytes: m.numBytes };
}

/**
 * True when the page has nothing running for its loaded models: no model loading, no surface
 * pending, the metric and its attacks finished, the test-set predictions in, and the current
 * sample's psi computed once for the active slot.
 */
export async function engineIdle(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    type Slot = 'A' | 'B';
    const s = (
      window as unknown as {
        ravine?: {
          state(): {
            config: { active: Slot };
            models: Record<Slot, { info: unknown; loading: boolean }>;
            surfaces: Record<Slot, { pending: string | null }>;
            metrics: Record<Slot, { running: boolean; attackRunning: boolean; samplePsi: number | null }>;
            predictions: Record<Slot, unknown>;
          };
        };
      }
    ).ravine?.state();
    if (!s) return false;
    const slots = (['A', 'B'] as const).filter((k) => s.models[k].info || s.models[k].loading);
    return (
      slots.length > 0 &&
      slots.every((k) => !s.models[k].loading && s.surfaces[k].pending === null && !s.metrics[k].running && !s.metrics[k].attackRunning && s.predictions[k] !== null) &&
      s.metrics[s.config.active].samplePsi !== null
    );
  });
}

/** Bytes as base64, for dropFiles. */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
