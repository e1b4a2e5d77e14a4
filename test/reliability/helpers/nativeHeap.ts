// SPDX-License-Identifier: MIT
// Leak checks for child processes run with --expose-gc: garbage collection until finalizers
// have run, and the addon's count of llama models not yet freed (all threads).
import { loadBinding } from '../../../src/engine/binding.js';

/** Models loaded and not yet freed in this process, worker_threads included. */
export function liveModels(): number {
  return loadBinding().liveModels();
}

/** Collects garbage and lets native finalizers (queued as immediates) and the frees they start run. */
export async function collectGarbage(rounds = 8): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('collectGarbage() needs node --expose-gc');
  for (let i = 0; i < rounds; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const rssMiB = (): number => process.memoryUsage().rss / 2 ** 20;
