// SPDX-License-Identifier: MIT
// `GET /health` (alive: a native call into the model, 503 while draining), `GET /ready` (warm and
// not draining), `GET /info` (TEI's Info fields, logtriage's own under `logtriage`) and
// `GET /metrics` (Prometheus).
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './ClassifyGate.js';
import { HttpError } from './errors.js';
import type { InfoResponse } from './schemas.js';

export function registerStatusRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { options, metrics } = ctx;
  app.get('/health', async () => {
    if (ctx.isDraining()) throw new HttpError('unhealthy', 'the server is shutting down');
    try {
      // A native call into the loaded model, without taking a place in the batching queue.
      await ctx.slot.use((classifier) => classifier.tokenize('health'));
    } catch (err) {
      throw new HttpError('unhealthy', `the model is not available: ${(err as Error).message}`);
    }
    return { status: 'ok' };
  });

  // Readiness, apart from liveness: 200 once the model is verified, loaded and warm; 503 while
  // warming up or draining (and, with model swaps, while swapping), so a balancer sends elsewhere.
  app.get('/ready', async () => {
    const why = ctx.notReady();
    if (why !== undefined) throw new HttpError('unhealthy', why);
    return { status: 'ready', model: ctx.classifier.info.verification.model };
  });

  app.get('/info', async (): Promise<InfoResponse> => {
    const classifier = ctx.classifier;
    const { info, labels } = classifier;
    return {
      model_id: ctx.modelId,
      model_sha: info.digest?.id ?? null,
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
        alert_thresholds: info.alertThresholds,
        model_digest: info.verification.model,
        verification: info.verification.status,
      },
    };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
