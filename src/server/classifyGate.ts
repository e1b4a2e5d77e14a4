// SPDX-License-Identifier: MIT
// The one way a route classifies: admission (429 past maxConcurrentRequests), cancellation when
// the client hangs up, the metrics, the truncation rules of a request, and the review and alert
// marks every route adds. Concurrent requests share decodes inside the classifier's batching queue.
import type { FastifyReply } from 'fastify';
import type { ClassificationResult, LogClassifier } from '../LogClassifier.js';
import { isAlert } from '../calibration/thresholdsFile.js';
import { ValidationError } from '../errors.js';
import { HttpError } from './errors.js';
import type { ServerMetrics } from './metrics.js';
import type { PredictionExtras } from './schemas.js';
import type { ResolvedServerOptions } from './serverOptions.js';

export interface RouteContext {
  classifier: LogClassifier;
  options: ResolvedServerOptions;
  metrics: ServerMetrics;
  modelId: string;
  version: string;
  /** True once close() has begun: /health answers 503 so balancers stop sending. */
  isDraining: () => boolean;
}

export const sumTokens = (results: readonly ClassificationResult[]) => results.reduce((n, r) => n + r.tokens, 0);

export class ClassifyGate {
  readonly labels: readonly string[];
  /** Label → alert threshold, by the model's spelling; undefined without `alertThresholds`. */
  readonly thresholds: ReadonlyMap<string, number> | undefined;
  private inFlight = 0;

  constructor(private readonly ctx: RouteContext) {
    this.labels = ctx.classifier.labels;
    const { alertThresholds } = ctx.options;
    this.thresholds = alertThresholds ? new Map(Object.entries(alertThresholds)) : undefined;
    const unknown = [...(this.thresholds?.keys() ?? [])].find((l) => !this.labels.includes(l));
    if (unknown !== undefined) throw new ValidationError(`alertThresholds names label '${unknown}', which this model does not have; its labels are: ${this.labels.join(', ')}`);
  }

  alertOf(result: ClassificationResult): boolean | undefined {
    return this.thresholds ? isAlert(this.thresholds, result) : undefined;
  }

  /** /predict and POST / carry review and alert only when configured, so their bodies stay TEI's otherwise. */
  extrasOf(result: ClassificationResult): PredictionExtras {
    return {
      ...(this.ctx.classifier.info.review !== null ? { review: result.review } : {}),
      ...(this.thresholds ? { alert: this.alertOf(result)! } : {}),
    };
  }

  /** Takes a place among the requests in flight, or throws 429; call the returned function once done. */
  admit(): () => void {
    const { options, metrics } = this.ctx;
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

  async classifyAdmitted(reply: FastifyReply, texts: string[], chunkLines: number): Promise<ClassificationResult[]> {
    const release = this.admit();
    try {
      return await this.classifyTexts(reply, texts, chunkLines);
    } finally {
      release();
    }
  }

  /** Classifies within a request already admitted, `chunkLines` at a time; cancelled when the client hangs up. */
  async classifyTexts(reply: FastifyReply, texts: string[], chunkLines: number): Promise<ClassificationResult[]> {
    const { classifier, metrics } = this.ctx;
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
          results = results.concat(await classifier.classifyMany(chunk, { signal: cancel.signal }));
        } finally {
          metrics.linesInFlight.dec(chunk.length);
        }
      }
      metrics.classifyDuration.observe((performance.now() - started) / 1000);
      metrics.requestLines.observe(texts.length);
      metrics.requestTokens.observe(sumTokens(results));
      for (const r of results) {
        metrics.results.inc({ label: r.label });
        if (r.review) metrics.reviews.inc({ label: r.label });
        if (this.alertOf(r)) metrics.alerts.inc({ label: r.label });
      }
      return results;
    } finally {
      reply.raw.off('close', onClose);
    }
  }

  /** A request that must not truncate (or must truncate on the other side) fails as TEI's validation does. */
  checkTruncation(results: readonly ClassificationResult[], truncate: boolean, direction: 'right' | 'left', field: string): void {
    const { classifier, options } = this.ctx;
    results.forEach((r, i) => {
      if (!r.truncated) return;
      const where = results.length === 1 && field === 'inputs' ? field : `${field}[${i}]`;
      if (!truncate) {
        throw new HttpError('validation', `${where} is longer than max_input_length ${classifier.info.contextSize} tokens and truncate is false`);
      }
      if (direction !== options.truncationDirection) {
        throw new HttpError(
          'validation',
          `${where} needs truncation on the ${direction}, but this server keeps the ${options.truncationDirection === 'right' ? 'start' : 'end'} of long inputs (truncation_direction ${options.truncationDirection})`,
        );
      }
    });
  }

  setComputeHeaders(reply: FastifyReply, texts: readonly string[], results: readonly ClassificationResult[]): void {
    reply.header('x-compute-characters', String(texts.reduce((n, t) => n + t.length, 0)));
    reply.header('x-compute-tokens', String(sumTokens(results)));
  }
}
