// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';

import { convertFloatChunk, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../../src/convert/convertFloats.js';

const f32Bits = (value: number): number => new Uint32Array(Float32Array.of(value).buffer)[0]!;
const fromBits = (bits: number): number => new Float32Array(Uint32Array.of(bits).buffer)[0]!;

/** Independent reference: the nearest representable value by exact arithmetic, ties to the even pattern. */
function nearestEven(value: number, candidates: [number, number], decode: (bits: number) => number): number {
  const [lo, hi] = candidates;
  const dLo = Math.abs(value - decode(lo));
  const dHi = Math.abs(value - decode(hi));
  if (dLo !== dHi) return dLo < dHi ? lo : hi;
  return (lo & 1) === 0 ? lo : hi;
}

describe('f16BitsToF32()', () => {
  it('decodes landmarks exactly', () => {
    expect(f16BitsToF32(0x0000)).toBe(0);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0xc000)).toBe(-2);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16BitsToF32(0x0400)).toBe(2 ** -14);
    expect(f16BitsToF32(0x7c00)).toBe(Infinity);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
  });
});

describe('f32ToF16Bits()', () => {
  it('round-trips all 63488 finite and infinite halves', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN payloads
      if (f32ToF16Bits(f32Bits(f16BitsToF32(h))) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('rounds every midpoint between adjacent halves to even, and its neighbours to nearest', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x7bff; h++) {
      const mid = (f16BitsToF32(h) + f16BitsToF32(h + 1)) / 2; // exact in F32: halves have 11 significant bits
      const midBits = f32Bits(mid);
      const even = (h & 1) === 0 ? h : h + 1;
      const ok =
        f32ToF16Bits(midBits) === even &&
        f32ToF16Bits(f32Bits(-mid)) === (even | 0x8000) &&
        f32ToF16Bits(midBits - 1) === h && // one F32 ulp below the tie
        f32ToF16Bits(midBits + 1) === h + 1; // one F32 ulp above
      if (!ok) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('handles underflow, overflow, infinities and NaN', () => {
    expect(f32ToF16Bits(f32Bits(2 ** -25))).toBe(0); // tie between 0 and the smallest subnormal → even (0)
    expect(f32ToF16Bits(f32Bits(2 ** -25) + 1)).toBe(1);
    expect(f32ToF16Bits(f32Bits(2 ** -26))).toBe(0);
    expect(f32ToF16Bits(f32Bits(-1e-30))).toBe(0x8000);
    expect(f32ToF16Bits(f32Bits(fromBits(1)))).toBe(0); // F32 subnormal
    expect(f32ToF16Bits(f32Bits(65504))).toBe(0x7bff);
    expect(f32ToF16Bits(f32Bits(65519.996))).toBe(0x7bff); // just below the 65520 tie
    expect(f32ToF16Bits(f32Bits(65520))).toBe(0x7c00); // tie rounds to even = Inf
    expect(f32ToF16Bits(f32Bits(1e10))).toBe(0x7c00);
    expect(f32ToF16Bits(f32Bits(-Infinity))).toBe(0xfc00);
    const nan = f32ToF16Bits(f32Bits(NaN));
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x3ff).not.toBe(0);
  });

  it('matches an exact-arithmetic reference on random F32 patterns', () => {
    const wrong: number[] = [];
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 200_000; i++) {
      // Exponents concentrated on the F16 range, including subnormals.
      const bits = ((random() & 0x80000000) | (((random() % 45) + 97) << 23) | (random() & 0x7fffff)) >>> 0; // 2^-30 .. 2^14
      const value = fromBits(bits);
      const sign = value < 0 ? 0x8000 : 0;
      const magnitude = Math.abs(value);
      // Largest half ≤ magnitude, by exact division (doubles hold these quotients exactly).
      const exponent = Math.max(((bits >>> 23) & 0xff) - 127, -14);
      const quantum = 2 ** (exponent - 10);
      const steps = Math.floor(magnitude / quantum);
      const lo = exponent === -14 && steps < 1024 ? steps : ((exponent + 15) << 10) | (steps - 1024);
      // 0x7c00 stands for the next step past 65504 (65536), so overflow rounds to Inf.
      const expected = nearestEven(magnitude, [lo, lo + 1], (b) => (b === 0x7c00 ? 65536 : f16BitsToF32(b)));
      if (f32ToF16Bits(bits) !== (sign | expected)) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });
});

describe('f32ToBf16Bits()', () => {
  it('truncates exactly representable values and rounds ties to even', () => {
    expect(f32ToBf16Bits(f32Bits(1))).toBe(0x3f80);
    expect(f32ToBf16Bits(0x3f808000)).toBe(0x3f80); // tie, even stays
    expect(f32ToBf16Bits(0x3f818000)).toBe(0x3f82); // tie, odd rounds up
    expect(f32ToBf16Bits(0x3f808001)).toBe(0x3f81);
    expect(f32ToBf16Bits(0x3f807fff)).toBe(0x3f80);
    expect(f32ToBf16Bits(0x7f7fffff)).toBe(0x7f80); // F32 max rounds to Inf
    expect(f32ToBf16Bits(0x00000001)).toBe(0x0000); // subnormal rounds to zero
    expect(f32ToBf16Bits(0x80000000)).toBe(0x8000);
    expect(f32ToBf16Bits(f32Bits(-Infinity))).toBe(0xff80);
    expect(f32ToBf16Bits(0x7f800001) & 0x7f).not.toBe(0); // signalling NaN stays NaN
  });

  it('matches an exact-arithmetic reference on random F32 patterns', () => {
    const wrong: number[] = [];
    let seed = 99;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    // 0x7f80 stands for 2^128, the next step past the largest BF16, so overflow rounds to Inf.
    const decode = (b: number) => (b === 0x7f80 ? 2 ** 128 : fromBits((b << 16) >>> 0));
    for (let i = 0; i < 200_000; i++) {
      const bits = (random() & 0x7f7fffff) >>> 0; // finite, positive
      const lo = bits >>> 16;
      const expected = nearestEven(fromBits(bits), [lo, lo + 1], decode);
      if (f32ToBf16Bits(bits) !== expected) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });
});

describe('convertFloatChunk()', () => {
  const chunk = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

  it('widens BF16 and F16 exactly and narrows F32 with RNE', () => {
    const values = [0, -0, 1.5, -2.25, 3.14159, 1e-6, 65504, -1e-8];
    const f16 = convertFloatChunk(chunk(values), 'F32', 'F16');
    const bf16 = convertFloatChunk(chunk(values), 'F32', 'BF16');
    expect(f16.problem).toBeUndefined();
    expect(Array.from(new Uint16Array(f16.output.buffer))).toEqual(values.map((v) => f32ToF16Bits(f32Bits(v))));
    expect(Array.from(new Uint16Array(bf16.output.buffer))).toEqual(values.map((v) => f32ToBf16Bits(f32Bits(v))));
    const back = convertFloatChunk(f16.output, 'F16', 'F32');
    expect(Array.from(new Float32Array(back.output.buffer))).toEqual(Array.from(new Uint16Array(f16.output.buffer), f16BitsToF32));
    const bfBack = convertFloatChunk(bf16.output, 'BF16', 'F32');
    expect(Array.from(new Uint32Array(bfBack.output.buffer))).toEqual(Array.from(new Uint16Array(bf16.output.buffer), (b) => (b << 16) >>> 0));
    const bfToF16 = convertFloatChunk(bf16.output.slice(0, 12), 'BF16', 'F16'); // without 65504, which BF16 rounds to 65536
    expect(Array.from(new Uint16Array(bfToF16.output.buffer))).toEqual(
      Array.from(new Uint16Array(bf16.output.buffer, 0, 6), (b) => f32ToF16Bits((b << 16) >>> 0)),
    );
  });

  it('reports the first NaN or Inf with its index', () => {
    expect(convertFloatChunk(chunk([1, 2, NaN, Infinity]), 'F32', 'F32').problem).toEqual({ index: 2, value: NaN, kind: 'non-finite' });
    expect(convertFloatChunk(new Uint8Array(Uint16Array.of(0x3c00, 0xfc00).buffer), 'F16', 'BF16').problem).toEqual({
      index: 1,
      value: -Infinity,
      kind: 'non-finite',
    });
    expect(convertFloatChunk(new Uint8Array(Uint16Array.of(0x7fc0).buffer), 'BF16', 'BF16').problem?.kind).toBe('non-finite');
  });

  it('reports finite values that overflow the narrower type', () => {
    expect(convertFloatChunk(chunk([1, 70000]), 'F32', 'F16').problem).toEqual({ index: 1, value: 70000, kind: 'overflow' });
    expect(convertFloatChunk(new Uint8Array(Uint16Array.of(0x4780).buffer), 'BF16', 'F16').problem?.kind).toBe('overflow'); // 65536
  });
});
