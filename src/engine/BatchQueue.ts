// SPDX-License-Identifier: MIT
// The batching queue between callers and the native context: callers push tokenized lines, one
// drain loop packs whatever is waiting into native calls (bounded in lines and tokens, so
// late arrivals join the next call), and each caller gets its own logits back. Aborted entries
// leave the queue before they reach native code; admission is bounded (OverloadedError).
// Lines pushed for their hidden states (`embed()`) wait in the same queue, under the same budgets
// and admission limit; a native call carries lines of one output kind only, the kind of the
// oldest waiting line, so neither kind can starve the other.
import { AbortError, BackendError, DisposedError, OverloadedError } from '../errors.js';

/** What a native call returns per line: its logits (nLabels floats) or its pooled hidden state (nEmbd floats). */
export type NativeOutput = 'logits' | 'hidden';

export type RunBatch = (tokens: Int32Array, offsets: Uint32Array, output?: NativeOutput) => Promise<Float32Array>;

/** One native call, for metrics: how long its lines waited and how long the call took. */
export interface BatchTiming {
  lines: number;
  tokens: number;
  /** Per line: from push() to the start of the native call. */
  queueMs: number[];
  /** The native call (decode, pooling, head) for the whole batch. */
  inferenceMs: number;
  ok: boolean;
}

export interface QueueLimits {
  /** Logits per line. */
  nLabels: number;
  /** Hidden-state floats per line (needed only to push 'hidden' lines). */
  nEmbd?: number;
  /** Most lines per native call. */
  linesPerCall: number;
  /** Most tokens per native call (a longer single line still goes alone). */
  tokensPerCall: number;
  /** Most lines waiting; past it push() throws OverloadedError. */
  maxQueuedLines: number;
}

/** The lines of one push() that share an AbortSignal: one listener for all of them. */
interface AbortGroup {
  signal: AbortSignal;
  entries: Entry[];
  unsettled: number;
  onAbort: () => void;
}

interface Entry {
  tokens: Int32Array;
  output: NativeOutput;
  enqueuedAt: number;
  resolve: (logits: Float32Array) => void;
  reject: (err: Error) => void;
  settled: boolean;
  group: AbortGroup | undefined;
}

export class BatchQueue {
  private readonly waiting: Entry[] = [];
  private draining: Promise<void> | undefined;
  private closedWith: Error | undefined;

  constructor(
    private readonly run: RunBatch,
    private readonly limits: QueueLimits,
    private readonly onBatch: (timing: BatchTiming) => void = () => {},
  ) {}

  get queuedLines(): number {
    return this.waiting.length;
  }

  /** Queues lines; each promise settles with that line's logits or hidden state (`output`), or its error. */
  push(lines: Int32Array[], signal?: AbortSignal, output: NativeOutput = 'logits'): Promise<Float32Array>[] {
    if (this.closedWith) throw this.closedWith;
    if (output === 'hidden' && !(this.limits.nEmbd! > 0)) throw new RangeError('BatchQueue: hidden states need limits.nEmbd');
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    if (this.waiting.length + lines.length > this.limits.maxQueuedLines) {
      throw new OverloadedError(
        `Queue full: ${this.waiting.length} lines waiting, ${lines.length} more would pass maxQueuedLines ${this.limits.maxQueuedLines}`,
      );
    }
    let group: AbortGroup | undefined;
    if (signal && lines.length > 0) {
      const g: AbortGroup = { signal, entries: [], unsettled: lines.length, onAbort: () => this.abort(g) };
      signal.addEventListener('abort', g.onAbort, { once: true });
      group = g;
    }
    const promises = lines.map(
      (tokens) =>
        new Promise<Float32Array>((resolve, reject) => {
          const entry: Entry = { tokens, output, enqueuedAt: performance.now(), resolve, reject, settled: false, group };
          group?.entries.push(entry);
          this.waiting.push(entry);
        }),
    );
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    return promises;
  }

  /** Rejects everything waiting with `err` and refuses new work; in-flight calls finish. */
  close(err: Error = new DisposedError()): void {
    this.closedWith = err;
    for (const entry of this.waiting.splice(0)) this.settle(entry, err);
  }

  /** Resolves when no native call is running. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private abort(group: AbortGroup): void {
    // One pass: splicing entry by entry would be O(lines × queue) for a large aborted push.
    const aborted = new Set(group.entries);
    let kept = 0;
    for (const entry of this.waiting) if (!aborted.has(entry)) this.waiting[kept++] = entry;
    this.waiting.length = kept;
    for (const entry of group.entries) this.settle(entry, new AbortError(undefined, { cause: group.signal.reason }));
  }

  private settle(entry: Entry, result: Float32Array | Error): void {
    if (entry.settled) return;
    entry.settled = true;
    const group = entry.group;
    if (group && --group.unsettled === 0) group.signal.removeEventListener('abort', group.onAbort);
    if (result instanceof Error) entry.reject(result);
    else entry.resolve(result);
  }

  /** The oldest waiting line and the lines of its output kind after it, within the budgets; the others keep their places. */
  private takeBatch(): Entry[] {
    const batch: Entry[] = [];
    const output = this.waiting[0]!.output;
    let tokens = 0;
    let i = 0;
    for (; i < this.waiting.length && batch.length < this.limits.linesPerCall; i++) {
      const next = this.waiting[i]!;
      if (next.output !== output) continue;
      if (batch.length > 0 && tokens + next.tokens.length > this.limits.tokensPerCall) break;
      batch.push(next);
      tokens += next.tokens.length;
    }
    if (batch.length === i) this.waiting.splice(0, i);
    else {
      const taken = new Set(batch);
      let kept = 0;
      for (const entry of this.waiting) if (!taken.has(entry)) this.waiting[kept++] = entry;
      this.waiting.length = kept;
    }
    return batch;
  }

  private async drain(): Promise<void> {
    // Let callers that push in the same tick share the first call.
    await new Promise<void>((r) => setImmediate(r));
    while (this.waiting.length > 0) {
      const batch = this.takeBatch();
      const total = batch.reduce((n, e) => n + e.tokens.length, 0);
      const tokens = new Int32Array(total);
      const offsets = new Uint32Array(batch.length + 1);
      batch.forEach((entry, i) => {
        tokens.set(entry.tokens, offsets[i]!);
        offsets[i + 1] = offsets[i]! + entry.tokens.length;
      });
      const started = performance.now();
      const timing = (ok: boolean): BatchTiming => ({
        lines: batch.length,
        tokens: total,
        queueMs: batch.map((e) => started - e.enqueuedAt),
        inferenceMs: performance.now() - started,
        ok,
      });
      const output = batch[0]!.output;
      try {
        const results = output === 'hidden' ? await this.run(tokens, offsets, 'hidden') : await this.run(tokens, offsets);
        const n = output === 'hidden' ? this.limits.nEmbd! : this.limits.nLabels;
        if (results.length !== n * batch.length) throw new BackendError(`The native call returned ${results.length} values for ${batch.length} lines of ${n}`);
        this.onBatch(timing(true));
        batch.forEach((entry, i) => this.settle(entry, results.slice(i * n, (i + 1) * n)));
      } catch (err) {
        this.onBatch(timing(false));
        const error = this.closedWith ?? (err as Error);
        for (const entry of batch) this.settle(entry, error);
      }
    }
  }
}
