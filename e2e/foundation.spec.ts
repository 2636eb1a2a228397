import { expect, test } from '@playwright/test';

test('the page starts, WebGL2 exists and TF.js webgl initialises', async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.locator('main[data-ready="true"]')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Ravine' })).toBeVisible();

  // A WebGL2 context from the page itself, independent of the app's own probe.
  const gl = await page.evaluate(() => {
    const ctx = document.createElement('canvas').getContext('webgl2');
    if (!ctx) return null;
    const info = ctx.getExtension('WEBGL_debug_renderer_info');
    return { renderer: String(ctx.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : ctx.RENDERER)), version: String(ctx.getParameter(ctx.VERSION)) };
  });
  expect(gl, 'WebGL2 context').not.toBeNull();
  expect(gl?.version).toMatch(/WebGL 2\.0/);
  const renderer = await page.getByTestId('renderer').innerText();
  console.log(`WebGL renderer: ${gl?.renderer} (${gl?.version}); app reports: ${renderer}`);
  testInfo.annotations.push({ type: 'renderer', description: gl?.renderer ?? '' });
  expect(renderer).toContain(gl?.renderer ?? '?');

  await expect(page.getByTestId('webgl2')).toHaveText('available');
  await expect(page.getByTestId('tf-webgl')).toHaveAttribute('data-ok', 'true');
  // Headless Chromium renders WebGL with SwiftShader: the engine must prefer wasm there.
  const backend = await page.getByTestId('backend').innerText();
  if (/swiftshader|llvmpipe/i.test(gl?.renderer ?? '')) {
    expect(backend).toMatch(/^wasm — WebGL is a software renderer/);
  }
  // The preview server sends COOP/COEP, so threaded wasm is allowed.
  await expect(page.getByTestId('isolated')).toHaveText(/^yes/);
  await expect(page.locator('link[rel=icon]')).toHaveAttribute('href', './favicon.svg');
  expect(errors).toEqual([]);
});

test('a forced backend is honoured', async ({ page }) => {
  await page.goto('/?backend=webgl');
  await expect(page.getByTestId('backend')).toHaveText(/^webgl — forced by the user/);
});
