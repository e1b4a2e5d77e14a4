// SPDX-License-Identifier: MIT
// verifyModel() on converted models with single bytes flipped: in the tensor data at 50 seeded
// offsets, in a tensor-info type, in the labels, the head and a tokenizer entry. Each must fail
// naming the tensor or key; the untouched file passes at every read size; a GGUF without a digest
// (written by an independent serializer) is unverifiable. Pure TypeScript: no model is loaded.
import { copyFile, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { convertCheckpoint } from '../../src/convert/index.js';
import { ModelFormatError, ValidationError } from '../../src/errors.js';
import { DIGEST_KEY, isDigestedKey } from '../../src/gguf/contentDigest.js';
import { copyGguf } from '../../src/gguf/copyGguf.js';
import { readGgufHeader } from '../../src/gguf/readGguf.js';
import { validateLogtriageModel } from '../../src/gguf/validateLogtriageModel.js';
import { verifyModel } from '../../src/gguf/verifyModel.js';
import type { GgufHeader, GgufMetadata } from '../../src/gguf/ggufTypes.js';
import { makeRandomCheckpoint } from '../../scripts/fixtures/make-random-checkpoint.js';
import { tinyModel } from '../fixtures/index.js';
import { serializeGguf } from '../reliability/helpers/ggufBytes.js';
import { Prng } from '../reliability/helpers/prng.js';

const FLIPS = 50;

let root: string;
let f32Model: string;
let f16Model: string;
let header: GgufHeader;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'logtriage-verify-'));
  const checkpoint = join(root, 'ckpt');
  await makeRandomCheckpoint(checkpoint, { shape: 'micro', dtype: 'f32', shards: 1, seed: 15 });
  f32Model = join(root, 'micro-f32.gguf');
  f16Model = join(root, 'micro-f16.gguf');
  await convertCheckpoint(checkpoint, f32Model, { type: 'f32' });
  await convertCheckpoint(checkpoint, f16Model, { type: 'f16' });
  header = await readGgufHeader(f32Model);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh copy of `model` to damage. */
async function copyOf(model: string, name: string): Promise<string> {
  const path = join(root, name);
  await copyFile(model, path);
  return path;
}

