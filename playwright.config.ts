import { defineConfig } from '@playwright/test';
import { existsSync } from 'node:fs';

/**
 * Playwright cannot download its own browsers on our machines, so we drive the system
 * Chromium: CHROMIUM_PATH wins, else /usr/bin/chromium when it exists, else Playwright's own
 * (for a user who ran `npx playwright install chromium`).
 */
const executablePath =
  process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const PORT = Number(process.env.RAVINE_E2E_PORT ?? 4319);
/** The built app to serve; another folder lets two test runs share a checkout. */
const DIST = process.env.RAVINE_E2E_DIST ?? 'dist';

export default defineConfig({
  testDir: 'e2e',
  outputDir: process.env.RAVINE_E2E_RESULTS ?? 'test-results',
  timeout: 180_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath,
      args: [
        ...(isRoot ? ['--no-sandbox'] : []),
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--enable-unsafe-swiftshader',
        '--use-angle=swiftshader',
        '--ignore-gpu-blocklist',
      ],
    },
  },
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort --outDir ${DIST}`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
