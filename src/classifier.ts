// SPDX-License-Identifier: MIT
// LogClassifier: the public API. Validates options and model metadata in TS, then drives the
// native Model (tokenizer, weights) and Context (decode + pooling + head) through BatchQueue.
import { existsSync } from 'node:fs';
import { gpuBackendProbes, loadBinding } from './binding.js';
import { chooseDevice, noDeviceHint } from './chooseDevice.js';
import { cpuMayRepack } from './cpuRepack.js';
import { gpuHardwareLikely } from './gpuBackends.js';
import { BackendError, DisposedError, EmptyInputError, InputTooLongError, ModelLoadError, ValidationError } from './errors.js';
import { readGgufHeader, validateLogtriageModel, type LogtriageModelInfo } from './gguf/index.js';
import { LLAMA_FILE_TYPE } from './gguf/ggufTypes.js';
import { resolveModel } from './hub/resolveModel.js';
import { callNative, type NativeBinding, type NativeContext, type NativeDevice, type NativeModel } from './native.js';
import {
  classifyOptionsSchema,
  openOptionsSchema,
  parseOptions,
  pipelineOptionsSchema,
  type ClassifyOptions,
  type OpenOptions,
  type PipelineOptions,
  type ResolvedOpenOptions,
} from './options.js';
import { BatchQueue, type BatchTiming } from './queue.js';
import { ResultCache } from './resultCache.js';
import { applyFunction, softmax } from './scores.js';

/** Why a result deserves a second look. */
export type ResultFlag =
  /** The text contains special-token text (e.g. `<|endoftext|>`), tokenized as plain text. */
  | 'special-token-text'
  /** The text had lone UTF-16 surrogates; they were replaced by U+FFFD before tokenizing. */
  | 'invalid-unicode';

export interface ClassificationResult {
  /** The label with the highest score. */
  label: string;
  /** Its softmax probability. */
  score: number;
  /** Softmax probability of every label. */
  scores: Record<string, number>;
  /** Raw head outputs, in label-id order. */
  logits: number[];
  /** Tokens fed to the model. */
  tokens: number;
  /** True when the line was cut to `maxTokens`. */
  truncated: boolean;
  flags: ResultFlag[];
}

/** Work counters since open(). */
export interface ClassifierStats {
  /** Tokens of the lines sent to the model (cache hits excluded). */
  tokensIn: number;
  /** Tokens actually decoded: fewer than tokensIn when lines of a batch share a prefix or repeat. */
  tokensDecoded: number;
  /** Exact-repeat cache: lines looked up, found, and held. */
  cache: { lookups: number; hits: number; size: number };
}

export interface PipelineEntry {
  label: string;
  score: number;
}

export interface ClassifierInfo {
  path: string;
  architecture: 'qwen2';
  labels: string[];
  parameters: number;
  nEmbd: number;
  nLayers: number;
  /** Most tokens per line (`maxTokens`). */
  contextSize: number;
  trainContextSize: number;
  /** Weight type as llama.cpp reports it (F32, F16, Q8_0, ...). */
  weightType: string;
  sizeBytes: number;
  backend: string;
  device: string;
  gpuLayers: number;
  threads: number;
  batchSize: number;
  batchTokens: number;
  /** Tokens per compute graph (llama.cpp n_ubatch). */
  ubatchTokens: number;
  /** Flash attention as requested of llama.cpp: 'enabled', 'disabled', or 'auto' (on where the device supports it). */
  flashAttn: string;
  /** KV cache type (f32, f16, q8_0). */
  kvCacheType: string;
  /** Whether the weights are memory-mapped (see `useMmap`). */
  useMmap: boolean;
  specialTokens: 'plain' | 'parse';
  llamaRelease: string;
}

const EIGHT_BIT_OR_MORE: ReadonlySet<number> = new Set([LLAMA_FILE_TYPE.MOSTLY_F16, LLAMA_FILE_TYPE.MOSTLY_BF16, LLAMA_FILE_TYPE.MOSTLY_Q8_0]);

