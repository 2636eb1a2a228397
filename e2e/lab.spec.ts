import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { parseNpy, writeNpy } from '../src/io/npy';
import { afterNewSurface, canvasStats, cellDistance, dropFiles, LIGHT, labUrl, waitReady } from './helpers';

test.describe.configure({ mode: 'serial' });

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return errors;
}

test('opens on the natural MNIST CNN: surface drawn with viridis colours and the metric filling in, no action needed', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto(labUrl());
  await waitReady(page);
  const stats = await canvasStats(page);
  // A 3D surface covers a good part of the canvas, with both ends of viridis present:
  // purple (low loss around the clean digit) and yellow-green (high loss along d1).
  expect(stats.drawn / (stats.width * stats.height)).toBeGreaterThan(0.1);
  expect(stats.purple).toBeGreaterThan(500);
  expect(stats.yellow).toBeGreaterThan(200);
  await expect(page.getByTestId('slot-A')).toContainText('MNIST CNN, natural training');
  await expect(page.getByTestId('metric-A-R')).toHaveText(/^R = \d+\.\d{3}$/, { timeout: 120_000 });
  await expect(page.getByTestId('metric-A-ci')).toHaveText(/^± \d+\.\d{3} \(95 % CI, n = \d+\)$/, { timeout: 120_000 });
  // The ready state implies the engine's backend was reported.
  await expect(page.getByTestId('backend')).toContainText(/Engine: (wasm|webgl|cpu)/);
  expect(errors).toEqual([]);
});

test('under SwiftShader the engine runs on wasm unless WebGL is forced; forcing WebGL works', async ({ page }) => {
  await page.goto(labUrl());
  await waitReady(page);
  const renderer = await page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    return gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
  });
  console.log(`renderer: ${renderer}`);
  if (/swiftshader|llvmpipe/i.test(renderer)) await expect(page.getByTestId('backend')).toContainText('Engine: wasm — WebGL is a software renderer');
  await page.goto(labUrl(LIGHT, '?backend=webgl'));
  await waitReady(page, 180_000);
  await expect(page.getByTestId('backend')).toContainText('Engine: webgl — forced by the user');
  expect((await canvasStats(page)).drawn).toBeGreaterThan(1000);
});

test('the A/B flip changes the surface and keeps the camera; split view shows both', async ({ page }) => {
  await page.goto(labUrl());
  await waitReady(page);
  await expect(page.getByTestId('slot-B')).toContainText('PGD', { timeout: 60_000 });
  const before = await canvasStats(page);
  const cameraBefore = await page.evaluate(() => (window as unknown as { ravine: { camera(): unknown } }).ravine.camera());
  await afterNewSurface(page, () => page.keyboard.press('f'));
  await expect(page.getByTestId('flip-B')).toHaveAttribute('aria-pressed', 'true');
  const after = await canvasStats(page);
  const cameraAfter = await page.evaluate(() => (window as unknown as { ravine: { camera(): unknown } }).ravine.camera());
  expect(cellDistance(before.cells, after.cells)).toBeGreaterThan(2);
  expect(cameraAfter).toEqual(cameraBefore);
  await page.keyboard.press('s');
  await waitReady(page);
  await expect(page.locator('[data-testid=main-view] .slot-view canvas')).toHaveCount(2);
});

test('dropping a built-in model through a real drop event loads it; a broken model.json is refused and the old model keeps working', async ({ page }) => {
  await page.goto(labUrl());
  await waitReady(page);
  await afterNewSurface(page, () =>
    dropFiles(page, [
      { name: 'model.json', url: 'models/mnist-mlp-natural/model.json' },
      { name: 'group1-shard1of1.bin', url: 'models/mnist-mlp-natural/group1-shard1of1.bin' },
    ]),
  );
  await expect(page.getByTestId('slot-A')).toContainText('model.json');
  await expect(page.getByTestId('slot-A')).toContainText('235,146 params');

  await dropFiles(page, [
    { name: 'model.json', text: '{"modelTopology": {"class_name": "Sequential", "config": {}}, "weightsManifest": [{"paths": ["missing.bin"], "weights": []}]' },
  ]);
  await expect(page.getByRole('alert').filter({ hasText: 'not valid JSON' })).toBeVisible();
  await expect(page.getByTestId('slot-A')).toContainText('235,146 params');
  // The old model still computes: a new seed gives a new surface.
  await afterNewSurface(page, () => page.getByTestId('seed').fill('7'));
  expect((await canvasStats(page)).drawn).toBeGreaterThan(1000);
});

test('a dropped PNG becomes the sample', async ({ page }) => {
  await page.goto(labUrl());
  await waitReady(page);
  // A white "1" on black, 56×56, drawn in the page and dropped as a PNG.
  const png = await page.evaluate(async () => {
    const c = document.createElement('canvas');
    c.width = 56;
    c.height = 56;
    const ctx = c.getContext('2d') as CanvasRenderingContext2D;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, 56, 56);
    ctx.fillStyle = '#fff';
    ctx.fillRect(24, 8, 8, 40);
    const blob = await new Promise<Blob>((r) => c.toBlob((b) => r(b as Blob), 'image/png'));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    return btoa(String.fromCharCode(...bytes));
  });
  await afterNewSurface(page, () => dropFiles(page, [{ name: 'my-one.png', base64: png, type: 'image/png' }]));
  await expect(page.getByText('Your sample:')).toBeVisible();
  await expect(page.locator('.custom-sample')).toContainText('my-one.png');
  await expect(page.locator('.quantity-label')).toContainText('my-one.png');
});

