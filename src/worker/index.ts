// SPDX-License-Identifier: MIT
// Classifier workers on NATS JetStream, for `logtriage worker` and for programs that embed one.
export { JetStreamWorker, type DeadLetter, type WorkerEvents } from './JetStreamWorker.js';
export { serveWorkerMetrics, type WorkerMetrics } from './workerMetrics.js';
export type { WorkerOptions } from './workerOptions.js';
