// SPDX-License-Identifier: MIT
// Converting the qwen2-tiny-public checkpoint: metadata exactly as docs/model-format.md says,
// labels from id2label, the head bit-identical to score.weight, tensors equal to the source.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { convertCheckpoint } from '../../src/convert/index.js';
import type { ConvertResult, ConvertType } from '../../src/convert/index.js';
import { f32ToBf16Bits, f32ToF16Bits } from '../../src/convert/convertFloats.js';
import type { GgufHeader, GgufValue } from '../../src/gguf/ggufTypes.js';
import { readGgufHeader } from '../../src/gguf/readGguf.js';
import { tinyCheckpointDir } from '../fixtures/index.js';

const checkpoint = tinyCheckpointDir();
const config = JSON.parse(readFileSync(join(checkpoint, 'config.json'), 'utf8')) as Record<string, unknown>;
const tokenizer = JSON.parse(readFileSync(join(checkpoint, 'tokenizer.json'), 'utf8')) as {
  model: { vocab: Record<string, number>; merges: string[] };
};

/** The fixture's tensors, read independently of src/convert: name → raw little-endian F32 bytes and shape. */
function readSource(): Map<string, { shape: number[]; bytes: Buffer }> {
  const file = readFileSync(join(checkpoint, 'model.safetensors'));
  const headerLength = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const tensors = new Map<string, { shape: number[]; bytes: Buffer }>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    expect(t.dtype).toBe('F32');
    tensors.set(name, { shape: t.shape, bytes: file.subarray(8 + headerLength + t.data_offsets[0], 8 + headerLength + t.data_offsets[1]) });
  }
  return tensors;
}
const source = readSource();

const ggufName = (hf: string): string =>
  hf
    .replace('model.embed_tokens.weight', 'token_embd.weight')
    .replace('model.norm.weight', 'output_norm.weight')
    .replace(/^model\.layers\.(\d+)\./, 'blk.$1.')
    .replace(/self_attn\.([qkv])_proj/, 'attn_$1')
    .replace('self_attn.o_proj', 'attn_output')
    .replace(/mlp\.(gate|up|down)_proj/, 'ffn_$1')
    .replace('post_attention_layernorm', 'ffn_norm')
    .replace('input_layernorm', 'attn_norm');

