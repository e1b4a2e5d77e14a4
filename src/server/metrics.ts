// SPDX-License-Identifier: MIT
// Prometheus metrics of one server, in a registry of its own (two servers in one process do
// not share counters). Durations are in seconds, as Prometheus expects.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClassifierStats, LogClassifier } from '../LogClassifier.js';
import type { ModelSlot } from '../ModelSlot.js';
import { registerModelInfoMetric } from '../records/modelInfoMetric.js';
import { registerTemplateTierCounters } from '../templates/templateTierCounters.js';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'route' | 'status'>;
  requestDuration: Histogram<'route'>;
  classifyDuration: Histogram;
  requestLines: Histogram;
  requestTokens: Histogram;
  requestsInFlight: Gauge;
  linesInFlight: Gauge;
  results: Counter<'label'>;
  /** Results marked review: true, by predicted label. */
  reviews: Counter<'label'>;
  /** Results over their label's alert threshold, by label. */
  alerts: Counter<'label'>;
  /** /ingest values rejected on their own (not an object, not JSON, nested too deeply). */
  ingestRejected: Counter;
  /** Stops listening to the classifier's batches. */
  dispose: () => void;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384];
const TOKEN_BUCKETS = [8, 32, 64, 128, 256, 512, 1024, 2048, 8192, 32768, 131072];

/** A counter that reads its value from the classifier's stats() at scrape time. */
function statsCounter(registry: Registry, current: () => LogClassifier, name: string, help: string, read: (s: ClassifierStats) => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      let stats: ClassifierStats;
      try {
        stats = current().stats();
      } catch {
        return; // disposed: keep the last value
      }
      this.reset();
      this.inc(read(stats));
    },
  });
}

/**
 * The metrics of a server; with `slot`, read from the model answering now (counters read from the
 * classifier's stats() restart from the new model's after a swap, as after a restart).
 */
export function createMetrics(classifier: LogClassifier, slot?: ModelSlot): ServerMetrics {
  const current = () => slot?.current ?? classifier;
  const labels = classifier.labels;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'logtriage_' });
  const registers = [registry];
  const metrics: ServerMetrics = {
    registry,
    requests: new Counter({
      name: 'logtriage_http_requests_total',
      help: 'HTTP requests answered, by route and status code',
      labelNames: ['route', 'status'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'logtriage_http_request_duration_seconds',
      help: 'Time from request received to response sent, by route',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    classifyDuration: new Histogram({
      name: 'logtriage_classify_duration_seconds',
      help: 'Time a request spends in the classifier (tokenization, batching queue and decode)',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    requestLines: new Histogram({
      name: 'logtriage_request_lines',
      help: 'Lines classified per request (client batch size)',
      buckets: SIZE_BUCKETS,
      registers,
    }),
    requestTokens: new Histogram({
      name: 'logtriage_request_tokens',
      help: 'Tokens fed to the model per request',
      buckets: TOKEN_BUCKETS,
      registers,
    }),
    requestsInFlight: new Gauge({
      name: 'logtriage_requests_in_flight',
      help: 'Classification requests admitted and not yet answered',
      registers,
    }),
    linesInFlight: new Gauge({
      name: 'logtriage_lines_in_flight',
      help: 'Lines handed to the classifier and not yet back (queued or decoding)',
      registers,
    }),
    results: new Counter({
      name: 'logtriage_results_total',
      help: 'Lines classified, by predicted label',
      labelNames: ['label'],
      registers,
    }),
    reviews: new Counter({
      name: 'logtriage_review_total',
      help: 'Lines marked review: true (top score or margin under the review thresholds), by predicted label',
      labelNames: ['label'],
      registers,
    }),
    alerts: new Counter({
      name: 'logtriage_alerts_total',
      help: 'Lines over their label’s alert threshold (--thresholds), by label',
      labelNames: ['label'],
      registers,
    }),
    ingestRejected: new Counter({
      name: 'logtriage_ingest_records_rejected_total',
      help: '/ingest values rejected on their own (not a JSON object, not JSON, nested too deeply); their neighbours are answered as usual',
      registers,
    }),
    dispose: () => {},
  };
  // Where the time goes inside the classifier: waiting for a native call vs the call itself.
  const queueWait = new Histogram({
    name: 'logtriage_queue_wait_seconds',
    help: 'Per line: time from entering the batching queue to the start of its native call',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const inference = new Histogram({
    name: 'logtriage_inference_seconds',
    help: 'Per native call: decode, pooling and head for one packed batch',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const batchLines = new Histogram({ name: 'logtriage_batch_lines', help: 'Lines per native call', buckets: SIZE_BUCKETS, registers });
  const batchTokens = new Histogram({ name: 'logtriage_batch_tokens', help: 'Tokens per native call', buckets: TOKEN_BUCKETS, registers });
  new Gauge({
    name: 'logtriage_queue_depth',
    help: 'Lines waiting in the batching queue',
    registers,
    collect() {
      try {
        this.set(current().queuedLines);
      } catch {
        this.set(0);
      }
    },
  });
  const listen = (c: LogClassifier) =>
    c.onBatch((t) => {
      for (const ms of t.queueMs) queueWait.observe(ms / 1000);
      inference.observe(t.inferenceMs / 1000);
      batchLines.observe(t.lines);
      batchTokens.observe(t.tokens);
    });
  let unlisten = listen(classifier);
  metrics.dispose = () => unlisten();
  slot?.onSwap((next) => {
    unlisten();
    unlisten = listen(next);
    for (const label of next.labels) {
      metrics.results.inc({ label }, 0);
      metrics.reviews.inc({ label }, 0);
      metrics.alerts.inc({ label }, 0);
    }
  });
  registerModelInfoMetric(registry, 'logtriage_model_info', () => current().info);
  // Every label appears from the start, so rate() works before the first hit.
  for (const label of labels) {
    metrics.results.inc({ label }, 0);
    metrics.reviews.inc({ label }, 0);
    metrics.alerts.inc({ label }, 0);
  }
  statsCounter(registry, current, 'logtriage_tokens_in_total', 'Tokens of the lines sent to the model (result-cache hits excluded)', (s) => s.tokensIn);
  statsCounter(registry, current, 'logtriage_tokens_decoded_total', 'Tokens decoded: fewer than tokens in when lines share a prefix or repeat', (s) => s.tokensDecoded);
  statsCounter(registry, current, 'logtriage_prefix_cache_tokens_reused_total', 'Tokens whose KV cells came from the cross-call prefix cache instead of a decode', (s) => s.tokensReused);
  new Gauge({
    name: 'logtriage_prefix_cache_cells',
    help: 'KV cells the cross-call prefix cache holds',
    registers,
    collect() {
      try {
        this.set(current().stats().prefixCache.cells);
      } catch {
        // disposed: keep the last value
      }
    },
  });
  statsCounter(registry, current, 'logtriage_result_cache_lookups_total', 'Lines looked up in the exact-repeat result cache', (s) => s.cache.lookups);
  statsCounter(registry, current, 'logtriage_result_cache_hits_total', 'Lines answered from the exact-repeat result cache', (s) => s.cache.hits);
  // With --template-tier only: the tier's counters (docs/templates.md#template-tier).
  if (classifier.stats().templateTier !== undefined) registerTemplateTierCounters(registry, () => current().stats().templateTier);
  return metrics;
}
