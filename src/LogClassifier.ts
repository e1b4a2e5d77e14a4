// SPDX-License-Identifier: MIT
// LogClassifier: the public API. Validates options and model metadata in TS, then drives the
// native Model (tokenizer, weights) and Context (decode + pooling + head) through BatchQueue.
import { loadBinding, machineFacts } from './engine/binding.js';
import { calibrateLogits } from './calibration/applyCalibration.js';
import { type Calibration } from './gguf/calibrationKeys.js';
import { needsReview, type ReviewThresholds } from './calibration/needsReview.js';
import { AbortError, BackendError, DisposedError, LogTriageError, ValidationError } from './errors.js';
import { checkThresholdsFile, isAlert } from './calibration/thresholdsFile.js';
import type { DigestCoverage, LogtriageModelInfo } from './gguf/index.js';
import { readModelHeader } from './gguf/readModelMeta.js';
import { checkModelOnOpen, type Verification } from './hub/checkModelOnOpen.js';
import { resolveModel } from './hub/resolveModel.js';
import type { NativeContext, NativeModel } from './engine/native.js';
import {
  classifyOptionsSchema,
  embedOptionsSchema,
  openOptionsSchema,
  parseOptions,
  pipelineOptionsSchema,
  type ClassifyOneOptions,
  type ClassifyOptions,
  type EmbedOptions,
  type OpenOptions,
  type PipelineOptions,
  type ResolvedOpenOptions,
} from './options.js';
import { BatchQueue, type BatchTiming, type NativeOutput } from './engine/BatchQueue.js';
import { classifyAdapting, ThreadController } from './engine/ThreadController.js';
import { LongLineRouter } from './engine/LongLineRouter.js';
import { LinePreparer, type LineError, type PreparedLine, type ResultFlag } from './engine/LinePreparer.js';
import { ResultCache } from './engine/ResultCache.js';
import { modelFacts, planRuntime, summarizePlan, type PlanSummary, type RuntimePlan } from './engine/runtimePlan.js';
import { applyFunction, rankLabels, softmax } from './engine/scores.js';
import { TemplateTier, type TemplateTierStats } from './templates/TemplateTier.js';

export type { ResultFlag };

export interface ClassificationResult {
  /** The label with the highest score. */
  label: string;
  /** Its softmax probability (after the model's calibration, unless opened with `calibration: 'none'`). */
  score: number;
  /** Softmax probability of every label (calibrated likewise). */
  scores: Record<string, number>;
  /** Raw head outputs, in label-id order (never calibrated). */
  logits: number[];
  /** True when the `review` thresholds send this result to a human; always false without them. */
  review: boolean;
  /** With open()'s `alertThresholds` only: the label has a threshold and the score reaches it. */
  alert?: boolean;
  /** Tokens fed to the model. */
  tokens: number;
  /** True when the line was cut to `maxTokens`. */
  truncated: boolean;
  flags: ResultFlag[];
  /**
   * With `templateTier` only: 'model' when the model classified this line, 'template' when the line
   * took its template's result (then `tokens` is 0, `truncated` false, and `flags` the line's own).
   */
  via?: 'model' | 'template';
  /** With `templateTier` only: the line's template id, whether this line was an audit, whether the template is retired. */
  template?: { id: string; audit: boolean; retired: boolean };
  /**
   * The weights that produced it: the first 12 hex characters of the model's digest id
   * (`info.digest.id`), or 'unverifiable' for a file without a digest. Servers and workers that
   * swap models pass it on, so every answer can be traced to its weights.
   */
  model: string;
}

/** One line's outcome of `classifyMany(texts, { settled: true })`, shaped like Promise.allSettled's. */
export type SettledClassification = { status: 'fulfilled'; value: ClassificationResult } | { status: 'rejected'; reason: LineError };

