// SPDX-License-Identifier: MIT
// The model a server or worker answers with, swappable without dropping work. Every use of the
// model goes through use(), which counts calls in flight per classifier. swap() opens the new
// file (verified as open() verifies), warms it, then new calls go to it while
// calls in flight finish on the old one, which is disposed once its count reaches zero. A failed
// swap leaves the old model serving and throws. 'overlap' holds both models for the swap (twice
// the memory for a moment); 'pause' refuses new calls (notReady) while the old model drains and
// is disposed, opens the new one, and reopens the old file if the new one fails. A call that comes
// through use() while paused waits for the swap's end (serve answers 503 before that; the worker
// stops taking batches, see whenResumed()).
import type { LogClassifier } from './LogClassifier.js';

export type SwapMode = 'overlap' | 'pause';

/** What serve and the worker classify before they call themselves ready, and what a swap warms a new model with. */
export const WARMUP_LINE = 'systemd[1]: Started Session 1 of user root.';

export interface ModelSlotOptions {
  /** Opens a model file with the options the first one was opened with. */
  open: (path: string) => Promise<LogClassifier>;
  mode?: SwapMode;
}

export class ModelSlot {
  private model: LogClassifier;
  private readonly inFlight = new Map<LogClassifier, number>();
  private readonly drained = new Map<LogClassifier, () => void>();
  private swapping: Promise<unknown> | undefined;
  private paused = false;
  private resumed: Promise<void> = Promise.resolve();
  private readonly listeners: Array<(current: LogClassifier, previous: LogClassifier) => void> = [];
  /** Swaps completed since start. */
  swaps = 0;

  constructor(
    first: LogClassifier,
    private readonly options: ModelSlotOptions,
  ) {
    this.model = first;
  }

  /** Calls `listener` after each swap with the new and the old model (metrics rebind here). */
  onSwap(listener: (current: LogClassifier, previous: LogClassifier) => void): void {
    this.listeners.push(listener);
  }

  /** The model new calls go to. */
  get current(): LogClassifier {
    return this.model;
  }

  /** Why new calls are refused now ('pause' swap in progress), else undefined. */
  get pausedReason(): string | undefined {
    return this.paused ? 'the model is being swapped (--swap-mode pause)' : undefined;
  }

  /** Resolves when no 'pause' swap is under way (at once if none is). */
  whenResumed(): Promise<void> {
    return this.resumed;
  }

  /** True while a swap is under way (GET /ready answers 503). */
  get isSwapping(): boolean {
    return this.swapping !== undefined;
  }

  /** Why GET /ready answers 503 because of the slot (a swap under way, paused or not), else undefined. */
  get swapReason(): string | undefined {
    return this.pausedReason ?? (this.isSwapping ? 'the model is being swapped' : undefined);
  }

  /** Runs `fn` on the current model; the model is not disposed before `fn` settles. */
  async use<T>(fn: (classifier: LogClassifier) => Promise<T>): Promise<T> {
    // The model may be the one being retired: wait for the one the swap leaves.
    while (this.paused) await this.resumed;
    const model = this.model;
    this.inFlight.set(model, (this.inFlight.get(model) ?? 0) + 1);
    try {
      return await fn(model);
    } finally {
      const left = this.inFlight.get(model)! - 1;
      if (left > 0) this.inFlight.set(model, left);
      else {
        this.inFlight.delete(model);
        this.drained.get(model)?.();
      }
    }
  }

  /** Swaps to the model at `path`; one swap at a time (a second waits for the first). Resolves with the new model. */
  async swap(path: string): Promise<LogClassifier> {
    const previous = this.swapping ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => (this.options.mode === 'pause' ? this.swapPausing(path) : this.swapOverlapping(path)));
    this.swapping = run;
    try {
      return await run;
    } finally {
      if (this.swapping === run) this.swapping = undefined;
    }
  }

  /** Frees the current model once its calls in flight are done. */
  async dispose(): Promise<void> {
    await this.swapping?.catch(() => undefined);
    await this.retire(this.model);
  }

  private async prepare(path: string): Promise<LogClassifier> {
    const candidate = await this.options.open(path);
    try {
      await candidate.classify(WARMUP_LINE);
      return candidate;
    } catch (err) {
      await candidate.dispose();
      throw err;
    }
  }

  private async swapOverlapping(path: string): Promise<LogClassifier> {
    const next = await this.prepare(path);
    const old = this.model;
    this.model = next;
    this.swaps++;
    for (const listener of this.listeners) listener(next, old);
    await this.retire(old);
    return next;
  }

  private async swapPausing(path: string): Promise<LogClassifier> {
    const old = this.model;
    this.paused = true;
    let resume!: () => void;
    this.resumed = new Promise<void>((resolve) => (resume = resolve));
    try {
      await this.retire(old);
      let next: LogClassifier;
      try {
        next = await this.prepare(path);
      } catch (err) {
        // The old file again: what served before the swap serves after it.
        this.model = await this.options.open(old.info.path);
        throw err;
      }
      this.model = next;
      this.swaps++;
      for (const listener of this.listeners) listener(next, old);
      return next;
    } finally {
      this.paused = false;
      resume();
    }
  }

  /** Waits for `model`'s calls in flight, then disposes it. */
  private async retire(model: LogClassifier): Promise<void> {
    if ((this.inFlight.get(model) ?? 0) > 0) {
      await new Promise<void>((resolve) => this.drained.set(model, resolve));
      this.drained.delete(model);
    }
    await model.dispose();
  }
}
