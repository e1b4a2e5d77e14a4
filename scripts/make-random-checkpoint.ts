// SPDX-License-Identifier: MIT
// Writes a HuggingFace Qwen2ForSequenceClassification checkpoint with seeded random weights, for
// converter memory/time measurements and dtype/sharding tests. Tensors are generated and written
// a chunk at a time, so a 1.5B-parameter checkpoint never sits in memory. The tokenizer files
// are copied from the qwen2-tiny-public fixture. Outputs are never committed.
//
//   npx tsx scripts/make-random-checkpoint.ts [outDir] [--shape qwen2-1.5b|tiny|micro|micro-h32] [--dtype bf16|f16|f32] [--shards N] [--seed N]

import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { convertFloatChunk } from '../src/convert/convertFloats.js';
import type { FloatDtype } from '../src/convert/convertFloats.js';
import { qwen2TensorSpecs } from '../src/gguf/qwen2Tensors.js';
import type { Qwen2Dims } from '../src/gguf/qwen2Tensors.js';

export const CHECKPOINT_SHAPES = {
  'qwen2-1.5b': { nEmbd: 1536, nLayers: 28, nHead: 12, nHeadKv: 2, nFf: 8960, nVocab: 151936 },
  tiny: { nEmbd: 64, nLayers: 2, nHead: 4, nHeadKv: 2, nFf: 192, nVocab: 151936 },
  /** For fast tests: the Qwen2 tokenizer cut down to its first merges (see shrinkTokenizer). */
  micro: { nEmbd: 32, nLayers: 2, nHead: 4, nHeadKv: 2, nFf: 64, nVocab: 512 },
  /** micro with 32-wide attention heads, the least a Q8_0 KV cache accepts. */
  'micro-h32': { nEmbd: 64, nLayers: 2, nHead: 2, nHeadKv: 1, nFf: 64, nVocab: 512 },
} as const satisfies Record<string, Qwen2Dims>;
export type CheckpointShape = keyof typeof CHECKPOINT_SHAPES;

/** Deliberately not the fixture's order: converters must read id2label, not assume it. */
export const RANDOM_CHECKPOINT_LABELS = ['Error', 'Informational', 'Malicious', 'Normal', 'Suspicious'];

export interface RandomCheckpointOptions {
  readonly shape?: CheckpointShape;
  readonly dtype?: 'bf16' | 'f16' | 'f32';
  readonly shards?: number;
  readonly seed?: number;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOKENIZER_DIR = resolve(repoRoot, '..', 'shared', 'fixtures', 'qwen2-tiny-public', 'model');
const CHUNK_ELEMENTS = 1 << 20;
const DTYPE_NAME: Readonly<Record<'bf16' | 'f16' | 'f32', FloatDtype>> = { bf16: 'BF16', f16: 'F16', f32: 'F32' };

interface RandomTensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** Norm weights are 1 + noise; everything else is noise around 0. */
  readonly center: number;
}

/** Seeded mulberry32 with Box-Muller: deterministic N(center, 0.02) values. */
class NormalRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  private uniform(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 2 ** 32; // never 0, so log() stays finite
  }

  fill(out: Float32Array, center: number): void {
    for (let i = 0; i < out.length; i += 2) {
      const radius = Math.sqrt(-2 * Math.log(this.uniform())) * 0.02;
      const angle = 2 * Math.PI * this.uniform();
      out[i] = center + radius * Math.cos(angle);
      if (i + 1 < out.length) out[i + 1] = center + radius * Math.sin(angle);
    }
  }
}

function tensorList(dims: Qwen2Dims, nLabels: number): RandomTensor[] {
  const tensors = qwen2TensorSpecs(dims).map((spec) => ({ name: spec.hfName, shape: spec.shape, center: spec.hfName.endsWith('norm.weight') ? 1 : 0 }));
  return [...tensors, { name: 'score.weight', shape: [nLabels, dims.nEmbd], center: 0 }];
}

