#!/usr/bin/env node
/**
 * `ravine` launcher: registers tsx's ESM loader in this process, then runs the TypeScript
 * entry src/cli/index.ts. tsx must be installed (it is a devDependency of this repository;
 * in another project, `npm install --save-dev tsx` next to ravine before `npx ravine`).
 */
let register;
try {
  ({ register } = await import('tsx/esm/api'));
} catch {
  process.stderr.write("ravine: the 'tsx' package is needed to run the TypeScript sources; install it with `npm install --save-dev tsx`\n");
  process.exit(3);
}
register();
await import(new URL('../src/cli/index.ts', import.meta.url).href);
