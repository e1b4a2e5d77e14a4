// SPDX-License-Identifier: MIT
// A GGUF copied with calibration metadata keeps every tensor byte and stays verifiable: checked
// on the Q8_0 parity model, whose block-quantized tensors the float-only converter path could not write.
import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setCalibration } from '../../src/gguf/calibrationKeys.js';
import { copyGguf } from '../../src/gguf/copyGguf.js';
import { verifyModel } from '../../src/gguf/verifyModel.js';
import { readGgufHeader, validateLogtriageModel, type GgufHeader } from '../../src/gguf/index.js';
import { artifactsDir, tinyModel } from '../fixtures/index.js';

async function tensorData(path: string, header: GgufHeader): Promise<Buffer[]> {
  const fh = await open(path, 'r');
  try {
    return await Promise.all(
      header.tensors.map(async (t) => {
        const buf = Buffer.alloc(t.byteSize);
        await fh.read(buf, 0, t.byteSize, header.dataOffset + t.offset);
        return buf;
      }),
    );
  } finally {
    await fh.close();
  }
}

describe('copyGguf() with calibration metadata', () => {
  it('copies Q8_0 tensors byte for byte under new metadata, with a digest that covers it', async () => {
    mkdirSync(artifactsDir, { recursive: true });
    const source = tinyModel('q8_0');
    const out = join(artifactsDir, 'copy-q8_0.gguf');
    const header = await readGgufHeader(source);
    expect(header.tensors.some((t) => t.type.name === 'Q8_0')).toBe(true);
    const record = { calibration: { method: 'temperature' as const, temperature: 2 }, lines: 50, nllBefore: 1, nllAfter: 0.875, eceBefore: 0.125, eceAfter: 0.0625 }; // exact in f32
    await copyGguf(source, out, {
      editMetadata: (metadata) => setCalibration(metadata, record),
    });
    const copied = await readGgufHeader(out);
    expect(copied.tensors.map((t) => [t.name, t.type.name, t.ne])).toEqual(header.tensors.map((t) => [t.name, t.type.name, t.ne]));
    const [a, b] = await Promise.all([tensorData(source, header), tensorData(out, copied)]);
    expect(b).toHaveLength(header.tensors.length);
    a.forEach((bytes, i) => expect(b[i]!.equals(bytes), header.tensors[i]!.name).toBe(true));
    expect(validateLogtriageModel(copied).calibration).toEqual(record);
    expect(validateLogtriageModel(header).calibration).toBeUndefined();
    expect((await verifyModel(out)).status).toBe('verified');
  });
});
