// SPDX-License-Identifier: MIT
// The record the server's /ingest answers (and forwards) and the worker publishes: the input
// record with its classification added under `logtriage` (or as ECS fields).
import type { ClassificationResult } from '../LogClassifier.js';
import { toEcs } from './ecs.js';
import type { Alteration } from './jsonAlterations.js';
import type { LogRecord } from './readField.js';

/** The `logtriage` field of an enriched record. */
export type RecordAnnotation =
  | {
      label: string;
      score: number;
      truncated?: true;
      flags?: string[];
      review: boolean;
      alert?: boolean;
      /** The digest of the weights that classified it (ClassificationResult.model). */
      model: string;
      altered?: Alteration[];
      /** With the template tier: 'template' when the record took its log template's result, else 'model'; and the template id. */
      via?: 'model' | 'template';
      template_id?: string;
    }
  /** Why the record was not classified: no string in the message field, or only whitespace. */
  | { skipped: string; altered?: Alteration[] }
  /**
   * Why the value was rejected on its own (not a JSON object, not JSON, nested too deeply to be
   * written out): the answer holds only this annotation, and it is not forwarded.
   */
  | { rejected: string };

/** The record with the classification added: `logtriage: {...}`, or ECS fields when `ecs`. */
export function enrichRecord(
  record: LogRecord,
  outcome: ClassificationResult | string,
  labels: readonly string[],
  ecs: boolean,
): LogRecord {
  if (typeof outcome === 'string') return { ...record, logtriage: { skipped: outcome } satisfies RecordAnnotation };
  const { alert } = outcome;
  // With the template tier a result says how it was obtained, wherever it is written.
  const tier = outcome.via !== undefined ? { via: outcome.via, ...(outcome.template !== undefined ? { template_id: outcome.template.id } : {}) } : {};
  const marks = { review: outcome.review, ...(alert !== undefined ? { alert } : {}), model: outcome.model, ...tier };
  if (ecs) {
    const fields = toEcs(outcome, labels);
    const event = record.event !== null && typeof record.event === 'object' && !Array.isArray(record.event) ? record.event : {};
    // With alert thresholds, only a line over its label's threshold is an alert.
    const kind = alert === undefined ? {} : { kind: alert ? 'alert' : 'event' };
    return { ...record, event: { ...event, ...fields.event, ...kind }, logtriage: { ...fields.logtriage, ...marks } };
  }
  const annotation: RecordAnnotation = {
    label: outcome.label,
    score: outcome.score,
    ...(outcome.truncated ? { truncated: true as const } : {}),
    ...(outcome.flags.length > 0 ? { flags: outcome.flags } : {}),
    ...marks,
  };
  return { ...record, logtriage: annotation };
}