/**
 * Flash attention and KV cache precision, 'auto' resolved from the weights. F32 weights: neither
 * flash attention (its F16 internals break the 1e-4 parity) nor a narrower cache. Otherwise flash
 * attention where the device has it, and a cache of F16 for 8-bit weights and more, Q8_0 below
 * (its logit error, 0.10 on a 1.5B model, is small beside 4-bit weights' own, and it saves 28 MiB
 * per 2,048 cells; llama.cpp needs flash attention and 32-wide heads for it).
 */
function attentionFor(meta: LogtriageModelInfo, opts: ResolvedOpenOptions): { flashAttn: boolean | 'auto'; kvType: 'f32' | 'f16' | 'q8_0' } {
  const f32Weights = meta.fileType === LLAMA_FILE_TYPE.ALL_F32;
  const flashAttn = opts.flashAttn === 'auto' ? (f32Weights ? false : 'auto') : opts.flashAttn;
  if (opts.kvCacheType !== 'auto') return { flashAttn, kvType: opts.kvCacheType };
  const quantizedBelow8Bits = !f32Weights && !EIGHT_BIT_OR_MORE.has(meta.fileType);
  const kvType = f32Weights ? 'f32' : quantizedBelow8Bits && flashAttn !== false && (meta.nEmbd / meta.nHead) % 32 === 0 ? 'q8_0' : 'f16';
  return { flashAttn, kvType };
}

interface Prepared {
  tokens: Int32Array;
  truncated: boolean;
  flags: ResultFlag[];
}

const WHITESPACE_ONLY = /^\s*$/u;
const LONG_MARK_RUN = /\p{M}{31,}/gu;
const MARKS_30 = /\p{M}{1,30}/gu;

// NFC after Unicode's stream-safe rule (UAX #15): a run of more than 30 combining marks gets
// U+034F COMBINING GRAPHEME JOINER after every 30. V8's normalize() is quadratic in such a run
// (160,000 mixed marks took 103 s on the JS thread); real text never has one.
function normalizeText(text: string): string {
  return text
    .toWellFormed()
    .replace(LONG_MARK_RUN, (run) => run.match(MARKS_30)!.join('\u034f'))
    .normalize('NFC');
}

let warnedGpuFallback = false;

function pickDevice(binding: NativeBinding, gpu: ResolvedOpenOptions['gpu']): NativeDevice | undefined {
  if (gpu === 'cpu') return undefined;
  const devices = binding.devices();
  const { device } = chooseDevice(devices, gpu);
  const failed = gpuBackendProbes().filter((p) => !p.loaded);
  const unusable = failed.map((p) => `${p.backend}: ${p.error ?? 'failed to load'}`);
  if (gpu === 'auto') {
    // Silent on machines without GPU hardware, where the optional GPU packages are installed anyway.
    const worthWarning = failed.some((p) => p.error !== 'not installed' && gpuHardwareLikely(p.backend));
    if (!device && !warnedGpuFallback && worthWarning) {
      warnedGpuFallback = true;
      process.emitWarning(`No usable GPU backend (${unusable.join('; ')}); running on the CPU.`, { code: 'LOGTRIAGE_GPU_FALLBACK' });
    }
    return device;
  }
  if (!device) {
    const list = devices.map((d) => `${d.name} (${d.backend}, ${d.type})`).join(', ') || 'none';
    const why = unusable.length > 0 ? `; backends that did not load: ${unusable.join('; ')}` : '';
    const hint = gpuBackendProbes().some((p) => p.loaded && p.backend === gpu) ? noDeviceHint(gpu) : undefined;
    throw new BackendError(`gpu: '${gpu}' was requested but no ${gpu} device was found; devices found: ${list}${why}${hint ? `; ${hint}` : ''}`);
  }
  return device;
}

export class LogClassifier {
  private readonly queue: BatchQueue;
  private readonly cache: ResultCache;
  private readonly batchListeners = new Set<(timing: BatchTiming) => void>();
  private readonly controlTexts: string[];
  private disposing: Promise<void> | undefined;

