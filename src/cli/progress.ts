/**
 * Progress on stderr: a live cli-progress bar when stderr is a terminal, nothing otherwise
 * (a log file or a CI capture gets no escape codes and no noise; results stay on stdout).
 */
import { SingleBar } from 'cli-progress';
import type { CliIo } from './io';

export interface ProgressReporter {
  /** Sets the bar to `done` of `total`, with optional extra text after it (e.g. a running R). */
  update(done: number, total: number, note?: string): void;
  /** Removes the bar (always call it, in a finally: the bar runs a redraw timer). */
  stop(): void;
}

const SILENT: ProgressReporter = { update() {}, stop() {} };

/**
 * A progress bar labelled `label` counting `unit`s (e.g. 'points', 'samples').
 * `io.stderr` must be a real terminal stream when `io.isTTY` is true.
 */
export function createProgress(io: CliIo, label: string, unit: string): ProgressReporter {
  if (!io.isTTY) return SILENT;
  const bar = new SingleBar({
    stream: io.stderr as NodeJS.WritableStream,
    format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted} elapsed, ETA {eta_formatted}{note}`,
    barsize: 30,
    // The cursor stays visible: a Ctrl-C between redraws must not leave the terminal without one.
    hideCursor: false,
    clearOnComplete: true,
    etaBuffer: 20,
  });
  let started = false;
  return {
    update(done, total, note = '') {
      const payload = { note: note ? ` | ${note}` : '' };
      if (!started) {
        bar.start(total, done, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
