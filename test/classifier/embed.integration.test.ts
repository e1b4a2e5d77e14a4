// SPDX-License-Identifier: MIT
// LogClassifier#embed(): each line's pooled hidden state (last token, after the final RMSNorm) is
// the vector the head multiplies, so head · embed(line) reproduces classifyMany()'s logits at F32,
// with prefix sharing on and off, through the caches, and for lines longer than the main context.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisposedError, LogClassifier, ValidationError } from '../../src/index.js';
import { readModelMeta } from '../../src/gguf/readModelMeta.js';
import type { ClassificationHead } from '../../src/gguf/validateLogtriageModel.js';
import { expectedCases, loghubFiles, splitLogLines, tinyModel } from '../fixtures/index.js';

const TOL = 1e-5;

function applyHead(head: ClassificationHead, h: Float32Array): number[] {
  const nEmbd = h.length;
  const out: number[] = [];
  for (let l = 0; l * nEmbd < head.weight.length; l++) {
    let acc = head.bias?.[l] ?? 0;
    for (let j = 0; j < nEmbd; j++) acc += head.weight[l * nEmbd + j]! * h[j]!;
    out.push(acc);
  }
  return out;
}

// Time-ordered lines from two systems, exact repeats and a strict prefix: every trie shape.
function lines(): string[] {
  const [a, b] = loghubFiles().map((f) => splitLogLines(readFileSync(f, 'utf8')).filter((l) => l.trim().length > 0));
  const first = a![0]!;
  return [...a!.slice(0, 24), ...b!.slice(0, 16), first, first, first.slice(0, Math.floor(first.length / 2)), 'A'];
}

async function maxDiffToLogits(clf: LogClassifier, texts: string[], head: ClassificationHead): Promise<number> {
  const [hidden, results] = [await clf.embed(texts), await clf.classifyMany(texts)];
  expect(hidden).toHaveLength(texts.length);
  let worst = 0;
  hidden.forEach((h, i) => {
    expect(h).toBeInstanceOf(Float32Array);
    expect(h.length).toBe(clf.info.nEmbd);
    const mine = applyHead(head, h);
    mine.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - results[i]!.logits[j]!))));
  });
  return worst;
}

describe('LogClassifier#embed() (F32 parity model)', () => {
  let head: ClassificationHead;
  const opened: LogClassifier[] = [];
  const open = async (options: Parameters<typeof LogClassifier.open>[1]) => {
    const clf = await LogClassifier.open(tinyModel('f32'), { threads: 2, kvCacheType: 'f32', ...options });
    opened.push(clf);
    return clf;
  };
  beforeAll(async () => {
    head = (await readModelMeta(tinyModel('f32'))).head;
  });
  afterAll(async () => {
    for (const clf of opened) await clf.dispose();
  });

  it('gives head · embed(line) = the logits within 1e-5, prefix sharing on', async () => {
    const clf = await open({ prefixSharing: true, resultCache: 0, prefixCache: false });
    const texts = lines();
    const before = clf.stats();
    expect(await maxDiffToLogits(clf, texts, head)).toBeLessThanOrEqual(TOL);
    const after = clf.stats();
    // Both calls shared prefixes: fewer tokens decoded than fed.
    expect(after.tokensDecoded - before.tokensDecoded).toBeLessThan(after.tokensIn - before.tokensIn);
  });

  it('gives head · embed(line) = the logits within 1e-5, prefix sharing off', async () => {
    const clf = await open({ prefixSharing: false, resultCache: 0, prefixCache: false });
    expect(await maxDiffToLogits(clf, lines(), head)).toBeLessThanOrEqual(TOL);
    expect(clf.stats().tokensDecoded).toBe(clf.stats().tokensIn);
  });

  it('holds with the cross-call prefix cache and the exact-repeat cache on (the defaults), and serves repeats from its cache', async () => {
    const clf = await open({});
    const texts = lines();
    expect(await maxDiffToLogits(clf, texts, head)).toBeLessThanOrEqual(TOL);
    const decoded = clf.stats().tokensDecoded;
    const again = await clf.embed(texts);
    expect(clf.stats().tokensDecoded).toBe(decoded);
    expect(Array.from(again[0]!)).toEqual(Array.from((await clf.embed([texts[0]!]))[0]!));
    // A caller changing a returned vector does not change the cached one.
    again[0]!.fill(0);
    expect((await clf.embed([texts[0]!]))[0]!.some((x) => x !== 0)).toBe(true);
    expect(clf.stats().tokensReused).toBeGreaterThan(0);
  });

  it('holds for a line longer than the main context (its own context) and with small decode budgets', async () => {
    // nCtx 64 + 64 = 128 cells (as longLines.integration.test.ts); the joined line has more tokens.
    const clf = await open({ resultCache: 0, batchSize: 3, batchTokens: 64, prefixCache: { cells: 64 }, maxTokens: 512 });
    expect(clf.info.plan.longLineCells.value).toBe(512);
    const source = lines();
    const long = source.slice(0, 12).join(' ');
    expect((await clf.tokenize(long)).length).toBeGreaterThan(128);
    const fixture = expectedCases().find((c) => c.name === 'long_2000_chars')!.text;
    expect(await maxDiffToLogits(clf, [...source.slice(12, 20), long, fixture], head)).toBeLessThanOrEqual(TOL);
  });

  it('shares the queue with concurrent classifyMany() callers, each getting its own kind of result', async () => {
    const clf = await open({ resultCache: 0 });
    const texts = lines().slice(0, 12);
    const [hidden, results] = await Promise.all([clf.embed(texts), clf.classifyMany(texts)]);
    hidden.forEach((h, i) => applyHead(head, h).forEach((x, j) => expect(Math.abs(x - results[i]!.logits[j]!)).toBeLessThanOrEqual(TOL)));
  });

  it('reports progress, validates its options and input, and refuses after dispose()', async () => {
    const clf = await LogClassifier.open(tinyModel('f32'), { threads: 2 });
    const seen: number[] = [];
    await clf.embed(['a b c', 'd e f'], { onProgress: (done) => seen.push(done) });
    expect(seen).toEqual([1, 2]);
    expect(await clf.embed([])).toEqual([]);
    await expect(clf.embed(['x'], { review: { minScore: 0.5 } } as never)).rejects.toThrow(ValidationError);
    await expect(clf.embed('x' as never)).rejects.toThrow(ValidationError);
    await clf.dispose();
    await expect(clf.embed(['x'])).rejects.toThrow(DisposedError);
  });
});
