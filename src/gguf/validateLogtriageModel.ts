// SPDX-License-Identifier: MIT
// Checks that a GGUF header (from readGgufHeader) is a logtriage classifier that llama.cpp's
// qwen2 loader will accept, and returns what the runtime needs: dimensions, labels and the
// F32 classification head. It also rejects values that would otherwise reach llama.cpp asserts
// or aborts (duplicate tokens, head_dim mismatches, block counts past LLAMA_MAX_LAYERS, tensor
// types ggml cannot compute with, qwen2 hyperparameters a logtriage model never sets).

import { readAdaptRecord, type AdaptRecord } from './adaptKeys.js';
import { readCalibration, type CalibrationRecord } from './calibrationKeys.js';
import { ModelFormatError } from '../errors.js';
import { POOLING_TYPE_LAST, TOKEN_TYPE } from './ggufTypes.js';
import type { GgufHeader, GgufMetadata, GgufValue } from './ggufTypes.js';
import { readStoredDigest } from './contentDigest.js';
import { ARCHITECTURE, KEY, LOGTRIAGE_FORMAT_VERSION } from './modelKeys.js';
import { qwen2TensorSpecs } from './qwen2Tensors.js';
import { unprintableLabelChar } from './labelNames.js';

/** llama.cpp's LLAMA_MAX_LAYERS (src/llama-hparams.h). */
const LLAMA_MAX_LAYERS = 512;
const MAX_TOKEN_TYPE = Math.max(...Object.values(TOKEN_TYPE));

/**
 * Types a weight matrix may have: those ggml's CPU backend has a dot product for. Integer types,
 * F64 and the activation-only Q8_1 / Q8_K load but abort or crash the first decode.
 */
const NOT_WEIGHT_TYPES = new Set(['I8', 'I16', 'I32', 'I64', 'F64', 'Q8_1', 'Q8_K']);
/** Norm weights and biases are added and multiplied element-wise, which ggml does in F32 only. */
const VECTOR_TYPE = 'F32';

/**
 * The qwen2.* keys a logtriage model may hold. llama.cpp reads many more (rope scaling, sliding
 * window, experts, causality...) and asserts on some of their values, e.g. an unknown
 * `qwen2.rope.scaling.type` or a non-zero `qwen2.expert_count`: none belongs in a classifier.
 */
const ALLOWED_ARCH_KEYS = new Set<string>([
  KEY.contextLength, KEY.embeddingLength, KEY.blockCount, KEY.feedForwardLength, KEY.headCount, KEY.headCountKv,
  KEY.ropeFreqBase, KEY.rmsNormEps, KEY.poolingType, KEY.labels,
  'qwen2.attention.key_length', 'qwen2.attention.value_length', 'qwen2.rope.dimension_count',
]);

export interface ClassificationHead {
  /** Row-major [nLabels, nEmbd], as HuggingFace `score.weight`. */
  readonly weight: Float32Array;
  readonly bias?: Float32Array;
  readonly nLabels: number;
  readonly nEmbd: number;
}

export interface LogtriageModelInfo {
  readonly arch: 'qwen2';
  readonly formatVersion: number;
  /** llama_ftype from general.file_type (0 F32, 1 F16, 32 BF16, 7 Q8_0, 2 Q4_0, 15 Q4_K_M, ...). */
  readonly fileType: number;
  readonly name?: string;
  readonly nEmbd: number;
  readonly nLayers: number;
  readonly nCtxTrain: number;
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly nFf: number;
  readonly nVocab: number;
  /** Label names in label-id order. */
  readonly labels: string[];
  readonly head: ClassificationHead;
  readonly eosTokenId: number;
  readonly bosTokenId?: number;
  readonly padTokenId?: number;
  /** From `logtriage.calibration.*`; undefined when the model was never calibrated. */
  readonly calibration?: CalibrationRecord;
  /** From `logtriage.adapt.*`: how `logtriage adapt` fitted this head; undefined for a converted head. */
  readonly adapt?: AdaptRecord;
  /** What the content digest (`logtriage.digest.*`) covers; undefined when the file has none (unverifiable). */
  readonly digest?: DigestCoverage;
}

