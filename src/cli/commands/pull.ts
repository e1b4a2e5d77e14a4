// SPDX-License-Identifier: MIT
// `logtriage pull [repo-id] [--type t] [--revision r] [--force]`: downloads and converts a hub
// model into the cache and prints the GGUF's path on stdout (so `$(logtriage pull)` works). A
// progress bar goes to stderr only when it is a terminal.
import { SingleBar } from 'cli-progress';
import type { ConvertType } from '../../convert/index.js';
import { pullModel, type PullProgress } from '../../hub/index.js';

export interface PullCommandOptions {
  type?: ConvertType;
  revision?: string;
  force?: boolean;
  threads?: number;
  quiet?: boolean;
}

const megabytes = (bytes: number): string => (bytes / 1e6).toFixed(1);

const PHASE_LABEL = { download: 'downloading', write: 'converting ', quantize: 'quantizing ', verify: 'verifying  ' } as const;

/** One bar on stderr, restarted for each phase: bytes downloaded, GGUF bytes written, quantization. */
function progressBar(): { update: (p: PullProgress) => void; stop: () => void } {
  // No hideCursor: a Ctrl-C would leave the terminal without one.
  const bar = new SingleBar({ stream: process.stderr, format: '{phase} [{bar}] {percentage}% | {amount} | ETA {eta_formatted} | {file}', barsize: 30, clearOnComplete: true });
  let shown: keyof typeof PHASE_LABEL | undefined;
  return {
    update(p) {
      const phase = p.phase === 'convert' ? p.detail.phase : p.phase;
      const [done, total, file] =
        p.phase === 'download' ? [p.bytesDone, p.bytesTotal, p.file] : p.phase === 'verify' ? [p.bytesDone, p.bytesTotal, ''] : [p.detail.bytesDone, p.detail.bytesTotal, p.detail.tensor ?? ''];
      // The quantize phase counts 0 then 1 of 1 step, not bytes.
      const payload = { phase: PHASE_LABEL[phase], amount: phase === 'quantize' ? 'llama.cpp' : `${megabytes(done)}/${megabytes(total)} MB`, file };
      if (shown !== phase) {
        if (shown !== undefined) bar.stop();
        shown = phase;
        bar.start(total, done, payload);
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    stop: () => bar.stop(),
  };
}

export async function pullCommand(repoId: string | undefined, options: PullCommandOptions): Promise<void> {
  const started = Date.now();
  const bar = !options.quiet && process.stderr.isTTY ? progressBar() : undefined;
  const result = await pullModel(repoId, {
    force: Boolean(options.force),
    type: options.type,
    revision: options.revision,
    threads: options.threads,
    onProgress: bar?.update,
  }).finally(() => bar?.stop());
  process.stdout.write(`${result.path}\n`);
  if (!options.quiet) {
    const what = `${result.repoId}@${result.commit.slice(0, 12)} (${result.type})`;
    process.stderr.write(
      result.cached ? `${what} is already in the cache\n` : `pulled ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  }
}
