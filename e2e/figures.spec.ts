import { expect, test, type Page } from '@playwright/test';
import { decode } from 'fast-png';
import { readFileSync } from 'node:fs';
import { afterNewSurface, LIGHT, labUrl, waitReady } from './helpers';

/** Starts a download with `action` and returns the file's bytes and name. */
async function download(page: Page, action: () => Promise<void>): Promise<{ bytes: Buffer; name: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), action()]);
  const path = await dl.path();
  return { bytes: readFileSync(path), name: dl.suggestedFilename() };
}

const exportPanel = (page: Page) => page.getByRole('region', { name: 'Export' });

type Vec3 = [number, number, number];
interface PageHandle {
  state(): {
    config: { active: 'A' | 'B'; sample: number; title: string; slotA: string | null; camera: unknown };
    surfaces: Record<'A' | 'B', { result: { loss: Float32Array; margin: Float32Array; a: Float32Array } }>;
  };
  camera(): { position: Vec3; target: Vec3 };
}

/** The active slot's surface values and the camera, read from the page. */
function viewState(page: Page) {
  return page.evaluate(() => {
    const r = (window as unknown as { ravine: PageHandle }).ravine;
    const s = r.state();
    const res = s.surfaces[s.config.active].result;
    return { loss: Array.from(res.loss), margin: Array.from(res.margin), a: Array.from(res.a), camera: r.camera(), config: s.config };
  });
}

/** CSS size of the active slot's view (or of the whole view area), as the app measures it. */
function viewBox(page: Page, area = '.slot-view') {
  return page.locator(`[data-testid=main-view] ${area}`).first().evaluate((el) => ({ width: el.clientWidth, height: el.clientHeight }));
}

const near = (c: number[], want: [number, number, number], tol: number) => c.every((v, k) => Math.abs(v - want[k]) <= tol);

