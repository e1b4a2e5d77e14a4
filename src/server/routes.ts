// SPDX-License-Identifier: MIT
// The handlers. Every classification goes through classifyAdmitted(): it bounds the requests in
// flight (429 past maxConcurrentRequests), cancels the work of a client that hung up, and keeps
// the metrics. Concurrent requests share decodes inside the classifier's batching queue.
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';
import type { ClassificationResult, LogClassifier } from '../LogClassifier.js';
import { isAlert } from '../calibration/thresholdsFile.js';
import { ValidationError } from '../errors.js';
import { parseOptions } from '../options.js';
import { HttpError } from './errors.js';
import { forwardRecords } from './forwardRecords.js';
import { bulkIds, forwardBulk, withoutMetadataFields, type BulkTarget } from './forwardBulk.js';
import { inputTexts, registerHfInferenceRoute } from './hfInferenceRoute.js';
import { enrichRecord } from '../records/enrichRecord.js';
import { readField, skipReason, type LogRecord } from '../records/readField.js';
import { parseJsonBody, parseNdjson, recordsOf } from './ingestRecords.js';
import { serializeRecord } from '../records/recordShape.js';
import type { ServerMetrics } from './metrics.js';
import {
  classifyRequestSchema,
  predictRequestSchema,
  type ClassifyResponse,
  type InfoResponse,
  type Prediction,
  type PredictionExtras,
  type PredictResponse,
} from './schemas.js';
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

/** One /ingest record on its way out: its JSON text, and whether it goes on to --forward. */
interface WrittenRecord {
  json: string;
  forward: boolean;
  /** The record as answered, and as the shipper sent it (for the _bulk `_id`). */
  enriched?: LogRecord;
  source?: LogRecord;
}

/**
 * es-bulk: each record created with a deterministic `_id`, without `_` fields; a record
 * Elasticsearch refuses for good is answered with `logtriage.forward_error` (a retry cannot help).
 */
async function forwardEachToBulk(written: WrittenRecord[], target: BulkTarget, log: FastifyBaseLogger): Promise<void> {
  const ids = bulkIds(written.map((w) => JSON.stringify(w.source)));
  const docs = written.map((w) => JSON.stringify(withoutMetadataFields(w.enriched!)));
  const refused = await forwardBulk(docs, ids, target);
  if (refused.size > 0) log.warn({ refused: refused.size }, 'records refused for good by the _bulk downstream');
  for (const [i, reason] of refused) {
    const w = written[i]!;
    w.json = JSON.stringify({ ...w.enriched, logtriage: { ...(w.enriched!.logtriage as object), forward_error: reason } });
  }
}

/** Lines one `/ingest` request hands the classifier at a time, so a big batch cannot fill the queue alone. */
const INGEST_CHUNK_LINES = 512;

const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonlines', 'application/json-lines', 'application/jsonl'];

/** TEI `inputs` → texts; `batch` is false for a single string (TEI answers a flat list then). */
function predictTexts(inputs: string | Array<string | string[]>, maxBatch: number): { texts: string[]; batch: boolean } {
  if (typeof inputs === 'string') return { texts: [inputs], batch: false };
  if (inputs.length === 0) throw new HttpError('empty', '`inputs` cannot be empty');
  if (inputs.length > maxBatch) throw new HttpError('validation', `batch size ${inputs.length} > maximum allowed batch size ${maxBatch}`);
  const flat = inputs.every((i) => typeof i === 'string');
  if (flat) return { texts: inputs as string[], batch: true };
  const texts = inputs.map((item, i) => {
    if (typeof item === 'string') {
      throw new HttpError('validation', '`inputs` mixes strings and lists: send a list of strings or a list of one-element lists');
    }
    if (item.length === 2) throw new HttpError('validation', `inputs[${i}] is a pair of texts: this model classifies one text at a time`);
    if (item.length !== 1) throw new HttpError('validation', `inputs[${i}] has ${item.length} strings; each list holds exactly one`);
    return item[0]!;
  });
  return { texts, batch: true };
}

/** Every label with its score, best first (TEI sorts the same way). */
function rank(labels: readonly string[], scores: readonly number[]): Prediction[] {
  if (scores.some((s) => Number.isNaN(s))) throw new HttpError('backend', 'score is NaN');
  return labels.map((label, i) => ({ score: scores[i]!, label })).sort((a, b) => b.score - a.score);
}

