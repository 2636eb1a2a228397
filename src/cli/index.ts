/**
 * The `ravine` executable's entry (bin/ravine.js loads it through tsx): real stdout and
 * stderr, a progress bar when stderr is a terminal, and Ctrl-C cancelling the running job.
 */
import { runCli } from './main';

const controller = new AbortController();
// The first Ctrl-C stops the job between chunks (exit 130); a second one kills at once.
process.once('SIGINT', () => controller.abort());

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: Boolean(process.stderr.isTTY),
  signal: controller.signal,
});
// A threaded wasm backend keeps worker threads alive: end the process once the work is done,
// after stdout and stderr have flushed (pipes are asynchronous on some systems).
await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write('', () => resolve()))));
process.exit();
