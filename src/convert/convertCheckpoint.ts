// SPDX-License-Identifier: MIT
// HuggingFace Qwen2ForSequenceClassification checkpoint → logtriage GGUF (docs/model-format.md).
// Tensors stream from safetensors through dtype conversion into the GGUF writer a few MB at a
// time; quantized types go through a float GGUF and llama.cpp's quantizer. The result is
// re-read with the strict validator before it is renamed into place, so `outPath` only ever
// holds a complete, valid model. The output carries a content digest over its final bytes:
// written in the same pass for float types, added by a streaming rewrite after quantization.

import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

import { ConvertError, ModelFormatError } from '../errors.js';
import { LLAMA_FILE_TYPE, POOLING_TYPE_LAST } from '../gguf/ggufTypes.js';
import type { GgufMetadata, GgufValue, WritableTensorType } from '../gguf/ggufTypes.js';
import { copyGguf } from '../gguf/copyGguf.js';
import { ARCHITECTURE, GGML_QUANTIZATION_VERSION, KEY, LOGTRIAGE_FORMAT_VERSION } from '../gguf/modelKeys.js';
import { qwen2TensorSpecs } from '../gguf/qwen2Tensors.js';
import { readGgufHeader } from '../gguf/readGguf.js';
import { validateLogtriageModel } from '../gguf/validateLogtriageModel.js';
import type { LogtriageModelInfo } from '../gguf/validateLogtriageModel.js';
import { writeGguf } from '../gguf/writeGguf.js';
import type { GgufTensorSource } from '../gguf/writeGguf.js';
import { parseConvertOptions } from './convertOptions.js';
import type { ConvertOptions, ConvertType, QuantizeFn, QuantizedConvertType, ResolvedConvertOptions } from './convertOptions.js';
import { convertFloatChunk, FLOAT_DTYPE_SIZE } from './convertFloats.js';
import type { FloatDtype } from './convertFloats.js';
import { readHfConfig } from './readHfConfig.js';
import type { Qwen2ClassifierConfig } from './readHfConfig.js';
import { readCheckpointTensors, readTensorChunks } from './readSafetensors.js';
import type { SafetensorsTensor } from './readSafetensors.js';
import { readTokenizerMetadata } from './tokenizerMetadata.js';
import type { TokenizerMetadata } from './tokenizerMetadata.js';

export interface ConvertResult {
  readonly outPath: string;
  readonly type: ConvertType;
  /** Number of tensors in the GGUF. */
  readonly tensors: number;
  /** Label names in label-id order (from config.json id2label). */
  readonly labels: string[];
  /** Size of the output file. */
  readonly bytes: number;
  /** general.file_type of the output (llama_ftype). */
  readonly fileType: number;
  /** Float dtypes found in the checkpoint's converted tensors. */
  readonly sourceDtypes: FloatDtype[];
  /** The validated description of the output, as validateLogtriageModel returns it. */
  readonly model: LogtriageModelInfo;
}

/** Elements per streamed chunk: 4 MiB of F32. */
const CHUNK_ELEMENTS = 1 << 20;
const FLOAT_DTYPES: readonly string[] = ['F32', 'F16', 'BF16'];
/** Checkpoint tensors that are not part of the GGUF: the LM head (tied or unused) and RoPE caches. */
const IGNORED_TENSOR = /^lm_head\.weight$|\.rotary_emb\.inv_freq$/;
const FILE_TYPE_OF: Readonly<Record<WritableTensorType, number>> = {
  F32: LLAMA_FILE_TYPE.ALL_F32,
  F16: LLAMA_FILE_TYPE.MOSTLY_F16,
  BF16: LLAMA_FILE_TYPE.MOSTLY_BF16,
};

/** Matrix types of the float outputs; quantized outputs keep the source dtype until llama.cpp quantizes. */
const FLOAT_OUTPUT_TYPE: Partial<Record<ConvertType, WritableTensorType>> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

