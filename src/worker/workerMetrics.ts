// SPDX-License-Identifier: MIT
// Prometheus metrics of one worker in a registry of its own (the style of src/server/metrics.ts),
// and the small HTTP endpoint that serves them with /health.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TemplateTierStats } from '../templates/TemplateTier.js';
import { registerTemplateTierCounters } from '../templates/templateTierCounters.js';

export interface WorkerMetrics {
  registry: Registry;
  linesIn: Counter;
  linesOut: Counter;
  deadLettered: Counter<'code'>;
  redeliveries: Counter;
  batchLines: Histogram;
  batchDuration: Histogram;
  publishFailures: Counter;
  /** Results marked review: true, by predicted label. */
  reviews: Counter<'label'>;
  /** Results over their label's alert threshold, by label. */
  alerts: Counter<'label'>;
}

const SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface ConsumerLag {
  /** Messages in the stream not yet delivered to this consumer. */
  pending: number;
  /** Delivered and not yet acked, by every worker of the consumer. */
  ackPending: number;
}

/**
 * `readLag` is called at scrape time (consumer info from the engine); undefined keeps the last values.
 * Every one of `labels` appears in the by-label counters from the start, so rate() works before the first hit.
 * `readTier` (the classifier has the template tier) adds the tier's counters, named as the server's.
 */
export function createWorkerMetrics(labels: readonly string[], readLag: () => Promise<ConsumerLag | undefined>, readTier?: () => TemplateTierStats | undefined): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'logtriage_' });
  const registers = [registry];
  if (readTier !== undefined) registerTemplateTierCounters(registry, readTier);
  let lag: ConsumerLag | undefined;
  const refreshLag = async () => {
    lag = (await readLag().catch(() => undefined)) ?? lag;
  };
  new Gauge({
    name: 'logtriage_worker_consumer_pending',
    help: 'Messages in the input stream not yet delivered to the consumer (lag)',
    registers,
    async collect() {
      await refreshLag();
      if (lag) this.set(lag.pending);
    },
  });
  new Gauge({
    name: 'logtriage_worker_consumer_ack_pending',
    help: 'Messages delivered to the consumer (any worker) and not yet acked',
    registers,
    collect() {
      if (lag) this.set(lag.ackPending);
    },
  });
  const byLabel = (name: string, help: string) => {
    const counter = new Counter({ name, help, labelNames: ['label'] as const, registers });
    for (const label of labels) counter.inc({ label }, 0);
    return counter;
  };
  return {
    registry,
    linesIn: new Counter({ name: 'logtriage_worker_lines_in_total', help: 'Messages received from the input stream (redeliveries included)', registers }),
    linesOut: new Counter({ name: 'logtriage_worker_lines_out_total', help: 'Results published and acknowledged by the output stream', registers }),
    deadLettered: new Counter({
      name: 'logtriage_worker_dead_lettered_total',
      help: 'Messages published to the dead-letter subject, by error code',
      labelNames: ['code'],
      registers,
    }),
    redeliveries: new Counter({ name: 'logtriage_worker_redeliveries_total', help: 'Messages received that had been delivered before', registers }),
    batchLines: new Histogram({ name: 'logtriage_worker_batch_lines', help: 'Messages per classifyMany() batch', buckets: SIZE_BUCKETS, registers }),
    batchDuration: new Histogram({
      name: 'logtriage_worker_batch_duration_seconds',
      help: 'Time from a batch taken to its last ack: classify, publish, ack',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    publishFailures: new Counter({
      name: 'logtriage_worker_publish_failures_total',
      help: 'Results not acknowledged by the output stream (left unacked: the engine redelivers them)',
      registers,
    }),
    reviews: byLabel('logtriage_worker_review_total', 'Results marked review: true (top score or margin under the review thresholds), by predicted label'),
    alerts: byLabel('logtriage_worker_alerts_total', 'Results over their label’s alert threshold (--thresholds), by label'),
  };
}

/**
 * Serves GET /metrics, GET /health (503 once `healthy()` is false) and GET /ready (503 while
 * `notReady()` names a reason: warming up, swapping, draining) on host:port; resolves when listening.
 */
export async function serveWorkerMetrics(
  metrics: WorkerMetrics,
  healthy: () => boolean,
  port: number,
  host: string,
  notReady: () => string | undefined = () => (healthy() ? undefined : 'not connected or draining'),
): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: Error) => response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message, error_type: 'internal' })),
      );
      return;
    }
    if (request.method === 'GET' && path === '/ready') {
      const why = notReady();
      response.writeHead(why === undefined ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(why === undefined ? { status: 'ready' } : { error: why, error_type: 'unhealthy' }));
      return;
    }
    if (request.method === 'GET' && path === '/health') {
      const ok = healthy();
      response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(ok ? { status: 'ok' } : { error: 'not connected or draining', error_type: 'unhealthy' }));
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `No route ${request.method} ${path?.slice(0, 200)}`, error_type: 'not_found' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
