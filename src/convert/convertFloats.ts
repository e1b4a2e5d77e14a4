// SPDX-License-Identifier: MIT
// Bit-exact float conversions between F32, F16 and BF16, applied one chunk at a time. Narrowing
// rounds to nearest, ties to even (as PyTorch and ggml do), including F16 subnormals; widening
// is exact. Every chunk is also checked for NaN/Inf, and for finite values that overflow to
// infinity in the narrower type, so a bad weight is reported with its element index.

import { endianness } from 'node:os';

export type FloatDtype = 'F32' | 'F16' | 'BF16';
export const FLOAT_DTYPE_SIZE: Readonly<Record<FloatDtype, number>> = { F32: 4, F16: 2, BF16: 2 };

// Typed-array views below reinterpret bytes in host order; GGUF and safetensors are little-endian.
if (endianness() !== 'LE') throw new Error('logtriage conversion requires a little-endian host');

/** F32 bit pattern → F16 bit pattern, round to nearest even; overflow gives ±Inf, NaN stays NaN. */
export function f32ToF16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200 | (mantissa >>> 13));
  const halfExponent = exponent - 112; // rebias 127 → 15
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half: value = m × 2^-24; anything below 2^-25 rounds to zero.
    if (halfExponent < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Inf).
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
  return sign | half;
}

/** F32 bit pattern → BF16 bit pattern, round to nearest even; NaN stays NaN. */
export function f32ToBf16Bits(bits: number): number {
  const u = bits >>> 0;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** All 65536 F16 values as F32, so widening is one table load. */
const F16_TO_F32 = (() => {
  const values = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) values[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) values[h] = mantissa === 0 ? sign * Infinity : NaN;
    else values[h] = sign * (1024 + mantissa) * 2 ** (exponent - 25);
  }
  return values;
})();
const F16_TO_F32_BITS = new Uint32Array(F16_TO_F32.buffer);

export function f16BitsToF32(half: number): number {
  return F16_TO_F32[half & 0xffff]!;
}

export interface ConversionProblem {
  /** Element index within the chunk. */
  readonly index: number;
  readonly value: number;
  readonly kind: 'non-finite' | 'overflow';
}

export interface ChunkConversion {
  readonly output: Uint8Array;
  readonly problem?: ConversionProblem;
}

/** Half-to-half conversions as 65536-entry tables: one load per element for BF16 checkpoints → F16. */
const BF16_TO_F16 = Uint16Array.from({ length: 65536 }, (_, h) => f32ToF16Bits((h << 16) >>> 0));
const F16_TO_BF16 = Uint16Array.from({ length: 65536 }, (_, h) => f32ToBf16Bits(F16_TO_F32_BITS[h]!));
/** Exponent bits of each format: all ones means Inf or NaN. */
const EXPONENT_MASK: Readonly<Record<FloatDtype, number>> = { F32: 0x7f800000, F16: 0x7c00, BF16: 0x7f80 };

function valueOf(bits: number, dtype: FloatDtype): number {
  if (dtype === 'F16') return F16_TO_F32[bits]!;
  return new Float32Array(Uint32Array.of(dtype === 'BF16' ? (bits << 16) >>> 0 : bits).buffer)[0]!;
}

/** F32 → any: RNE narrowing in one pass that also checks finiteness and overflow. */
function convertF32(input: Uint8Array, to: FloatDtype): ChunkConversion {
  const bits = new Uint32Array(input.buffer, input.byteOffset, input.byteLength / 4);
  const problemAt = (i: number, kind: ConversionProblem['kind']): ChunkConversion => ({ output: input, problem: { index: i, value: valueOf(bits[i]!, 'F32'), kind } });
  if (to === 'F32') {
    for (let i = 0; i < bits.length; i++) if ((bits[i]! & 0x7f800000) === 0x7f800000) return problemAt(i, 'non-finite');
    return { output: input };
  }
  const out = new Uint16Array(bits.length);
  const encode = to === 'F16' ? f32ToF16Bits : f32ToBf16Bits;
  const mask = EXPONENT_MASK[to];
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    if ((b & 0x7f800000) === 0x7f800000) return problemAt(i, 'non-finite');
    const narrowed = encode(b);
    if ((narrowed & mask) === mask) return problemAt(i, 'overflow');
    out[i] = narrowed;
  }
  return { output: new Uint8Array(out.buffer) };
}

/**
 * F16 / BF16 → any. Inf/NaN in the input stays Inf/NaN in the output, as does an overflow
 * (only BF16 → F16 can overflow), so one check per output element finds both.
 */
function convertHalves(input: Uint8Array, from: 'F16' | 'BF16', to: FloatDtype): ChunkConversion {
  const view = new Uint16Array(input.buffer, input.byteOffset, input.byteLength / 2);
  const inMask = EXPONENT_MASK[from];
  const problemAt = (i: number): ChunkConversion => ({
    output: input,
    problem: { index: i, value: valueOf(view[i]!, from), kind: (view[i]! & inMask) === inMask ? 'non-finite' : 'overflow' },
  });
  const n = view.length;
  if (from === to) {
    for (let i = 0; i < n; i++) if ((view[i]! & inMask) === inMask) return problemAt(i);
    return { output: input };
  }
  if (to === 'F32') {
    const wide = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      if ((view[i]! & inMask) === inMask) return problemAt(i);
      wide[i] = from === 'F16' ? F16_TO_F32_BITS[view[i]!]! : view[i]! << 16;
    }
    return { output: new Uint8Array(wide.buffer) };
  }
  const table = from === 'BF16' ? BF16_TO_F16 : F16_TO_BF16;
  const outMask = EXPONENT_MASK[to];
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const h = table[view[i]!]!;
    if ((h & outMask) === outMask) return problemAt(i);
    out[i] = h;
  }
  return { output: new Uint8Array(out.buffer) };
}

/**
 * Converts one chunk of little-endian `from` floats to `to`. `input` must start at a 4-byte
 * aligned offset of its buffer (fresh ArrayBuffers do). Reports the first NaN/Inf in the input,
 * or the first finite value that overflows `to`, instead of converting silently.
 */
export function convertFloatChunk(input: Uint8Array, from: FloatDtype, to: FloatDtype): ChunkConversion {
  return from === 'F32' ? convertF32(input, to) : convertHalves(input, from, to);
}
