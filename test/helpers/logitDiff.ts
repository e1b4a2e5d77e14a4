// SPDX-License-Identifier: MIT
// The largest absolute difference between logits, for parity and consistency checks. A bare
// `Math.max(...diffs)` is -Infinity for no logits, which passes every `< TOL`: here an empty or
// mismatched comparison fails instead of passing.
import { expect } from 'vitest';

/** max |a[i] - b[i]|; both non-empty and of one length. */
export function maxAbsDiff(a: readonly number[], b: readonly number[], what = 'logits'): number {
  expect(a.length, `${what}: the number of logits`).toBeGreaterThan(0);
  expect(b.length, `${what}: the number of reference logits`).toBe(a.length);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
}

/** maxAbsDiff over results (or reference logit rows) line by line; at least one line, counts equal. */
export function maxResultsDiff(a: ReadonlyArray<{ logits: readonly number[] }>, b: ReadonlyArray<{ logits: readonly number[] } | readonly number[]>): number {
  expect(a.length, 'the number of results').toBeGreaterThan(0);
  expect(b).toHaveLength(a.length);
  return Math.max(...a.map((r, i) => {
    const other = b[i]!;
    return maxAbsDiff(r.logits, 'logits' in other ? other.logits : other, `line ${i}`);
  }));
}
