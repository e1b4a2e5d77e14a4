// SPDX-License-Identifier: MIT
// validateLogtriageModel on small in-memory headers: one valid model, then one defect at a time.
import { describe, expect, it } from 'vitest';

import { ModelFormatError } from '../../src/errors.js';
import { GGML_TYPE_BY_ID } from '../../src/gguf/ggufTypes.js';
import type { GgufHeader, GgufMetadata, GgufTensorInfo, GgufValue } from '../../src/gguf/ggufTypes.js';
import { qwen2TensorSpecs } from '../../src/gguf/qwen2Tensors.js';
import { validateLogtriageModel } from '../../src/gguf/validateLogtriageModel.js';

const dims = { nEmbd: 8, nLayers: 2, nHead: 2, nHeadKv: 1, nFf: 16, nVocab: 6 };
const labels = ['Normal', 'Error', 'Suspicious'];
const headWeight = Float32Array.from({ length: labels.length * dims.nEmbd }, (_, i) => i / 10 - 1);
const u32 = (value: number): GgufValue => ({ type: 'u32', value });
const str = (value: string): GgufValue => ({ type: 'string', value });

function validMetadata(): GgufMetadata {
  return new Map<string, GgufValue>([
    ['general.architecture', str('qwen2')],
    ['general.name', str('tiny')],
    ['general.file_type', u32(0)],
    ['qwen2.context_length', u32(32768)],
    ['qwen2.embedding_length', u32(dims.nEmbd)],
    ['qwen2.block_count', u32(dims.nLayers)],
    ['qwen2.feed_forward_length', u32(dims.nFf)],
    ['qwen2.attention.head_count', u32(dims.nHead)],
    ['qwen2.attention.head_count_kv', u32(dims.nHeadKv)],
    ['qwen2.rope.freq_base', { type: 'f32', value: 1e6 }],
    ['qwen2.attention.layer_norm_rms_epsilon', { type: 'f32', value: Math.fround(1e-6) }],
    ['qwen2.pooling_type', u32(3)],
    ['qwen2.classifier.output_labels', { type: 'array', itemType: 'string', value: labels }],
    ['logtriage.format_version', u32(1)],
    ['logtriage.head.shape', { type: 'array', itemType: 'u32', value: Uint32Array.of(labels.length, dims.nEmbd) }],
    ['logtriage.head.weight', { type: 'array', itemType: 'f32', value: headWeight }],
    ['tokenizer.ggml.model', str('gpt2')],
    ['tokenizer.ggml.pre', str('qwen2')],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: ['a', 'b', 'ab', 'Ġ', '<|endoftext|>', '[PAD5]'] }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: Int32Array.of(1, 1, 1, 1, 3, 5) }],
    ['tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: ['a b'] }],
    ['tokenizer.ggml.eos_token_id', u32(4)],
    ['tokenizer.ggml.padding_token_id', u32(4)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
  ]);
}

function validTensors(): GgufTensorInfo[] {
  const f32 = GGML_TYPE_BY_ID.get(0)!;
  let offset = 0;
  return qwen2TensorSpecs(dims).map((spec) => {
    const byteSize = spec.shape.reduce((a, b) => a * b, 1) * 4;
    const tensor = { name: spec.ggufName, ne: [...spec.shape].reverse(), type: f32, offset, byteSize };
    offset += Math.ceil(byteSize / 32) * 32;
    return tensor;
  });
}

function header(edit: (metadata: GgufMetadata, tensors: GgufTensorInfo[]) => void = () => undefined): GgufHeader {
  const metadata = validMetadata();
  const tensors = validTensors();
  edit(metadata, tensors);
  return { version: 3, fileSize: 1 << 20, alignment: 32, dataOffset: 4096, metadata, tensors };
}

function expectInvalid(edit: (metadata: GgufMetadata, tensors: GgufTensorInfo[]) => void, message: RegExp): void {
  const run = () => validateLogtriageModel(header(edit));
  expect(run).toThrow(ModelFormatError);
  expect(run).toThrow(message);
}

