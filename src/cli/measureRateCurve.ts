// SPDX-License-Identifier: MIT
// Measures the rate curve (rateCurve.ts) of an open classifier: one synthetic line of exactly N
// tokens per classify() call, prefix sharing and caches off, so each call is one decode of N
// tokens and its wall time is the engine's (our addon adds ~0.02%). The quickest of a few calls
// per size: other processes only ever add time (on a busy 2-core host a 1-token decode measured
// from 1× to 10× its idle cost), so the minimum is the stable estimate of the curve's shape. The
// first call at each size is a warm-up (it sizes the compute graph).
import { cpus } from 'node:os';
import { ValidationError } from '../errors.js';
import type { LogClassifier } from '../LogClassifier.js';
import type { RatePoint } from './rateCurve.js';

/** Decode sizes a quick curve covers: where the cost per token changes most on CPUs. */
export const RATE_CURVE_SIZES: readonly number[] = [1, 2, 4, 8, 16, 32, 64];

/** A line of `n` tokens: a word the tokenizer keeps whole, repeated (cost does not depend on which tokens). */
async function lineOfTokens(clf: LogClassifier, n: number): Promise<string> {
  const [probe] = await clf.tokenizeMany([' x x x x']);
  const overhead = probe!.length - 4; // tokens added around the text (EOS for LAST pooling)
  const text = ' x'.repeat(Math.max(1, n - overhead));
  const [ids] = await clf.tokenizeMany([text]);
  if (ids!.length !== Math.max(n, overhead + 1)) throw new ValidationError(`cannot build a ${n}-token line for this tokenizer (got ${ids!.length})`);
  return text;
}

/**
 * ms per decode at each size. `clf` must be opened with prefixSharing false, prefixCache false,
 * resultCache 0 and batchTokens ≥ the largest size (the caller's job: see benchCommand).
 */
export async function measureRateCurve(clf: LogClassifier, sizes: readonly number[] = RATE_CURVE_SIZES, repeats = 5): Promise<RatePoint[]> {
  const points: RatePoint[] = [];
  for (const tokens of sizes) {
    const line = await lineOfTokens(clf, tokens);
    await clf.classify(line);
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const started = performance.now();
      await clf.classify(line);
      times.push(performance.now() - started);
    }
    points.push({ tokens, msPerDecode: Math.min(...times) });
  }
  return points;
}

/** The CPU as the curve cache names it (a curve belongs to one CPU model). */
export function cpuName(): string {
  return `${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`;
}
