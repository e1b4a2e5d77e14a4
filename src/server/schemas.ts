// SPDX-License-Identifier: MIT
// Wire types: request bodies as zod schemas, responses as TS types. `/predict` follows TEI's
// router/src/http/types.rs (unknown fields are ignored there, so here too).
import { z } from 'zod';
import type { RecordAnnotation } from '../records/enrichRecord.js';

/** TEI `inputs`: a string, a list of strings, or a batch of one-element lists. Checked further in predictTexts(). */
export const predictRequestSchema = z.object({
  inputs: z.union([z.string(), z.array(z.union([z.string(), z.array(z.string())]))], {
    error: 'a string, a list of strings or a list of one-element lists of strings',
  }),
  /** null or absent: the server's `autoTruncate`. */
  truncate: z.boolean().nullable().optional(),
  /** TEI spells it `Right`/`Left` (serde) and documents `right`/`left`; both are accepted. */
  truncation_direction: z
    .enum(['right', 'left', 'Right', 'Left'])
    .transform((d) => d.toLowerCase() as 'right' | 'left')
    .optional(),
  /** Raw head logits instead of softmax probabilities. */
  raw_scores: z.boolean().default(false),
});
export type PredictRequest = z.output<typeof predictRequestSchema>;

/** TEI `Prediction`. */
export interface Prediction {
  score: number;
  label: string;
}

/**
 * Per-input flags added to every `{score, label}` entry of that input's list, only when the server
 * has review thresholds (`review`) or alert thresholds (`alert`): TEI's clients read `score` and
 * `label` and ignore other fields, so without thresholds the body is exactly TEI's.
 */
export interface PredictionExtras {
  review?: boolean;
  alert?: boolean;
  /** With `--template-tier` only: 'model' or 'template' (the line took its template's result). */
  via?: 'model' | 'template';
  /** With `--template-tier` only: the line's template id. */
  template_id?: string;
}

/** TEI `PredictResponse`: one list for a single input, one list per input for a batch. */
export type PredictResponse = Array<Prediction & PredictionExtras> | Array<Array<Prediction & PredictionExtras>>;

export const classifyRequestSchema = z.object({
  input: z.union([z.string(), z.array(z.string())], { error: 'a string or a list of strings' }),
  /** Labels listed in `scores`, best first; absent or null for all of them. */
  top_k: z.number().int().min(1).nullable().optional(),
});
export type ClassifyRequest = z.output<typeof classifyRequestSchema>;

export interface ClassifyItem {
  index: number;
  label: string;
  score: number;
  /** Label → probability, best first. */
  scores: Record<string, number>;
  tokens: number;
  truncated: boolean;
  flags: string[];
  /** Whether the server's review thresholds send this result to a human (false without them). */
  review: boolean;
  /** With alert thresholds (`alertThresholds`): the label's threshold was reached. */
  alert?: boolean;
  /** With `--template-tier` only: 'model' or 'template' (the line took its template's result). */
  via?: 'model' | 'template';
  /** With `--template-tier` only: the line's template id. */
  template_id?: string;
}

export interface ClassifyResponse {
  object: 'list';
  /** The model's name (--model-id, default the file name). */
  model: string;
  /** The digest of the weights that answered (12 hex characters, or 'unverifiable'), as in the Logtriage-Model header. */
  model_digest: string;
  data: ClassifyItem[];
  usage: { prompt_tokens: number; total_tokens: number };
}

/** What `/ingest` adds to each record under `logtriage` (without `--ecs`). */
export type IngestAnnotation = RecordAnnotation;

/** `/info`: TEI's `Info` field names where they exist, logtriage's own under `logtriage`. */
export interface InfoResponse {
  model_id: string;
  /** The model's digest id (64 hex characters), or null for a file without a digest. */
  model_sha: string | null;
  model_dtype: string;
  model_type: { classifier: { id2label: Record<string, string>; label2id: Record<string, number> } };
  max_concurrent_requests: number;
  max_input_length: number;
  max_batch_tokens: number;
  max_batch_requests: number;
  max_client_batch_size: number;
  auto_truncate: boolean;
  tokenization_workers: null;
  version: string;
  sha: null;
  docker_label: null;
  logtriage: {
    labels: string[];
    truncation_direction: 'right' | 'left';
    payload_limit: number;
    message_field: string;
    ecs: boolean;
    auth: boolean;
    architecture: string;
    parameters: number;
    backend: string;
    device: string;
    threads: number;
    special_tokens: string;
    llama_release: string;
    /** The calibration applied to scores: 'temperature', 'vector' or 'none'. */
    calibration: string;
    /** The review thresholds (`--review-min-score`/`--review-min-margin`), or null. */
    review: { minScore?: number | undefined; minMargin?: number | undefined } | null;
    /** Label → alert threshold (`--thresholds`), or null. */
    alert_thresholds: Record<string, number> | null;
    /** The digest of the weights answering now, as in the Logtriage-Model header. */
    model_digest: string;
    /** How open() checked the file: 'verified', 'unverifiable' or 'off'. */
    verification: string;
  };
}

/**
 * `POST /`: the HuggingFace Inference API text-classification task, as `@huggingface/inference`
 * `textClassification({endpointUrl})` and Python `InferenceClient.text_classification` send it.
 * Unknown fields are ignored, as there.
 */
export const hfClassificationRequestSchema = z.object({
  inputs: z.union([z.string(), z.array(z.string())], { error: 'a string or a list of strings' }),
  parameters: z
    .object({
      /** Labels per input, best first; absent or null for all of them. */
      top_k: z.number().int().min(1).nullable().optional(),
      function_to_apply: z.enum(['softmax', 'sigmoid', 'none']).nullable().optional(),
    })
    .nullable()
    .optional(),
});
export type HfClassificationRequest = z.output<typeof hfClassificationRequestSchema>;

/** One list of `{label, score}` per input, best first (a single string input is a batch of one). */
export type HfClassificationResponse = Array<Array<Prediction & PredictionExtras>>;
