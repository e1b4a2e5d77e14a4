// SPDX-License-Identifier: MIT
// The quantized path with an injected quantizer, plus option validation. The real quantizer
// (the addon's llama_model_quantize) is covered by convertCheckpoint.quantize.integration.test.ts.
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConvertError, ValidationError } from '../../src/errors.js';
import { convertCheckpoint } from '../../src/convert/index.js';
import type { ConvertProgress, QuantizeFn } from '../../src/convert/index.js';
import type { GgufHeader, GgufMetadata } from '../../src/gguf/ggufTypes.js';
import { readGgufHeader } from '../../src/gguf/readGguf.js';
import { verifyModel } from '../../src/gguf/verifyModel.js';
import { copyGguf } from '../../src/gguf/copyGguf.js';
import { makeRandomCheckpoint } from '../../scripts/fixtures/make-random-checkpoint.js';
import { tinyCheckpointDir } from '../fixtures/index.js';

let root: string;
let bf16Checkpoint: string;
let checkpoint: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'logtriage-quantize-'));
  bf16Checkpoint = join(root, 'bf16');
  checkpoint = join(root, 'f32');
  await makeRandomCheckpoint(bf16Checkpoint, { shape: 'micro', dtype: 'bf16', shards: 2, seed: 3 });
  await makeRandomCheckpoint(checkpoint, { shape: 'micro', dtype: 'f32', shards: 1, seed: 4 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function outDir(): Promise<string> {
  return mkdtemp(join(root, 'out-'));
}

/** Rewrites `input` to `output` with `edit` applied to its metadata (a stand-in for a quantizer that loses data). */
const rewrite = (input: string, output: string, edit: (metadata: GgufMetadata) => void): Promise<void> =>
  copyGguf(input, output, { editMetadata: edit, digest: false });

describe('convertCheckpoint() with a quantizer', () => {
  it('hands the quantizer a float GGUF in the source dtype, then publishes its output', async () => {
    const calls: { input: string; output: string; type: string; threads: number; header: GgufHeader }[] = [];
    const quantize: QuantizeFn = async (input, output, type, threads) => {
      calls.push({ input, output, type, threads, header: await readGgufHeader(input) });
      await copyFile(input, output);
    };
    const out = await outDir();
    const progress: ConvertProgress[] = [];
    const result = await convertCheckpoint(bf16Checkpoint, join(out, 'm.gguf'), { type: 'q4_k_m', threads: 3, quantize, onProgress: (p) => progress.push(p) });
    const writes = progress.filter((p) => p.phase === 'write');
    expect(writes.length).toBe(26); // one chunk per tensor at this size
    expect(writes.every((p, i) => i === 0 || p.bytesDone > writes[i - 1]!.bytesDone)).toBe(true);
    expect(writes.at(-1)!.bytesDone).toBe(writes.at(-1)!.bytesTotal);
    expect(writes.at(-1)!.tensor).toBe('output_norm.weight');
    expect(progress.slice(-2).map((p) => [p.phase, p.bytesDone])).toEqual([['quantize', 0], ['quantize', 1]]);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call!.type).toBe('q4_k_m');
    expect(call!.threads).toBe(3);
    expect(call!.output).not.toBe(join(out, 'm.gguf'));
    const types = new Map(call!.header.tensors.map((t) => [t.name, t.type.name]));
    expect(types.get('token_embd.weight')).toBe('BF16');
    expect(types.get('blk.0.ffn_down.weight')).toBe('BF16');
    expect(types.get('blk.0.attn_q.bias')).toBe('F32');
    expect(types.get('output_norm.weight')).toBe('F32');
    expect(call!.header.metadata.get('general.file_type')).toEqual({ type: 'u32', value: 32 });
    expect(result.type).toBe('q4_k_m');
    expect(result.outPath).toBe(join(out, 'm.gguf'));
    expect(await readdir(out)).toEqual(['m.gguf']);
    // The quantizer's input carries no digest; its output gets one over the final bytes.
    expect(call!.header.metadata.has('logtriage.digest.version')).toBe(false);
    expect(await verifyModel(result.outPath)).toMatchObject({ status: 'verified', tensors: 26 });
  });

  it('replaces digest keys the quantizer copied from its input with ones for its output', async () => {
    const quantize: QuantizeFn = (input, output) =>
      rewrite(input, output, (metadata) => {
        metadata.set('logtriage.digest.version', { type: 'u32', value: 1 });
        metadata.set('logtriage.digest.tensors', { type: 'array', itemType: 'string', value: Array<string>(26).fill('f'.repeat(64)) });
      });
    const result = await convertCheckpoint(checkpoint, join(await outDir(), 'm.gguf'), { type: 'q8_0', quantize });
    expect(await verifyModel(result.outPath)).toMatchObject({ status: 'verified', tensors: 26 });
  });

  it('keeps F32 for an F32 checkpoint and uses every core by default', async () => {
    let seen: { threads: number; type?: string } = { threads: 0 };
    const quantize: QuantizeFn = async (input, output, _type, threads) => {
      seen = { threads, type: (await readGgufHeader(input)).tensors[0]!.type.name };
      await copyFile(input, output);
    };
    await convertCheckpoint(checkpoint, join(await outDir(), 'm.gguf'), { type: 'q8_0', quantize });
    expect(seen.type).toBe('F32');
    expect(seen.threads).toBeGreaterThanOrEqual(1);
  });

  it('propagates a quantizer failure and removes every temporary file', async () => {
    const out = await outDir();
    const quantize: QuantizeFn = async (_input, output) => {
      await writeFile(output, 'partial');
      throw new Error('quantize failed');
    };
    await expect(convertCheckpoint(checkpoint, join(out, 'm.gguf'), { type: 'q4_0', quantize })).rejects.toThrow('quantize failed');
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses a quantizer output that is not a valid model', async () => {
    const out = await outDir();
    const quantize: QuantizeFn = async (_input, output) => writeFile(output, 'GGUF garbage');
    const error = await convertCheckpoint(checkpoint, join(out, 'm.gguf'), { type: 'q8_0', quantize }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvertError);
    expect((error as Error).message).toMatch(/The converted file failed validation: .*GGUF version/);
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses a quantizer output whose head differs from score.weight', async () => {
    const out = await outDir();
    const quantize: QuantizeFn = (input, output) =>
      rewrite(input, output, (metadata) => {
        const head = metadata.get('logtriage.head.weight') as { value: Float32Array };
        head.value[0] = head.value[0]! + 1e-3;
      });
    await expect(convertCheckpoint(checkpoint, join(out, 'm.gguf'), { type: 'q8_0', quantize })).rejects.toThrow(/classification head differs from score.weight/);
    expect(await readdir(out)).toEqual([]);
  });
});

describe('convertCheckpoint() options', () => {
  const run = (options: unknown) => convertCheckpoint(tinyCheckpointDir(), join(root, 'never.gguf'), options as never);

  it('rejects bad options with ValidationError before touching the checkpoint', async () => {
    await expect(run({ type: 'q5_k' })).rejects.toThrow(ValidationError);
    await expect(run({ type: 'q5_k' })).rejects.toThrow('Expected one of "f32", "f16", "bf16", "q8_0", "q4_0", "q4_k_m" for options.type but received "q5_k" of type string');
    await expect(run({})).rejects.toThrow('for options.type but received undefined of type undefined');
    await expect(run(null)).rejects.toThrow('for options.type but received undefined of type undefined');
    await expect(run({ type: 'f16', threads: 0 })).rejects.toThrow('Expected a number of at least 1 for options.threads but received 0 of type number');
    await expect(run({ type: 'f16', threads: 1.5 })).rejects.toThrow('Expected an integer for options.threads');
    await expect(run({ type: 'f16', quantize: 'yes' })).rejects.toThrow('Expected a function for options.quantize but received "yes" of type string');
    await expect(run({ type: 'f16', thread: 2 })).rejects.toThrow("Unknown option 'thread' (did you mean 'threads'?) for options");
  });
});
