/**
 * Where the lab's main thread spends a new surface: a CPU profile (Chrome DevTools Protocol)
 * of the page while test images are clicked, aggregated by function (self time). bench/lab.ts
 * calls {@link profileMainThread} at the end of its run; standalone, this serves the app that
 * `npm run bench` built into .cache/bench/app (run the bench, or its lab part, first):
 *
 *   npx tsx bench/labProfile.ts [clicks]
 */
import { chromium, type Page } from 'playwright';
import { preview } from 'vite';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/io/datasetNode';
import { chromiumLaunchOptions } from '../e2e/chromium';
import { BENCH_DIR } from './common';
import { labIsIdle } from './labWatch';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}


export interface MainThreadProfile {
  clicks: number;
  /** Sampled main-thread time (ms), idle excluded; "(program)" is native work (style, layout, paint, GL calls). */
  busyMs: number;
  /** Self time by function ("name file:line"), largest first. */
  top: { fn: string; ms: number }[];
}

/** Waits until the active surface is drawn, no slot's surface is pending and no metric or attack job runs. */
export function labIdle(page: Page, timeoutMs = 600_000): Promise<unknown> {
  return page.waitForFunction(labIsIdle, undefined, { timeout: timeoutMs, polling: 250 });
}

/** Profiles the page's main thread over `clicks` new samples (thumbnails from `firstIndex` on). */
export async function profileMainThread(page: Page, clicks: number, firstIndex: number): Promise<MainThreadProfile> {
  await labIdle(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  for (let k = 0; k < clicks; k++) {
    await page.locator(`.thumbs button[data-index="${firstIndex + k}"]`).click();
    await page.waitForTimeout(100);
    await labIdle(page);
  }
  const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile };
  await cdp.detach();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let busyMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i]);
    if (!n) continue;
    const f = n.callFrame;
    const name = f.functionName || '(anonymous)';
    if (name === '(idle)') continue;
    const dt = profile.timeDeltas[i] / 1000;
    const key = `${name} ${f.url.split('/').pop() ?? ''}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    busyMs += dt;
  }
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([fn, ms]) => ({ fn, ms }));
  return { clicks, busyMs, top };
}

async function cli(): Promise<void> {
  const clicks = Number(process.argv[2] ?? 5);
  const outDir = join(BENCH_DIR, 'app');
  if (!existsSync(join(outDir, 'index.html'))) throw new Error(`${outDir} has no built app: run npm run bench (its lab part) first`);
  process.env.VITE_CONFIG_NATIVE_IGNORE_WARNING = 'true';
  const server = await preview({ configFile: join(REPO_ROOT, 'vite.config.ts'), root: REPO_ROOT, logLevel: 'error', build: { outDir }, preview: { port: 4344, strictPort: true, host: '127.0.0.1' } });
  const browser = await chromium.launch(chromiumLaunchOptions);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto('http://127.0.0.1:4344/');
    const p = await profileMainThread(page, clicks, 20);
    console.log(`main thread busy ${p.busyMs.toFixed(0)} ms over ${clicks} new samples (self time, sampled every 0.2 ms):`);
    for (const t of p.top) console.log(`${t.ms.toFixed(1).padStart(8)} ms  ${((100 * t.ms) / p.busyMs).toFixed(1).padStart(5)} %  ${t.fn}`);
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}

if (process.argv[1]?.endsWith('labProfile.ts')) {
  await cli();
  process.exit(0);
}
