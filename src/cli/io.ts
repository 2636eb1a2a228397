/**
 * What a command writes to, passed in so that tests run the CLI in-process and read its
 * output: results go to `stdout`, progress and diagnostics to `stderr`.
 */

/** Anything with a `write(text)`: a Node stream, or a string collector in tests. */
export interface TextSink {
  write(text: string): unknown;
}

export interface CliIo {
  /** Results (tables, JSON). */
  stdout: TextSink;
  /** Progress, notes and error messages. */
  stderr: TextSink;
  /**
   * Whether `stderr` is a terminal: a live progress bar is drawn only then (a redirected or
   * captured stderr stays free of escape codes).
   */
  isTTY: boolean;
  /** Cancels a running job (the entry point wires it to Ctrl-C); optional. */
  signal?: AbortSignal;
}

/** Exit status of a command that worked. */
export const EXIT_OK = 0;
/** Exit status when a `--fail-above` gate trips. */
export const EXIT_GATE = 1;
/** Exit status for bad input: an argument, a file, a model or a dataset. */
export const EXIT_USAGE = 2;
/**
 * Exit status for a failure that is not the user's input (a bug, the disk, the backend).
 * Kept apart from 1 so that a CI gate never mistakes a crash for a robustness verdict.
 */
export const EXIT_INTERNAL = 3;
/** Exit status after Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;
