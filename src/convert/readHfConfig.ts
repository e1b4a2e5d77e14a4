// SPDX-License-Identifier: MIT
// Reads a HuggingFace config.json and accepts only what the llama.cpp qwen2 graph computes
// exactly like transformers' Qwen2ForSequenceClassification: SiLU, no sliding window, no RoPE
// scaling, head_dim = hidden_size / num_attention_heads. Anything else is a ConvertError naming
// the field, because converting it anyway would give silently different logits.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { z } from 'zod';

import { ConvertError } from '../errors.js';
import type { Qwen2Dims } from '../gguf/qwen2Tensors.js';
import { unprintableLabelChar } from '../gguf/labelNames.js';

const SUPPORTED_ARCHITECTURE = 'Qwen2ForSequenceClassification';
const LLAMA_MAX_LAYERS = 512;

export interface Qwen2ClassifierConfig {
  readonly dims: Qwen2Dims;
  readonly contextLength: number;
  readonly ropeTheta: number;
  readonly rmsNormEps: number;
  /** From id2label, in label-id order. */
  readonly labels: string[];
  readonly padTokenId?: number;
  readonly bosTokenId?: number;
  /** config.json's eos_token_id (the first one when it is a list). */
  readonly eosTokenId?: number;
}

const count = z.number().int().positive();
const tokenId = z.number().int().nonnegative();
const configSchema = z
  .object({
    architectures: z.array(z.string()),
    model_type: z.string(),
    hidden_act: z.string(),
    hidden_size: count,
    intermediate_size: count,
    num_hidden_layers: count.max(LLAMA_MAX_LAYERS),
    num_attention_heads: count,
    num_key_value_heads: count.optional(),
    head_dim: count.optional(),
    vocab_size: count,
    max_position_embeddings: count,
    rms_norm_eps: z.number().positive(),
    rope_theta: z.number().positive().optional(),
    rope_scaling: z.unknown().optional(),
    // transformers ≥ 5 moves rope_theta / rope_type here.
    rope_parameters: z.object({ rope_theta: z.number().positive().optional(), rope_type: z.string().optional() }).loose().nullable().optional(),
    use_sliding_window: z.boolean().optional(),
    // transformers ≥ 4.53 spells the attention kind out per layer.
    layer_types: z.array(z.string()).optional(),
    id2label: z.record(z.string(), z.string().min(1)),
    num_labels: count.optional(),
    pad_token_id: tokenId.nullable().optional(),
    bos_token_id: tokenId.nullable().optional(),
    eos_token_id: z.union([tokenId, z.array(tokenId)]).nullable().optional(),
  })
  .loose();

type RawConfig = z.infer<typeof configSchema>;

function fail(field: string, message: string): never {
  throw new ConvertError(`config.json: ${field} ${message}`);
}