test('a dropped .npy array with labels becomes a browsable set; a wrong-shaped one is refused', async ({ page }) => {
  await page.goto(labUrl());
  await waitReady(page);
  // Three real test digits (images 5..7) as uint8 [3, 28, 28, 1] and their labels as uint8 [3].
  const xs = parseNpy(new Uint8Array(readFileSync('public/data/mnist-test-x.npy')));
  const ys = parseNpy(new Uint8Array(readFileSync('public/data/mnist-test-y.npy')));
  const x = writeNpy({ dtype: 'uint8', shape: [3, 28, 28, 1], data: (xs.data as Uint8Array).slice(5 * 784, 8 * 784) });
  const y = writeNpy({ dtype: 'uint8', shape: [3], data: (ys.data as Uint8Array).slice(5, 8) });
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  await afterNewSurface(page, () => dropFiles(page, [{ name: 'digits.npy', base64: b64(x) }, { name: 'labels.npy', base64: b64(y) }]));
  await expect(page.locator('.user-set')).toContainText('digits.npy · 3 images with labels');
  await expect(page.locator('.custom-sample')).toContainText('digits.npy #0');
  const label0 = String((ys.data as Uint8Array)[5]);
  await expect(page.getByLabel('True label of your sample')).toHaveValue(label0);
  await afterNewSurface(page, () => page.locator('.user-set .thumb-btn').nth(2).click());
  await expect(page.locator('.custom-sample')).toContainText('digits.npy #2');

  const wrong = writeNpy({ dtype: 'uint8', shape: [2, 10], data: new Uint8Array(20) });
  await dropFiles(page, [{ name: 'wrong.npy', base64: b64(wrong) }]);
  await expect(page.getByRole('alert').filter({ hasText: 'wrong.npy holds 20 values' })).toBeVisible();
  await expect(page.locator('.custom-sample')).toContainText('digits.npy #2');
});

test('cancel stops a running surface', async ({ page }) => {
  await page.goto(labUrl());
  await waitReady(page);
  await page.getByTestId('resolution').fill('201');
  await expect(page.getByTestId('main-view')).toHaveAttribute('data-surface-state', 'computing');
  await page.getByTestId('cancel-surface').click();
  await expect(page.getByTestId('main-view')).not.toHaveAttribute('data-surface-state', 'computing', { timeout: 15_000 });
  await expect(page.getByTestId('cancel-surface')).toHaveCount(0);
});

test('a lost WebGL context is noticed, and the surface is drawn again when it returns', async ({ page }) => {
  await page.goto(labUrl());
  await waitReady(page);
  const before = await canvasStats(page);
  await page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=main-view] .slot-view canvas') as HTMLCanvasElement;
    const gl = canvas.getContext('webgl2') as WebGL2RenderingContext;
    const ext = gl.getExtension('WEBGL_lose_context') as WEBGL_lose_context;
    (window as unknown as { __restore: () => void }).__restore = () => ext.restoreContext();
    ext.loseContext();
  });
  await expect(page.getByRole('alert').filter({ hasText: "took the 3D view's WebGL context away" })).toBeVisible();
  await page.evaluate(() => (window as unknown as { __restore: () => void }).__restore());
  await expect(page.getByRole('status').filter({ hasText: 'is back' })).toBeVisible();
  await expect.poll(async () => (await canvasStats(page)).drawn, { timeout: 30_000 }).toBeGreaterThan(0.5 * before.drawn);
  const after = await canvasStats(page);
  expect(cellDistance(before.cells, after.cells)).toBeLessThan(3);
});

test('the CSV export has resolution² rows equal to what the engine computed', async ({ page }) => {
  await page.goto(labUrl());
  await waitReady(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  expect(download.suggestedFilename()).toBe('ravine-mnist-cnn-natural-A-surface.csv');
  const text = readFileSync(await download.path(), 'utf8');
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('a,b,loss,margin,pred,confidence');
  expect(lines).toHaveLength(1 + 15 * 15);
  const engine = await page.evaluate(() => {
    const r = (window as unknown as { ravine: { state(): { surfaces: { A: { result: { loss: Float32Array; margin: Float32Array; pred: Int32Array } } } } } }).ravine.state().surfaces.A.result;
    return { loss: Array.from(r.loss), margin: Array.from(r.margin), pred: Array.from(r.pred) };
  });
  // Equal as numbers (=== also equates the engine's -0 with the CSV's 0).
  const mismatches = lines.slice(1).filter((line, p) => {
    const [, , loss, margin, pred] = line.split(',');
    return !(Math.fround(Number(loss)) === engine.loss[p] && Math.fround(Number(margin)) === engine.margin[p] && Number(pred) === engine.pred[p]);
  });
  expect(mismatches).toEqual([]);
});
