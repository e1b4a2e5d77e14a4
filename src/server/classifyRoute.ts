// SPDX-License-Identifier: MIT
// `POST /v1/classify`: logtriage's own JSON answer, one entry per input with every mark the
// library gives (truncated, flags, review, alert) and the usage in tokens.
import type { FastifyInstance } from 'fastify';
import { rankLabels } from '../engine/scores.js';
import { parseOptions } from '../options.js';
import { sumTokens, type ClassifyGate, type RouteContext } from './classifyGate.js';
import { inputTexts } from './hfInferenceRoute.js';
import { classifyRequestSchema, type ClassifyResponse } from './schemas.js';

export function registerClassifyRoute(app: FastifyInstance, gate: ClassifyGate, ctx: RouteContext): void {
  const { options } = ctx;
  const { labels } = gate;
  app.post('/v1/classify', async (request, reply): Promise<ClassifyResponse> => {
    const body = parseOptions(classifyRequestSchema, request.body, 'request body');
    const texts = inputTexts(body.input, options.maxClientBatchSize, 'input');
    const results = await gate.classifyAdmitted(reply, texts, Infinity);
    gate.checkTruncation(results, options.autoTruncate, options.truncationDirection, 'input');
    gate.setComputeHeaders(reply, texts, results);
    const topK = body.top_k ?? labels.length;
    const tokens = sumTokens(results);
    return {
      object: 'list',
      model: ctx.modelId,
      data: results.map((r, index) => {
        const ranked = rankLabels(labels, labels.map((l) => r.scores[l]!), topK);
        return {
          index,
          label: r.label,
          score: r.score,
          scores: Object.fromEntries(ranked.map((p) => [p.label, p.score])),
          tokens: r.tokens,
          truncated: r.truncated,
          flags: r.flags,
          review: r.review,
          ...(gate.thresholds ? { alert: gate.alertOf(r)! } : {}),
        };
      }),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  });
}
