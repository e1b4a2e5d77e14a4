// SPDX-License-Identifier: MIT
// What `logtriage pull` and a missing `--model` fall back to.
import type { ConvertType } from '../convert/convertOptions.js';

/** The public log classifier that `logtriage pull` fetches and `--model` defaults to. */
export const DEFAULT_REPO_ID = 'Deeps03/qwen2-1.5b-log-classifier';

export const DEFAULT_REVISION = 'main';

/**
 * Tensor type of pulled models when none is asked for. Q8_0: on the CPU 1.7x the prompt rate of
 * F16 at about half the memory, near-lossless; Q4_0 is faster still but moves logits far more
 * (docs/benchmarks.md, "Which type").
 */
export const DEFAULT_GGUF_TYPE: ConvertType = 'q8_0';

/** The exact `logtriage pull` command line that fetches a model, defaults left out. */
export function pullCommandFor(repoId: string, revision: string = DEFAULT_REVISION, type: ConvertType = DEFAULT_GGUF_TYPE): string {
  const args = ['logtriage pull', repoId];
  if (revision !== DEFAULT_REVISION) args.push('--revision', revision);
  if (type !== DEFAULT_GGUF_TYPE) args.push('--type', type);
  return args.join(' ');
}
