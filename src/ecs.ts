// SPDX-License-Identifier: MIT
// A classification as Elastic Common Schema fields. Only ECS allowed values are used
// (event.kind / event.category / event.type); the label and its probability stay under
// `logtriage`, outside ECS. Labels are matched by name, case-insensitively; a label this
// table does not know is an ordinary event.
import type { ClassificationResult } from './classifier.js';

export interface EcsFields {
  event: {
    kind: 'alert' | 'event';
    category?: Array<'intrusion_detection'>;
    type: Array<'info' | 'error'>;
    /** 0–100: 100 × P(malicious) + 50 × P(suspicious). */
    risk_score: number;
  };
  logtriage: { label: string; score: number };
}

interface LabelMapping {
  kind: EcsFields['event']['kind'];
  category?: EcsFields['event']['category'];
  type: EcsFields['event']['type'];
  /** Share of the label's probability that counts toward risk_score. */
  risk: number;
}

const MAPPING: Record<string, LabelMapping> = {
  // ECS expects event.type allowed/denied/info under intrusion_detection; 'indicator' belongs to
  // the threat category (threat-intel IOCs), so a detected line is 'info'.
  malicious: { kind: 'alert', category: ['intrusion_detection'], type: ['info'], risk: 1 },
  suspicious: { kind: 'alert', category: ['intrusion_detection'], type: ['info'], risk: 0.5 },
  error: { kind: 'event', type: ['error'], risk: 0 },
};
const ORDINARY: LabelMapping = { kind: 'event', type: ['info'], risk: 0 };

const mappingOf = (label: string): LabelMapping => MAPPING[label.toLowerCase()] ?? ORDINARY;

/** ECS fields for one result; `labels` are the model's labels (every one has a score in `result.scores`). */
export function toEcs(result: Pick<ClassificationResult, 'label' | 'score' | 'scores'>, labels: readonly string[]): EcsFields {
  const { kind, category, type } = mappingOf(result.label);
  const risk = labels.reduce((sum, label) => sum + mappingOf(label).risk * (result.scores[label] ?? 0), 0);
  return {
    event: { kind, ...(category ? { category: [...category] } : {}), type: [...type], risk_score: Math.round(risk * 10_000) / 100 },
    logtriage: { label: result.label, score: result.score },
  };
}
