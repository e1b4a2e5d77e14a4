// SPDX-License-Identifier: MIT
// The real quantizer: the native addon's llama_model_quantize. It must copy every metadata key,
// so the classification head survives as F32, bit-identical to score.weight. Needs the addon
// built (`npm run build:native`); without it this file fails, it does not skip.
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { convertCheckpoint } from '../../src/convert/index.js';
import { createHash } from 'node:crypto';
import { readGgufHeader } from '../../src/gguf/readGguf.js';
import { verifyModel } from '../../src/gguf/verifyModel.js';
import { RANDOM_CHECKPOINT_LABELS, makeRandomCheckpoint } from '../../scripts/fixtures/make-random-checkpoint.js';

let dir: string;
let checkpoint: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-quantize-real-'));
  checkpoint = join(dir, 'checkpoint');
  await makeRandomCheckpoint(checkpoint, { shape: 'micro', dtype: 'f32', shards: 1, seed: 5 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** score.weight of the checkpoint, read straight from model.safetensors. */
function scoreWeight(): Float32Array {
  const file = readFileSync(join(checkpoint, 'model.safetensors'));
  const length = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + length).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
  const [begin, end] = header['score.weight']!.data_offsets;
  return new Float32Array(new Uint8Array(file.subarray(8 + length + begin, 8 + length + end)).buffer);
}

describe.each([
  ['q8_0', 7, 'Q8_0'],
  ['q4_0', 2, 'Q4_0'],
  ['q4_k_m', 15, undefined], // k-quants need rows of 256: this 32-wide model falls back per tensor
] as const)('convertCheckpoint(type: %s) with the addon quantizer', (type, fileType, matrixType) => {
  it('writes a valid model whose head is the F32 score.weight and whose vectors stay F32', async () => {
    const outPath = join(dir, `tiny-${type}.gguf`);
    const result = await convertCheckpoint(checkpoint, outPath, { type, threads: 2 });
    expect(result.fileType).toBe(fileType);
    expect(result.model.head.weight).toEqual(scoreWeight());
    expect(result.labels).toEqual(RANDOM_CHECKPOINT_LABELS);

    const header = await readGgufHeader(outPath);
    expect(header.metadata.get('logtriage.head.weight')).toEqual({ type: 'array', itemType: 'f32', value: scoreWeight() });
    for (const tensor of header.tensors) {
      if (tensor.ne.length === 1) expect(tensor.type.name, tensor.name).toBe('F32');
      else if (matrixType !== undefined && tensor.name !== 'token_embd.weight') expect(tensor.type.name, tensor.name).toBe(matrixType);
      else expect(['F32', 'F16', 'BF16'], tensor.name).not.toContain(tensor.type.name);
    }
    // The digest covers the quantized bytes, as they are in the final file.
    const bytes = readFileSync(outPath);
    const hashes = header.metadata.get('logtriage.digest.tensors')!.value as string[];
    header.tensors.forEach((tensor, i) => {
      const [infoStart, infoEnd] = header.spans!.tensorInfos[i]!;
      const data = bytes.subarray(header.dataOffset + tensor.offset, header.dataOffset + tensor.offset + tensor.byteSize);
      expect(createHash('sha256').update(bytes.subarray(infoStart, infoEnd)).update(data).digest('hex'), tensor.name).toBe(hashes[i]);
    });
    expect(await verifyModel(outPath)).toMatchObject({ status: 'verified', tensors: header.tensors.length });
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    await rm(outPath);
  });
});