/** The shape of a file's content digest: what `verify` would check, not whether it matches. */
export interface DigestCoverage {
  readonly version: number;
  /** Tensors with a SHA-256 (every tensor of the file). */
  readonly tensors: number;
  /** Metadata keys with a SHA-256. */
  readonly metadataKeys: number;
}

type TypeOf<T extends GgufValue['type']> = Extract<GgufValue, { type: T }>;
type ArrayOf<T extends string> = Extract<GgufValue, { type: 'array'; itemType: T }>;

function describe(value: GgufValue): string {
  return value.type === 'array' ? `array of ${value.itemType}` : value.type;
}

/** Typed, named access to metadata; every miss or mismatch is a ModelFormatError naming the key. */
class MetadataView {
  constructor(private readonly metadata: GgufMetadata) {}

  private get(key: string): GgufValue {
    const value = this.metadata.get(key);
    if (value === undefined) throw new ModelFormatError(`Missing metadata key '${key}'`);
    return value;
  }

  has(key: string): boolean {
    return this.metadata.has(key);
  }

  scalar<T extends 'u32' | 'f32' | 'string' | 'bool'>(key: string, type: T): TypeOf<T>['value'] {
    const value = this.get(key);
    if (value.type !== type) throw new ModelFormatError(`Metadata key '${key}' must be ${type}, found ${describe(value)}`);
    return value.value as TypeOf<T>['value'];
  }

  array<T extends 'u32' | 'i32' | 'f32' | 'string'>(key: string, itemType: T): ArrayOf<T>['value'] {
    const value = this.get(key);
    if (value.type !== 'array' || value.itemType !== itemType) {
      throw new ModelFormatError(`Metadata key '${key}' must be an array of ${itemType}, found ${describe(value)}`);
    }
    return value.value as ArrayOf<T>['value'];
  }

  /** A u32 in [min, max]. */
  count(key: string, min = 1, max = 0xffffffff): number {
    const value = this.scalar(key, 'u32');
    if (value < min || value > max) throw new ModelFormatError(`Metadata key '${key}' is ${value}, expected ${min} to ${max}`);
    return value;
  }

  positiveFloat(key: string): number {
    const value = this.scalar(key, 'f32');
    if (!Number.isFinite(value) || value <= 0) throw new ModelFormatError(`Metadata key '${key}' is ${value}, expected a finite positive number`);
    return value;
  }

  tokenId(key: string, nVocab: number): number {
    return this.count(key, 0, nVocab - 1);
  }
}

function checkFinite(key: string, values: Float32Array): void {
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad !== -1) throw new ModelFormatError(`Metadata key '${key}' has a non-finite value ${values[bad]} at index ${bad}`);
}

function readHead(meta: MetadataView, nEmbd: number, nLabels: number): ClassificationHead {
  const shape = meta.array(KEY.headShape, 'u32');
  if (shape.length !== 2 || shape[0] !== nLabels || shape[1] !== nEmbd) {
    throw new ModelFormatError(`Metadata key '${KEY.headShape}' is [${shape.join(', ')}], expected [${nLabels}, ${nEmbd}] (labels × embedding length)`);
  }
  const weight = meta.array(KEY.headWeight, 'f32');
  if (weight.length !== nLabels * nEmbd) {
    throw new ModelFormatError(`Metadata key '${KEY.headWeight}' has ${weight.length} values, expected ${nLabels} × ${nEmbd} = ${nLabels * nEmbd}`);
  }
  checkFinite(KEY.headWeight, weight);
  if (!meta.has(KEY.headBias)) return { weight, nLabels, nEmbd };
  const bias = meta.array(KEY.headBias, 'f32');
  if (bias.length !== nLabels) throw new ModelFormatError(`Metadata key '${KEY.headBias}' has ${bias.length} values, expected ${nLabels}`);
  checkFinite(KEY.headBias, bias);
  return { weight, bias, nLabels, nEmbd };
}