  private constructor(
    private readonly model: NativeModel,
    private readonly context: NativeContext,
    private readonly meta: LogtriageModelInfo,
    private readonly options: ResolvedOpenOptions & { maxTokens: number },
    readonly info: ClassifierInfo,
  ) {
    const ctx = context.info();
    this.queue = new BatchQueue((tokens, offsets) => callNative(() => context.classify(tokens, offsets)), {
      nLabels: meta.labels.length,
      linesPerCall: ctx.nSeqMax * 4,
      tokensPerCall: ctx.nBatch * 4,
      maxQueuedLines: options.maxQueuedLines,
    }, (timing) => {
      for (const listener of this.batchListeners) listener(timing);
    });
    this.cache = new ResultCache(options.resultCache);
    this.controlTexts = model.info().controlTokens.map(([, text]) => text).filter((t) => t.length > 0);
  }

  /**
   * Opens a logtriage GGUF (see docs/model-format.md); validates it before llama.cpp reads it.
   * Takes a GGUF path or a pulled hub repo id (`owner/name[@revision][:type]`); without either, the pulled default model.
   */
  static async open(pathOrRepoId?: string, options: OpenOptions = {}): Promise<LogClassifier> {
    if (pathOrRepoId !== undefined && (typeof pathOrRepoId !== 'string' || pathOrRepoId.length === 0)) {
      throw new ValidationError(`Expected a model path or hub repo id (string) for LogClassifier.open() but received ${typeof pathOrRepoId}`);
    }
    const opts = parseOptions(openOptionsSchema, options, 'LogClassifier.open() options');
    const fullPath = resolveModel(pathOrRepoId);
    if (!existsSync(fullPath)) throw new ModelLoadError(`Model file not found: ${fullPath}`);
    const header = await readGgufHeader(fullPath);
    const meta = validateLogtriageModel(header);

    const binding = loadBinding(opts.nativeBinding);
    const device = pickDevice(binding, opts.gpu);
    const gpuLayers = device ? (opts.gpuLayers ?? meta.nLayers + 1) : 0;
    const useMmap = opts.useMmap === 'auto' ? !(gpuLayers === 0 && cpuMayRepack(header.tensors)) : opts.useMmap;
    const { flashAttn, kvType } = attentionFor(meta, opts);
    const model = await callNative(() =>
      binding.Model.load(fullPath, { gpuLayers, useMmap, ...(device ? { device: device.name } : {}) }),
    );
    try {
      const native = model.info();
      const maxTokens = opts.maxTokens ?? Math.min(2048, native.nCtxTrain);
      if (maxTokens > native.nCtxTrain) {
        throw new ValidationError(`maxTokens ${maxTokens} is more than the model's training context ${native.nCtxTrain}`);
      }
      const batchTokens = Math.min(opts.batchTokens, maxTokens);
      const context = await callNative(() =>
        binding.Context.create(model, {
          nCtx: Math.max(maxTokens, batchTokens),
          nBatch: batchTokens,
          nUbatch: Math.min(opts.ubatchTokens ?? (gpuLayers > 0 ? 512 : 256), batchTokens),
          // llama.cpp asserts if a decode may hold more outputs (one per line) than tokens.
          nSeqMax: Math.min(opts.batchSize, batchTokens),
          threads: opts.threads,
          flashAttn,
          kvType,
          nLabels: meta.labels.length,
          head: meta.head.weight,
          sharePrefixes: opts.prefixSharing,
          ...(meta.head.bias ? { bias: meta.head.bias } : {}),
        }),
      );
      const ctxInfo = context.info();
      const info: ClassifierInfo = {
        path: fullPath,
        architecture: meta.arch,
        labels: [...meta.labels],
        parameters: native.nParams,
        nEmbd: native.nEmbd,
        nLayers: native.nLayer,
        contextSize: maxTokens,
        trainContextSize: native.nCtxTrain,
        weightType: native.description.split(' ').pop() ?? 'unknown',
        sizeBytes: native.sizeBytes,
        backend: device?.backend ?? 'CPU',
        device: device ? `${device.name} (${device.description})` : 'CPU',
        gpuLayers,
        threads: opts.threads,
        batchSize: Math.min(opts.batchSize, batchTokens),
        batchTokens,
        ubatchTokens: ctxInfo.nUbatch,
        flashAttn: ctxInfo.flashAttn,
        kvCacheType: ctxInfo.kvType,
        useMmap,
        specialTokens: opts.specialTokens,
        llamaRelease: binding.llamaRelease,
      };
      return new LogClassifier(model, context, meta, { ...opts, maxTokens }, info);
    } catch (err) {
      await model.dispose();
      throw err;
    }
  }