interface PlannedTensor {
  readonly source: SafetensorsTensor & { readonly dtype: FloatDtype };
  readonly ggufName: string;
  readonly type: WritableTensorType;
}

function floatTensor(tensor: SafetensorsTensor | undefined, name: string, shape: readonly number[], why: string): PlannedTensor['source'] {
  if (tensor === undefined) throw new ConvertError(`Missing tensor '${name}' in the checkpoint`);
  if (!FLOAT_DTYPES.includes(tensor.dtype)) throw new ConvertError(`Tensor '${name}' has unsupported dtype ${tensor.dtype} (expected F32, F16 or BF16)`);
  if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
    throw new ConvertError(`Tensor '${name}' has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}] (${why})`);
  }
  return tensor as PlannedTensor['source'];
}

function describeDims(config: Qwen2ClassifierConfig): string {
  const { nEmbd, nHead, nHeadKv, nFf, nVocab } = config.dims;
  return `config.json: hidden_size ${nEmbd}, num_attention_heads ${nHead}, num_key_value_heads ${nHeadKv}, intermediate_size ${nFf}, vocab_size ${nVocab}`;
}

/** Chooses each tensor's output type: 1-D stays F32; 2-D gets the requested float type, or keeps its own before quantization. */
function planTensors(config: Qwen2ClassifierConfig, checkpoint: Map<string, SafetensorsTensor>, type: ConvertType): PlannedTensor[] {
  const why = describeDims(config);
  const specs = qwen2TensorSpecs(config.dims);
  const known = new Set(['score.weight', 'score.bias', ...specs.map((s) => s.hfName)]);
  const unexpected = [...checkpoint.keys()].find((name) => !known.has(name) && !IGNORED_TENSOR.test(name));
  if (unexpected !== undefined) {
    throw new ConvertError(`Unexpected tensor '${unexpected}' in the checkpoint (config.json num_hidden_layers is ${config.dims.nLayers})`);
  }
  return specs.map((spec) => {
    const source = floatTensor(checkpoint.get(spec.hfName), spec.hfName, spec.shape, why);
    return { source, ggufName: spec.ggufName, type: spec.shape.length === 1 ? 'F32' : (FLOAT_OUTPUT_TYPE[type] ?? source.dtype) };
  });
}

async function* convertedChunks(tensor: PlannedTensor, onChunk: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  const { source } = tensor;
  let element = 0;
  for await (const raw of readTensorChunks(source, CHUNK_ELEMENTS * FLOAT_DTYPE_SIZE[source.dtype])) {
    const { output, problem } = convertFloatChunk(raw, source.dtype, tensor.type);
    if (problem !== undefined) {
      const detail = problem.kind === 'overflow' ? `out of ${tensor.type} range` : 'not finite';
      throw new ConvertError(`Tensor '${source.name}' has value ${problem.value} at element ${element + problem.index}: ${detail}`);
    }
    element += raw.length / FLOAT_DTYPE_SIZE[source.dtype];
    onChunk(output.length);
    yield output;
  }
}

/** Reads a small tensor (the head) whole, as F32. */
async function readHeadTensor(tensor: PlannedTensor['source']): Promise<Float32Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of convertedChunks({ source: tensor, ggufName: tensor.name, type: 'F32' }, () => undefined)) parts.push(chunk);
  return new Float32Array(new Uint8Array(Buffer.concat(parts)).buffer);
}

interface HeadTensors {
  readonly weight: Float32Array;
  readonly bias?: Float32Array;
}

async function readHead(config: Qwen2ClassifierConfig, checkpoint: Map<string, SafetensorsTensor>): Promise<HeadTensors> {
  const nLabels = config.labels.length;
  const score = checkpoint.get('score.weight');
  if (score !== undefined && score.shape.length === 2 && score.shape[0] !== nLabels) {
    throw new ConvertError(`Tensor 'score.weight' has ${score.shape[0]} rows but config.json id2label has ${nLabels} labels`);
  }
  const why = `${nLabels} labels × hidden_size ${config.dims.nEmbd}`;
  const weight = await readHeadTensor(floatTensor(score, 'score.weight', [nLabels, config.dims.nEmbd], why));
  const biasTensor = checkpoint.get('score.bias');
  if (biasTensor === undefined) return { weight };
  return { weight, bias: await readHeadTensor(floatTensor(biasTensor, 'score.bias', [nLabels], `${nLabels} labels`)) };
}