function checkTokenizer(meta: MetadataView): number {
  const model = meta.scalar(KEY.tokenizerModel, 'string');
  if (model !== 'gpt2') throw new ModelFormatError(`Metadata key '${KEY.tokenizerModel}' is '${model}', expected 'gpt2'`);
  const pre = meta.scalar(KEY.tokenizerPre, 'string');
  if (pre !== 'qwen2') throw new ModelFormatError(`Metadata key '${KEY.tokenizerPre}' is '${pre}', expected 'qwen2'`);
  const tokens = meta.array(KEY.tokens, 'string');
  if (tokens.length === 0) throw new ModelFormatError(`Metadata key '${KEY.tokens}' is empty`);
  // llama.cpp asserts (aborts) when two ids share a token text.
  const seen = new Set<string>();
  tokens.forEach((token, id) => {
    if (seen.has(token)) throw new ModelFormatError(`Metadata key '${KEY.tokens}' repeats token ${JSON.stringify(token)} at id ${id}`);
    seen.add(token);
  });
  const types = meta.array(KEY.tokenTypes, 'i32');
  if (types.length !== tokens.length) {
    throw new ModelFormatError(`Metadata key '${KEY.tokenTypes}' has ${types.length} entries, expected one per token (${tokens.length})`);
  }
  const badType = types.findIndex((t) => t < 0 || t > MAX_TOKEN_TYPE);
  if (badType !== -1) throw new ModelFormatError(`Metadata key '${KEY.tokenTypes}' has unknown token type ${types[badType]} at id ${badType}`);
  const merges = meta.array(KEY.merges, 'string');
  const badMerge = merges.findIndex((m) => m.indexOf(' ', 1) === -1);
  if (badMerge !== -1) throw new ModelFormatError(`Metadata key '${KEY.merges}' entry ${badMerge} (${JSON.stringify(merges[badMerge])}) is not "left right"`);
  if (meta.has(KEY.addBosToken)) meta.scalar(KEY.addBosToken, 'bool');
  return tokens.length;
}

function checkArchKeys(metadata: GgufMetadata): void {
  for (const key of metadata.keys()) {
    if (key.startsWith(`${ARCHITECTURE}.`) && !ALLOWED_ARCH_KEYS.has(key)) {
      throw new ModelFormatError(`Metadata key '${key}' is not part of the logtriage format (llama.cpp would read it as a ${ARCHITECTURE} hyperparameter)`);
    }
  }
}

function checkTensors(header: GgufHeader, dims: Parameters<typeof qwen2TensorSpecs>[0]): void {
  const actual = new Map(header.tensors.map((t) => [t.name, t]));
  for (const spec of qwen2TensorSpecs(dims)) {
    const tensor = actual.get(spec.ggufName);
    if (tensor === undefined) throw new ModelFormatError(`Missing tensor '${spec.ggufName}'`);
    const expected = [...spec.shape].reverse();
    if (tensor.ne.length !== expected.length || tensor.ne.some((d, i) => d !== expected[i])) {
      throw new ModelFormatError(`Tensor '${spec.ggufName}' has ne [${tensor.ne.join(', ')}], expected [${expected.join(', ')}] from the metadata`);
    }
    const type = tensor.type.name;
    if (expected.length === 1 ? type !== VECTOR_TYPE : NOT_WEIGHT_TYPES.has(type)) {
      const wanted = expected.length === 1 ? VECTOR_TYPE : `a float or quantized weight type (not ${[...NOT_WEIGHT_TYPES].join(', ')})`;
      throw new ModelFormatError(`Tensor '${spec.ggufName}' has type ${type}, expected ${wanted}`);
    }
    actual.delete(spec.ggufName);
  }
  const [extra] = actual.keys();
  if (extra !== undefined) throw new ModelFormatError(`Unexpected tensor '${extra}': llama.cpp's qwen2 loader rejects extra tensors`);
}

/** Validates a logtriage qwen2 classifier header; throws ModelFormatError naming what is missing or wrong. */
/** Labels are non-empty, unique, printable names. */
function checkLabelNames(labels: readonly string[]): void {
  const seen = new Set<string>();
  labels.forEach((label, i) => {
    const char = unprintableLabelChar(label);
    if (char !== undefined) throw new ModelFormatError(`Metadata key '${KEY.labels}': label ${i} holds the control or bidi character ${char}`);
    if (label.trim().length === 0) throw new ModelFormatError(`Metadata key '${KEY.labels}': label ${i} is empty or blank`);
    if (seen.has(label)) throw new ModelFormatError(`Metadata key '${KEY.labels}': label ${i} (${JSON.stringify(label)}) is repeated`);
    seen.add(label);
  });
}