  /** Label names in label-id order, as the checkpoint's id2label. */
  get labels(): string[] {
    return [...this.meta.labels];
  }

  /** Token ids of `text` as the classifier would feed them (NFC, special-token mode, no truncation). */
  async tokenize(text: string): Promise<number[]> {
    const [ids] = await this.tokenizeMany([text]);
    return ids!;
  }

  /** `tokenize()` for many texts in one native call. */
  async tokenizeMany(texts: readonly string[]): Promise<number[][]> {
    this.assertOpen();
    const normalized = texts.map((text, i) => {
      if (typeof text !== 'string') throw new ValidationError(`Expected a string for texts[${i}] but received ${typeof text}`);
      return normalizeText(text);
    });
    const { tokens, offsets } = await callNative(() => this.model.tokenize(normalized, this.options.specialTokens === 'parse'));
    return normalized.map((_, i) => Array.from(tokens.subarray(offsets[i]!, offsets[i + 1]!)));
  }

  /** Classifies one line. */
  async classify(text: string, options: ClassifyOptions = {}): Promise<ClassificationResult> {
    const [result] = await this.classifyMany([text], options);
    return result!;
  }

  /** Classifies many lines; results are in input order. Lines share decodes with concurrent callers. */
  async classifyMany(texts: readonly string[], options: ClassifyOptions = {}): Promise<ClassificationResult[]> {
    this.assertOpen();
    const opts = parseOptions(classifyOptionsSchema, options, 'classify options');
    if (!Array.isArray(texts)) throw new ValidationError(`Expected an array of strings for classifyMany() but received ${typeof texts}`);
    if (texts.length === 0) return [];
    const prepared = await this.prepare(texts);
    const cached = prepared.map((p) => this.cache.get(p.tokens));
    const misses = prepared.filter((_, i) => cached[i] === undefined);
    const pending = this.queue.push(misses.map((p) => p.tokens), opts.signal);
    let done = 0;
    for (const hit of cached) if (hit) opts.onProgress?.(++done, texts.length);
    const computed = await Promise.all(
      pending.map((p, i) =>
        p.then((l) => {
          this.cache.set(misses[i]!.tokens, l);
          done++;
          opts.onProgress?.(done, texts.length);
          return l;
        }),
      ),
    );
    let next = 0;
    const logits = cached.map((l) => l ?? computed[next++]!);
    return logits.map((l, i) => this.toResult(l, prepared[i]!));
  }

  /** Calls `listener` after every native call (queue wait per line, inference time); returns an unsubscribe function. */
  onBatch(listener: (timing: BatchTiming) => void): () => void {
    this.batchListeners.add(listener);
    return () => this.batchListeners.delete(listener);
  }

  /** Lines waiting for a native call. */
  get queuedLines(): number {
    return this.queue.queuedLines;
  }

  /** Tokens in and decoded, and exact-repeat cache hits, since open(). */
  stats(): ClassifierStats {
    this.assertOpen();
    const ctx = this.context.info();
    return { tokensIn: ctx.tokensIn, tokensDecoded: ctx.tokensDecoded, cache: this.cache.stats() };
  }

