// SPDX-License-Identifier: MIT
// Prefix sharing decodes a token prefix common to several lines of a batch once. The logits
// must equal the unshared computation and HuggingFace's, whatever the batch looks like.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier, type ClassificationResult } from '../../src/index.js';
import { EXPECTED_CASE_COUNT, expectedCases, loghubFiles, splitLogLines, tinyModel, type ExpectedCase } from '../fixtures/index.js';
import { maxAbsDiff, maxResultsDiff } from '../helpers/logitDiff.js';

const TOL = 1e-4;

function maxDiff(a: ClassificationResult[], b: ClassificationResult[]): number {
  return maxResultsDiff(a, b);
}

// Time-ordered lines of one system, with the shapes a trie must get right: exact repeats, a
// line that is a strict prefix of another, and lines sharing nothing.
function trickyBatch(): string[] {
  const lines = splitLogLines(readFileSync(loghubFiles()[0]!, 'utf8')).slice(0, 40);
  const first = lines[0]!;
  return [...lines, first, first, first.slice(0, Math.floor(first.length / 2)), 'A', 'A', `${first} and more`, lines[5]!];
}

describe('LogClassifier prefix sharing (F32)', () => {
  let shared: LogClassifier;
  let unshared: LogClassifier;
  beforeAll(async () => {
    // In-call sharing alone: the cross-call prefix cache has its own tests (prefixCache.integration.test.ts).
    const common = { threads: 2, resultCache: 0, prefixCache: false } as const;
    shared = await LogClassifier.open(tinyModel('f32'), { ...common, prefixSharing: true });
    unshared = await LogClassifier.open(tinyModel('f32'), { ...common, prefixSharing: false });
  });
  afterAll(async () => {
    await shared?.dispose();
    await unshared?.dispose();
  });

  it('equals the unshared computation on repeats, prefixes and unrelated lines, and decodes fewer tokens', async () => {
    const lines = trickyBatch();
    const before = shared.stats();
    const a = await shared.classifyMany(lines);
    const after = shared.stats();
    const b = await unshared.classifyMany(lines);
    expect(maxDiff(a, b)).toBeLessThanOrEqual(TOL);
    const tokensIn = after.tokensIn - before.tokensIn;
    expect(tokensIn).toBe(a.reduce((n, r) => n + r.tokens, 0));
    expect(after.tokensDecoded - before.tokensDecoded).toBeLessThan(tokensIn);
    const u = unshared.stats();
    expect(u.tokensDecoded).toBe(u.tokensIn);
  });

  it('keeps every fixture case within tolerance of HuggingFace when batched together', async () => {
    // Parse mode reproduces HF exactly, so every case with logits has a reference.
    const cases = expectedCases().filter((c) => c.logits !== null);
    expect(cases.length).toBe(EXPECTED_CASE_COUNT - 1);
    const reference = (c: ExpectedCase): number[] => c.hf_newer_pooled_logits ?? c.logits!;
    const parse = await LogClassifier.open(tinyModel('f32'), { threads: 2, resultCache: 0, prefixCache: false, specialTokens: 'parse', rejectWhitespace: false });
    try {
      // Each case twice, so every line shares all its tokens with another one.
      const results = await parse.classifyMany([...cases.map((c) => c.text), ...cases.map((c) => c.text)]);
      cases.forEach((c, i) => {
        for (const r of [results[i]!, results[i + cases.length]!]) {
          const diff = maxAbsDiff(r.logits, reference(c), c.name);
          expect(diff, c.name).toBeLessThanOrEqual(TOL);
        }
      });
      expect(parse.stats().tokensDecoded).toBeLessThan(parse.stats().tokensIn);
    } finally {
      await parse.dispose();
    }
  });

  it('holds when the trie is cut by small decode budgets (3 sequences, 64 tokens)', async () => {
    const small = await LogClassifier.open(tinyModel('f32'), { threads: 2, resultCache: 0, prefixCache: false, batchSize: 3, batchTokens: 64 });
    try {
      const lines = [...trickyBatch(), expectedCases().find((c) => c.name === 'long_2000_chars')!.text];
      expect(maxDiff(await small.classifyMany(lines), await unshared.classifyMany(lines))).toBeLessThanOrEqual(TOL);
    } finally {
      await small.dispose();
    }
  });

  it('saves tokens on every loghub system (time-ordered lines, default batching)', async () => {
    const saved: Record<string, number> = {};
    for (const file of loghubFiles()) {
      const lines = splitLogLines(readFileSync(file, 'utf8')).filter((l) => l.trim().length > 0).slice(0, 128);
      const before = shared.stats();
      await shared.classifyMany(lines);
      const after = shared.stats();
      saved[basename(file)] = 1 - (after.tokensDecoded - before.tokensDecoded) / (after.tokensIn - before.tokensIn);
    }
    expect(Object.keys(saved).length).toBe(loghubFiles().length);
    for (const [file, fraction] of Object.entries(saved)) expect(fraction, file).toBeGreaterThan(0);
  });
});

describe('LogClassifier exact-repeat cache', () => {
  it('answers a repeated line from the cache with the same logits', async () => {
    const clf = await LogClassifier.open(tinyModel('f32'), { threads: 2, resultCache: 8 });
    try {
      const line = 'sshd[42]: Failed password for root from 203.0.113.9 port 22';
      const first = await clf.classify(line);
      const decodedAfterFirst = clf.stats().tokensDecoded;
      const second = await clf.classify(line);
      expect(second.logits).toEqual(first.logits);
      expect(clf.stats().tokensDecoded).toBe(decodedAfterFirst);
      expect(clf.stats().cache).toMatchObject({ lookups: 2, hits: 1, size: 1 });
      // Capacity is honoured: nine other lines evict the first one.
      await clf.classifyMany(Array.from({ length: 9 }, (_, i) => `line ${i}`));
      expect(clf.stats().cache.size).toBe(8);
      await clf.classify(line);
      expect(clf.stats().cache.hits).toBe(1);
    } finally {
      await clf.dispose();
    }
  });
});
