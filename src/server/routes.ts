// SPDX-License-Identifier: MIT
// Every route family, registered on one app around one ClassifyGate (classifyGate.ts): the
// TEI-shaped /predict, /v1/classify, /ingest, HuggingFace's POST /, and the status routes.
import type { FastifyInstance } from 'fastify';
import { ClassifyGate, type RouteContext } from './classifyGate.js';
import { registerClassifyRoute } from './classifyRoute.js';
import { registerHfInferenceRoute } from './hfInferenceRoute.js';
import { registerIngestRoute } from './ingestRoute.js';
import { registerStatusRoutes } from './statusRoutes.js';
import { registerTeiPredictRoute } from './teiPredictRoute.js';

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { classifier, options, metrics } = ctx;
  const gate = new ClassifyGate(ctx);
  registerTeiPredictRoute(app, gate, options);
  registerClassifyRoute(app, gate, ctx);
  registerIngestRoute(app, gate, options, metrics);
  registerHfInferenceRoute(app, {
    labels: gate.labels,
    maxClientBatchSize: options.maxClientBatchSize,
    calibration: classifier.info.calibration,
    extras: (r) => gate.extrasOf(r),
    classify: async (reply, texts) => {
      const results = await gate.classifyAdmitted(reply, texts, Infinity);
      gate.checkTruncation(results, options.autoTruncate, options.truncationDirection, 'inputs');
      return results;
    },
  });
  registerStatusRoutes(app, ctx);
}
