// SPDX-License-Identifier: MIT
// stats().decodes counts llama_decode calls: tokensDecoded / decodes is the mean decode size that
// explains what a token costs (docs/performance.md "Rate curve"; the template bench prints it).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier } from '../../src/index.js';
import { loghubFiles, splitLogLines, tinyModel } from '../fixtures/index.js';

describe('LogClassifier#stats() decodes', () => {
  let clf: LogClassifier;
  let lines: string[];
  beforeAll(async () => {
    // Without sharing or the prefix cache every line is its own chain: a decode holds batchSize lines.
    clf = await LogClassifier.open(tinyModel('f32'), { threads: 2, resultCache: 0, prefixCache: false, prefixSharing: false, batchSize: 4, batchTokens: 2048 });
    lines = splitLogLines(readFileSync(loghubFiles()[0]!, 'utf8')).filter((l) => l.trim().length > 0).slice(0, 10);
  });
  afterAll(async () => {
    await clf?.dispose();
  });

  it('starts at 0 and counts one decode per batchSize lines', async () => {
    expect(clf.stats().decodes).toBe(0);
    const results = await clf.classifyMany(lines);
    const stats = clf.stats();
    expect(results.reduce((n, r) => n + r.tokens, 0)).toBeLessThanOrEqual(2048);
    expect(stats.decodes).toBe(Math.ceil(lines.length / 4));
    expect(stats.tokensDecoded).toBe(stats.tokensIn);
  });

  it('adds the decodes of each later call', async () => {
    const before = clf.stats().decodes;
    await clf.classifyMany(lines.slice(0, 3));
    await clf.classify(lines[3]!);
    expect(clf.stats().decodes - before).toBe(2);
  });
});
