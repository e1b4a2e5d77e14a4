// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { cpuMayRepack } from '../../src/engine/cpuRepack.js';
import { GGML_TYPE_BY_ID, type GgufTensorInfo } from '../../src/gguf/ggufTypes.js';

const tensor = (name: string, type: string, ne: number[] = [64, 64]): GgufTensorInfo => ({
  name,
  ne,
  type: [...GGML_TYPE_BY_ID.values()].find((t) => t.name === type)!,
  offset: 0,
  byteSize: 0,
});

const model = (matrixType: string) => [
  tensor('token_embd.weight', matrixType),
  tensor('blk.0.attn_norm.weight', 'F32', [64]),
  tensor('blk.0.ffn_down.weight', matrixType),
];

describe('cpuMayRepack', () => {
  it('is true for the types ggml-cpu repacks on x64, false for the others', () => {
    expect(cpuMayRepack(model('Q4_0'), 'x64')).toBe(true);
    expect(cpuMayRepack(model('Q4_K'), 'x64')).toBe(true);
    expect(cpuMayRepack(model('Q8_0'), 'x64')).toBe(false);
    expect(cpuMayRepack(model('F16'), 'x64')).toBe(false);
    expect(cpuMayRepack(model('F32'), 'x64')).toBe(false);
  });

  it('includes Q8_0 on arm64 and nothing on an architecture without repacking', () => {
    expect(cpuMayRepack(model('Q8_0'), 'arm64')).toBe(true);
    expect(cpuMayRepack(model('F16'), 'arm64')).toBe(false);
    expect(cpuMayRepack(model('Q4_0'), 'riscv64')).toBe(false);
  });

  it('ignores token_embd (row lookups keep the file layout) and 1-D tensors', () => {
    expect(cpuMayRepack([tensor('token_embd.weight', 'Q4_0'), tensor('blk.0.ffn_down.weight', 'F16')], 'x64')).toBe(false);
    expect(cpuMayRepack([tensor('blk.0.attn_norm.weight', 'Q4_0', [64])], 'x64')).toBe(false);
  });
});
