// SPDX-License-Identifier: MIT
// LongLineRouter against fake contexts: lines over the main context's cells go to a context
// opened for the call and freed after; every line's logits land at its place in the batch.
import { describe, expect, it } from 'vitest';
import { LongLineRouter, type LineContext } from '../../src/engine/LongLineRouter.js';

const N_LABELS = 2;
/** A fake context whose logits per line are [first token, line length]. */
function fakeRun(seen: number[][]) {
  return async (tokens: Int32Array, offsets: Uint32Array) => {
    const out = new Float32Array((offsets.length - 1) * N_LABELS);
    const lengths: number[] = [];
    for (let i = 0; i + 1 < offsets.length; i++) {
      out[i * N_LABELS] = tokens[offsets[i]!]!;
      out[i * N_LABELS + 1] = offsets[i + 1]! - offsets[i]!;
      lengths.push(offsets[i + 1]! - offsets[i]!);
    }
    seen.push(lengths);
    return out;
  };
}

const N_EMBD = 3;
/** A fake context whose hidden state per line is [first token, line length, -1]; a logits call through it throws. */
function hiddenRun(seen: number[][]) {
  return async (tokens: Int32Array, offsets: Uint32Array, output?: string) => {
    if (output !== undefined && output !== 'hidden') throw new Error(`expected a hidden-state call, got ${output}`);
    const out = new Float32Array((offsets.length - 1) * N_EMBD);
    const lengths: number[] = [];
    for (let i = 0; i + 1 < offsets.length; i++) {
      out.set([tokens[offsets[i]!]!, offsets[i + 1]! - offsets[i]!, -1], i * N_EMBD);
      lengths.push(offsets[i + 1]! - offsets[i]!);
    }
    seen.push(lengths);
    return out;
  };
}

function pack(lines: number[][]): { tokens: Int32Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(lines.length + 1);
  lines.forEach((l, i) => (offsets[i + 1] = offsets[i]! + l.length));
  return { tokens: Int32Array.from(lines.flat()), offsets };
}

function setup() {
  const main: number[][] = [];
  const long: number[][] = [];
  const events: string[] = [];
  const open = async (): Promise<LineContext> => {
    events.push('open');
    let decoded = 0;
    const run = fakeRun(long);
    return {
      classify: async (tokens, offsets) => {
        decoded += tokens.length;
        return run(tokens, offsets);
      },
      embed: async (tokens, offsets) => {
        decoded += tokens.length;
        return hiddenRun(long)(tokens, offsets);
      },
      info: () => ({ tokensIn: decoded, tokensDecoded: decoded, decodes: 1 }),
      dispose: async () => {
        events.push('dispose');
      },
    };
  };
  const mainRun = fakeRun(main);
  const mainHidden = hiddenRun(main);
  const run = (tokens: Int32Array, offsets: Uint32Array, output?: 'logits' | 'hidden') =>
    output === 'hidden' ? mainHidden(tokens, offsets, output) : mainRun(tokens, offsets);
  return { main, long, events, router: new LongLineRouter(run, 8, open, N_LABELS, N_EMBD) };
}

describe('LongLineRouter', () => {
  it('sends a batch that fits to the main context alone, opening nothing', async () => {
    const { main, long, events, router } = setup();
    const { tokens, offsets } = pack([[1, 2, 3], Array(8).fill(4)]);
    expect(Array.from(await router.classify(tokens, offsets))).toEqual([1, 3, 4, 8]);
    expect([main, long, events]).toEqual([[[3, 8]], [], []]);
    expect(router.counts).toEqual({ tokensIn: 0, tokensDecoded: 0, decodes: 0 });
  });

  it('splits a mixed batch, keeps each line in its place, and frees the long-line context', async () => {
    const { main, long, events, router } = setup();
    const { tokens, offsets } = pack([Array(9).fill(5), [6, 7], Array(20).fill(8), [9]]);
    expect(Array.from(await router.classify(tokens, offsets))).toEqual([5, 9, 6, 2, 8, 20, 9, 1]);
    expect(main).toEqual([[2, 1]]);
    expect(long).toEqual([[9, 20]]);
    expect(events).toEqual(['open', 'dispose']);
    expect(router.counts).toEqual({ tokensIn: 29, tokensDecoded: 29, decodes: 1 });
  });

  it('routes hidden-state calls the same way, n_embd floats per line in its place', async () => {
    const { main, long, events, router } = setup();
    const { tokens, offsets } = pack([Array(9).fill(5), [6, 7], Array(20).fill(8), [9]]);
    expect(Array.from(await router.classify(tokens, offsets, 'hidden'))).toEqual([5, 9, -1, 6, 2, -1, 8, 20, -1, 9, 1, -1]);
    expect(main).toEqual([[2, 1]]);
    expect(long).toEqual([[9, 20]]);
    expect(events).toEqual(['open', 'dispose']);
  });

  it('frees the long-line context when its call fails', async () => {
    const events: string[] = [];
    const router = new LongLineRouter(fakeRun([]), 4, async () => ({
      classify: async () => {
        throw new Error('decode failed');
      },
      embed: async () => {
        throw new Error('decode failed');
      },
      info: () => ({ tokensIn: 0, tokensDecoded: 0, decodes: 0 }),
      dispose: async () => {
        events.push('dispose');
      },
    }), N_LABELS);
    const { tokens, offsets } = pack([Array(5).fill(1)]);
    await expect(router.classify(tokens, offsets)).rejects.toThrow('decode failed');
    expect(events).toEqual(['dispose']);
  });
});
