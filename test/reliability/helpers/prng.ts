// SPDX-License-Identifier: MIT
// The library's seeded PRNG (src/seededRandom.ts) with the draws the fuzz tests need, so every
// fuzz run can be replayed from its seed.
import { seededRandom } from '../../../src/seededRandom.js';

export class Prng {
  /** Uniform in [0, 1). */
  readonly next: () => number;

  constructor(readonly seed: number) {
    this.next = seededRandom(seed);
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

/** The seed from `envVar` (decimal), else `fallback`. */
export function seedFromEnv(envVar: string, fallback: number): number {
  const raw = process.env[envVar];
  if (raw === undefined || raw === '') return fallback;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`${envVar} must be an integer, got ${raw}`);
  return seed;
}
