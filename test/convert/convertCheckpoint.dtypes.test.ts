// SPDX-License-Identifier: MIT
// Sharded BF16 and F16 checkpoints (seeded random weights, micro shape) through every float
// output type: pass-through is bit-identical, widening is exact, narrowing is RNE.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { convertCheckpoint } from '../../src/convert/index.js';
import type { ConvertType } from '../../src/convert/index.js';
import { f32ToBf16Bits, f32ToF16Bits, f16BitsToF32 } from '../../src/convert/convertFloats.js';
import { readGgufHeader } from '../../src/gguf/readGguf.js';
import { qwen2TensorSpecs } from '../../src/gguf/qwen2Tensors.js';
import { CHECKPOINT_SHAPES, RANDOM_CHECKPOINT_LABELS, makeRandomCheckpoint } from '../../scripts/fixtures/make-random-checkpoint.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'logtriage-dtypes-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** All tensors of a (sharded) checkpoint, read independently of src/convert. */
function readCheckpoint(dir: string): Map<string, { dtype: string; shape: number[]; bytes: Buffer }> {
  const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
  const tensors = new Map<string, { dtype: string; shape: number[]; bytes: Buffer }>();
  for (const shard of new Set(Object.values(index.weight_map))) {
    const file = readFileSync(join(dir, shard));
    const length = Number(file.readBigUInt64LE(0));
    const header = JSON.parse(file.subarray(8, 8 + length).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    for (const [name, t] of Object.entries(header)) {
      if (name !== '__metadata__') tensors.set(name, { dtype: t.dtype, shape: t.shape, bytes: file.subarray(8 + length + t.data_offsets[0], 8 + length + t.data_offsets[1]) });
    }
  }
  return tensors;
}

const F16_AS_F32_BITS = new Uint32Array(Float32Array.from({ length: 65536 }, (_, h) => f16BitsToF32(h)).buffer);

/** Source element → expected output element bits, for each source/output float type. */
function expectedBytes(bytes: Buffer, from: string, to: string): Buffer {
  const halves = new Uint16Array(new Uint8Array(bytes).buffer);
  const wide = new Uint32Array(halves.length);
  for (let i = 0; i < halves.length; i++) {
    wide[i] = from === 'BF16' ? (halves[i]! << 16) >>> 0 : F16_AS_F32_BITS[halves[i]!]!;
  }
  if (to === 'F32') return Buffer.from(wide.buffer);
  if (to === from) return bytes;
  const narrow = to === 'F16' ? f32ToF16Bits : f32ToBf16Bits;
  const out = new Uint16Array(wide.length);
  for (let i = 0; i < wide.length; i++) out[i] = narrow(wide[i]!);
  return Buffer.from(out.buffer);
}

describe.each(['bf16', 'f16'] as const)('convertCheckpoint() from a sharded %s checkpoint', (dtype) => {
  let dir: string;
  beforeAll(async () => {
    dir = join(root, `ckpt-${dtype}`);
    await makeRandomCheckpoint(dir, { shape: 'micro', dtype, shards: 3, seed: 42 });
  });

  it.each(['f32', 'f16', 'bf16'] as ConvertType[])('converts to %s', async (type) => {
    const outPath = join(root, `${dtype}-to-${type}.gguf`);
    const result = await convertCheckpoint(dir, outPath, { type, name: 'random' });
    expect(result.labels).toEqual(RANDOM_CHECKPOINT_LABELS);
    expect(result.sourceDtypes).toEqual([dtype.toUpperCase()]);

    const source = readCheckpoint(dir);
    const header = await readGgufHeader(outPath);
    const file = await readFile(outPath);
    const specs = qwen2TensorSpecs(CHECKPOINT_SHAPES.micro);
    expect(header.tensors.map((t) => t.name)).toEqual(specs.map((s) => s.ggufName));
    for (const spec of specs) {
      const tensor = header.tensors.find((t) => t.name === spec.ggufName)!;
      const src = source.get(spec.hfName)!;
      const outType = spec.shape.length === 1 ? 'F32' : type.toUpperCase();
      expect(tensor.type.name, spec.ggufName).toBe(outType);
      const data = file.subarray(header.dataOffset + tensor.offset, header.dataOffset + tensor.offset + tensor.byteSize);
      expect(data.equals(expectedBytes(src.bytes, src.dtype, outType)), `${spec.hfName} ${src.dtype}→${outType}`).toBe(true);
    }
    // The head is widened exactly to F32.
    const head = header.metadata.get('logtriage.head.weight');
    expect(head).toEqual({ type: 'array', itemType: 'f32', value: new Float32Array(new Uint8Array(expectedBytes(source.get('score.weight')!.bytes, dtype.toUpperCase(), 'F32')).buffer) });
    await rm(outPath);
  });
});
