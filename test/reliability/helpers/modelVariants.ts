// SPDX-License-Identifier: MIT
// Hostile variants of a valid tiny GGUF: truncations at field boundaries, flipped bytes, absurd
// counts and lengths, wrong tensor types and shapes, head metadata of the wrong size, NaN
// weights, and metadata llama.cpp reads but a logtriage file never needs. Byte-level variants
// come from the serialized file and its layout; semantic ones are re-serialized, so their
// structure is valid and only the meaning is wrong.
import type { GgufValue } from '../../../src/gguf/index.js';
import { serializeGguf, type RawTensor, type TinyGguf } from './ggufBytes.js';
import type { Prng } from './prng.js';

export interface ModelVariant {
  name: string;
  bytes: Buffer;
  /** When set, the file must be refused with a ModelFormatError whose message matches. */
  formatError?: RegExp;
  /** Tensor data was randomized or poisoned, so a model that opens may well score NaN. */
  poisonedWeights?: boolean;
}

const U64_MAX = 2n ** 64n - 1n;
const GGML = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, Q8_1: 9, Q4_K: 12, Q8_K: 15, I8: 24, I16: 25, I32: 26, I64: 27, F64: 28, BF16: 30, MXFP4: 39, NVFP4: 40, Q2_0: 42 } as const;
/** Bytes per block and elements per block, for the types used below. */
const BLOCK: Record<number, [number, number]> = {
  [GGML.F32]: [4, 1], [GGML.F16]: [2, 1], [GGML.BF16]: [2, 1], [GGML.Q4_0]: [18, 32], [GGML.Q8_0]: [34, 32], [GGML.Q8_1]: [36, 32],
  [GGML.I8]: [1, 1], [GGML.I16]: [2, 1], [GGML.I32]: [4, 1], [GGML.I64]: [8, 1], [GGML.F64]: [8, 1], [GGML.MXFP4]: [17, 32],
  [GGML.NVFP4]: [36, 64], [GGML.Q2_0]: [18, 64],
};

function clone(model: TinyGguf): TinyGguf {
  return { metadata: new Map(model.metadata), tensors: model.tensors.map((t) => ({ ...t })) };
}

function bytesOf(model: TinyGguf): Buffer {
  return serializeGguf(model).bytes;
}

function withMeta(model: TinyGguf, edit: (meta: Map<string, GgufValue>) => void): Buffer {
  const copy = clone(model);
  edit(copy.metadata);
  return bytesOf(copy);
}

function withTensor(model: TinyGguf, name: string, edit: (t: RawTensor) => RawTensor | undefined): Buffer {
  const copy = clone(model);
  copy.tensors = copy.tensors.flatMap((t) => (t.name === name ? (edit(t) ?? []) : [t]));
  return bytesOf(copy);
}

function setU64(bytes: Buffer, at: number, value: bigint): Buffer {
  const out = Buffer.from(bytes);
  out.writeBigUInt64LE(value, at);
  return out;
}

function setU32(bytes: Buffer, at: number, value: number): Buffer {
  const out = Buffer.from(bytes);
  out.writeUInt32LE(value >>> 0, at);
  return out;
}

function floats(values: number[]): Buffer {
  return Buffer.from(Float32Array.from(values).buffer);
}

