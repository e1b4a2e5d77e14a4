// SPDX-License-Identifier: MIT
// The cross-call prefix cache keeps the KV cells of recently decoded lines, so a later line
// decodes only what follows its longest cached prefix. Logits must not move (F32, 1e-4) against
// the same classifier with the cache off, whatever the order, size or fate of the calls.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, DisposedError, LogClassifier, type ClassificationResult } from '../../src/index.js';
import { EXPECTED_CASE_COUNT, expectedCases, loghubFiles, splitLogLines, tinyModel, type ExpectedCase } from '../fixtures/index.js';
import { maxAbsDiff, maxResultsDiff } from '../helpers/logitDiff.js';

const TOL = 1e-4;

function maxDiff(a: ClassificationResult[], b: ClassificationResult[]): number {
  return maxResultsDiff(a, b);
}

function systemLines(fileIndex: number, count: number): string[] {
  const lines = splitLogLines(readFileSync(loghubFiles()[fileIndex]!, 'utf8')).filter((l) => l.trim().length > 0);
  return lines.slice(0, count);
}

// One call per line, in order, as a follow stream or a one-line-per-request server does.
async function oneByOne(clf: LogClassifier, lines: readonly string[]): Promise<ClassificationResult[]> {
  const out: ClassificationResult[] = [];
  for (const line of lines) out.push(await clf.classify(line));
  return out;
}

