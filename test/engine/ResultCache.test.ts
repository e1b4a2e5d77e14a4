// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { ResultCache } from '../../src/engine/ResultCache.js';

const tokens = (...ids: number[]) => Int32Array.from(ids);
const logits = (x: number) => Float32Array.of(x, -x);

describe('ResultCache', () => {
  it('finds an exact token sequence, whatever array holds it, and counts lookups and hits', () => {
    const cache = new ResultCache(4);
    cache.set(tokens(1, 2, 3), logits(1));
    const view = tokens(9, 1, 2, 3).subarray(1);
    expect(cache.get(view)).toEqual(logits(1));
    expect(cache.get(tokens(1, 2))).toBeUndefined();
    expect(cache.get(tokens(1, 2, 3, 4))).toBeUndefined();
    expect(cache.stats()).toEqual({ lookups: 3, hits: 1, size: 1 });
  });

  it('evicts the least recently used entry; a hit makes an entry recent', () => {
    const cache = new ResultCache(2);
    cache.set(tokens(1), logits(1));
    cache.set(tokens(2), logits(2));
    cache.get(tokens(1));
    cache.set(tokens(3), logits(3));
    expect(cache.get(tokens(2))).toBeUndefined();
    expect(cache.get(tokens(1))).toEqual(logits(1));
    expect(cache.get(tokens(3))).toEqual(logits(3));
    expect(cache.stats().size).toBe(2);
  });

  it('setting a key again replaces it without growing', () => {
    const cache = new ResultCache(2);
    cache.set(tokens(1), logits(1));
    cache.set(tokens(1), logits(5));
    expect(cache.get(tokens(1))).toEqual(logits(5));
    expect(cache.stats().size).toBe(1);
  });

  it('capacity 0 holds and counts nothing', () => {
    const cache = new ResultCache(0);
    cache.set(tokens(1), logits(1));
    expect(cache.get(tokens(1))).toBeUndefined();
    expect(cache.stats()).toEqual({ lookups: 0, hits: 0, size: 0 });
  });
});
