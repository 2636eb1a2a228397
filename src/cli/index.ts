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
