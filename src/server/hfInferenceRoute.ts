// SPDX-License-Identifier: MIT
// `POST /` in the shape of the HuggingFace Inference API / Inference Endpoints text-classification
// task. Both HuggingFace clients read the answer as a list of lists and take its first element
// for a single input (@huggingface/inference HFInferenceTextClassificationTask.getResponse,
// huggingface_hub InferenceClient.text_classification), so a single string is answered as a
// batch of one; every label is listed unless `parameters.top_k` says fewer.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ClassificationResult } from '../LogClassifier.js';
import { calibrateLogits } from '../calibration/applyCalibration.js';
import { type Calibration } from '../gguf/calibrationKeys.js';
import { parseOptions } from '../options.js';
import { applyFunction, rankLabels } from '../engine/scores.js';
import { HttpError } from './errors.js';
import { hfClassificationRequestSchema, type HfClassificationResponse, type PredictionExtras } from './schemas.js';

export interface HfInferenceRouteContext {
  labels: readonly string[];
  maxClientBatchSize: number;
  /** The classifier's calibration: `function_to_apply` works on calibrated logits, as pipeline() does. */
  calibration: Calibration | null;
  /** Classifies through the server's admission, cancellation and metrics. */
  classify: (reply: FastifyReply, texts: string[]) => Promise<ClassificationResult[]>;
  /** Fields added to each entry of a result's list (`review`, `alert` when the server has thresholds). */
  extras: (result: ClassificationResult) => PredictionExtras;
}

/** A request's string-or-list input as a list: empty is a 400, more than `maxBatch` a 422. */
export function inputTexts(input: string | string[], maxBatch: number, field: string): string[] {
  const texts = typeof input === 'string' ? [input] : input;
  if (texts.length === 0) throw new HttpError('empty', `\`${field}\` cannot be empty`);
  if (texts.length > maxBatch) throw new HttpError('validation', `batch size ${texts.length} > maximum allowed batch size ${maxBatch}`);
  return texts;
}

export function registerHfInferenceRoute(app: FastifyInstance, ctx: HfInferenceRouteContext): void {
  app.post('/', async (request, reply): Promise<HfClassificationResponse> => {
    const body = parseOptions(hfClassificationRequestSchema, request.body, 'request body');
    const texts = inputTexts(body.inputs, ctx.maxClientBatchSize, 'inputs');
    const fn = body.parameters?.function_to_apply ?? 'softmax';
    const topK = body.parameters?.top_k ?? ctx.labels.length;
    const results = await ctx.classify(reply, texts);
    return results.map((r) => {
      const extras = ctx.extras(r);
      return rankLabels(ctx.labels, applyFunction(calibrateLogits(r.logits, ctx.calibration), fn), topK).map((p) => ({ ...p, ...extras }));
    });
  });
}