function buildMetadata(name: string, fileType: number, config: Qwen2ClassifierConfig, head: HeadTensors, vocab: TokenizerMetadata): GgufMetadata {
  const { dims } = config;
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const str = (value: string): GgufValue => ({ type: 'string', value });
  const entries: [string, GgufValue | undefined][] = [
    [KEY.architecture, str(ARCHITECTURE)],
    [KEY.name, str(name)],
    [KEY.fileType, u32(fileType)],
    [KEY.quantizationVersion, u32(GGML_QUANTIZATION_VERSION)],
    [KEY.contextLength, u32(config.contextLength)],
    [KEY.embeddingLength, u32(dims.nEmbd)],
    [KEY.blockCount, u32(dims.nLayers)],
    [KEY.feedForwardLength, u32(dims.nFf)],
    [KEY.headCount, u32(dims.nHead)],
    [KEY.headCountKv, u32(dims.nHeadKv)],
    [KEY.ropeFreqBase, { type: 'f32', value: config.ropeTheta }],
    [KEY.rmsNormEps, { type: 'f32', value: config.rmsNormEps }],
    [KEY.poolingType, u32(POOLING_TYPE_LAST)],
    [KEY.labels, { type: 'array', itemType: 'string', value: config.labels }],
    [KEY.formatVersion, u32(LOGTRIAGE_FORMAT_VERSION)],
    [KEY.headShape, { type: 'array', itemType: 'u32', value: Uint32Array.of(config.labels.length, dims.nEmbd) }],
    [KEY.headWeight, { type: 'array', itemType: 'f32', value: head.weight }],
    [KEY.headBias, head.bias && { type: 'array', itemType: 'f32', value: head.bias }],
    [KEY.tokenizerModel, str('gpt2')],
    [KEY.tokenizerPre, str('qwen2')],
    [KEY.tokens, { type: 'array', itemType: 'string', value: vocab.tokens }],
    [KEY.tokenTypes, { type: 'array', itemType: 'i32', value: vocab.tokenTypes }],
    [KEY.merges, { type: 'array', itemType: 'string', value: vocab.merges }],
    [KEY.eosTokenId, u32(vocab.eosTokenId)],
    [KEY.bosTokenId, vocab.bosTokenId === undefined ? undefined : u32(vocab.bosTokenId)],
    [KEY.padTokenId, vocab.padTokenId === undefined ? undefined : u32(vocab.padTokenId)],
    [KEY.addBosToken, { type: 'bool', value: false }],
  ];
  // Optional keys (head bias, BOS, padding) are left out entirely when the checkpoint has none.
  const metadata: GgufMetadata = new Map();
  for (const [key, value] of entries) if (value !== undefined) metadata.set(key, value);
  return metadata;
}

/** The addon is imported only when quantizing: float conversions must work without it. */
const addonQuantize: QuantizeFn = async (input, output, type, threads) => {
  const { loadBinding } = await import('../engine/binding.js');
  return loadBinding().quantize(input, output, type, threads);
};

async function checkOutput(path: string, head: HeadTensors): Promise<LogtriageModelInfo> {
  try {
    const model = validateLogtriageModel(await readGgufHeader(path));
    const same = (a?: Float32Array, b?: Float32Array): boolean =>
      a === undefined || b === undefined ? a === b : a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
    if (!same(head.weight, model.head.weight) || !same(head.bias, model.head.bias)) {
      throw new Error('the classification head differs from score.weight/score.bias');
    }
    return model;
  } catch (error) {
    throw new ConvertError(`The converted file failed validation: ${(error as Error).message}`, { cause: error });
  }
}

