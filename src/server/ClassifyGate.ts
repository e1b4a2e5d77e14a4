// SPDX-License-Identifier: MIT
// The one way a route classifies: admission (429 past maxConcurrentRequests, 503 during a paused
// swap), cancellation when the client hangs up, the metrics, a request's truncation (per call: the
// classifier cuts the side asked for, or refuses before decoding), the model that answered, and the
// review and alert marks every route adds. Concurrent requests share decodes inside the
// classifier's batching queue; every call goes through the ModelSlot, so a swap never disposes a
// model in use.
import type { FastifyReply } from 'fastify';
import type { ClassificationResult, LogClassifier } from '../LogClassifier.js';
import type { ModelSlot } from '../ModelSlot.js';
import { InputTooLongError } from '../errors.js';
import { HttpError } from './errors.js';
import type { ServerMetrics } from './metrics.js';
import type { PredictionExtras } from './schemas.js';
import type { ResolvedServerOptions } from './serverOptions.js';

/** `via` and `template_id` of a result classified through the template tier; nothing with the tier off. */
export function tierFields(result: ClassificationResult): Pick<PredictionExtras, 'via' | 'template_id'> {
  return result.via !== undefined ? { via: result.via, ...(result.template !== undefined ? { template_id: result.template.id } : {}) } : {};
}

export interface RouteContext {
  /** The model answering now (slot.current): read it per request, never keep it. */
  readonly classifier: LogClassifier;
  /** Where the model lives: every classification goes through slot.use(), so a swap never disposes a model in use. */
  slot: ModelSlot;
  options: ResolvedServerOptions;
  metrics: ServerMetrics;
  modelId: string;
  version: string;
  /** True once close() has begun: /health answers 503 so balancers stop sending. */
  isDraining: () => boolean;
  /** Why GET /ready answers 503 (warming up, draining), or undefined once it answers 200. */
  notReady: () => string | undefined;
}

/** How one request wants its texts classified. */
export interface RequestShape {
  /** Lines handed to the classifier at a time (default: all). */
  chunkLines?: number;
  /** false: a long input is refused (422) before any decode. Default: the server's autoTruncate. */
  truncate?: boolean;
  /** Which end of a long input is kept ('right' keeps the start). Default: the server's. */
  direction?: 'right' | 'left';
  /** The request field the texts came from, for messages. */
  field?: string;
}

/** Names the weights behind every answer: the results' model digest, else the model loaded now. */
export const MODEL_HEADER = 'logtriage-model';

export const sumTokens = (results: readonly ClassificationResult[]) => results.reduce((n, r) => n + r.tokens, 0);

export class ClassifyGate {
  private inFlight = 0;

  constructor(private readonly ctx: RouteContext) {}

  /** The current model's labels (a result's own are labelsOf(result): a swap may fall between). */
  get labels(): readonly string[] {
    return this.ctx.classifier.labels;
  }

  /** The labels of the model that produced `result`, in id order (its scores are keyed in that order). */
  labelsOf(result: ClassificationResult): string[] {
    return Object.keys(result.scores);
  }

  /** /predict and POST / carry review and alert only when configured, so their bodies stay TEI's otherwise. */
  extrasOf(result: ClassificationResult): PredictionExtras {
    return {
      ...(this.ctx.classifier.info.review !== null ? { review: result.review } : {}),
      ...(result.alert !== undefined ? { alert: result.alert } : {}),
      ...tierFields(result),
    };
  }

  /** Takes a place among the requests in flight, or throws 429 (503 during a paused swap); call the returned function once done. */
  admit(): () => void {
    const { options, metrics, slot } = this.ctx;
    // --swap-mode pause: 503 with Retry-After while the old model drains and the new one loads.
    const paused = slot.pausedReason;
    if (paused !== undefined) throw new HttpError('unhealthy', paused);
    if (this.inFlight >= options.maxConcurrentRequests) {
      throw new HttpError('overloaded', `Model is overloaded: ${this.inFlight} requests in flight (max_concurrent_requests ${options.maxConcurrentRequests})`);
    }
    this.inFlight++;
    metrics.requestsInFlight.inc();
    return () => {
      this.inFlight--;
      metrics.requestsInFlight.dec();
    };
  }

  async classifyAdmitted(reply: FastifyReply, texts: string[], request: RequestShape = {}): Promise<ClassificationResult[]> {
    const release = this.admit();
    try {
      return await this.classifyTexts(reply, texts, request);
    } finally {
      release();
    }
  }

  /**
   * Classifies within a request already admitted, `chunkLines` at a time; cancelled when the client
   * hangs up. A request that must not truncate is refused before any decode (422, as TEI's validation).
   */
  async classifyTexts(reply: FastifyReply, texts: string[], request: RequestShape = {}): Promise<ClassificationResult[]> {
    const { slot, metrics, options } = this.ctx;
    const { chunkLines = Infinity, truncate = options.autoTruncate, direction = options.truncationDirection, field = 'inputs' } = request;
    const cancel = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) cancel.abort(new Error('the client closed the connection'));
    };
    reply.raw.once('close', onClose);
    // A client that left before the handler ran closed its socket before the listener was there.
    if (reply.raw.socket?.destroyed) onClose();
    const started = performance.now();
    try {
      let results: ClassificationResult[] = [];
      for (let start = 0; start < texts.length; start += chunkLines) {
        const chunk = texts.slice(start, start + chunkLines);
        metrics.linesInFlight.inc(chunk.length);
        try {
          const truncation = truncate ? direction : 'error';
          results = results.concat(await slot.use((classifier) => classifier.classifyMany(chunk, { signal: cancel.signal, truncation })));
        } catch (err) {
          if (!(err instanceof InputTooLongError) || err.index === undefined) throw err;
          const where = texts.length === 1 && field === 'inputs' ? field : `${field}[${start + err.index}]`;
          throw new HttpError('validation', `${where} is longer than max_input_length ${this.ctx.classifier.info.contextSize} tokens and truncate is false`);
        } finally {
          metrics.linesInFlight.dec(chunk.length);
        }
      }
      metrics.classifyDuration.observe((performance.now() - started) / 1000);
      metrics.requestLines.observe(texts.length);
      metrics.requestTokens.observe(sumTokens(results));
      // The weights that produced these results (more than one only if a swap fell between chunks).
      if (results.length > 0) reply.header(MODEL_HEADER, [...new Set(results.map((r) => r.model))].join(', '));
      for (const r of results) {
        metrics.results.inc({ label: r.label });
        if (r.review) metrics.reviews.inc({ label: r.label });
        if (r.alert) metrics.alerts.inc({ label: r.label });
      }
      return results;
    } finally {
      reply.raw.off('close', onClose);
    }
  }

  setComputeHeaders(reply: FastifyReply, texts: readonly string[], results: readonly ClassificationResult[]): void {
    reply.header('x-compute-characters', String(texts.reduce((n, t) => n + t.length, 0)));
    reply.header('x-compute-tokens', String(sumTokens(results)));
  }
}
