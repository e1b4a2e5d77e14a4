// SPDX-License-Identifier: MIT
// threads: 'auto' moves the llama.cpp thread count between native calls (llama_set_n_threads).
// The count must change only the speed: logits with the count switching between calls, and with
// the prefix cache carrying cells across the switches, equal those of a fixed single thread.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon } from '../../src/engine/binding.js';
import { readGgufHeader, validateLogtriageModel } from '../../src/gguf/index.js';
import { LogClassifier } from '../../src/index.js';
import type { NativeContext, NativeModel } from '../../src/engine/native.js';
import { loghubFiles, splitLogLines, tinyModel } from '../fixtures/index.js';

const TOL = 1e-4;
const lines = loghubFiles()
  .slice(0, 3)
  .flatMap((file) => splitLogLines(readFileSync(file, 'utf8')).filter((l) => l.trim().length > 0).slice(0, 12));

describe('thread count changes between calls (F32)', () => {
  const binding = loadAddon();
  let model: NativeModel;
  let switching: NativeContext;
  let fixed: NativeContext;
  beforeAll(async () => {
    const meta = validateLogtriageModel(await readGgufHeader(tinyModel('f32')));
    model = await binding.Model.load(tinyModel('f32'), { gpuLayers: 0, useMmap: true });
    const options = { nCtx: 1024, nBatch: 512, nUbatch: 256, nSeqMax: 8, flashAttn: false, kvType: 'f32' as const, nLabels: meta.labels.length, head: meta.head.weight, ...(meta.head.bias ? { bias: meta.head.bias } : {}) };
    switching = await binding.Context.create(model, { ...options, threads: 2, prefixCacheCells: 256 });
    fixed = await binding.Context.create(model, { ...options, threads: 1 });
  });
  afterAll(async () => {
    await switching?.dispose();
    await fixed?.dispose();
    await model?.dispose();
  });

  it('one line per call, the count alternating 1 and 2 with cached prefixes: logits as with one thread and no cache', async () => {
    let worst = 0;
    // No more than 2: a count above the free cores spins at barriers and takes seconds per line on a busy host.
    const counts = [1, 2];
    for (const [i, line] of lines.entries()) {
      const { tokens, offsets } = await model.tokenize([line], false);
      const threads = counts[i % counts.length]!;
      const got = await switching.classify(tokens, offsets, threads);
      expect(switching.info().threads).toBe(threads);
      const want = await fixed.classify(tokens, offsets);
      worst = Math.max(worst, ...Array.from(got, (x, j) => Math.abs(x - want[j]!)));
    }
    expect(lines).toHaveLength(36);
    // The cache served tokens across the switches, so both paths were exercised.
    expect(switching.info().tokensReused).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(TOL);
  });

  it('a call without a count keeps the last one; a bad count is INVALID_ARGUMENT', async () => {
    const { tokens, offsets } = await model.tokenize(lines.slice(0, 2), false);
    await switching.classify(tokens, offsets, 2);
    await switching.classify(tokens, offsets);
    expect(switching.info().threads).toBe(2);
    for (const bad of [0, 1.5, 2000, '2']) {
      expect(() => switching.classify(tokens, offsets, bad as number)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});

describe("LogClassifier threads: 'auto'", () => {
  let auto: LogClassifier;
  let one: LogClassifier;
  beforeAll(async () => {
    auto = await LogClassifier.open(tinyModel('f32'), { resultCache: 0 });
    one = await LogClassifier.open(tinyModel('f32'), { threads: 1, resultCache: 0, prefixCache: false });
  });
  afterAll(async () => {
    await auto?.dispose();
    await one?.dispose();
  });

  it('is the default, plans adaptation on more than one core, and gives the logits of one fixed thread', async () => {
    const cores = auto.info.threads;
    expect(auto.info.plan.adaptThreads.value).toBe(cores > 1);
    expect(one.info.plan.adaptThreads).toEqual({ value: false, why: 'threads: 1 is kept fixed' });
    const seen = new Set<number>();
    let worst = 0;
    for (const line of lines) {
      const [a, b] = await Promise.all([auto.classify(line), one.classify(line)]);
      seen.add(auto.stats().threads);
      worst = Math.max(worst, ...a.logits.map((x, j) => Math.abs(x - b.logits[j]!)));
    }
    expect(worst).toBeLessThanOrEqual(TOL);
    for (const n of seen) expect(n).toBeGreaterThanOrEqual(1);
    for (const n of seen) expect(n).toBeLessThanOrEqual(cores);
    expect(one.stats().threads).toBe(1);
  });
});