  /** HuggingFace-pipeline-shaped output: per input, `[{label, score}]` best first. */
  async pipeline(texts: string | readonly string[], options: PipelineOptions = {}): Promise<PipelineEntry[] | PipelineEntry[][]> {
    const { topK, functionToApply, ...classifyOptions } = parseOptions(pipelineOptionsSchema, options, 'pipeline options');
    const single = typeof texts === 'string';
    const results = await this.classifyMany(single ? [texts] : texts, classifyOptions);
    const shaped = results.map((r) => {
      const scores = applyFunction(r.logits, functionToApply);
      const entries = this.meta.labels.map((label, i) => ({ label, score: scores[i]! })).sort((a, b) => b.score - a.score);
      return topK === null ? entries : entries.slice(0, topK);
    });
    return single ? shaped[0]! : shaped;
  }

  /** Frees the context and the weights; idempotent. Queued calls reject with DisposedError. */
  async dispose(): Promise<void> {
    this.disposing ??= (async () => {
      this.queue.close(new DisposedError());
      const contextFreed = this.context.dispose();
      await this.queue.idle();
      await contextFreed;
      await this.model.dispose();
    })();
    return this.disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private assertOpen(): void {
    if (this.disposing) throw new DisposedError();
  }

  private async prepare(texts: readonly string[]): Promise<Prepared[]> {
    const normalized = texts.map((text, i) => {
      if (typeof text !== 'string') throw new ValidationError(`Expected a string for texts[${i}] but received ${typeof text}`);
      const flags: ResultFlag[] = [];
      if (!text.isWellFormed()) flags.push('invalid-unicode');
      const nfc = normalizeText(text);
      if (nfc.length === 0 || (this.options.rejectWhitespace && WHITESPACE_ONLY.test(nfc))) {
        throw new EmptyInputError(
          `texts[${i}] is ${nfc.length === 0 ? 'empty' : 'whitespace only'}: there is nothing to classify` +
            (nfc.length === 0 ? '' : ' (set rejectWhitespace: false to classify it anyway)'),
        );
      }
      if (this.options.specialTokens === 'plain' && this.controlTexts.some((t) => nfc.includes(t))) {
        flags.push('special-token-text');
      }
      return { text: nfc, flags };
    });
    const parse = this.options.specialTokens === 'parse';
    const { tokens, offsets } = await callNative(() => this.model.tokenize(normalized.map((n) => n.text), parse));
    return normalized.map(({ flags }, i) => {
      let ids = tokens.subarray(offsets[i]!, offsets[i + 1]!);
      let truncated = false;
      const { maxTokens, truncation } = this.options;
      if (ids.length > maxTokens) {
        if (truncation === 'error') throw new InputTooLongError(ids.length, maxTokens);
        ids = truncation === 'right' ? ids.subarray(0, maxTokens) : ids.subarray(ids.length - maxTokens);
        truncated = true;
      }
      return { tokens: this.poolAtLastNonPad(ids), truncated, flags };
    });
  }

  // HF pools the rightmost token that is not pad_token_id (index 0 when all are pad). The model
  // is causal, so dropping the trailing pad tokens leaves that token's hidden state unchanged.
  private poolAtLastNonPad(ids: Int32Array): Int32Array {
    const pad = this.meta.padTokenId;
    if (pad === undefined) return ids;
    let end = ids.length;
    while (end > 1 && ids[end - 1] === pad) end--;
    return end === ids.length ? ids : ids.subarray(0, end);
  }

  private toResult(logits: Float32Array, prepared: Prepared): ClassificationResult {
    const values = Array.from(logits);
    if (!values.every(Number.isFinite)) {
      throw new BackendError('The model produced non-finite logits (NaN or infinite weights or activations): its scores would be meaningless');
    }
    const probs = softmax(values);
    let best = 0;
    for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
    const labels = this.meta.labels;
    return {
      label: labels[best]!,
      score: probs[best]!,
      scores: Object.fromEntries(labels.map((l, i) => [l, probs[i]!])),
      logits: values,
      tokens: prepared.tokens.length,
      truncated: prepared.truncated,
      flags: prepared.flags,
    };
  }
}