test('a 4× PNG of the 3D view is 4× the on-screen size, drawn, with the colour bar and the recipe inside', async ({ page }) => {
  await page.goto(labUrl());
  await waitReady(page);
  const box = await viewBox(page);
  expect(box.width).toBeGreaterThan(200);
  await exportPanel(page).getByRole('button', { name: '4×' }).click();
  const { bytes, name } = await download(page, () => exportPanel(page).getByTestId('export-figure').click());
  expect(name).toMatch(/\.png$/);
  const png = decode(bytes);
  expect(png.width).toBe(Math.round(box.width * 4));
  expect(png.height).toBe(Math.round(box.height * 4));
  const layout = JSON.parse(png.text['ravine:layout']);
  const px = (x: number, y: number) => Array.from(png.data.slice((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
  // Not blank: most of the 3D panel is the white background, but the surface covers a good part.
  const p = layout.panels[0];
  let drawn = 0;
  let total = 0;
  for (let y = p.y; y < p.y + p.height; y += 8) {
    for (let x = p.x; x < p.x + p.width; x += 8) {
      total++;
      const c = px(x, y);
      if (c[0] + c[1] + c[2] < 3 * 235) drawn++;
    }
  }
  expect(drawn / total).toBeGreaterThan(0.1);
  // The colour bar (viridis, loss): yellow #fde725 at the top, purple #440154 at the bottom.
  const bar = layout.colorbar;
  const cx = Math.round(bar.x + bar.width / 2);
  expect(near(px(cx, bar.y + 6), [0xfd, 0xe7, 0x25], 40)).toBe(true);
  expect(near(px(cx, bar.y + bar.height - 6), [0x44, 0x01, 0x54], 40)).toBe(true);
  // The recipe that rebuilds the figure travels inside the PNG.
  const recipe = JSON.parse(png.text['ravine:recipe']);
  expect(recipe.format).toBe('ravine-recipe');
  expect(recipe.models.A.id).toBe('mnist-cnn-natural');
  expect(recipe.config.resolution).toBe(LIGHT.resolution);
});

test('a 3D PNG exported from a tall window (900 × 1400) is framed on the surface, not a strip between blank bands', async ({ page }) => {
  // Below 1180 px the panels stack and the view is far taller than wide (600 × 1217 css px).
  await page.setViewportSize({ width: 900, height: 1400 });
  await page.goto(labUrl());
  await waitReady(page);
  const box = await viewBox(page);
  expect(box.height).toBeGreaterThan(1.5 * box.width);
  await exportPanel(page).getByRole('button', { name: '1×' }).click();
  const { bytes } = await download(page, () => exportPanel(page).getByTestId('export-figure').click());
  const png = decode(bytes);
  // Rows holding anything but the white background, left of the colour bar: the surface, its
  // axes and their labels.
  const layout = JSON.parse(png.text['ravine:layout']);
  const xEnd = layout.colorbar.x - 4;
  let top = -1;
  let bottom = -1;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < xEnd; x++) {
      const p = (y * png.width + x) * 4;
      if (png.data[p] + png.data[p + 1] + png.data[p + 2] < 3 * 235) {
        if (top < 0) top = y;
        bottom = y;
        break;
      }
    }
  }
  // Before the fix the figure was 600 × 1217 and the drawing spanned 22 % of its height between
  // blank bands of 38 % and 40 %; now it spans 45 %, with bands of 27 % and 28 % (the rest is
  // the framing's room for the surface's height and the axis titles, as in the view).
  const span = { drawn: (bottom - top + 1) / png.height, above: top / png.height, below: (png.height - 1 - bottom) / png.height };
  expect(span.drawn).toBeGreaterThan(0.4);
  expect(span.above).toBeLessThan(0.32);
  expect(span.below).toBeLessThan(0.32);
  // 1× is the view's width; the height is brought to a square panel (not the view's 2:1 tall).
  expect(png.width).toBe(box.width);
  expect(png.height).toBe(box.width);
});

test('the heatmap and slices SVG exports parse as XML and carry real axis labels', async ({ page }) => {
  await page.goto(labUrl({ ...LIGHT, quantity: 'margin' }));
  await waitReady(page);
  await exportPanel(page).getByRole('button', { name: 'Heatmap SVG' }).click();
  await exportPanel(page).getByRole('textbox', { name: 'Figure title' }).fill('Natural CNN <b>digit</b> 7');
  const heat = await download(page, () => exportPanel(page).getByTestId('export-figure').click());
  expect(heat.name).toMatch(/heatmap\.svg$/);
  await exportPanel(page).getByRole('button', { name: 'Slices SVG' }).click();
  const slices = await download(page, () => exportPanel(page).getByTestId('export-figure').click());
  const parsed = await page.evaluate(
    (docs) =>
      docs.map((text) => {
        const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
        return {
          error: doc.querySelector('parsererror')?.textContent ?? null,
          root: doc.documentElement.nodeName,
          texts: Array.from(doc.querySelectorAll('text'), (t) => t.textContent ?? ''),
          images: doc.querySelectorAll('image').length,
          bold: doc.querySelectorAll('b').length,
        };
      }),
    [heat.bytes.toString('utf8'), slices.bytes.toString('utf8')],
  );
  const [h, s] = parsed;
  expect(h.error).toBeNull();
  expect(h.root).toBe('svg');
  expect(h.texts).toEqual(expect.arrayContaining(['a · d1 (adversarial)', 'b · d2 (random)', 'logit margin', 'Natural CNN <b>digit</b> 7']));
  // The title is text, never markup.
  expect(h.bold).toBe(0);
  expect(h.images).toBe(1);
  expect(h.texts.filter((t) => /^−?0\.\d$|^0$/.test(t)).length).toBeGreaterThanOrEqual(5);
  expect(s.error).toBeNull();
  expect(s.texts).toEqual(expect.arrayContaining(['logit margin', 'margin = 0 (decision boundary)', 'perturbation size (a along d1, b along d2)']));
});

test('a compare figure puts A and B side by side on one colour bar', async ({ page }) => {
  await page.goto(labUrl({ ...LIGHT, split: true }));
  await waitReady(page);
  // Each panel is as large as one unsplit view: the whole view area.
  const box = await viewBox(page, '.views');
  await exportPanel(page).getByRole('button', { name: '1×' }).click();
  await exportPanel(page).getByRole('checkbox', { name: 'A | B' }).check();
  const { bytes } = await download(page, () => exportPanel(page).getByTestId('export-figure').click());
  const png = decode(bytes);
  expect(png.width).toBe(box.width * 2);
  expect(png.height).toBe(box.height);
  const layout = JSON.parse(png.text['ravine:layout']);
  expect(layout.panels).toHaveLength(2);
  expect(layout.panels[1].x).toBeGreaterThan(layout.panels[0].x + layout.panels[0].width - 1);
  expect(layout.colorbar.x).toBeGreaterThan(layout.panels[1].x + layout.panels[1].width - 1);
});

test('a GLB export holds the surface mesh with one vertex per grid point', async ({ page }) => {
  await page.goto(labUrl());
  await waitReady(page);
  await exportPanel(page).getByRole('button', { name: '3D GLB' }).click();
  const { bytes, name } = await download(page, () => exportPanel(page).getByTestId('export-figure').click());
  expect(name).toMatch(/\.glb$/);
  expect(bytes.subarray(0, 4).toString('latin1')).toBe('glTF');
  expect(bytes.readUInt32LE(4)).toBe(2);
  expect(bytes.readUInt32LE(8)).toBe(bytes.length);
  const jsonLength = bytes.readUInt32LE(12);
  const gltf = JSON.parse(bytes.subarray(20, 20 + jsonLength).toString('utf8'));
  const surface = gltf.nodes.find((n: { name: string }) => n.name === 'surface');
  expect(surface).toBeDefined();
  const prim = gltf.meshes[surface.mesh].primitives[0];
  expect(gltf.accessors[prim.attributes.POSITION].count).toBe(LIGHT.resolution ** 2);
  expect(prim.attributes.COLOR_0).toBeDefined();
  expect(gltf.nodes.some((n: { name: string }) => n.name === 'decision-boundary')).toBe(true);
  expect(gltf.scenes[0].extras.model.id).toBe('mnist-cnn-natural');
});

test('a recipe round trip (save, reload the page, open) reproduces identical surface values and camera', async ({ page }) => {
  await page.goto(labUrl({ ...LIGHT, sample: 3, quantity: 'margin', range: 0.25, directions: { adversarial: 'sign', random: 'gaussian', seed: 7, orthogonal: true }, title: 'Round trip' }));
  await waitReady(page);
  // A camera the user chose: the "along d1" preset, then a wheel zoom in the view.
  await page.getByRole('combobox', { name: 'Camera', exact: true }).selectOption('along-d1');
  const canvas = page.locator('[data-testid=main-view] .slot-view canvas').first();
  await canvas.hover();
  await page.mouse.wheel(0, -240);
  await expect.poll(async () => (await viewState(page)).config.camera !== null).toBe(true);
  const before = await viewState(page);
  const { bytes, name } = await download(page, () => exportPanel(page).getByTestId('save-recipe').click());
  expect(name).toMatch(/^ravine-recipe-.*\.json$/);

  // A new page load (a hash-only change would keep the document).
  await page.goto('about:blank');
  await page.goto(labUrl());
  await waitReady(page);
  const fresh = await viewState(page);
  expect(fresh.config.sample).toBe(0);
  await afterNewSurface(page, () => page.getByTestId('recipe-input').setInputFiles({ name, mimeType: 'application/json', buffer: bytes }));
  const after = await viewState(page);
  expect(after.config.sample).toBe(3);
  expect(after.config.title).toBe('Round trip');
  expect(after.a).toEqual(before.a);
  expect(after.margin).toEqual(before.margin);
  expect(after.loss).toEqual(before.loss);
  for (const k of [0, 1, 2]) {
    expect(after.camera.position[k]).toBeCloseTo(before.camera.position[k], 3);
    expect(after.camera.target[k]).toBeCloseTo(before.camera.target[k], 3);
  }
  await expect(page.getByRole('status').filter({ hasText: `Opened ${name}` })).toBeVisible();
});

test('recipe naming a missing model: the notice names it and its hash, and the rest of the view opens', async ({ page }) => {
  await page.goto(labUrl());
  await waitReady(page);
  const { bytes } = await download(page, () => exportPanel(page).getByTestId('save-recipe').click());
  const recipe = JSON.parse(bytes.toString('utf8'));
  recipe.models.B = { sha256: 'ab'.repeat(32), name: 'my-private-model' };
  recipe.config.slotB = 'user:abababababababab';
  recipe.config.sample = 5;
  await page.goto('about:blank');
  await page.goto(labUrl());
  await waitReady(page);
  await page.getByTestId('recipe-input').setInputFiles({ name: 'shared.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(recipe)) });
  await expect(page.getByRole('alert').filter({ hasText: "needs the model 'my-private-model' (sha256 abababababab…) in slot B" })).toBeVisible();
  await expect.poll(async () => (await viewState(page)).config.sample).toBe(5);
  // Slot B waits for the model (active, so a drop goes there); A keeps its built-in model.
  const s = await viewState(page);
  expect(s.config.active).toBe('B');
  expect(s.config.slotA).toBe('mnist-cnn-natural');

  // A broken recipe is refused with a message and changes nothing.
  await page.getByTestId('recipe-input').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format": "ravine-recipe", "version": 1, "config": {}, "sample": {}, "directions": {"A": {"length": 784, "d1": "AAAAAA==", "d2": "AAAAAA==", "modelSha256": "' + 'c'.repeat(64) + '", "sampleId": "x"}}}') });
  await expect(page.getByRole('alert').filter({ hasText: 'directions.A.d1 holds 1 values; 784 were expected' })).toBeVisible();
  expect((await viewState(page)).config.sample).toBe(5);
});
