// SPDX-License-Identifier: MIT
// The same lines give the same logits however they are packed into decodes.
import { getEventListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier, type ClassificationResult } from '../../src/index.js';
import { expectedCases, loghubFiles, splitLogLines, tinyModel } from '../fixtures/index.js';
import { maxAbsDiff } from '../helpers/logitDiff.js';

// Mixed lengths: a few lines from each loghub system, plus the fixture's long line (961 tokens,
// longer than a 512-token decode) and a one-character line.
const lines: string[] = [
  ...loghubFiles().flatMap((f) => splitLogLines(readFileSync(f, 'utf8')).slice(100, 104)),
  expectedCases().find((c) => c.name === 'long_2000_chars')!.text,
  'A',
];

const TOL = 1e-5;

function expectSameLogits(a: ClassificationResult[], b: ClassificationResult[]): void {
  expect(a).toHaveLength(b.length);
  a.forEach((r, i) => {
    const diff = maxAbsDiff(r.logits, b[i]!.logits, `line ${i}`);
    expect(diff, `line ${i}`).toBeLessThanOrEqual(TOL);
    expect(r.tokens).toBe(b[i]!.tokens);
  });
}

describe('LogClassifier batching (F32)', () => {
  let clf: LogClassifier;
  let oneByOne: ClassificationResult[];
  beforeAll(async () => {
    clf = await LogClassifier.open(tinyModel('f32'), { threads: 2, resultCache: 0 });
    oneByOne = [];
    for (const line of lines) oneByOne.push(await clf.classify(line));
  });
  afterAll(async () => {
    await clf?.dispose();
  });

  it('covers a line longer than one decode', () => {
    expect(lines.length).toBeGreaterThanOrEqual(40);
    expect(Math.max(...oneByOne.map((r) => r.tokens))).toBeGreaterThan(clf.info.batchTokens);
  });

  it('one batch equals one by one', async () => {
    expectSameLogits(await clf.classifyMany(lines), oneByOne);
  });

  it('mixed-length small batches equal one by one', async () => {
    const small = await LogClassifier.open(tinyModel('f32'), { threads: 2, batchSize: 3, batchTokens: 64, resultCache: 0 });
    try {
      expectSameLogits(await small.classifyMany(lines), oneByOne);
      expectSameLogits(await small.classifyMany([...lines].reverse()), [...oneByOne].reverse());
    } finally {
      await small.dispose();
    }
  });

  it('50 concurrent callers equal one by one', async () => {
    const callers = Array.from({ length: 50 }, (_, i) => lines[i % lines.length]!);
    const results = await Promise.all(callers.map((line) => clf.classify(line)));
    expectSameLogits(results, callers.map((_, i) => oneByOne[i % lines.length]!));
  });

  it('one AbortSignal over many lines holds one listener, removed when the call settles', async () => {
    const controller = new AbortController();
    const pending = clf.classifyMany(lines.slice(0, 20), { signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1);
    await pending;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('reports progress for every line', async () => {
    const seen: number[] = [];
    await clf.classifyMany(lines.slice(0, 10), { onProgress: (done, total) => seen.push(done / total) });
    expect(seen).toHaveLength(10);
    expect(seen.at(-1)).toBe(1);
  });

  it('pipeline() returns HF-shaped output', async () => {
    const one = (await clf.pipeline(lines[0]!)) as Array<{ label: string; score: number }>;
    expect(one).toHaveLength(1);
    expect(one[0]!.label).toBe(oneByOne[0]!.label);
    const all = (await clf.pipeline([lines[0]!, lines[1]!], { topK: null })) as Array<Array<{ label: string; score: number }>>;
    expect(all).toHaveLength(2);
    expect(all[0]!.map((e) => e.label).sort()).toEqual([...clf.labels].sort());
    expect(all[0]!.reduce((s, e) => s + e.score, 0)).toBeCloseTo(1, 5);
    const raw = (await clf.pipeline(lines[0]!, { topK: 2, functionToApply: 'none' })) as Array<{ score: number }>;
    expect(raw[0]!.score).toBeCloseTo(Math.max(...oneByOne[0]!.logits), 5);
    const sig = (await clf.pipeline(lines[0]!, { functionToApply: 'sigmoid' })) as Array<{ score: number }>;
    expect(sig[0]!.score).toBeCloseTo(1 / (1 + Math.exp(-Math.max(...oneByOne[0]!.logits))), 5);
  });
});
