// SPDX-License-Identifier: MIT
// `POST /v1/classify`: logtriage's own JSON answer, one entry per input with every mark the
// library gives (truncated, flags, review, alert) and the usage in tokens.
import type { FastifyInstance } from 'fastify';
import { rankLabels } from '../engine/scores.js';
import { parseOptions } from '../options.js';
import { sumTokens, tierFields, type ClassifyGate, type RouteContext } from './ClassifyGate.js';
import { inputTexts } from './hfInferenceRoute.js';
import { classifyRequestSchema, type ClassifyResponse } from './schemas.js';

export function registerClassifyRoute(app: FastifyInstance, gate: ClassifyGate, ctx: RouteContext): void {
  const { options } = ctx;
  app.post('/v1/classify', async (request, reply): Promise<ClassifyResponse> => {
    const body = parseOptions(classifyRequestSchema, request.body, 'request body');
    const texts = inputTexts(body.input, options.maxClientBatchSize, 'input');
    const results = await gate.classifyAdmitted(reply, texts, { field: 'input' });
    gate.setComputeHeaders(reply, texts, results);
    const tokens = sumTokens(results);
    return {
      object: 'list',
      model: ctx.modelId,
      model_digest: results[0]?.model ?? ctx.classifier.info.verification.model,
      data: results.map((r, index) => {
        const labels = gate.labelsOf(r);
        const ranked = rankLabels(labels, labels.map((l) => r.scores[l]!), body.top_k ?? labels.length);
        return {
          index,
          label: r.label,
          score: r.score,
          scores: Object.fromEntries(ranked.map((p) => [p.label, p.score])),
          tokens: r.tokens,
          truncated: r.truncated,
          flags: r.flags,
          review: r.review,
          ...(r.alert !== undefined ? { alert: r.alert } : {}),
          ...tierFields(r),
        };
      }),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  });
}
