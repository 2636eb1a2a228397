/**
 * A helper thread of the Winograd kernel in a browser (see winogradHelpers.ts): waits for its
 * start message, then serves jobs until the engine's worker ends.
 */
import { helperMain, runShares, type HelperInit } from './winogradHelpers';

self.addEventListener('message', (e: MessageEvent<HelperInit>) => helperMain(e.data, runShares), { once: true });
