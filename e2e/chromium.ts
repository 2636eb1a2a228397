/**
 * How every Ravine tool launches Chromium (the e2e tests, the example figures, the browser
 * benchmarks). Playwright cannot download browsers on our machines, so the system Chromium is
 * used: $CHROMIUM_PATH wins, else /usr/bin/chromium when it exists, else Playwright's own (for
 * a user who ran `npx playwright install chromium`).
 */
import { existsSync } from 'node:fs';

export const chromiumExecutable: string | undefined = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Quiet (no background traffic, updates or sync) and with WebGL2 through SwiftShader when no
 * GPU is there; the sandbox needs a non-root user, so root runs without it.
 */
export const CHROMIUM_ARGS: string[] = [
  ...(isRoot ? ['--no-sandbox'] : []),
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--enable-unsafe-swiftshader',
  '--use-angle=swiftshader',
  '--ignore-gpu-blocklist',
];

export const chromiumLaunchOptions = { executablePath: chromiumExecutable, args: CHROMIUM_ARGS };
