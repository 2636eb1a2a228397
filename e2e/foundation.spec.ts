import { expect, test } from '@playwright/test';

test('the page starts, WebGL2 exists, and TF.js’s webgl backend initialises in the engine', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=webgl');
  await expect(page.getByRole('heading', { name: 'Ravine' })).toBeVisible();
  // A WebGL2 context from the page itself, independent of the engine's own probe.
  const gl = await page.evaluate(() => {
    const ctx = document.createElement('canvas').getContext('webgl2');
    if (!ctx) return null;
    const info = ctx.getExtension('WEBGL_debug_renderer_info');
    return { renderer: String(ctx.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : ctx.RENDERER)), version: String(ctx.getParameter(ctx.VERSION)) };
  });
  expect(gl, 'WebGL2 context').not.toBeNull();
  expect(gl?.version).toMatch(/WebGL 2\.0/);
  console.log(`WebGL renderer: ${gl?.renderer} (${gl?.version})`);
  // With WebGL forced, the engine only reports webgl if tf.setBackend('webgl') succeeded
  // (chooseBackend falls through to wasm otherwise, and says why).
  await expect(page.getByTestId('backend')).toContainText('Engine: webgl — forced by the user', { timeout: 60_000 });
  // The favicon is inline (no request on URL-hash changes) and a PNG (cheap to re-decode on each).
  await expect(page.locator('link[rel=icon]')).toHaveAttribute('href', /^data:image\/png;base64,/);
  const icon = await page.evaluate(async () => {
    const img = new Image();
    img.src = document.querySelector('link[rel=icon]')?.getAttribute('href') ?? '';
    await img.decode();
    return [img.naturalWidth, img.naturalHeight];
  });
  expect(icon).toEqual([32, 32]);
  expect(errors).toEqual([]);
});
