import { expect, test } from '@playwright/test';
import { afterNewSurface, dropFiles, labUrl, waitReady } from './helpers';

test('after the page has loaded it makes no network request while a model is dropped, explored and measured; the CSP holds', async ({ page }) => {
  const violations: string[] = [];
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __csp: string[] }).__csp = [...((window as unknown as { __csp?: string[] }).__csp ?? []), `${e.violatedDirective} ${e.blockedURI}`];
    });
  });
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.goto(labUrl());
  await waitReady(page);
  await expect(page.getByTestId('metric-B-R')).toHaveText(/^R = \d/, { timeout: 120_000 });
  // The user's model bytes are fetched by the test before recording starts: in real use they
  // come from the user's disk.
  const files = await page.evaluate(async () => {
    const enc = async (u: string) => {
      const b = new Uint8Array(await (await fetch(u)).arrayBuffer());
      let s = '';
      for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
      return btoa(s);
    };
    return { json: await enc('models/mnist-mlp-natural/model.json'), bin: await enc('models/mnist-mlp-natural/group1-shard1of1.bin') };
  });

  const requests: string[] = [];
  page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
  page.on('websocket', (w) => requests.push(`websocket ${w.url()}`));
  await afterNewSurface(page, () =>
    dropFiles(page, [
      { name: 'model.json', base64: files.json },
      { name: 'group1-shard1of1.bin', base64: files.bin },
    ]),
  );
  await expect(page.getByTestId('slot-A')).toContainText('235,146 params');
  await afterNewSurface(page, () => page.getByTestId('seed').fill('3'));
  // Shortcuts are ignored while a text field has focus (as they should be): leave the field first.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await afterNewSurface(page, () => page.keyboard.press('ArrowRight'));
  await afterNewSurface(page, () => page.keyboard.press('f'));
  await page.keyboard.press('2');
  await waitReady(page);
  await expect(page.getByTestId('metric-A-R')).toHaveText(/^R = \d/, { timeout: 120_000 });
  expect(requests).toEqual([]);

  // The built app carries a CSP without eval or remote origins, and nothing tripped it.
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(csp).not.toMatch(/\s'unsafe-eval'/);
  expect(csp).not.toMatch(/https?:/);
  expect(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? [])).toEqual([]);
  expect(violations).toEqual([]);
});