/** XORs the byte at `offset` with `mask` (applying it twice restores the file). */
async function flipByte(path: string, offset: number, mask = 0xff): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, offset);
    byte[0]! ^= mask;
    await fh.write(byte, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

/** File offset of the first occurrence of `text` inside metadata key `key`'s bytes. */
async function offsetInKey(path: string, key: string, text: string): Promise<number> {
  const [start, end] = header.spans!.metadata.get(key)!;
  const at = (await readFile(path)).subarray(start, end).indexOf(Buffer.from(text, 'utf8'));
  expect(at, `${text} in ${key}`).toBeGreaterThanOrEqual(0);
  return start + at;
}

describe('verifyModel()', () => {
  it('passes an untouched converted model at any read size', async () => {
    for (const chunkBytes of [4096, 65_536, undefined]) {
      const result = await verifyModel(f32Model, chunkBytes === undefined ? {} : { chunkBytes });
      expect(result).toEqual({ status: 'verified', path: f32Model, bytes: header.fileSize, tensors: 26, keys: expect.any(Number) });
    }
    const covered = [...header.metadata.keys()].filter(isDigestedKey);
    expect(covered).toContain('qwen2.classifier.output_labels');
    expect(covered).not.toContain('general.name');
    expect(await verifyModel(f16Model)).toMatchObject({ status: 'verified', keys: covered.length });
  });

  it('passes the converted tiny parity model (151,936-token vocabulary) and reports progress up to the end', async () => {
    const progress: [number, number][] = [];
    const result = await verifyModel(tinyModel('f16'), { onProgress: (done, total) => progress.push([done, total]) });
    expect(result.status).toBe('verified');
    expect(progress.length).toBeGreaterThan(1);
    const [done, total] = progress.at(-1)!;
    expect(done).toBe(total);
    expect(progress.every(([d], i) => i === 0 || d > progress[i - 1]![0])).toBe(true);
  });

  it(`names the tensor when one byte of its data is flipped, at ${FLIPS} seeded offsets`, async () => {
    const path = await copyOf(f32Model, 'flips.gguf');
    const totalData = header.tensors.reduce((sum, t) => sum + t.byteSize, 0);
    const random = new Prng(1515);
    const hit = new Set<string>();
    let checked = 0;
    for (let i = 0; i < FLIPS; i++) {
      // Uniform over the bytes of all tensors (padding excluded: it is not part of any tensor).
      let pick = random.int(0, totalData - 1);
      const tensor = header.tensors.find((t) => (pick < t.byteSize ? true : ((pick -= t.byteSize), false)))!;
      const offset = header.dataOffset + tensor.offset + pick;
      const mask = random.int(1, 255);
      await flipByte(path, offset, mask);
      // A small read size, so that flips land at every position relative to a chunk.
      const result = await verifyModel(path, { chunkBytes: 4096 });
      expect(result, `flip ${i} at ${offset} in ${tensor.name}`).toMatchObject({ status: 'mismatch', kind: 'tensor', name: tensor.name });
      expect(result.status === 'mismatch' && result.message).toMatch(new RegExp(`^Tensor '${tensor.name.replaceAll('.', '\\.')}' does not match its digest`));
      await flipByte(path, offset, mask);
      hit.add(tensor.name);
      checked++;
    }
    expect(checked).toBe(FLIPS);
    expect(hit.size).toBeGreaterThan(5);
    expect((await verifyModel(path)).status).toBe('verified');
  });

  it("names a tensor whose type changed to another of the same size (F16 read as BF16): the info record is digested too", async () => {
    const f16Header = await readGgufHeader(f16Model);
    const index = f16Header.tensors.findIndex((t) => t.name === 'blk.1.ffn_up.weight');
    expect(f16Header.tensors[index]!.type.name).toBe('F16');
    const path = await copyOf(f16Model, 'retyped.gguf');
    const [, infoEnd] = f16Header.spans!.tensorInfos[index]!;
    await flipByte(path, infoEnd - 12, 1 ^ 30); // the u32 type id sits before the u64 offset: F16 (1) → BF16 (30)
    expect((await readGgufHeader(path)).tensors[index]!.type.name).toBe('BF16');
    expect(await verifyModel(path)).toMatchObject({ status: 'mismatch', kind: 'tensor', name: 'blk.1.ffn_up.weight' });
  });

  it('names the metadata key when a label, the head or a tokenizer entry changes', async () => {
    const labels = header.metadata.get('qwen2.classifier.output_labels')!.value as string[];
    const tokens = header.metadata.get('tokenizer.ggml.tokens')!.value as string[];
    const token = tokens.find((t) => /^[a-z]{4,}$/.test(t))!;
    const [headStart, headEnd] = header.spans!.metadata.get('logtriage.head.weight')!;
    const cases: [string, () => Promise<number>, number][] = [
      // Upper-casing one ASCII letter keeps the file readable (valid UTF-8), only different.
      ['qwen2.classifier.output_labels', () => offsetInKey(f32Model, 'qwen2.classifier.output_labels', labels[1]!), 0x20],
      ['logtriage.head.weight', async () => headStart + Math.floor((headEnd - headStart) / 2), 0x01],
      ['tokenizer.ggml.tokens', () => offsetInKey(f32Model, 'tokenizer.ggml.tokens', token), 0x20],
    ];
    for (const [key, offsetOf, mask] of cases) {
      const path = await copyOf(f32Model, 'meta.gguf');
      await flipByte(path, await offsetOf(), mask);
      const result = await verifyModel(path);
      expect(result, key).toMatchObject({ status: 'mismatch', kind: 'metadata', name: key, message: `Metadata key '${key}' does not match its digest` });
    }
    expect(cases).toHaveLength(3);
  });

  it('refuses keys added or removed after the digest, and a malformed digest, naming the key', async () => {
    const rewrite = async (name: string, edit: (m: GgufMetadata) => void, digest = false): Promise<string> => {
      const path = join(root, name);
      await copyGguf(f32Model, path, { editMetadata: edit, digest });
      return path;
    };
    const calibration = (m: GgufMetadata) => m.set('logtriage.calibration.temperature', { type: 'f32', value: 1.5 });
    expect(await verifyModel(await rewrite('added.gguf', calibration))).toMatchObject({
      status: 'mismatch', kind: 'metadata', name: 'logtriage.calibration.temperature',
      message: expect.stringContaining('is not covered by the digest'),
    });
    // Copied with a fresh digest, the same metadata verifies: calibration keys are covered by the rule.
    const recalibrated = await rewrite('recalibrated.gguf', calibration, true);
    expect(await verifyModel(recalibrated)).toMatchObject({ status: 'verified', keys: header.metadata.size - 4 - 3 + 1 });
    const renamed = await rewrite('renamed.gguf', (m) => m.set('general.name', { type: 'string', value: 'renamed' }));
    expect((await verifyModel(renamed)).status).toBe('verified');
    expect(await verifyModel(await rewrite('dropped.gguf', (m) => m.delete('tokenizer.ggml.bos_token_id')))).toMatchObject({
      status: 'mismatch', name: 'tokenizer.ggml.bos_token_id', message: expect.stringContaining('listed in the digest but missing'),
    });
    const hashes = header.metadata.get(DIGEST_KEY.tensors)!.value as string[];
    const upper = await rewrite('upper.gguf', (m) => m.set(DIGEST_KEY.tensors, { type: 'array', itemType: 'string', value: hashes.map((h, i) => (i === 3 ? h.toUpperCase() : h)) }));
    expect(await verifyModel(upper)).toMatchObject({ status: 'mismatch', name: DIGEST_KEY.tensors, message: expect.stringContaining('entry 3') });
  });

  it('reports a GGUF without a digest as unverifiable, not corrupted', async () => {
    const data = Buffer.alloc(64, 7);
    const { bytes } = serializeGguf({
      metadata: new Map([['general.architecture', { type: 'string', value: 'llama' }]]),
      tensors: [{ name: 'foreign.weight', ne: [16], typeId: 0, data }],
    });
    const path = join(root, 'foreign.gguf');
    await writeFile(path, bytes);
    const result = await verifyModel(path);
    expect(result).toMatchObject({ status: 'unverifiable', path, message: expect.stringContaining('has no content digest') });
  });

  it('throws ModelFormatError for a file that is not a GGUF, and ValidationError for bad options', async () => {
    const path = join(root, 'text.gguf');
    await writeFile(path, 'not a model at all');
    await expect(verifyModel(path)).rejects.toThrow(ModelFormatError);
    await expect(verifyModel(f32Model, { chunkBytes: 10 })).rejects.toThrow(ValidationError);
    await expect(verifyModel(f32Model, { chunkBytes: 10 })).rejects.toThrow('for verifyModel() options.chunkBytes but received 10');
    await expect(verifyModel(f32Model, { onProgress: 'yes' } as never)).rejects.toThrow('Expected a function for verifyModel() options.onProgress');
    await expect(verifyModel(f32Model, { chunkByte: 4096 } as never)).rejects.toThrow("Unknown option 'chunkByte' (did you mean 'chunkBytes'?)");
  });
});

describe('validateLogtriageModel() and the digest', () => {
  it('accepts a converted model and refuses a digest of the wrong shape, without comparing hashes', () => {
    expect(() => validateLogtriageModel(header)).not.toThrow();
    const edited = (edit: (m: GgufMetadata) => void): GgufHeader => {
      const metadata = new Map(header.metadata);
      edit(metadata);
      return { ...header, metadata };
    };
    const hashes = header.metadata.get(DIGEST_KEY.tensors)!.value as string[];
    const cases: [(m: GgufMetadata) => void, RegExp][] = [
      [(m) => m.set(DIGEST_KEY.tensors, { type: 'array', itemType: 'string', value: hashes.slice(1) }), /'logtriage\.digest\.tensors' has 25 entries, expected one per tensor \(26\)/],
      [(m) => m.set(DIGEST_KEY.version, { type: 'u32', value: 2 }), /digest\.version' is 2; this logtriage reads digest version 1/],
      [(m) => m.delete(DIGEST_KEY.metadata), /Missing metadata key 'logtriage\.digest\.metadata'/],
      [(m) => m.set('logtriage.digest.extra', { type: 'u32', value: 1 }), /'logtriage\.digest\.extra' is not part of digest version 1/],
      [(m) => m.set(DIGEST_KEY.metadataKeys, { type: 'array', itemType: 'string', value: ['general.name'] }), /lists 'general\.name', which the digest never covers/],
      [(m) => m.set(DIGEST_KEY.tensors, { type: 'u32', value: 1 }), /'logtriage\.digest\.tensors' must be an array of string, found u32/],
    ];
    for (const [edit, message] of cases) expect(() => validateLogtriageModel(edited(edit))).toThrow(message);
    // A flipped hash is a valid shape: only verify notices it.
    const flipped = hashes.map((h, i) => (i === 0 ? `${h[0] === 'a' ? 'b' : 'a'}${h.slice(1)}` : h));
    expect(() => validateLogtriageModel(edited((m) => m.set(DIGEST_KEY.tensors, { type: 'array', itemType: 'string', value: flipped })))).not.toThrow();
    expect(cases).toHaveLength(6);
  });
});
