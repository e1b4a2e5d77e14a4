// SPDX-License-Identifier: MIT
// classifyMany's per-call options: `truncation` overrides open()'s for one call, and `settled`
// answers each line on its own (a refused line is a rejected outcome; the others are classified,
// exactly as they would be alone).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmptyInputError, InputTooLongError, LogClassifier, ValidationError } from '../../src/index.js';
import { tinyModel } from '../fixtures/index.js';

const MAX_TOKENS = 32;
const longLine = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
const lines = ['sshd[1]: Failed password for root from 10.0.0.1', 'kernel: eth0 link up', 'CRON[7]: session opened for user root'];
let clf: LogClassifier;

/** Logits of the same line in another batch differ in float rounding only (F32: well under 1e-5). */
function expectSameLogits(actual: readonly number[][], expected: readonly number[][]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((row, i) => {
    expect(row).toHaveLength(expected[i]!.length);
    row.forEach((x, k) => expect(Math.abs(x - expected[i]![k]!)).toBeLessThan(1e-5));
  });
}

beforeAll(async () => {
  clf = await LogClassifier.open(tinyModel('f32'), { threads: 2, maxTokens: MAX_TOKENS, resultCache: 0 });
});

afterAll(async () => {
  await clf?.dispose();
});

describe('LogClassifier#classifyMany() per call', () => {
  it("truncation: 'error' refuses a long line before any decode, naming its position; 'left' keeps the end", async () => {
    const before = clf.stats().tokensIn;
    const err = await clf.classifyMany([lines[0]!, longLine], { truncation: 'error' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputTooLongError);
    expect((err as InputTooLongError).index).toBe(1);
    expect((err as Error).message).toMatch(/^texts\[1\] has \d+ tokens, more than maxTokens 32/);
    expect(clf.stats().tokensIn).toBe(before);
    const [right] = await clf.classifyMany([longLine]);
    const [left] = await clf.classifyMany([longLine], { truncation: 'left' });
    expect(right!.truncated && left!.truncated).toBe(true);
    expect(Math.max(...left!.logits.map((x, k) => Math.abs(x - right!.logits[k]!)))).toBeGreaterThan(1e-3);
    // open()'s default again on the next call.
    expectSameLogits([(await clf.classifyMany([longLine]))[0]!.logits], [right!.logits]);
  });

  it('settled: each line gets its own outcome; the refused ones name why, the others equal a call of their own', async () => {
    const alone = await clf.classifyMany(lines);
    const texts = [lines[0]!, '', lines[1]!, longLine, '   ', lines[2]!, 42 as unknown as string];
    const settled = await clf.classifyMany(texts, { settled: true, truncation: 'error' });
    expect(settled).toHaveLength(texts.length);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected']);
    const reasons = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
    expect(reasons[0]).toBeInstanceOf(EmptyInputError);
    expect(reasons[1]).toBeInstanceOf(InputTooLongError);
    expect(reasons[2]).toBeInstanceOf(EmptyInputError);
    expect(reasons[3]).toBeInstanceOf(ValidationError);
    const values = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    expectSameLogits(values.map((v) => v.logits), alone.map((r) => r.logits));
    // Without settled the same call fails as a whole, with the first refused line's error.
    await expect(clf.classifyMany(texts, { truncation: 'error' })).rejects.toThrow(EmptyInputError);
    // All refused: nothing to decode, every outcome rejected.
    expect((await clf.classifyMany(['', ' '], { settled: true })).every((s) => s.status === 'rejected')).toBe(true);
  });
});

describe('LogClassifier#classifyMany() settled, through the template tier', () => {
  it('refuses blank lines on their own and serves the others as the tier does without settled', async () => {
    const tiered = await LogClassifier.open(tinyModel('f32'), { threads: 2, resultCache: 0, templateTier: { audit: 0 } });
    try {
      const same = ['sshd[1]: Failed password for root from 10.0.0.1 port 22', 'sshd[2]: Failed password for root from 10.0.0.2 port 22'];
      const settled = await tiered.classifyMany([same[0]!, '', same[1]!, '  '], { settled: true });
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
      const values = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      expect(values.map((v) => v.via)).toEqual(['model', 'template']);
      expect(values[1]!.label).toBe(values[0]!.label);
      expect(settled.flatMap((s) => (s.status === 'rejected' ? [s.reason] : [])).every((r) => r instanceof EmptyInputError)).toBe(true);
    } finally {
      await tiered.dispose();
    }
  });
});
