// SPDX-License-Identifier: MIT
// `GET /health` (alive: a native call into the model, 503 while draining), `GET /info` (TEI's
// Info fields, logtriage's own under `logtriage`) and `GET /metrics` (Prometheus).
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './classifyGate.js';
import { HttpError } from './errors.js';
import type { InfoResponse } from './schemas.js';

export function registerStatusRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { classifier, options, metrics } = ctx;
  const labels = classifier.labels;
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
