/**
 * Regenerates the example figures in docs/figures/ by driving the built lab in headless
 * Chromium, through the same export panel a user clicks: a 4× PNG of the 3D view, the A|B
 * compare figure (PNG and SVG), the slices SVG and the recipe that rebuilds them.
 *
 *   npx vite build && npx tsx scripts/example-figures.ts
 */
import { chromium, type Page } from '@playwright/test';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { preview } from 'vite';
import { chromiumLaunchOptions } from '../e2e/chromium';

const OUT = join(import.meta.dirname, '..', 'docs', 'figures');
const PORT = 4327;
/** The view of the examples: natural vs PGD-trained MNIST CNN around test digit #0, the logit margin. */
const CONFIG = { quantity: 'margin', colormap: 'rdbu', resolution: 61, range: 0.3, rangeB: 0.3, metric: { samples: 16, steps: 10 } };

async function exportFile(page: Page, setup: (panel: ReturnType<Page['getByRole']>) => Promise<void>, file: string): Promise<void> {
  const panel = page.getByRole('region', { name: 'Export' });
  await setup(panel);
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 180_000 }), panel.getByTestId(file.endsWith('.json') ? 'save-recipe' : 'export-figure').click()]);
  await dl.saveAs(join(OUT, file));
  console.log(`${file}  (${dl.suggestedFilename()})`);
}

async function main(): Promise<void> {
  if (!existsSync(join(import.meta.dirname, '..', 'dist', 'index.html'))) throw new Error('Build the app first: npx vite build');
  mkdirSync(OUT, { recursive: true });
  const server = await preview({ preview: { port: PORT, strictPort: true, host: '127.0.0.1' } });
  const browser = await chromium.launch(chromiumLaunchOptions);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    await page.goto(`http://127.0.0.1:${PORT}/#${encodeURIComponent(JSON.stringify(CONFIG))}`);
    const ready = () => page.waitForSelector('[data-testid=main-view][data-surface-state=ready]', { timeout: 180_000 });
    await ready();
    await page.getByRole('textbox', { name: 'Figure title' }).fill('MNIST CNN, natural training: logit margin around test digit #0');
    await exportFile(page, (p) => p.getByRole('button', { name: '4×' }).click(), 'surface-natural-4x.png');
    await exportFile(page, (p) => p.getByRole('button', { name: 'Slices SVG' }).click().then(() => p.getByRole('button', { name: '1×' }).click()), 'slices-natural.svg');
    // Compare: both slots computed (split view), then one figure with one colour scale.
    await page.getByRole('button', { name: 'A | B', exact: true }).first().click();
    await ready();
    await page.getByRole('textbox', { name: 'Figure title' }).fill('Natural (A) vs PGD-trained (B) MNIST CNN: logit margin around test digit #0');
    await exportFile(
      page,
      async (p) => {
        await p.getByRole('button', { name: 'Heatmap SVG' }).click();
        await p.getByRole('checkbox', { name: 'A | B' }).check();
      },
      'compare-heatmap.svg',
    );
    await exportFile(
      page,
      async (p) => {
        await p.getByRole('button', { name: '3D PNG' }).click();
        await p.getByRole('button', { name: '2×' }).click();
      },
      'compare-3d-2x.png',
    );
    await exportFile(page, async () => {}, 'recipe.json');
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}

await main();
