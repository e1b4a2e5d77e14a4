// SPDX-License-Identifier: MIT
// The main context holds a full batch beside the prefix cache; a line longer than that (up to
// maxTokens) is decoded in a context opened for its call (routeLongLines.ts). Logits must equal
// those of one context big enough for every line (F32, 1e-4), wherever the line sits in a batch.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon } from '../../src/engine/binding.js';
import { DisposedError, LogClassifier } from '../../src/index.js';
import { loghubFiles, splitLogLines, tinyModel } from '../fixtures/index.js';
import { maxAbsDiff, maxResultsDiff } from '../helpers/logitDiff.js';

const TOL = 1e-4;
const source = splitLogLines(readFileSync(loghubFiles()[0]!, 'utf8')).filter((l) => l.trim().length > 0);

describe('lines longer than the main context (F32)', () => {
  let routed: LogClassifier;
  let whole: LogClassifier;
  beforeAll(async () => {
    // nCtx 64 + 64 = 128 cells; lines up to 512 tokens.
    routed = await LogClassifier.open(tinyModel('f32'), { threads: 1, resultCache: 0, batchTokens: 64, prefixCache: { cells: 64 }, maxTokens: 512 });
    whole = await LogClassifier.open(tinyModel('f32'), { threads: 1, resultCache: 0, batchTokens: 512, prefixCache: false, maxTokens: 512 });
  });
  afterAll(async () => {
    await routed?.dispose();
    await whole?.dispose();
  });

  it('plans a small main context and a long-line context', () => {
    expect([routed.info.plan.nCtx.value, routed.info.plan.longLineCells.value]).toEqual([128, 512]);
    expect([whole.info.plan.nCtx.value, whole.info.plan.longLineCells.value]).toEqual([512, 0]);
  });

  it('short, medium (over nBatch) and long (over nCtx) lines, alone and mixed in one call, give the logits of one big context', async () => {
    const long = source.slice(0, 12).join(' ');
    const medium = source.slice(20, 22).join(' ');
    const lines = [source[30]!, long, medium, source[31]!, `${long} ${source[40]!}`];
    const [a, b] = await Promise.all([routed.classifyMany(lines), whole.classifyMany(lines)]);
    expect(a.map((r) => r.tokens)).toEqual(b.map((r) => r.tokens));
    const tokens = a.map((r) => r.tokens);
    expect(tokens.filter((t) => t > 128)).toHaveLength(2);
    expect(tokens.filter((t) => t > 64 && t <= 128)).toHaveLength(1);
    expect(Math.max(...tokens)).toBeLessThanOrEqual(512);
    let worst = maxResultsDiff(a, b);
    for (const line of [long, source[32]!]) {
      const [x, y] = await Promise.all([routed.classify(line), whole.classify(line)]);
      worst = Math.max(worst, maxAbsDiff(x.logits, y.logits));
    }
    expect(worst).toBeLessThanOrEqual(TOL);
    // The long-line contexts' tokens count in stats().
    expect(routed.stats().tokensIn).toBe(whole.stats().tokensIn);
  });

  it('dispose while long lines decode in their own contexts: every call settles, the weights are freed', async () => {
    const live = loadAddon().liveModels();
    const clf = await LogClassifier.open(tinyModel('f32'), { threads: 1, resultCache: 0, batchTokens: 64, prefixCache: { cells: 64 }, maxTokens: 512 });
    const long = source.slice(0, 12).join(' ');
    // Each goes alone (over tokensPerCall), one after the other: dispose lands before, during or after each.
    const pending = [0, 1, 2, 3].map((k) => clf.classify(`${k} ${long}`).then(() => 'ok', (e: Error) => e.name));
    await new Promise((r) => setTimeout(r, 300));
    await clf.dispose();
    const outcomes = await Promise.all(pending);
    expect(outcomes).toHaveLength(4);
    for (const o of outcomes) expect(['ok', 'DisposedError', 'AbortError']).toContain(o);
    await expect(clf.classify(long)).rejects.toThrow(DisposedError);
    expect(loadAddon().liveModels()).toBe(live);
  });
});
