// SPDX-License-Identifier: MIT
// Reproducible randomness for tests: the library's mulberry32, a normal draw and a categorical
// draw from probabilities.

export { seededRandom } from '../../src/seededRandom.js';

/** Box-Muller. */
export function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** An index drawn with the given probabilities. */
export function drawCategorical(probs: readonly number[], random: () => number): number {
  let u = random();
  for (let k = 0; k < probs.length - 1; k++) {
    u -= probs[k]!;
    if (u < 0) return k;
  }
  return probs.length - 1;
}
