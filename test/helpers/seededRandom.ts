// SPDX-License-Identifier: MIT
// Reproducible randomness for tests: mulberry32 (a 32-bit PRNG with full period), a normal draw
// and a categorical draw from probabilities.

export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