/** Work counters since open(). */
export interface ClassifierStats {
  /** Tokens of the lines sent to the model (cache hits excluded). */
  tokensIn: number;
  /** Tokens actually decoded: fewer than tokensIn when lines share a prefix within a call or with cached lines. */
  tokensDecoded: number;
  /** Tokens whose KV cells came from the cross-call prefix cache (`prefixCache`) instead of a decode. */
  tokensReused: number;
  /**
   * llama_decode calls made. `tokensDecoded / decodes` is the mean decode size, which sets what a
   * token costs (docs/performance.md "Rate curve"): a few tokens per decode cost several times more each.
   */
  decodes: number;
  /** Cross-call prefix cache: its budget and the KV cells it holds now (both 0 when off). */
  prefixCache: { budget: number; cells: number };
  /** Exact-repeat cache: lines looked up, found, and held. */
  cache: { lookups: number; hits: number; size: number };
  /** CPU threads llama.cpp decodes on now (moves at run time with `threads: 'auto'`). */
  threads: number;
  /** With `templateTier` only: lines served by templates, audits, agreement on audited lines, retired templates. */
  templateTier?: TemplateTierStats;
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
  /** CPU threads at open(); with `threads: 'auto'` the most the run-time adaptation uses. */
  threads: number;
  batchSize: number;
  batchTokens: number;
  /** Tokens per compute graph (llama.cpp n_ubatch). */
  ubatchTokens: number;
  /** Flash attention as requested of llama.cpp: 'enabled', 'disabled', or 'auto' (on where the device supports it). */
  flashAttn: string;
  /** KV cache type (f32, f16, q8_0). */
  kvCacheType: string;
  /** KV cells the cross-call prefix cache may keep (0: off). */
  prefixCacheCells: number;
  /** Whether the weights are memory-mapped (see `useMmap`). */
  useMmap: boolean;
  specialTokens: 'plain' | 'parse';
  llamaRelease: string;
  /** Every run-time choice open() made (device, offload, sizes, ...), each with why (see runtimePlan.ts). */
  plan: PlanSummary;
  /** The calibration applied to scores: the model's (`calibration: 'auto'`), or null. */
  calibration: Calibration | null;
  /** open()'s `review`: the review thresholds of calls that set none, or null. */
  review: ReviewThresholds | null;
  /** open()'s `alertThresholds` by the model's label spelling (label → lowest alerting score), or null. */
  alertThresholds: Record<string, number> | null;
  /** What the file's content digest covers (checked by `verify` / verifyModel), or null when it has none. */
  digest: DigestCoverage | null;
  /** How open() checked the file (`verify`), and the model's name on answers (12 hex characters of the digest id, or 'unverifiable'). */
  verification: Verification;
}

let warnedGpuFallback = false;

export class LogClassifier {
  private readonly queue: BatchQueue;
  private readonly longLines: LongLineRouter | undefined;
  private readonly cache: ResultCache;
  /** Hidden states by token sequence (`embed()`); the same capacity as the logits cache, held apart from it. */
  private readonly hiddenCache: ResultCache;
  private readonly batchListeners = new Set<(timing: BatchTiming) => void>();
  private readonly lines: LinePreparer;
  /** open()'s truncation, for calls that set none. */
  private readonly truncation: ResolvedOpenOptions['truncation'];
  private readonly tier: TemplateTier<ClassificationResult> | undefined;
  private disposing: Promise<void> | undefined;