let dir: string;
const converted = new Map<ConvertType, { result: ConvertResult; header: GgufHeader; file: Buffer }>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-convert-'));
  for (const type of ['f32', 'f16', 'bf16'] as const) {
    const outPath = join(dir, `tiny-${type}.gguf`);
    const result = await convertCheckpoint(checkpoint, outPath, { type });
    converted.set(type, { result, header: await readGgufHeader(outPath), file: await readFile(outPath) });
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const expectedLabels = Object.entries(config.id2label as Record<string, string>)
  .sort(([a], [b]) => Number(a) - Number(b))
  .map(([, label]) => label);

describe('convertCheckpoint() on qwen2-tiny-public', () => {
  it('returns a result describing the file', () => {
    const { result } = converted.get('f16')!;
    expect(result.outPath).toBe(join(dir, 'tiny-f16.gguf'));
    expect(result.type).toBe('f16');
    expect(result.tensors).toBe(1 + 2 * 12 + 1);
    expect(result.labels).toEqual(['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error']);
    expect(result.bytes).toBe(converted.get('f16')!.file.length);
    expect(result.fileType).toBe(1);
    expect(result.sourceDtypes).toEqual(['F32']);
    expect(result.model.nVocab).toBe(151936);
  });

  it('writes exactly the documented metadata keys, in order', () => {
    const keys = [...converted.get('f32')!.header.metadata.keys()];
    expect(keys).toEqual([
      'general.architecture', 'general.name', 'general.file_type', 'general.quantization_version',
      'qwen2.context_length', 'qwen2.embedding_length', 'qwen2.block_count', 'qwen2.feed_forward_length',
      'qwen2.attention.head_count', 'qwen2.attention.head_count_kv', 'qwen2.rope.freq_base',
      'qwen2.attention.layer_norm_rms_epsilon', 'qwen2.pooling_type', 'qwen2.classifier.output_labels',
      'logtriage.format_version', 'logtriage.head.shape', 'logtriage.head.weight',
      'tokenizer.ggml.model', 'tokenizer.ggml.pre', 'tokenizer.ggml.tokens', 'tokenizer.ggml.token_type',
      'tokenizer.ggml.merges', 'tokenizer.ggml.eos_token_id', 'tokenizer.ggml.bos_token_id',
      'tokenizer.ggml.padding_token_id', 'tokenizer.ggml.add_bos_token', 'general.alignment',
      'logtriage.digest.version', 'logtriage.digest.tensors', 'logtriage.digest.metadata_keys', 'logtriage.digest.metadata',
    ]);
  });

  it('writes the hyperparameters, labels and special tokens from config.json', () => {
    const scalars: [string, GgufValue][] = [
      ['general.architecture', { type: 'string', value: 'qwen2' }],
      ['general.name', { type: 'string', value: 'model' }],
      ['general.quantization_version', { type: 'u32', value: 2 }],
      ['qwen2.context_length', { type: 'u32', value: 32768 }],
      ['qwen2.embedding_length', { type: 'u32', value: 64 }],
      ['qwen2.block_count', { type: 'u32', value: 2 }],
      ['qwen2.feed_forward_length', { type: 'u32', value: 192 }],
      ['qwen2.attention.head_count', { type: 'u32', value: 4 }],
      ['qwen2.attention.head_count_kv', { type: 'u32', value: 2 }],
      ['qwen2.rope.freq_base', { type: 'f32', value: 1e6 }],
      ['qwen2.attention.layer_norm_rms_epsilon', { type: 'f32', value: Math.fround(1e-6) }],
      ['qwen2.pooling_type', { type: 'u32', value: 3 }],
      ['qwen2.classifier.output_labels', { type: 'array', itemType: 'string', value: expectedLabels }],
      ['logtriage.format_version', { type: 'u32', value: 1 }],
      ['logtriage.head.shape', { type: 'array', itemType: 'u32', value: Uint32Array.of(5, 64) }],
      ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
      ['tokenizer.ggml.pre', { type: 'string', value: 'qwen2' }],
      ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 151643 }],
      ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 151643 }],
      ['tokenizer.ggml.padding_token_id', { type: 'u32', value: 151643 }],
      ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
      ['general.alignment', { type: 'u32', value: 32 }],
    ];
    for (const [type, fileType] of [['f32', 0], ['f16', 1], ['bf16', 32]] as const) {
      const { metadata } = converted.get(type)!.header;
      for (const [key, value] of scalars) expect(metadata.get(key), `${type} ${key}`).toEqual(value);
      expect(metadata.get('general.file_type')).toEqual({ type: 'u32', value: fileType });
    }
  });

  it('stores score.weight bit-exactly as the F32 head, whatever the tensor type', () => {
    const score = source.get('score.weight')!;
    expect(score.shape).toEqual([5, 64]);
    const expected = new Float32Array(new Uint8Array(score.bytes).buffer);
    for (const type of ['f32', 'f16', 'bf16'] as const) {
      const head = converted.get(type)!.header.metadata.get('logtriage.head.weight');
      expect(head).toEqual({ type: 'array', itemType: 'f32', value: expected });
      expect(converted.get(type)!.header.metadata.has('logtriage.head.bias')).toBe(false);
    }
  });

  it('writes the padded Qwen2 vocabulary with llama.cpp token types and merges', () => {
    const { metadata } = converted.get('f32')!.header;
    const tokens = (metadata.get('tokenizer.ggml.tokens') as { value: string[] }).value;
    const types = (metadata.get('tokenizer.ggml.token_type') as { value: Int32Array }).value;
    expect(tokens).toHaveLength(151936);
    expect(types).toHaveLength(151936);
    for (const [token, id] of Object.entries(tokenizer.model.vocab)) {
      if (tokens[id] !== token || types[id] !== 1) expect.unreachable(`token ${id}`);
    }
    expect(Object.keys(tokenizer.model.vocab)).toHaveLength(151643);
    expect(tokens.slice(151643, 151646)).toEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>']);
    expect(Array.from(types.slice(151643, 151646))).toEqual([3, 3, 3]);
    expect(tokens[151646]).toBe('[PAD151646]');
    expect(tokens[151935]).toBe('[PAD151935]');
    expect(new Set(types.slice(151646))).toEqual(new Set([5]));
    const merges = (metadata.get('tokenizer.ggml.merges') as { value: string[] }).value;
    expect(merges).toEqual(tokenizer.model.merges);
    expect(merges).toHaveLength(151387);
  });

  it('maps every checkpoint tensor to its llama.cpp name with reversed dims', () => {
    const { header } = converted.get('f32')!;
    const expectedNames = [...source.keys()].filter((n) => n !== 'score.weight').map(ggufName);
    expect(header.tensors.map((t) => t.name).sort()).toEqual(expectedNames.sort());
    for (const [name, { shape }] of source) {
      if (name === 'score.weight') continue;
      expect(header.tensors.find((t) => t.name === ggufName(name))!.ne, name).toEqual([...shape].reverse());
    }
  });

  it('writes F32 tensors bit-identical to the source, and F16/BF16 as their round-to-nearest-even narrowing', () => {
    for (const type of ['f32', 'f16', 'bf16'] as const) {
      const { header, file } = converted.get(type)!;
      for (const [name, { shape, bytes }] of source) {
        if (name === 'score.weight') continue;
        const tensor = header.tensors.find((t) => t.name === ggufName(name))!;
        const data = file.subarray(header.dataOffset + tensor.offset, header.dataOffset + tensor.offset + tensor.byteSize);
        const bits = new Uint32Array(new Uint8Array(bytes).buffer);
        if (type === 'f32' || shape.length === 1) {
          expect(tensor.type.name, name).toBe('F32');
          expect(data.equals(bytes), `${type} ${name}`).toBe(true);
        } else {
          expect(tensor.type.name).toBe(type.toUpperCase());
          const narrow = type === 'f16' ? f32ToF16Bits : f32ToBf16Bits;
          const halves = new Uint16Array(bits.length);
          for (let i = 0; i < bits.length; i++) halves[i] = narrow(bits[i]!);
          const expected = Buffer.from(halves.buffer);
          expect(data.equals(expected), `${type} ${name}`).toBe(true);
        }
      }
    }
  });

  it('leaves no temporary files next to the output', async () => {
    expect((await readdir(dir)).sort()).toEqual(['tiny-bf16.gguf', 'tiny-f16.gguf', 'tiny-f32.gguf']);
  });
});
