/**
 * The report's account of where a Node job's time goes on 1 and on 2 threads: in Ravine's split
 * kernels, which the helper threads share, or outside them, on the calling thread alone
 * (bench/node.ts records it per run with src/engine/winograd.ts ravineSplitMs).
 */
import type { Row } from './common';

/**
 * Where the Node runs of a job spend their time: in Ravine's split kernels (ravineSplitMs: the
 * calling thread's shares and its waits for helpers) or outside them, on 1 and on 2 threads.
 * Null where the run did not record it.
 */
export function splitNote(what: string, r1: Row | undefined, r2: Row | undefined): string | null {
  if (!r1 || !r2 || r1.splitMs === undefined || r2.splitMs === undefined) return null;
  const t1 = r1.seconds * 1000;
  const t2 = r2.seconds * 1000;
  const out1 = Math.max(0, t1 - r1.splitMs);
  const out2 = Math.max(0, t2 - r2.splitMs);
  return (
    `Where the Node runs of the ${what} spend their time (medians; src/engine/winograd.ts \`ravineSplitMs\`): on 1 thread ${r1.splitMs.toFixed(1)} of ${t1.toFixed(1)} ms in Ravine's split kernels (convolutions, matrix products, the surface's inputs) and ${out1.toFixed(1)} ms outside them; ` +
    `on 2 threads ${r2.splitMs.toFixed(1)} of ${t2.toFixed(1)} ms in them (the calling thread's shares and its waits for the helper) and ${out2.toFixed(1)} ms outside. ` +
    `The split kernels gain ×${(r1.splitMs / Math.max(1e-9, r2.splitMs)).toFixed(2)} from the second thread. The time outside them (tfjs's dispatch and small ops, the loss head, the PGD step, the read-back) runs on the calling thread alone ` +
    `(${out1.toFixed(1)} ms on 1 thread, ${out2.toFixed(1)} ms on 2) and is ${((100 * out2) / t2).toFixed(0)} % of the 2-thread time.`
  );
}