  private constructor(
    private readonly model: NativeModel,
    private readonly context: NativeContext,
    private readonly meta: LogtriageModelInfo,
    options: ResolvedOpenOptions & { maxTokens: number },
    plan: RuntimePlan,
    readonly info: ClassifierInfo,
    openContext: (nCtx: number, threads: number) => Promise<NativeContext>,
  ) {
    const adapt = plan.adaptThreads.value ? new ThreadController({ max: plan.threads.value }) : undefined;
    const run = adapt
      ? classifyAdapting(context, adapt)
      : (tokens: Int32Array, offsets: Uint32Array, output: NativeOutput = 'logits') =>
          output === 'hidden' ? context.embed(tokens, offsets) : context.classify(tokens, offsets);
    const longCells = plan.longLineCells.value;
    const nEmbd = model.info().nEmbd;
    this.longLines =
      longCells > 0 ? new LongLineRouter(run, plan.nCtx.value, () => openContext(longCells, adapt?.threads ?? plan.threads.value), meta.labels.length, nEmbd) : undefined;
    this.queue = new BatchQueue(this.longLines?.classify ?? run, {
      nLabels: meta.labels.length,
      nEmbd,
      linesPerCall: plan.linesPerCall.value,
      tokensPerCall: plan.tokensPerCall.value,
      maxQueuedLines: options.maxQueuedLines,
    }, (timing) => {
      for (const listener of this.batchListeners) listener(timing);
    });
    this.cache = new ResultCache(options.resultCache);
    this.tier = options.templateTier === false ? undefined : new TemplateTier(options.templateTier);
    this.hiddenCache = new ResultCache(options.resultCache);
    this.truncation = options.truncation;
    this.lines = new LinePreparer(model, {
      ...options,
      controlTexts: model.info().controlTokens.map(([, text]) => text).filter((t) => t.length > 0),
      padTokenId: meta.padTokenId,
    });
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
    const { header, meta } = await readModelHeader(fullPath);
    const calibration = opts.calibration === 'auto' ? (meta.calibration?.calibration ?? null) : null;
    // A thresholds file for other labels or another calibration costs this header read, not a load.
    const alertThresholds = opts.alertThresholds === undefined ? null : Object.fromEntries(checkThresholdsFile('alertThresholds', opts.alertThresholds, meta.labels, calibration));

    const binding = loadBinding(opts.nativeBinding);
    const plan = planRuntime(opts, modelFacts(meta, header), machineFacts(binding, opts.gpu));
    if (plan.gpuFallback !== undefined && !warnedGpuFallback) {
      warnedGpuFallback = true;
      process.emitWarning(plan.gpuFallback, { code: 'LOGTRIAGE_GPU_FALLBACK' });
    }
    // The hash reads the pages the load reads: started first, it runs beside the load (the header is
    // already validated, so a damaged file cannot mislead the load's sizes) and gates the result.
    const checking = checkModelOnOpen(fullPath, opts.verify, meta.digest?.id);
    checking.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    const device = plan.device.value;
    const [loaded, checked] = await Promise.allSettled([
      binding.Model.load(fullPath, {
        gpuLayers: plan.gpuLayers.value,
        useMmap: plan.useMmap.value,
        releaseSpans: plan.releasePages.value,
        ...(device ? { device: device.name } : {}),
      }),
      checking,
    ]);
    if (checked.status === 'rejected') {
      if (loaded.status === 'fulfilled') await loaded.value.dispose();
      throw checked.reason;
    }
    if (loaded.status === 'rejected') throw loaded.reason;
    const model = loaded.value;
    const verification = checked.value;
    try {
      const native = model.info();
      const contextOptions = {
        nCtx: plan.nCtx.value,
        nBatch: plan.nBatch.value,
        nUbatch: plan.nUbatch.value,
        nSeqMax: plan.nSeqMax.value,
        threads: plan.threads.value,
        flashAttn: plan.flashAttn.value,
        kvType: plan.kvType.value,
        nLabels: meta.labels.length,
        head: meta.head.weight,
        sharePrefixes: opts.prefixSharing,
        prefixCacheCells: plan.prefixCacheCells.value,
        ...(meta.head.bias ? { bias: meta.head.bias } : {}),
      };
      const context = await binding.Context.create(model, contextOptions);
      // A context for lines longer than nCtx (routeLongLines.ts): one line per decode, no prefix cache.
      const openContext = (nCtx: number, threads: number) => binding.Context.create(model, { ...contextOptions, nCtx, threads, nSeqMax: 1, prefixCacheCells: 0 });
      const ctxInfo = context.info();
      const info: ClassifierInfo = {
        path: fullPath,
        architecture: meta.arch,
        labels: [...meta.labels],
        parameters: native.nParams,
        nEmbd: native.nEmbd,
        nLayers: native.nLayer,
        contextSize: plan.maxTokens.value,
        trainContextSize: native.nCtxTrain,
        weightType: native.description.split(' ').pop() ?? 'unknown',
        sizeBytes: native.sizeBytes,
        backend: device?.backend ?? 'CPU',
        device: device ? `${device.name} (${device.description})` : 'CPU',
        gpuLayers: plan.gpuLayers.value,
        threads: plan.threads.value,
        batchSize: plan.nSeqMax.value,
        batchTokens: plan.nBatch.value,
        ubatchTokens: ctxInfo.nUbatch,
        flashAttn: ctxInfo.flashAttn,
        kvCacheType: ctxInfo.kvType,
        prefixCacheCells: ctxInfo.prefixCacheCells,
        useMmap: plan.useMmap.value,
        specialTokens: opts.specialTokens,
        llamaRelease: binding.llamaRelease,
        plan: summarizePlan(plan),
        calibration,
        review: opts.review ?? null,
        alertThresholds,
        digest: meta.digest ?? null,
        verification,
      };
      return new LogClassifier(model, context, meta, { ...opts, maxTokens: plan.maxTokens.value }, plan, info, openContext);
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
    return (await this.lines.tokenIds(texts)).map((ids) => Array.from(ids));
  }

  /** Classifies one line. */
  async classify(text: string, options: ClassifyOneOptions = {}): Promise<ClassificationResult> {
    const [result] = await this.classifyMany([text], { ...options, settled: false });
    return result!;
  }

  /**
   * Classifies many lines; results are in input order. Lines share decodes with concurrent callers.
   * With `settled: true`, one outcome per line: a line refused on its own (see ClassifyOptions)
   * is a rejected outcome and the others are classified.
   */
  async classifyMany(texts: readonly string[], options: ClassifyOptions & { settled: true }): Promise<SettledClassification[]>;
  async classifyMany(texts: readonly string[], options?: ClassifyOptions & { settled?: false }): Promise<ClassificationResult[]>;
  async classifyMany(texts: readonly string[], options: ClassifyOptions = {}): Promise<ClassificationResult[] | SettledClassification[]> {
    this.assertOpen();
    const opts = parseOptions(classifyOptionsSchema, options, 'classify options');
    if (!Array.isArray(texts)) throw new ValidationError(`Expected an array of strings for classifyMany() but received ${typeof texts}`);
    if (texts.length === 0) return [];
    if (!opts.settled) return this.tier !== undefined ? this.classifyThroughTier(texts, opts) : this.classifyByModel(await this.lines.prepare(texts, opts.truncation), opts);
    // Through the tier, lines served by a template are never tokenized: only a call that refuses long
    // lines ('error') needs every line's tokens to settle it.
    const tokensNeeded = this.tier === undefined || (opts.truncation ?? this.truncation) === 'error';
    const prepared = tokensNeeded ? await this.lines.prepareSettled(texts, opts.truncation) : this.lines.checkSettled(texts);
    const kept = prepared.flatMap((p, i) => (p instanceof LogTriageError ? [] : [i]));
    const results =
      kept.length === 0 ? [] : this.tier !== undefined ? await this.classifyThroughTier(kept.map((i) => texts[i]!), opts) : await this.classifyByModel(kept.map((i) => prepared[i] as PreparedLine), opts);
    let next = 0;
    return prepared.map((p): SettledClassification => (p instanceof LogTriageError ? { status: 'rejected', reason: p } : { status: 'fulfilled', value: results[next++]! }));
  }

  /** classifyMany through the template tier: the model sees first lines, audits and retired templates' lines. */
  private async classifyThroughTier(texts: readonly string[], opts: ReturnType<typeof classifyOptionsSchema.parse>): Promise<ClassificationResult[]> {
    if (opts.signal?.aborted) throw new AbortError(undefined, { cause: opts.signal.reason });
    const flags = this.lines.check(texts); // the same errors and flags as without the tier, for every line
    const review = opts.review ?? this.info.review ?? undefined;
    const routed = await this.tier!.classify(texts, async (subset) => {
      // Lines that waited on another call's first line come here later: the classifier may be disposed by then.
      this.assertOpen();
      return this.classifyByModel(await this.lines.prepare(subset, opts.truncation), { ...opts, onProgress: undefined });
    });
    // The served lines cost nothing: progress is reported once the model's lines are back.
    opts.onProgress?.(texts.length, texts.length);
    return routed.map(({ result, route, templateId }, i) => {
      const template = { id: templateId, audit: route === 'audit', retired: route === 'retired' };
      if (route !== 'template') return { ...result, via: 'model', template };
      const probs = this.meta.labels.map((l) => result.scores[l]!);
      return { ...result, tokens: 0, truncated: false, flags: flags[i]!, review: needsReview(probs, review), via: 'template', template };
    });
  }

  /** Prepared lines through the model (or the exact-repeat cache): classifyMany without the tier. */
  private async classifyByModel(prepared: PreparedLine[], opts: ReturnType<typeof classifyOptionsSchema.parse>): Promise<ClassificationResult[]> {
    const logits = await this.run(prepared, 'logits', this.cache, opts);
    return logits.map((l, i) => this.toResult(l, prepared[i]!, opts.review ?? this.info.review ?? undefined));
  }

  /**
   * Per line, the vector the head multiplies: the last token's hidden state after the final
   * RMSNorm (`nEmbd` floats), so that `head · embed(line)` (+ bias) is the line's logits. Lines go
   * through the same preparation, queue, batching, prefix sharing and caches as classifyMany().
   */
  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    this.assertOpen();
    const opts = parseOptions(embedOptionsSchema, options, 'embed options');
    if (!Array.isArray(texts)) throw new ValidationError(`Expected an array of strings for embed() but received ${typeof texts}`);
    if (texts.length === 0) return [];
    const prepared = await this.lines.prepare(texts);
    const hidden = await this.run(prepared, 'hidden', this.hiddenCache, opts);
    hidden.forEach((h) => {
      if (!h.every(Number.isFinite)) throw new BackendError('The model produced a non-finite hidden state (NaN or infinite weights or activations)');
    });
    // Copies: the cache keeps its own arrays, which a caller must not be able to change.
    return hidden.map((h) => h.slice());
  }