/** Hands each variant to `emit` as it is made (all of them together would be hundreds of MB). */
export function modelVariants(base: TinyGguf, rng: Prng, emit: (variant: ModelVariant) => void): void {
  const { bytes: valid, layout } = serializeGguf(base);
  const add = (name: string, bytes: Buffer, formatError?: RegExp) => emit({ name, bytes, ...(formatError ? { formatError } : {}) });
  const addPoisoned = (name: string, bytes: Buffer) => emit({ name, bytes, poisonedWeights: true });
  add('valid', valid);
  const kv = (key: string) => layout.kvs.find((k) => k.key === key)!;
  const nTokens = (base.metadata.get('tokenizer.ggml.tokens')!.value as string[]).length;
  const labels = base.metadata.get('qwen2.classifier.output_labels')!.value as string[];
  const nEmbd = base.metadata.get('qwen2.embedding_length')!.value as number;
  const headWeight = base.metadata.get('logtriage.head.weight')!.value as Float32Array;

  // Truncated at every field boundary of the header, inside the data, and at random offsets.
  const cuts = new Set<number>([0, 3, 4, 7, 8, 15, 16, 23, 24, layout.dataOffset - 1, layout.dataOffset, valid.length - 1]);
  for (const k of layout.kvs) [k.at + 1, k.valueAt, k.end - 1].forEach((c) => cuts.add(c));
  for (const t of [...layout.tensorInfos.slice(0, 3), ...layout.tensorInfos.slice(-3)]) [t.nDimsAt, t.typeAt, t.offsetAt + 4].forEach((c) => cuts.add(c));
  for (const at of [...layout.tensorDataAt.values()].slice(0, 4)) cuts.add(at + 1);
  while (cuts.size < 130) cuts.add(rng.int(1, valid.length - 1));
  for (const cut of [...cuts].sort((a, b) => a - b)) add(`truncated at ${cut}`, valid.subarray(0, cut), /truncated|beyond the file|can fit|Not a GGUF/);

  // Flipped bytes: in structural fields (counts, lengths, types, dims, offsets), anywhere in the
  // header, and in tensor data.
  const structural: Array<[number, number]> = [[8, 8], [16, 8]];
  for (const k of layout.kvs) {
    structural.push([k.at, 8], [k.typeAt, 4]);
    if (k.arrayCountAt !== undefined) structural.push([k.arrayCountAt, 8]);
    if (k.firstItemAt !== undefined) structural.push([k.firstItemAt, 8]);
  }
  for (const t of layout.tensorInfos) structural.push([t.at, 8], [t.nDimsAt, 4], [t.neAt, 8], [t.typeAt, 4], [t.offsetAt, 8]);
  const flip = (at: number) => {
    const out = Buffer.from(valid);
    out[at] = out[at]! ^ rng.int(1, 255);
    return out;
  };
  for (let i = 0; i < 50; i++) {
    const [start, width] = rng.pick(structural);
    const at = start + rng.int(0, width - 1);
    add(`structural byte ${at} flipped`, flip(at));
  }
  for (let i = 0; i < 40; i++) {
    const at = rng.int(0, layout.dataOffset - 1);
    add(`header byte ${at} flipped`, flip(at));
  }
  for (let i = 0; i < 10; i++) {
    const at = rng.int(layout.dataOffset, valid.length - 1);
    addPoisoned(`data byte ${at} flipped`, flip(at));
  }

  // Absurd counts and lengths.
  for (const v of [0n, 1n, BigInt(base.tensors.length + 1), 2n ** 32n, 2n ** 63n, U64_MAX]) add(`tensor count ${v}`, setU64(valid, layout.tensorCountAt, v));
  for (const v of [0n, BigInt(base.metadata.size - 1), BigInt(base.metadata.size + 1), 2n ** 32n, U64_MAX]) add(`metadata count ${v}`, setU64(valid, layout.kvCountAt, v));
  for (const key of ['general.architecture', 'tokenizer.ggml.tokens', 'logtriage.head.weight', 'general.alignment']) {
    for (const v of [0n, 2n ** 32n, 2n ** 63n, U64_MAX, BigInt(valid.length)]) add(`key '${key}' length ${v}`, setU64(valid, kv(key).at, v));
  }
  for (const key of ['tokenizer.ggml.tokens', 'tokenizer.ggml.merges', 'tokenizer.ggml.token_type', 'qwen2.classifier.output_labels', 'logtriage.head.weight', 'logtriage.head.shape']) {
    for (const v of [0n, 2n ** 31n, 2n ** 62n, U64_MAX]) add(`array '${key}' count ${v}`, setU64(valid, kv(key).arrayCountAt!, v));
  }
  for (const key of ['tokenizer.ggml.tokens', 'tokenizer.ggml.merges', 'qwen2.classifier.output_labels']) {
    for (const v of [2n ** 32n + 1n, 2n ** 63n, U64_MAX]) add(`first string of '${key}' length ${v}`, setU64(valid, kv(key).firstItemAt!, v));
  }
  for (const v of [0, 99, 2 ** 31, 2 ** 32 - 1]) add(`value type ${v} for 'qwen2.block_count'`, setU32(valid, kv('qwen2.block_count').typeAt, v));
  const embdInfo = layout.tensorInfos.find((t) => t.name === 'token_embd.weight')!;
  for (const v of [0, 5, 2 ** 31]) add(`token_embd n_dims ${v}`, setU32(valid, embdInfo.nDimsAt, v));
  for (const v of [0n, 2n ** 40n, 2n ** 63n, U64_MAX]) add(`token_embd ne[0] ${v}`, setU64(valid, embdInfo.neAt, v));
  for (const v of [4, 99, 2 ** 31]) add(`token_embd ggml type ${v}`, setU32(valid, embdInfo.typeAt, v), /unknown ggml type/);
  for (const v of [GGML.Q4_K, GGML.Q8_K]) add(`token_embd ggml type ${v} (256-element blocks)`, setU32(valid, embdInfo.typeAt, v), /block size/);
  const lastInfo = layout.tensorInfos.at(-1)!;
  for (const v of [1n, 32n, 2n ** 63n, BigInt(valid.length)]) add(`last tensor offset ${v}`, setU64(valid, lastInfo.offsetAt, v));

  // Tensor types llama.cpp cannot compute with (or that our file never holds), with a
  // consistent layout: the file is well formed, only the type is wrong for the tensor.
  const retype = (name: string, typeId: number) =>
    withTensor(base, name, (t) => {
      const [typeSize, blockSize] = BLOCK[typeId]!;
      const rows = t.ne.slice(1).reduce((a, b) => a * b, 1);
      return { ...t, typeId, data: rng.bytes((t.ne[0]! / blockSize) * typeSize * rows) };
    });
  for (const name of ['blk.0.attn_norm.weight', 'output_norm.weight', 'blk.1.attn_q.bias']) {
    for (const type of ['F16', 'BF16', 'Q8_0', 'I32', 'F64'] as const) add(`${name} as ${type}`, retype(name, GGML[type]), /has type/);
  }
  for (const name of ['blk.0.attn_q.weight', 'blk.1.ffn_down.weight', 'token_embd.weight']) {
    for (const type of ['I8', 'I16', 'I32', 'I64', 'F64', 'Q8_1'] as const) add(`${name} as ${type}`, retype(name, GGML[type]), /has type/);
    for (const type of ['F16', 'BF16', 'Q4_0', 'Q8_0', 'MXFP4', 'NVFP4', 'Q2_0'] as const) addPoisoned(`${name} as ${type} (random data)`, retype(name, GGML[type]));
  }

  // Wrong shapes.
  add('attn_k transposed', withTensor(base, 'blk.0.attn_k.weight', (t) => ({ ...t, ne: [t.ne[1]!, t.ne[0]!] })), /ne \[/);
  add('ffn_up with an extra dimension', withTensor(base, 'blk.0.ffn_up.weight', (t) => ({ ...t, ne: [...t.ne, 1] })), /ne \[/);
  add('token_embd one row short', withTensor(base, 'token_embd.weight', (t) => ({ ...t, ne: [t.ne[0]!, t.ne[1]! - 1], data: t.data.subarray(0, t.data.length - t.ne[0]! * 4) })), /ne \[/);
  add('missing output_norm', withTensor(base, 'output_norm.weight', () => undefined), /Missing tensor 'output_norm.weight'/);
  add('extra tensor', bytesOf({ ...base, tensors: [...base.tensors, { name: 'blk.9.attn_q.weight', ne: [4], typeId: 0, data: Buffer.alloc(16) }] }), /Unexpected tensor/);
  add('embedding length 32', withMeta(base, (m) => m.set('qwen2.embedding_length', { type: 'u32', value: 32 })), /ne \[|head.shape/);
  add('feed-forward length 193', withMeta(base, (m) => m.set('qwen2.feed_forward_length', { type: 'u32', value: 193 })), /ne \[/);

  // Head metadata of the wrong size, type or value.
  const head = (weight: number[] | Float32Array) => ({ type: 'array', itemType: 'f32', value: Float32Array.from(weight) }) as GgufValue;
  add('head shape [5, 63]', withMeta(base, (m) => m.set('logtriage.head.shape', { type: 'array', itemType: 'u32', value: Uint32Array.of(labels.length, nEmbd - 1) })), /head.shape/);
  add('head shape of 3 dims', withMeta(base, (m) => m.set('logtriage.head.shape', { type: 'array', itemType: 'u32', value: Uint32Array.of(labels.length, nEmbd, 1) })), /head.shape/);
  add('head weight one value short', withMeta(base, (m) => m.set('logtriage.head.weight', head(headWeight.subarray(1)))), /head.weight/);
  add('head weight one value long', withMeta(base, (m) => m.set('logtriage.head.weight', head([...headWeight, 0]))), /head.weight/);
  add('head weight as i32', withMeta(base, (m) => m.set('logtriage.head.weight', { type: 'array', itemType: 'i32', value: new Int32Array(headWeight.length) })), /head.weight/);
  add('head bias of nLabels - 1', withMeta(base, (m) => m.set('logtriage.head.bias', head(new Array(labels.length - 1).fill(0)))), /head.bias/);
  add('one label fewer than head rows', withMeta(base, (m) => m.set('qwen2.classifier.output_labels', { type: 'array', itemType: 'string', value: labels.slice(1) })), /head.shape/);
  add('no labels', withMeta(base, (m) => m.set('qwen2.classifier.output_labels', { type: 'array', itemType: 'string', value: [] })), /output_labels/);
  for (const [what, value, at] of [['NaN', NaN, 0], ['NaN', NaN, headWeight.length - 1], ['+Inf', Infinity, 7], ['-Inf', -Infinity, 100]] as const) {
    const w = Float32Array.from(headWeight);
    w[at] = value;
    add(`head weight ${what} at ${at}`, withMeta(base, (m) => m.set('logtriage.head.weight', head(w))), /non-finite/);
  }
  add('head bias NaN', withMeta(base, (m) => m.set('logtriage.head.bias', head([0, NaN, 0, 0, 0].slice(0, labels.length)))), /non-finite/);

  // Non-finite weights in the tensors themselves.
  const poison = (name: string, value: number, every: number) =>
    withTensor(base, name, (t) => {
      const data = Buffer.from(t.data);
      for (let i = 0; i < data.length / 4; i += every) data.writeFloatLE(value, i * 4);
      return { ...t, data };
    });
  addPoisoned('output_norm all NaN', poison('output_norm.weight', NaN, 1));
  addPoisoned('attn_q with +Inf', poison('blk.0.attn_q.weight', Infinity, 97));
  addPoisoned('token_embd with NaN', poison('token_embd.weight', NaN, 13));

  // Hyperparameters out of range.
  const u32 = (key: string, value: number) => withMeta(base, (m) => m.set(key, { type: 'u32', value }));
  const f32 = (key: string, value: number) => withMeta(base, (m) => m.set(key, { type: 'f32', value }));
  for (const v of [0, 2 ** 31, 2 ** 32 - 1]) add(`context length ${v}`, u32('qwen2.context_length', v), /context_length/);
  add('context length 1', u32('qwen2.context_length', 1));
  for (const v of [0, 3, 600]) add(`block count ${v}`, u32('qwen2.block_count', v), /block_count|Missing tensor|Unexpected tensor/);
  for (const v of [0, 3, 64, 128]) add(`head count ${v}`, u32('qwen2.attention.head_count', v), /head_count|ne \[/);
  for (const v of [0, 3, 8]) add(`kv head count ${v}`, u32('qwen2.attention.head_count_kv', v), /head_count_kv|ne \[/);
  for (const v of [0, NaN, -1]) add(`rms eps ${v}`, f32('qwen2.attention.layer_norm_rms_epsilon', v), /layer_norm_rms_epsilon/);
  for (const v of [0, NaN, Infinity]) add(`rope freq base ${v}`, f32('qwen2.rope.freq_base', v), /freq_base/);
  for (const v of [0, 1, 2, 99]) add(`pooling type ${v}`, u32('qwen2.pooling_type', v), /pooling_type/);

  // Tokenizer metadata.
  const tokens = base.metadata.get('tokenizer.ggml.tokens')!.value as string[];
  const tokenTypes = base.metadata.get('tokenizer.ggml.token_type')!.value as Int32Array;
  const setTokens = (edit: (t: string[]) => void) =>
    withMeta(base, (m) => {
      const t = [...tokens];
      edit(t);
      m.set('tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: t });
    });
  const setTypes = (edit: (t: Int32Array) => void) =>
    withMeta(base, (m) => {
      const t = Int32Array.from(tokenTypes);
      edit(t);
      m.set('tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: t });
    });
  for (const model of ['llama', 'bert', 't5', 'none', '']) add(`tokenizer model '${model}'`, withMeta(base, (m) => m.set('tokenizer.ggml.model', { type: 'string', value: model })), /tokenizer.ggml.model/);
  for (const pre of ['llama3', 'default', '']) add(`tokenizer pre '${pre}'`, withMeta(base, (m) => m.set('tokenizer.ggml.pre', { type: 'string', value: pre })), /tokenizer.ggml.pre/);
  add('duplicate token', setTokens((t) => (t[300] = t[301]!)), /repeats token/);
  add('empty token text', setTokens((t) => (t[300] = '')));
  add('control token text emptied', setTokens((t) => (t[nTokens - 1] = '')));
  for (const type of [6, 7, -1, 2]) add(`token 300 of type ${type}`, setTypes((t) => (t[300] = type)), type === 7 || type === -1 ? /token_type/ : undefined);
  add('every token of type control', setTypes((t) => t.fill(3)));
  add('token types one short', withMeta(base, (m) => m.set('tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: tokenTypes.subarray(1) })), /token_type/);
  add('merge without a space', withMeta(base, (m) => m.set('tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: ['ab', 'c d'] })), /merges/);
  add('merges of unknown tokens', withMeta(base, (m) => m.set('tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: ['zz qq', 'Ġ Ġ', '😀 😀'] })));
  add('no merges', withMeta(base, (m) => m.set('tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: [] })));
  for (const [key, v] of [['tokenizer.ggml.eos_token_id', nTokens], ['tokenizer.ggml.bos_token_id', 2 ** 32 - 1], ['tokenizer.ggml.padding_token_id', nTokens]] as const) {
    add(`${key} ${v}`, u32(key, v), /token_id/);
  }

  // Metadata a logtriage file never holds but llama.cpp reads (asserting on some values).
  const extra = (key: string, value: GgufValue) => withMeta(base, (m) => m.set(key, value));
  add('rope scaling type "bogus"', extra('qwen2.rope.scaling.type', { type: 'string', value: 'bogus' }), /qwen2.rope.scaling.type/);
  add('rope scaling type "yarn"', extra('qwen2.rope.scaling.type', { type: 'string', value: 'yarn' }), /qwen2.rope.scaling.type/);
  add('rope scaling factor NaN', extra('qwen2.rope.scaling.factor', { type: 'f32', value: NaN }), /qwen2.rope.scaling.factor/);
  add('sliding window 1', extra('qwen2.attention.sliding_window', { type: 'u32', value: 1 }), /qwen2.attention.sliding_window/);
  add('rope dimension count 7', extra('qwen2.rope.dimension_count', { type: 'u32', value: 7 }), /rope.dimension_count/);
  add('key length 0', extra('qwen2.attention.key_length', { type: 'u32', value: 0 }), /key_length/);
  add('expert count 8', extra('qwen2.expert_count', { type: 'u32', value: 8 }), /qwen2.expert_count/);
  add('non-causal attention', extra('qwen2.attention.causal', { type: 'bool', value: false }), /qwen2.attention.causal/);
  add('unknown token id 2^31', extra('tokenizer.ggml.unknown_token_id', { type: 'u32', value: 2 ** 31 }));
  add('eot token id out of range', extra('tokenizer.ggml.eot_token_id', { type: 'u32', value: nTokens + 5 }));
  add('scores of strings', extra('tokenizer.ggml.scores', { type: 'array', itemType: 'string', value: tokens.map(() => 'x') }));
  add('scores one short', extra('tokenizer.ggml.scores', { type: 'array', itemType: 'f32', value: new Float32Array(nTokens - 1) }));
  add('a 1 MB chat template', extra('tokenizer.chat_template', { type: 'string', value: '{{'.repeat(1 << 19) }));
  add('a 100,000-entry unknown array', extra('x.junk', { type: 'array', itemType: 'u64', value: new BigUint64Array(100_000) }));
  for (const v of [0, 3, 64, 2 ** 31]) add(`alignment ${v}`, extra('general.alignment', { type: 'u32', value: v }), /alignment|not aligned|beyond the file/);
  add('alignment as a string', extra('general.alignment', { type: 'string', value: '32' }), /alignment/);
  add('split count 2', extra('split.count', { type: 'u16', value: 2 }));
  add('architecture qwen3', extra('general.architecture', { type: 'string', value: 'qwen3' }), /architecture/);
  add('format version 2', extra('logtriage.format_version', { type: 'u32', value: 2 }), /format_version/);
}
