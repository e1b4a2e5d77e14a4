// SPDX-License-Identifier: MIT
// The progress line on stderr (cli-progress): lines classified, lines/s and, when every input is
// a regular file, a bar and ETA from the bytes read. Only drawn on a terminal; otherwise a no-op.
import cliProgress from 'cli-progress';

export interface Progress {
  /** `bytes` is how far into the inputs reading has got (compressed bytes for .gz). */
  update(lines: number, bytes: number): void;
  stop(): void;
}

export const NO_PROGRESS: Progress = { update: () => {}, stop: () => {} };

export interface ProgressOptions {
  stream: NodeJS.WritableStream;
  /** Total bytes of the inputs, when known (regular files, no --follow). */
  totalBytes?: number;
  /** Shown before the counts: 'classifying' or 'following'. */
  verb: string;
}

export function progressBar(options: ProgressOptions): Progress {
  const withTotal = options.totalBytes !== undefined && options.totalBytes > 0;
  const bar = new cliProgress.SingleBar({
    stream: options.stream,
    format: withTotal
      ? `${options.verb} {bar} {percentage}% | {lines} lines | {rate} lines/s | ETA {eta_formatted}`
      : `${options.verb} {lines} lines | {rate} lines/s | {duration_formatted}`,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
    fps: 5,
  });
  const started = performance.now();
  bar.start(withTotal ? options.totalBytes! : 1, 0, { lines: 0, rate: '0' });
  return {
    update(lines, bytes) {
      const seconds = (performance.now() - started) / 1000;
      const payload = { lines, rate: seconds > 0 ? Math.round(lines / seconds).toString() : '0' };
      bar.update(withTotal ? Math.min(bytes, options.totalBytes!) : 0, payload);
    },
    stop: () => bar.stop(),
  };
}

/** A bar for one long read of a known size (verify): percentage, MB done, MB/s and ETA. */
export function byteProgressBar(options: { stream: NodeJS.WritableStream; verb: string }): { update(bytesDone: number, bytesTotal: number): void; stop(): void } {
  const bar = new cliProgress.SingleBar({
    stream: options.stream,
    format: `${options.verb} {bar} {percentage}% | {done}/{total_mb} MB | {rate} MB/s | ETA {eta_formatted}`,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
    fps: 5,
  });
  const started = performance.now();
  let running = false;
  return {
    update(bytesDone, bytesTotal) {
      const seconds = (performance.now() - started) / 1000;
      const payload = { done: (bytesDone / 1e6).toFixed(0), total_mb: (bytesTotal / 1e6).toFixed(0), rate: seconds > 0 ? (bytesDone / 1e6 / seconds).toFixed(0) : '0' };
      if (!running) bar.start(bytesTotal, bytesDone, payload);
      else bar.update(bytesDone, payload);
      running = true;
    },
    stop: () => {
      if (running) bar.stop();
    },
  };
}