const sumTokens = (results: readonly ClassificationResult[]) => results.reduce((n, r) => n + r.tokens, 0);

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { classifier, options, metrics } = ctx;
  const labels = classifier.labels;
  const thresholds = options.alertThresholds ? new Map(Object.entries(options.alertThresholds)) : undefined;
  const unknown = [...(thresholds?.keys() ?? [])].find((l) => !labels.includes(l));
  if (unknown !== undefined) throw new ValidationError(`alertThresholds names label '${unknown}', which this model does not have; its labels are: ${labels.join(', ')}`);
  const alertOf = (r: ClassificationResult) => (thresholds ? isAlert(thresholds, r) : undefined);
  // /predict and POST / carry review and alert only when configured, so their bodies stay TEI's otherwise.
  const reviewing = classifier.info.review !== null;
  const extrasOf = (r: ClassificationResult): PredictionExtras => ({
    ...(reviewing ? { review: r.review } : {}),
    ...(thresholds ? { alert: alertOf(r)! } : {}),
  });
  let inFlight = 0;

  function admit(): () => void {
    if (inFlight >= options.maxConcurrentRequests) {
      throw new HttpError('overloaded', `Model is overloaded: ${inFlight} requests in flight (max_concurrent_requests ${options.maxConcurrentRequests})`);
    }
    inFlight++;
    metrics.requestsInFlight.inc();
    return () => {
      inFlight--;
      metrics.requestsInFlight.dec();
    };
  }

  async function classifyAdmitted(reply: FastifyReply, texts: string[], chunkLines: number): Promise<ClassificationResult[]> {
    const release = admit();
    try {
      return await classifyTexts(reply, texts, chunkLines);
    } finally {
      release();
    }
  }

  /** Classifies within a request already admitted; cancelled when the client hangs up. */
  async function classifyTexts(reply: FastifyReply, texts: string[], chunkLines: number): Promise<ClassificationResult[]> {
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
        if (alertOf(r)) metrics.alerts.inc({ label: r.label });
      }
      return results;
    } finally {
      reply.raw.off('close', onClose);
    }
  }

  /** A request that must not truncate (or must truncate on the other side) fails as TEI's validation does. */
  function checkTruncation(results: readonly ClassificationResult[], truncate: boolean, direction: 'right' | 'left', field: string): void {
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

  function setComputeHeaders(reply: FastifyReply, texts: readonly string[], results: readonly ClassificationResult[]): void {
    reply.header('x-compute-characters', String(texts.reduce((n, t) => n + t.length, 0)));
    reply.header('x-compute-tokens', String(sumTokens(results)));
  }

  app.post('/predict', async (request, reply): Promise<PredictResponse> => {
    const body = parseOptions(predictRequestSchema, request.body, 'request body');
    const { texts, batch } = predictTexts(body.inputs, options.maxClientBatchSize);
    const results = await classifyAdmitted(reply, texts, Infinity);
    checkTruncation(results, body.truncate ?? options.autoTruncate, body.truncation_direction ?? options.truncationDirection, 'inputs');
    setComputeHeaders(reply, texts, results);
    const predictions = results.map((r) => {
      const extras = extrasOf(r);
      return rank(labels, body.raw_scores ? r.logits : labels.map((l) => r.scores[l]!)).map((p) => ({ ...p, ...extras }));
    });
    return batch ? predictions : predictions[0]!;
  });

  app.post('/v1/classify', async (request, reply): Promise<ClassifyResponse> => {
    const body = parseOptions(classifyRequestSchema, request.body, 'request body');
    const texts = inputTexts(body.input, options.maxClientBatchSize, 'input');
    const results = await classifyAdmitted(reply, texts, Infinity);
    checkTruncation(results, options.autoTruncate, options.truncationDirection, 'input');
    setComputeHeaders(reply, texts, results);
    const topK = body.top_k ?? labels.length;
    const tokens = sumTokens(results);
    return {
      object: 'list',
      model: ctx.modelId,
      data: results.map((r, index) => {
        const ranked = rank(labels, labels.map((l) => r.scores[l]!)).slice(0, topK);
        return {
          index,
          label: r.label,
          score: r.score,
          scores: Object.fromEntries(ranked.map((p) => [p.label, p.score])),
          tokens: r.tokens,
          truncated: r.truncated,
          flags: r.flags,
          review: r.review,
          ...(thresholds ? { alert: alertOf(r)! } : {}),
        };
      }),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  });

  // NDJSON is read by /ingest only: its parser lives in this encapsulated scope.
  app.register(async (scope) => {
    // A `__proto__` or `constructor.prototype` key is data in a log record: JSON.parse makes it an
    // own property, never the prototype, and nothing here merges records by assignment. fastify's
    // JSON parser refuses such a body (proto-poisoning guard), which failed every record around
    // one such record with a 400; the NDJSON parser took them. /ingest reads JSON with JSON.parse,
    // as it reads NDJSON; the other routes keep the guard.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
      try {
        done(null, parseJsonBody(text as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    scope.addContentTypeParser(NDJSON_TYPES, { parseAs: 'string' }, (_request, text, done) => {
      try {
        done(null, parseNdjson(text as string, options.maxIngestRecords));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    // Long lines are always truncated here: one long line must not cost a shipper its whole batch.
    // Every record is answered on its own (classified, skipped or rejected with its reason), and
    // written out alone: a record that cannot be serialised never fails its neighbours.
    scope.post('/ingest', async (request, reply) => {
      const { items, framing } = recordsOf(request.body, options.maxIngestRecords);
      // Admitted whatever it holds: records without a message cost parsing, copying and forwarding too.
      const release = admit();
      try {
        const field = options.messageField;
        const outcomes = items.map((item) => ('rejected' in item ? undefined : skipReason(readField(item.record, field), field)));
        const toClassify = items.flatMap((item, i) => ('record' in item && outcomes[i] === undefined ? [readField(item.record, field) as string] : []));
        const results = toClassify.length > 0 ? await classifyTexts(reply, toClassify, INGEST_CHUNK_LINES) : [];
        let next = 0;
        const written = items.map((item, i): WrittenRecord => {
          if ('rejected' in item) return { json: JSON.stringify({ logtriage: { rejected: item.rejected } }), forward: false };
          const outcome = outcomes[i] ?? results[next++]!;
          const enriched = enrichRecord(item.record, outcome, labels, options.ecs, typeof outcome === 'string' ? undefined : alertOf(outcome));
          // What JSON.parse changed (a rounded big integer, Infinity, a repeated key) is said, not hidden.
          if (item.altered) enriched.logtriage = { ...(enriched.logtriage as object), altered: item.altered };
          const out = serializeRecord(enriched);
          if ('json' in out) return { json: out.json, forward: true, enriched, source: item.record };
          return { json: JSON.stringify({ logtriage: { rejected: `record ${i}: ${out.problem}` } }), forward: false };
        });
        const rejected = written.filter((w) => !w.forward).length;
        if (rejected > 0) {
          metrics.ingestRejected.inc(rejected);
          request.log.warn({ rejected }, 'records rejected on their own');
        }
        if (options.forwardUrl !== undefined) {
          const forwarded = written.filter((w) => w.forward);
          const target = { url: options.forwardUrl, timeoutMs: options.forwardTimeoutMs, headers: options.forwardHeaders };
          if (forwarded.length > 0 && options.forwardFormat === 'es-bulk') {
            await forwardEachToBulk(forwarded, target, request.log);
          } else if (forwarded.length > 0) {
            await forwardRecords(forwarded.map((w) => w.json), framing, { ...target, format: options.forwardFormat });
          }
        }
        const parts = written.map((w) => w.json);
        if (framing === 'ndjson') return reply.type('application/x-ndjson').send(parts.map((p) => `${p}\n`).join(''));
        // Already JSON text: fastify's serializer (recursive) never sees the records.
        return reply.type('application/json; charset=utf-8').send(framing === 'array' ? `[${parts.join(',')}]` : parts[0]);
      } finally {
        release();
      }
    });
  });

  registerHfInferenceRoute(app, {
    labels,
    maxClientBatchSize: options.maxClientBatchSize,
    calibration: classifier.info.calibration,
    extras: extrasOf,
    classify: async (reply, texts) => {
      const results = await classifyAdmitted(reply, texts, Infinity);
      checkTruncation(results, options.autoTruncate, options.truncationDirection, 'inputs');
      return results;
    },
  });

  app.get('/health', async () => {
    if (ctx.isDraining()) throw new HttpError('unhealthy', 'the server is shutting down');
    try {
      // A native call into the loaded model, without taking a place in the batching queue.
      await classifier.tokenize('health');
    } catch (err) {
      throw new HttpError('unhealthy', `the model is not available: ${(err as Error).message}`);
    }
    return { status: 'ok' };
  });

  app.get('/info', async (): Promise<InfoResponse> => {
    const info = classifier.info;
    return {
      model_id: ctx.modelId,
      model_sha: null,
      model_dtype: info.weightType.toLowerCase(),
      model_type: {
        classifier: {
          id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
          label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
        },
      },
      max_concurrent_requests: options.maxConcurrentRequests,
      max_input_length: info.contextSize,
      max_batch_tokens: info.batchTokens,
      max_batch_requests: info.batchSize,
      max_client_batch_size: options.maxClientBatchSize,
      auto_truncate: options.autoTruncate,
      tokenization_workers: null,
      version: ctx.version,
      sha: null,
      docker_label: null,
      logtriage: {
        labels,
        truncation_direction: options.truncationDirection,
        payload_limit: options.payloadLimit,
        message_field: options.messageField,
        ecs: options.ecs,
        auth: options.apiKey !== undefined,
        architecture: info.architecture,
        parameters: info.parameters,
        backend: info.backend,
        device: info.device,
        threads: info.threads,
        special_tokens: info.specialTokens,
        llama_release: info.llamaRelease,
        calibration: info.calibration?.method ?? 'none',
        review: info.review,
        alert_thresholds: options.alertThresholds ?? null,
      },
    };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
