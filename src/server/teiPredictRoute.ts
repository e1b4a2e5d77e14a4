// SPDX-License-Identifier: MIT
// `POST /predict` in the shape of text-embeddings-inference's (TEI `router/src/http/server.rs`):
// one string, or a batch of strings or one-element lists, answered with every label best first.
import type { FastifyInstance } from 'fastify';
import { rankLabels } from '../engine/scores.js';
import { parseOptions } from '../options.js';
import type { ClassifyGate } from './classifyGate.js';
import { HttpError } from './errors.js';
import { predictRequestSchema, type Prediction, type PredictResponse } from './schemas.js';

/** TEI `inputs` → texts; `batch` is false for a single string (TEI answers a flat list then). */
function predictTexts(inputs: string | Array<string | string[]>, maxBatch: number): { texts: string[]; batch: boolean } {
  if (typeof inputs === 'string') return { texts: [inputs], batch: false };
  if (inputs.length === 0) throw new HttpError('empty', '`inputs` cannot be empty');
  if (inputs.length > maxBatch) throw new HttpError('validation', `batch size ${inputs.length} > maximum allowed batch size ${maxBatch}`);
  const flat = inputs.every((i) => typeof i === 'string');
  if (flat) return { texts: inputs as string[], batch: true };
  const texts = inputs.map((item, i) => {
    if (typeof item === 'string') {
      throw new HttpError('validation', '`inputs` mixes strings and lists: send a list of strings or a list of one-element lists');
    }
    if (item.length === 2) throw new HttpError('validation', `inputs[${i}] is a pair of texts: this model classifies one text at a time`);
    if (item.length !== 1) throw new HttpError('validation', `inputs[${i}] has ${item.length} strings; each list holds exactly one`);
    return item[0]!;
  });
  return { texts, batch: true };
}

/** rankLabels, refusing NaN scores as a backend fault (TEI answers them the same way). */
function rankPredictions(labels: readonly string[], scores: readonly number[]): Prediction[] {
  if (scores.some((s) => Number.isNaN(s))) throw new HttpError('backend', 'score is NaN');
  return rankLabels(labels, scores);
}

export function registerTeiPredictRoute(app: FastifyInstance, gate: ClassifyGate, options: { maxClientBatchSize: number; autoTruncate: boolean; truncationDirection: 'right' | 'left' }): void {
  const { labels } = gate;
  app.post('/predict', async (request, reply): Promise<PredictResponse> => {
    const body = parseOptions(predictRequestSchema, request.body, 'request body');
    const { texts, batch } = predictTexts(body.inputs, options.maxClientBatchSize);
    const results = await gate.classifyAdmitted(reply, texts, Infinity);
    gate.checkTruncation(results, body.truncate ?? options.autoTruncate, body.truncation_direction ?? options.truncationDirection, 'inputs');
    gate.setComputeHeaders(reply, texts, results);
    const predictions = results.map((r) => {
      const extras = gate.extrasOf(r);
      return rankPredictions(labels, body.raw_scores ? r.logits : labels.map((l) => r.scores[l]!)).map((p) => ({ ...p, ...extras }));
    });
    return batch ? predictions : predictions[0]!;
  });
}