export function validateLogtriageModel(header: GgufHeader): LogtriageModelInfo {
  const meta = new MetadataView(header.metadata);
  const arch = meta.scalar(KEY.architecture, 'string');
  if (arch !== ARCHITECTURE) throw new ModelFormatError(`Metadata key '${KEY.architecture}' is '${arch}', expected '${ARCHITECTURE}'`);
  checkArchKeys(header.metadata);
  const formatVersion = meta.scalar(KEY.formatVersion, 'u32');
  if (formatVersion !== LOGTRIAGE_FORMAT_VERSION) {
    throw new ModelFormatError(`Metadata key '${KEY.formatVersion}' is ${formatVersion}; this logtriage reads version ${LOGTRIAGE_FORMAT_VERSION}`);
  }
  const fileType = meta.scalar(KEY.fileType, 'u32');
  const name = meta.has(KEY.name) ? meta.scalar(KEY.name, 'string') : undefined;

  const nEmbd = meta.count(KEY.embeddingLength);
  const nLayers = meta.count(KEY.blockCount, 1, LLAMA_MAX_LAYERS);
  // llama_model_n_ctx_train() returns an int32_t.
  const nCtxTrain = meta.count(KEY.contextLength, 1, 2 ** 31 - 1);
  const nFf = meta.count(KEY.feedForwardLength);
  const nHead = meta.count(KEY.headCount);
  const nHeadKv = meta.count(KEY.headCountKv, 1, nHead);
  if (nEmbd % nHead !== 0) throw new ModelFormatError(`Metadata key '${KEY.headCount}' (${nHead}) does not divide '${KEY.embeddingLength}' (${nEmbd})`);
  if (nHead % nHeadKv !== 0) throw new ModelFormatError(`Metadata key '${KEY.headCountKv}' (${nHeadKv}) does not divide '${KEY.headCount}' (${nHead})`);
  // qwen2's graph asserts head size == key/value length == rope dimensions.
  for (const key of ['qwen2.attention.key_length', 'qwen2.attention.value_length', 'qwen2.rope.dimension_count']) {
    if (meta.has(key) && meta.scalar(key, 'u32') !== nEmbd / nHead) {
      throw new ModelFormatError(`Metadata key '${key}' is ${meta.scalar(key, 'u32')}, expected the head size ${nEmbd / nHead}`);
    }
  }
  meta.positiveFloat(KEY.ropeFreqBase);
  meta.positiveFloat(KEY.rmsNormEps);
  const pooling = meta.scalar(KEY.poolingType, 'u32');
  if (pooling !== POOLING_TYPE_LAST) throw new ModelFormatError(`Metadata key '${KEY.poolingType}' is ${pooling}, expected ${POOLING_TYPE_LAST} (LAST)`);

  const labels = meta.array(KEY.labels, 'string');
  if (labels.length === 0) throw new ModelFormatError(`Metadata key '${KEY.labels}' is empty`);
  checkLabelNames(labels);
  const head = readHead(meta, nEmbd, labels.length);

  const nVocab = checkTokenizer(meta);
  const eosTokenId = meta.tokenId(KEY.eosTokenId, nVocab);
  const bosTokenId = meta.has(KEY.bosTokenId) ? meta.tokenId(KEY.bosTokenId, nVocab) : undefined;
  const padTokenId = meta.has(KEY.padTokenId) ? meta.tokenId(KEY.padTokenId, nVocab) : undefined;

  checkTensors(header, { nEmbd, nLayers, nHead, nHeadKv, nFf, nVocab });
  // Only the digest's shape: comparing it with the content is verifyModel's job (a full read).
  const digest = readStoredDigest(header.metadata, header.tensors.length);
  const calibration = readCalibration(header.metadata, labels.length);
  const adapt = readAdaptRecord(header.metadata, labels.length);
  return {
    arch: ARCHITECTURE, formatVersion, fileType, name,
    nEmbd, nLayers, nCtxTrain, nHead, nHeadKv, nFf, nVocab,
    labels: [...labels], head, eosTokenId, bosTokenId, padTokenId,
    ...(calibration ? { calibration } : {}),
    ...(adapt ? { adapt } : {}),
    ...(digest ? { digest: { version: digest.version, tensors: digest.tensors.length, metadataKeys: digest.metadataKeys.length } } : {}),
  };
}
