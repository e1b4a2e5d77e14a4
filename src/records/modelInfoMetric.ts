// SPDX-License-Identifier: MIT
// The Prometheus info metric naming the model that answers now (server /metrics and the worker's
// metrics port): value 1, with its digest, labels, weight type and how open() verified it. Read
// at scrape time, so after a model swap it names the new model.
import { Gauge, type Registry } from 'prom-client';
import type { ClassifierInfo } from '../LogClassifier.js';

export function registerModelInfoMetric(registry: Registry, name: string, current: () => ClassifierInfo): void {
  new Gauge({
    name,
    help: 'The model answering now (always 1): digest (12 hex characters, or unverifiable), labels (comma-separated, in id order), weight type, verification',
    labelNames: ['digest', 'labels', 'weight_type', 'verification'],
    registers: [registry],
    collect() {
      const info = current();
      this.reset();
      this.set({ digest: info.verification.model, labels: info.labels.join(','), weight_type: info.weightType, verification: info.verification.status }, 1);
    },
  });
}