async function writeFloatGguf(
  path: string,
  options: ResolvedConvertOptions,
  plan: readonly PlannedTensor[],
  metadata: GgufMetadata,
  digest: boolean,
): Promise<void> {
  const bytesTotal = plan.reduce((sum, t) => sum + (t.source.byteLength / FLOAT_DTYPE_SIZE[t.source.dtype]) * FLOAT_DTYPE_SIZE[t.type], 0);
  let bytesDone = 0;
  const tensors: GgufTensorSource[] = plan.map((tensor) => ({
    name: tensor.ggufName,
    shape: tensor.source.shape,
    type: tensor.type,
    chunks: () =>
      convertedChunks(tensor, (bytes) => {
        bytesDone += bytes;
        options.onProgress?.({ phase: 'write', tensor: tensor.ggufName, bytesDone, bytesTotal });
      }),
  }));
  await writeGguf(path, metadata, tensors, { digest });
}

/**
 * Converts the HuggingFace checkpoint in `hfDir` to a logtriage GGUF at `outPath`. Throws
 * ConvertError naming the file, field or tensor at fault, and never leaves a partial `outPath`.
 */
export async function convertCheckpoint(hfDir: string, outPath: string, options: ConvertOptions): Promise<ConvertResult> {
  const opts = parseConvertOptions(options);
  const dir = resolve(hfDir);
  const target = resolve(outPath);
  if (!(await stat(dirname(target)).then((s) => s.isDirectory(), () => false))) {
    throw new ConvertError(`Output folder ${dirname(target)} does not exist`);
  }
  const config = await readHfConfig(dir);
  // Cheap checks first: safetensors headers and the head, before the 7 MB tokenizer.json.
  const checkpoint = await readCheckpointTensors(dir);
  const plan = planTensors(config, checkpoint, opts.type);
  const head = await readHead(config, checkpoint);
  const vocab = await readTokenizerMetadata(dir, config);
  const floatFileType = FILE_TYPE_OF[plan.find((t) => t.ggufName === 'token_embd.weight')!.type];
  const metadata = buildMetadata(opts.name ?? basename(dir), floatFileType, config, head, vocab);

  const floatPath = `${target}.tmp-${process.pid}-float`;
  const quantizedPath = `${target}.tmp-${process.pid}-quantized`;
  const digestedPath = `${target}.tmp-${process.pid}-digested`;
  const quantizedType: QuantizedConvertType | undefined = opts.type === 'q8_0' || opts.type === 'q4_0' || opts.type === 'q4_k_m' ? opts.type : undefined;
  try {
    await writeFloatGguf(floatPath, opts, plan, metadata, quantizedType === undefined);
    let finalPath = floatPath;
    if (quantizedType !== undefined) {
      opts.onProgress?.({ phase: 'quantize', bytesDone: 0, bytesTotal: 1 });
      await (opts.quantize ?? addonQuantize)(floatPath, quantizedPath, quantizedType, opts.threads);
      opts.onProgress?.({ phase: 'quantize', bytesDone: 1, bytesTotal: 1 });
      await rm(floatPath, { force: true }); // before the digest pass, which needs room for one more copy
      await copyGguf(quantizedPath, digestedPath).catch((error: unknown) => {
        const what = error instanceof ModelFormatError ? 'The converted file failed validation' : 'The quantized file could not be digested';
        throw new ConvertError(`${what}: ${(error as Error).message}`, { cause: error });
      });
      finalPath = digestedPath;
    }
    const model = await checkOutput(finalPath, head);
    await rename(finalPath, target);
    return {
      outPath: target,
      type: opts.type,
      tensors: plan.length,
      labels: model.labels,
      bytes: (await stat(target)).size,
      fileType: model.fileType,
      sourceDtypes: [...new Set(plan.map((t) => t.source.dtype))],
      model,
    };
  } finally {
    await rm(floatPath, { force: true });
    await rm(quantizedPath, { force: true });
    await rm(digestedPath, { force: true });
  }
}