  /** Results of `output` for prepared lines: from `cache`, else through the queue; progress counts both. */
  private async run(prepared: PreparedLine[], output: NativeOutput, cache: ResultCache, opts: Pick<ClassifyOptions, 'signal' | 'onProgress'>): Promise<Float32Array[]> {
    const total = prepared.length;
    const cached = prepared.map((p) => cache.get(p.tokens));
    const misses = prepared.filter((_, i) => cached[i] === undefined);
    const pending = this.queue.push(misses.map((p) => p.tokens), opts.signal, output);
    let done = 0;
    for (const hit of cached) if (hit) opts.onProgress?.(++done, total);
    const computed = await Promise.all(
      pending.map((p, i) =>
        p.then((l) => {
          cache.set(misses[i]!.tokens, l);
          done++;
          opts.onProgress?.(done, total);
          return l;
        }),
      ),
    );
    let next = 0;
    return cached.map((l) => l ?? computed[next++]!);
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
    const long = this.longLines?.counts ?? { tokensIn: 0, tokensDecoded: 0, decodes: 0 };
    return {
      tokensIn: ctx.tokensIn + long.tokensIn,
      tokensDecoded: ctx.tokensDecoded + long.tokensDecoded,
      tokensReused: ctx.tokensReused,
      decodes: ctx.decodes + long.decodes,
      prefixCache: { budget: ctx.prefixCacheCells, cells: ctx.prefixCacheHeld },
      cache: this.cache.stats(),
      threads: ctx.threads,
      ...(this.tier !== undefined ? { templateTier: this.tier.stats() } : {}),
    };
  }

