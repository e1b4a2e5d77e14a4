// SPDX-License-Identifier: MIT
// Every route family, registered on one app around one ClassifyGate (ClassifyGate.ts): the
// TEI-shaped /predict, /v1/classify, /ingest, HuggingFace's POST /, the status routes and the
// model swap (POST /admin/model).
import type { FastifyInstance } from 'fastify';
import { ClassifyGate, type RouteContext } from './ClassifyGate.js';
import { registerAdminRoutes } from './adminRoutes.js';
import { registerClassifyRoute } from './classifyRoute.js';
import { registerHfInferenceRoute } from './hfInferenceRoute.js';
import { registerIngestRoute } from './ingestRoute.js';
import { registerStatusRoutes } from './statusRoutes.js';
import { registerTeiPredictRoute } from './teiPredictRoute.js';

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { options, metrics } = ctx;
  const gate = new ClassifyGate(ctx);
  registerTeiPredictRoute(app, gate, options);
  registerClassifyRoute(app, gate, ctx);
  registerIngestRoute(app, gate, options, metrics);
  registerHfInferenceRoute(app, {
    get labels() {
      return gate.labels;
    },
    maxClientBatchSize: options.maxClientBatchSize,
    get calibration() {
      return ctx.classifier.info.calibration;
    },
    extras: (r) => gate.extrasOf(r),
    classify: async (reply, texts) => {
      return gate.classifyAdmitted(reply, texts);
    },
  });
  registerStatusRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
}