export async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConvertError(`Missing or unreadable ${what} (${path}): ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConvertError(`${what} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function checkArchitecture(raw: unknown): void {
  const probe = z.object({ architectures: z.array(z.string()).optional(), model_type: z.string().optional() }).safeParse(raw);
  if (!probe.success) fail('architectures/model_type', 'are missing or not strings');
  const { architectures, model_type: modelType } = probe.data;
  if (!architectures?.includes(SUPPORTED_ARCHITECTURE)) {
    fail('architectures', `is ${JSON.stringify(architectures)}; only ${SUPPORTED_ARCHITECTURE} is supported`);
  }
  if (modelType !== 'qwen2') fail('model_type', `is ${JSON.stringify(modelType)}; only "qwen2" (Qwen2, Qwen2.5) is supported`);
}

function parseConfig(raw: unknown): RawConfig {
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  return fail(issue.path.join('.') || '(root)', `is invalid: ${issue.message}`);
}

function checkSemantics(config: RawConfig): void {
  if (config.hidden_act !== 'silu') fail('hidden_act', `is "${config.hidden_act}"; llama.cpp's qwen2 graph uses SiLU only`);
  if (config.use_sliding_window === true) fail('use_sliding_window', 'is true; llama.cpp\'s qwen2 graph has no sliding-window attention');
  const slidingLayer = config.layer_types?.findIndex((kind) => kind !== 'full_attention') ?? -1;
  if (slidingLayer !== -1) fail(`layer_types[${slidingLayer}]`, `is "${config.layer_types![slidingLayer]}"; llama.cpp's qwen2 graph has full attention only`);
  if (config.rope_scaling !== undefined && config.rope_scaling !== null) {
    fail('rope_scaling', `is ${JSON.stringify(config.rope_scaling)}; RoPE scaling is not supported`);
  }
  const ropeType = config.rope_parameters?.rope_type;
  if (ropeType !== undefined && ropeType !== 'default') fail('rope_parameters.rope_type', `is "${ropeType}"; RoPE scaling is not supported`);
  const { hidden_size: hidden, num_attention_heads: heads } = config;
  const kvHeads = config.num_key_value_heads ?? heads;
  if (hidden % heads !== 0) fail('num_attention_heads', `(${heads}) does not divide hidden_size (${hidden})`);
  if (heads % kvHeads !== 0) fail('num_key_value_heads', `(${kvHeads}) does not divide num_attention_heads (${heads})`);
  if (config.head_dim !== undefined && config.head_dim !== hidden / heads) {
    fail('head_dim', `is ${config.head_dim}, but llama.cpp's qwen2 needs hidden_size / num_attention_heads = ${hidden / heads}`);
  }
  for (const field of ['pad_token_id', 'bos_token_id'] as const) {
    const id = config[field];
    if (typeof id === 'number' && id >= config.vocab_size) fail(field, `(${id}) is not below vocab_size (${config.vocab_size})`);
  }
}

function readLabels(config: RawConfig): string[] {
  const n = Object.keys(config.id2label).length;
  const labels = Array.from(
    { length: n },
    (_, i) => config.id2label[String(i)] ?? fail('id2label', `must have the keys "0" to "${n - 1}", but "${i}" is missing`),
  );
  if (labels.length === 0) fail('id2label', 'is empty');
  if (config.num_labels !== undefined && config.num_labels !== labels.length) {
    fail('num_labels', `(${config.num_labels}) does not match the ${labels.length} entries of id2label`);
  }
  const duplicate = labels.find((label, i) => labels.indexOf(label) !== i);
  if (duplicate !== undefined) fail('id2label', `names "${duplicate}" twice`);
  // The loader refuses these (validateLogtriageModel): refused here, before a conversion writes a file it would not load.
  labels.forEach((label, i) => {
    const char = unprintableLabelChar(label);
    if (char !== undefined) fail('id2label', `"${i}" holds the control or bidi character ${char}`);
    if (label.trim().length === 0) fail('id2label', `"${i}" is blank`);
  });
  return labels;
}

/** Reads and checks `<dir>/config.json` of a Qwen2ForSequenceClassification checkpoint. */
export async function readHfConfig(dir: string): Promise<Qwen2ClassifierConfig> {
  const raw = await readJson(join(dir, 'config.json'), 'config.json');
  checkArchitecture(raw);
  const config = parseConfig(raw);
  checkSemantics(config);
  const eos = Array.isArray(config.eos_token_id) ? config.eos_token_id[0] : config.eos_token_id;
  return {
    dims: {
      nEmbd: config.hidden_size,
      nLayers: config.num_hidden_layers,
      nHead: config.num_attention_heads,
      nHeadKv: config.num_key_value_heads ?? config.num_attention_heads,
      nFf: config.intermediate_size,
      nVocab: config.vocab_size,
    },
    contextLength: config.max_position_embeddings,
    // transformers' Qwen2Config default.
    ropeTheta: config.rope_theta ?? config.rope_parameters?.rope_theta ?? 10000,
    rmsNormEps: config.rms_norm_eps,
    labels: readLabels(config),
    padTokenId: config.pad_token_id ?? undefined,
    bosTokenId: config.bos_token_id ?? undefined,
    eosTokenId: eos ?? undefined,
  };
}