  /** HuggingFace-pipeline-shaped output: per input, `[{label, score}]` best first. */
  async pipeline(texts: string | readonly string[], options: PipelineOptions = {}): Promise<PipelineEntry[] | PipelineEntry[][]> {
    const { topK, functionToApply, ...classifyOptions } = parseOptions(pipelineOptionsSchema, options, 'pipeline options');
    const single = typeof texts === 'string';
    const results = await this.classifyMany(single ? [texts] : texts, { ...classifyOptions, settled: false });
    const shaped = results.map((r) => {
      return rankLabels(this.meta.labels, applyFunction(calibrateLogits(r.logits, this.info.calibration), functionToApply), topK);
    });
    return single ? shaped[0]! : shaped;
  }

  /** Frees the context and the weights; idempotent. Queued calls reject with DisposedError. */
  async dispose(): Promise<void> {
    this.disposing ??= (async () => {
      this.queue.close(new DisposedError());
      const contextFreed = Promise.all([this.context.dispose(), this.longLines?.close()]);
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

  private toResult(logits: Float32Array, prepared: PreparedLine, review: ReviewThresholds | undefined): ClassificationResult {
    const values = Array.from(logits);
    if (!values.every(Number.isFinite)) {
      throw new BackendError('The model produced non-finite logits (NaN or infinite weights or activations): its scores would be meaningless');
    }
    const probs = softmax(calibrateLogits(values, this.info.calibration));
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
      review: needsReview(probs, review),
      model: this.info.verification.model,
      ...(this.info.alertThresholds !== null ? { alert: isAlert(this.info.alertThresholds, { label: labels[best]!, score: probs[best]! }) } : {}),
    };
  }
}
