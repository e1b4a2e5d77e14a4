// SPDX-License-Identifier: MIT
// Reproducible randomness: mulberry32, a 32-bit PRNG with full period, the project's only one. The
// template tier and the label page draw with it; the tests, benchmarks and fixture generator too.

/** A generator of floats in [0, 1), the same sequence for the same seed. */
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
