// SPDX-License-Identifier: MIT
// KV cache sized to the work (issue 17). llama.cpp clears the KV buffer when it creates a
// context, so every one of its n_ctx cells is resident for the context's life (28 KiB per cell
// at F16 on a 1.5B model). Lines are short (loghub: mean ~60 tokens, p95 ~100), so the main
// context holds what the work needs, a full decode beside the prefix cache (runtimePlan nCtx),
// and a line longer than that, up to maxTokens, is decoded in a context of its own, opened for
// the call that carries it and freed after: ~0.1 s and 56 MiB for the 2,048-token case, beside
// the tens of seconds such a line takes to decode on a CPU.

import type { NativeOutput, RunBatch } from './BatchQueue.js';

/** What routing needs of a native context. */
export interface LineContext {
  classify(tokens: Int32Array, offsets: Uint32Array): Promise<Float32Array>;
  embed(tokens: Int32Array, offsets: Uint32Array): Promise<Float32Array>;
  info(): { tokensIn: number; tokensDecoded: number; decodes: number };
  dispose(): Promise<void>;
}

/** Lines `which` of a packed batch, packed again. */
function pick(tokens: Int32Array, offsets: Uint32Array, which: readonly number[]): { tokens: Int32Array; offsets: Uint32Array } {
  const out = new Uint32Array(which.length + 1);
  which.forEach((line, k) => (out[k + 1] = out[k]! + offsets[line + 1]! - offsets[line]!));
  const packed = new Int32Array(out[which.length]!);
  which.forEach((line, k) => packed.set(tokens.subarray(offsets[line]!, offsets[line + 1]!), out[k]!));
  return { tokens: packed, offsets: out };
}

export class LongLineRouter {
  /** Tokens in and decoded, and decodes, by the long-line contexts (the main context counts its own). */
  readonly counts = { tokensIn: 0, tokensDecoded: 0, decodes: 0 };
  private running: LineContext | undefined;

  /**
   * @param run the main context's runner (BatchQueue's RunBatch)
   * @param mainCells most tokens per line the main context takes
   * @param openLong opens a context for lines of up to maxTokens
   * @param nLabels logits per line
   * @param nEmbd hidden-state floats per line (for 'hidden' calls)
   */
  constructor(
    private readonly run: RunBatch,
    private readonly mainCells: number,
    private readonly openLong: () => Promise<LineContext>,
    private readonly nLabels: number,
    private readonly nEmbd = 0,
  ) {}

  /** A RunBatch: lines that fit go to the main context, longer ones to a context opened for this call. */
  readonly classify: RunBatch = async (tokens, offsets, output: NativeOutput = 'logits') => {
    const lines = offsets.length - 1;
    const long: number[] = [];
    const short: number[] = [];
    for (let i = 0; i < lines; i++) (offsets[i + 1]! - offsets[i]! > this.mainCells ? long : short).push(i);
    const hidden = output === 'hidden';
    if (long.length === 0) return hidden ? this.run(tokens, offsets, 'hidden') : this.run(tokens, offsets);
    const width = hidden ? this.nEmbd : this.nLabels;
    const results = new Float32Array(lines * width);
    const place = (which: readonly number[], part: Float32Array) =>
      which.forEach((line, k) => results.set(part.subarray(k * width, (k + 1) * width), line * width));
    if (short.length > 0) {
      const batch = pick(tokens, offsets, short);
      place(short, await (hidden ? this.run(batch.tokens, batch.offsets, 'hidden') : this.run(batch.tokens, batch.offsets)));
    }
    const context = await this.openLong();
    this.running = context;
    try {
      const batch = pick(tokens, offsets, long);
      place(long, await (hidden ? context.embed(batch.tokens, batch.offsets) : context.classify(batch.tokens, batch.offsets)));
      const info = context.info();
      this.counts.tokensIn += info.tokensIn;
      this.counts.tokensDecoded += info.tokensDecoded;
      this.counts.decodes += info.decodes;
    } finally {
      this.running = undefined;
      await context.dispose();
    }
    return results;
  };

  /** Frees a long-line context in use (its decode rejects, aborted), as the main context's dispose() does. */
  async close(): Promise<void> {
    await this.running?.dispose();
  }
}