describe('LogClassifier prefix cache (F32)', () => {
  // One thread: these check logits, not speed, and stay quick on a busy host (see docs/performance.md, "Busy hosts").
  const common = { threads: 1, resultCache: 0 } as const;
  let cached: LogClassifier;
  let uncached: LogClassifier;
  beforeAll(async () => {
    cached = await LogClassifier.open(tinyModel('f32'), common);
    uncached = await LogClassifier.open(tinyModel('f32'), { ...common, prefixCache: false });
  });
  afterAll(async () => {
    await cached?.dispose();
    await uncached?.dispose();
  });

  it('is on by default, with its budget in info and stats, and off with prefixCache: false', () => {
    expect(cached.info.prefixCacheCells).toBeGreaterThan(0);
    expect(cached.stats().prefixCache.budget).toBe(cached.info.prefixCacheCells);
    expect(uncached.info.prefixCacheCells).toBe(0);
    expect(uncached.stats().prefixCache).toEqual({ budget: 0, cells: 0 });
  });

  it('is off with prefixSharing: false, the every-token-computed baseline', async () => {
    const baseline = await LogClassifier.open(tinyModel('f32'), { ...common, prefixSharing: false });
    try {
      expect(baseline.info.prefixCacheCells).toBe(0);
      const lines = systemLines(0, 3);
      await oneByOne(baseline, lines);
      expect(baseline.stats().tokensReused).toBe(0);
      expect(baseline.stats().tokensDecoded).toBe(baseline.stats().tokensIn);
    } finally {
      await baseline.dispose();
    }
  });

  it('equals the uncached computation on sequential calls, and reuses tokens across them', async () => {
    const lines = systemLines(0, 24);
    const before = cached.stats();
    const a = await oneByOne(cached, lines);
    const after = cached.stats();
    const b = await oneByOne(uncached, lines);
    expect(maxDiff(a, b)).toBeLessThanOrEqual(TOL);
    const tokensIn = after.tokensIn - before.tokensIn;
    const reused = after.tokensReused - before.tokensReused;
    expect(reused).toBeGreaterThan(0);
    // One line per call: no in-call sharing, so every token is either decoded or reused.
    expect(after.tokensDecoded - before.tokensDecoded + reused).toBe(tokensIn);
    expect(after.prefixCache.cells).toBeGreaterThan(0);
    expect(after.prefixCache.cells).toBeLessThanOrEqual(after.prefixCache.budget);
    expect(uncached.stats().tokensReused).toBe(0);
  });

  it('equals the uncached computation on interleaved unrelated systems', async () => {
    const systems = [1, 2, 3].map((i) => systemLines(i, 8));
    const lines = systems[0]!.flatMap((_, k) => systems.map((s) => s[k]!));
    expect(lines).toHaveLength(24);
    expect(maxDiff(await oneByOne(cached, lines), await oneByOne(uncached, lines))).toBeLessThanOrEqual(TOL);
  });

  it('equals the uncached computation for lines that are prefixes or extensions of cached lines, and exact repeats', async () => {
    const base = systemLines(4, 1)[0]!;
    const lines = [base, base.slice(0, Math.floor(base.length / 2)), base.slice(0, 5), base, `${base} and more`, base, `${base} and more`];
    const before = cached.stats();
    const a = await oneByOne(cached, lines);
    const after = cached.stats();
    expect(maxDiff(a, await oneByOne(uncached, lines))).toBeLessThanOrEqual(TOL);
    // Every repeat of `base` decodes only its last token (its hidden state is not cached).
    expect(after.tokensReused - before.tokensReused).toBeGreaterThanOrEqual(3 * (a[0]!.tokens - 1));
  });

  it('equals the uncached computation in batches that mix cached and new lines', async () => {
    const lines = systemLines(5, 48);
    await oneByOne(cached, lines.slice(0, 8));
    const batches = [lines.slice(0, 16), lines.slice(8, 40), lines.slice(30, 48)];
    for (const batch of batches) {
      expect(maxDiff(await cached.classifyMany(batch), await uncached.classifyMany(batch))).toBeLessThanOrEqual(TOL);
    }
  });

  it('keeps every fixture case within tolerance of HuggingFace, one call per case after the others', async () => {
    const cases = expectedCases().filter((c) => c.logits !== null);
    expect(cases.length).toBe(EXPECTED_CASE_COUNT - 1);
    const reference = (c: ExpectedCase): number[] => c.hf_newer_pooled_logits ?? c.logits!;
    const parse = await LogClassifier.open(tinyModel('f32'), { ...common, specialTokens: 'parse', rejectWhitespace: false });
    try {
      // Twice through, so the second pass finds every case cached (or evicted by the long ones).
      for (const pass of [0, 1]) {
        for (const c of cases) {
          const r = await parse.classify(c.text);
          const diff = maxAbsDiff(r.logits, reference(c), c.name);
          expect(diff, `${c.name} pass ${pass}`).toBeLessThanOrEqual(TOL);
        }
      }
      expect(parse.stats().tokensReused).toBeGreaterThan(0);
    } finally {
      await parse.dispose();
    }
  });

  it('stays within a tiny budget, evicting least recently used lines, with long lines that take the whole context', async () => {
    const small = await LogClassifier.open(tinyModel('f32'), { ...common, prefixCache: { cells: 64 }, batchSize: 3, batchTokens: 64 });
    try {
      expect(small.info.prefixCacheCells).toBe(64);
      const long = expectedCases().find((c) => c.name === 'long_2000_chars')!.text;
      const lines = [...systemLines(0, 8), long, ...systemLines(0, 8), ...systemLines(6, 8)];
      const a: ClassificationResult[] = [];
      for (const line of lines) {
        a.push(await small.classify(line));
        expect(small.stats().prefixCache.cells).toBeLessThanOrEqual(64);
      }
      expect(maxDiff(a, await oneByOne(uncached, lines))).toBeLessThanOrEqual(TOL);
      expect(maxDiff(await small.classifyMany(lines), a)).toBeLessThanOrEqual(TOL);
      expect(small.stats().tokensReused).toBeGreaterThan(0);
    } finally {
      await small.dispose();
    }
  });

  it('equals the uncached computation for concurrent callers', async () => {
    const streams = [6, 7, 8, 9].map((i) => systemLines(i, 10));
    const results = await Promise.all(streams.map((s) => oneByOne(cached, s)));
    const expected = await Promise.all(streams.map((s) => uncached.classifyMany(s)));
    expect(results).toHaveLength(4);
    results.forEach((r, i) => expect(maxDiff(r, expected[i]!)).toBeLessThanOrEqual(TOL));
  });

  it('stays correct after a call aborted in the middle', async () => {
    const lines = systemLines(1, 150);
    const controller = new AbortController();
    const aborted = cached.classifyMany(lines, {
      signal: controller.signal,
      onProgress: (done) => {
        if (done === 1) controller.abort();
      },
    });
    await expect(aborted).rejects.toThrow();
    const after = lines.slice(0, 16);
    expect(maxDiff(await oneByOne(cached, after), await oneByOne(uncached, after))).toBeLessThanOrEqual(TOL);
  });
});

describe('LogClassifier prefix cache lifecycle', () => {
  it('disposes while lines are cached and a call is running', async () => {
    const clf = await LogClassifier.open(tinyModel('f32'), { threads: 1, resultCache: 0 });
    await oneByOne(clf, systemLines(0, 10));
    expect(clf.stats().prefixCache.cells).toBeGreaterThan(0);
    const running = clf.classifyMany(systemLines(1, 200));
    const outcome = running.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await clf.dispose();
    const settled = await outcome;
    // The call finished before dispose reached it, or its decode was aborted, or it was still queued.
    if (settled !== 'resolved') expect(settled instanceof AbortError || settled instanceof DisposedError, String(settled)).toBe(true);
    expect(() => clf.stats()).toThrow(DisposedError);
  });
});