describe('validateLogtriageModel()', () => {
  it('describes a valid model', () => {
    const model = validateLogtriageModel(header());
    expect(model).toEqual({
      arch: 'qwen2',
      formatVersion: 1,
      fileType: 0,
      name: 'tiny',
      nEmbd: 8,
      nLayers: 2,
      nCtxTrain: 32768,
      nHead: 2,
      nHeadKv: 1,
      nFf: 16,
      nVocab: 6,
      labels,
      head: { weight: headWeight, nLabels: 3, nEmbd: 8 },
      eosTokenId: 4,
      bosTokenId: undefined,
      padTokenId: 4,
    });
  });

  it('returns the bias when present', () => {
    const bias = Float32Array.of(0.5, -0.5, 0);
    const model = validateLogtriageModel(header((m) => m.set('logtriage.head.bias', { type: 'array', itemType: 'f32', value: bias })));
    expect(model.head.bias).toEqual(bias);
  });

  it('rejects the wrong architecture, format version and pooling', () => {
    expectInvalid((m) => m.set('general.architecture', str('llama')), /'general.architecture' is 'llama', expected 'qwen2'/);
    expectInvalid((m) => m.delete('general.architecture'), /Missing metadata key 'general.architecture'/);
    expectInvalid((m) => m.delete('logtriage.format_version'), /Missing metadata key 'logtriage.format_version'/);
    expectInvalid((m) => m.set('logtriage.format_version', u32(2)), /'logtriage.format_version' is 2/);
    expectInvalid((m) => m.set('qwen2.pooling_type', u32(1)), /'qwen2.pooling_type' is 1, expected 3/);
    expectInvalid((m) => m.delete('qwen2.pooling_type'), /Missing metadata key 'qwen2.pooling_type'/);
  });

  it('rejects wrong types and impossible hyperparameters', () => {
    expectInvalid((m) => m.set('qwen2.embedding_length', { type: 'i32', value: 8 }), /'qwen2.embedding_length' must be u32, found i32/);
    expectInvalid((m) => m.set('qwen2.block_count', u32(0)), /'qwen2.block_count' is 0, expected 1 to 512/);
    expectInvalid((m) => m.set('qwen2.block_count', u32(513)), /'qwen2.block_count' is 513/);
    expectInvalid((m) => m.set('qwen2.attention.head_count', u32(3)), /does not divide 'qwen2.embedding_length'/);
    expectInvalid((m) => m.set('qwen2.attention.head_count_kv', u32(3)), /'qwen2.attention.head_count_kv' is 3, expected 1 to 2/);
    expectInvalid((m) => m.set('qwen2.attention.key_length', u32(8)), /'qwen2.attention.key_length' is 8, expected the head size 4/);
    expectInvalid((m) => m.set('qwen2.rope.freq_base', { type: 'f32', value: NaN }), /'qwen2.rope.freq_base' is NaN/);
    expectInvalid((m) => m.set('qwen2.attention.layer_norm_rms_epsilon', { type: 'f32', value: 0 }), /layer_norm_rms_epsilon' is 0/);
  });

  it('rejects labels with control or bidi characters, blank labels and repeated labels', () => {
    const withLabels = (value: string[]) => (m: GgufMetadata) => m.set('qwen2.classifier.output_labels', { type: 'array', itemType: 'string', value });
    expectInvalid(withLabels(['Normal', 'Err\u001b]0;x\u0007', 'Suspicious']), /label 1 holds the control or bidi character U\+001B/);
    expectInvalid(withLabels(['Normal', 'Error', 'abc\u202e']), /label 2 holds the control or bidi character U\+202E/);
    expectInvalid(withLabels(['Normal\u009b31m', 'Error', 'Suspicious']), /label 0 holds the control or bidi character U\+009B/);
    expectInvalid(withLabels(['Normal', ' ', 'Suspicious']), /label 1 is empty or blank/);
    expectInvalid(withLabels(['Normal', 'Error', 'Normal']), /label 2 \("Normal"\) is repeated/);
    // Any other string is a label: names of Object.prototype members included.
    expect(validateLogtriageModel(header(withLabels(['constructor', '__proto__', 'Ünknown 日本']))).labels).toEqual(['constructor', '__proto__', 'Ünknown 日本']);
  });

  it('rejects a head that does not match the labels or the embedding size, or is not finite', () => {
    expectInvalid((m) => m.set('qwen2.classifier.output_labels', { type: 'array', itemType: 'string', value: ['a', 'b'] }), /'logtriage.head.shape' is \[3, 8\], expected \[2, 8\]/);
    expectInvalid((m) => m.set('qwen2.classifier.output_labels', { type: 'array', itemType: 'string', value: [] }), /'qwen2.classifier.output_labels' is empty/);
    expectInvalid((m) => m.set('logtriage.head.shape', { type: 'array', itemType: 'u32', value: Uint32Array.of(3, 16) }), /expected \[3, 8\]/);
    expectInvalid((m) => m.set('logtriage.head.weight', { type: 'array', itemType: 'f32', value: new Float32Array(23) }), /has 23 values, expected 3 × 8 = 24/);
    expectInvalid((m) => m.set('logtriage.head.weight', { type: 'array', itemType: 'f64', value: new Float64Array(24) }), /must be an array of f32, found array of f64/);
    const withNaN = Float32Array.from(headWeight);
    withNaN[17] = NaN;
    expectInvalid((m) => m.set('logtriage.head.weight', { type: 'array', itemType: 'f32', value: withNaN }), /'logtriage.head.weight' has a non-finite value NaN at index 17/);
    expectInvalid((m) => m.set('logtriage.head.bias', { type: 'array', itemType: 'f32', value: Float32Array.of(1, Infinity, 0) }), /'logtriage.head.bias' has a non-finite value Infinity at index 1/);
    expectInvalid((m) => m.set('logtriage.head.bias', { type: 'array', itemType: 'f32', value: Float32Array.of(1) }), /'logtriage.head.bias' has 1 values, expected 3/);
  });

  it('rejects missing or inconsistent tokenizer keys', () => {
    expectInvalid((m) => m.delete('tokenizer.ggml.tokens'), /Missing metadata key 'tokenizer.ggml.tokens'/);
    expectInvalid((m) => m.delete('tokenizer.ggml.merges'), /Missing metadata key 'tokenizer.ggml.merges'/);
    expectInvalid((m) => m.delete('tokenizer.ggml.eos_token_id'), /Missing metadata key 'tokenizer.ggml.eos_token_id'/);
    expectInvalid((m) => m.set('tokenizer.ggml.model', str('llama')), /'tokenizer.ggml.model' is 'llama', expected 'gpt2'/);
    expectInvalid((m) => m.set('tokenizer.ggml.pre', str('default')), /'tokenizer.ggml.pre' is 'default', expected 'qwen2'/);
    expectInvalid(
      (m) => m.set('tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: ['a', 'b', 'a', 'Ġ', 'x', 'y'] }),
      /repeats token "a" at id 2/,
    );
    expectInvalid((m) => m.set('tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: Int32Array.of(1, 1) }), /has 2 entries, expected one per token \(6\)/);
    expectInvalid((m) => m.set('tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: Int32Array.of(1, 1, 1, 1, 3, 9) }), /unknown token type 9 at id 5/);
    expectInvalid((m) => m.set('tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: ['ab'] }), /'tokenizer.ggml.merges' entry 0 \("ab"\)/);
    expectInvalid((m) => m.set('tokenizer.ggml.eos_token_id', u32(6)), /'tokenizer.ggml.eos_token_id' is 6, expected 0 to 5/);
    expectInvalid((m) => m.set('tokenizer.ggml.padding_token_id', u32(99)), /'tokenizer.ggml.padding_token_id' is 99/);
    expectInvalid((m) => m.set('tokenizer.ggml.add_bos_token', u32(0)), /'tokenizer.ggml.add_bos_token' must be bool/);
  });

  it('rejects missing, misshapen and extra tensors', () => {
    expectInvalid((_, t) => t.splice(t.findIndex((x) => x.name === 'blk.1.attn_q.bias'), 1), /Missing tensor 'blk.1.attn_q.bias'/);
    expectInvalid((_, t) => t.pop(), /Missing tensor 'output_norm.weight'/);
    expectInvalid(
      (_, t) => (t[0] = { ...t[0]!, ne: [8, 7] }),
      /Tensor 'token_embd.weight' has ne \[8, 7\], expected \[8, 6\] from the metadata/,
    );
    expectInvalid(
      (_, t) => {
        const i = t.findIndex((x) => x.name === 'blk.0.attn_k.weight');
        t[i] = { ...t[i]!, ne: [8, 8] };
      },
      /'blk.0.attn_k.weight' has ne \[8, 8\], expected \[8, 4\]/,
    );
    expectInvalid((_, t) => t.push({ ...t[0]!, name: 'output.weight' }), /Unexpected tensor 'output.weight'/);
    expectInvalid((_, t) => t.push({ ...t[1]!, name: 'blk.2.attn_norm.weight' }), /Unexpected tensor 'blk.2.attn_norm.weight'/);
  });
});