/** Splits tensors into `shards` consecutive groups of roughly equal size. */
function splitShards(tensors: readonly RandomTensor[], shards: number, elementSize: number): RandomTensor[][] {
  const bytesOf = (t: RandomTensor) => t.shape.reduce((a, b) => a * b, 1) * elementSize;
  const target = tensors.reduce((sum, t) => sum + bytesOf(t), 0) / shards;
  const groups: RandomTensor[][] = [[]];
  let size = 0;
  for (const tensor of tensors) {
    if (size >= target && groups.length < shards) {
      groups.push([]);
      size = 0;
    }
    groups.at(-1)!.push(tensor);
    size += bytesOf(tensor);
  }
  return groups;
}

async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  for (let done = 0; done < data.length; ) done += (await fh.write(data, done, data.length - done)).bytesWritten;
}

async function writeShard(path: string, tensors: readonly RandomTensor[], dtype: FloatDtype, random: NormalRandom): Promise<number> {
  const elementSize = dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * elementSize;
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const fh = await open(path, 'w');
  try {
    await writeAll(fh, Buffer.concat([length, json]));
    const values = new Float32Array(CHUNK_ELEMENTS);
    for (const t of tensors) {
      const count = t.shape.reduce((a, b) => a * b, 1);
      for (let done = 0; done < count; done += CHUNK_ELEMENTS) {
        const chunk = values.subarray(0, Math.min(CHUNK_ELEMENTS, count - done));
        random.fill(chunk, t.center);
        const { output } = convertFloatChunk(new Uint8Array(chunk.buffer, 0, chunk.byteLength), 'F32', dtype);
        await writeAll(fh, output);
      }
    }
  } finally {
    await fh.close();
  }
  return offset;
}

const FULL_VOCAB = 151936;
const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
/** Ids at the top of a shrunk vocabulary left without a token, as in the real one. */
const UNUSED_IDS = 5;

interface TokenizerJson {
  added_tokens: { id: number; content: string }[];
  model: { vocab: Record<string, number>; merges: string[] };
}

/**
 * Keeps the 256 byte tokens and the first merges of the Qwen2 tokenizer (merge i makes id 256 + i,
 * so the result is self-consistent), then the three special tokens and a few unused ids.
 */
function shrinkTokenizer(tokenizer: TokenizerJson, vocabSize: number): TokenizerJson {
  const normalTokens = vocabSize - SPECIAL_TOKENS.length - UNUSED_IDS;
  tokenizer.model.vocab = Object.fromEntries(Object.entries(tokenizer.model.vocab).filter(([, id]) => id < normalTokens));
  tokenizer.model.merges = tokenizer.model.merges.slice(0, normalTokens - 256);
  tokenizer.added_tokens = tokenizer.added_tokens.map((token) => ({ ...token, id: normalTokens + SPECIAL_TOKENS.indexOf(token.content) }));
  return tokenizer;
}

function configJson(dims: Qwen2Dims, dtype: string): unknown {
  const specialId = dims.nVocab < FULL_VOCAB ? dims.nVocab - SPECIAL_TOKENS.length - UNUSED_IDS : 151643; // <|endoftext|>
  return {
    architectures: ['Qwen2ForSequenceClassification'],
    model_type: 'qwen2',
    hidden_act: 'silu',
    hidden_size: dims.nEmbd,
    intermediate_size: dims.nFf,
    num_hidden_layers: dims.nLayers,
    num_attention_heads: dims.nHead,
    num_key_value_heads: dims.nHeadKv,
    vocab_size: dims.nVocab,
    max_position_embeddings: 32768,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    rope_scaling: null,
    use_sliding_window: false,
    sliding_window: 32768,
    max_window_layers: dims.nLayers,
    tie_word_embeddings: true,
    bos_token_id: specialId,
    eos_token_id: specialId,
    pad_token_id: specialId,
    id2label: Object.fromEntries(RANDOM_CHECKPOINT_LABELS.map((label, i) => [String(i), label])),
    label2id: Object.fromEntries(RANDOM_CHECKPOINT_LABELS.map((label, i) => [label, i])),
    torch_dtype: { bf16: 'bfloat16', f16: 'float16', f32: 'float32' }[dtype],
  };
}

/** Writes the checkpoint into `outDir` (created if needed) and returns the total weight bytes. */
export async function makeRandomCheckpoint(outDir: string, options: RandomCheckpointOptions = {}): Promise<number> {
  const { shape = 'qwen2-1.5b', dtype = 'bf16', shards = 2, seed = 1 } = options;
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`--shards must be a positive integer, got ${shards}`);
  const dims = CHECKPOINT_SHAPES[shape];
  const safetensorsDtype = DTYPE_NAME[dtype];
  await mkdir(outDir, { recursive: true });
  const random = new NormalRandom(seed);
  const groups = splitShards(tensorList(dims, RANDOM_CHECKPOINT_LABELS.length), shards, dtype === 'f32' ? 4 : 2);
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (const [i, group] of groups.entries()) {
    const file = groups.length === 1 ? 'model.safetensors' : `model-${String(i + 1).padStart(5, '0')}-of-${String(groups.length).padStart(5, '0')}.safetensors`;
    totalSize += await writeShard(join(outDir, file), group, safetensorsDtype, random);
    for (const t of group) weightMap[t.name] = file;
  }
  if (groups.length > 1) {
    await rm(join(outDir, 'model.safetensors'), { force: true });
    await writeFile(join(outDir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2));
  }
  await writeFile(join(outDir, 'config.json'), JSON.stringify(configJson(dims, dtype), null, 2));
  // Copied by content: the fixture files are read-only, and a re-run must be able to overwrite.
  const tokenizer = await readFile(join(TOKENIZER_DIR, 'tokenizer.json'), 'utf8');
  await writeFile(join(outDir, 'tokenizer.json'), dims.nVocab < FULL_VOCAB ? JSON.stringify(shrinkTokenizer(JSON.parse(tokenizer), dims.nVocab)) : tokenizer);
  await writeFile(join(outDir, 'tokenizer_config.json'), await readFile(join(TOKENIZER_DIR, 'tokenizer_config.json')));
  return totalSize;
}

export function defaultCheckpointDir(shape: CheckpointShape, dtype: string, shards: number): string {
  return join(homedir(), '.cache', 'logtriage', `random-${shape}-${dtype}-${shards}shards`);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      shape: { type: 'string', default: 'qwen2-1.5b' },
      dtype: { type: 'string', default: 'bf16' },
      shards: { type: 'string', default: '2' },
      seed: { type: 'string', default: '1' },
    },
  });
  if (!(values.shape in CHECKPOINT_SHAPES)) throw new Error(`--shape must be one of ${Object.keys(CHECKPOINT_SHAPES).join(', ')}`);
  if (!['bf16', 'f16', 'f32'].includes(values.dtype)) throw new Error('--dtype must be bf16, f16 or f32');
  const shape = values.shape as CheckpointShape;
  const dtype = values.dtype as 'bf16' | 'f16' | 'f32';
  const shards = Number(values.shards);
  const outDir = resolve(positionals[0] ?? defaultCheckpointDir(shape, dtype, shards));
  const started = performance.now();
  const bytes = await makeRandomCheckpoint(outDir, { shape, dtype, shards, seed: Number(values.seed) });
  console.error(`Wrote ${(bytes / 2 ** 30).toFixed(2)} GiB of ${dtype} weights to ${outDir} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

// By file name, not import.meta.url: bundled into another script (scripts/bundle-gpu-check.mjs) this
// module shares that script's URL, and must not run its own main there.
if (/^make-random-checkpoint\.[cm]?[jt]s$/.test(basename(process.argv[1] ?? ''))) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
