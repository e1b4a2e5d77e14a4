// SPDX-License-Identifier: MIT
// A classification as Elastic Common Schema fields. Only ECS allowed values are used
// (event.kind / event.category / event.type); the label and its probability stay under
// `logtriage`, outside ECS. Labels are matched by name, case-insensitively; a label this
// table does not know is an ordinary event.
import type { ClassificationResult } from '../LogClassifier.js';

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

// A Map: a label is any string, and `constructor` or `__proto__` must not find Object.prototype's.
const MAPPING: ReadonlyMap<string, LabelMapping> = new Map(Object.entries({
  // ECS expects event.type allowed/denied/info under intrusion_detection; 'indicator' belongs to
  // the threat category (threat-intel IOCs), so a detected line is 'info'.
  malicious: { kind: 'alert', category: ['intrusion_detection'], type: ['info'], risk: 1 },
  suspicious: { kind: 'alert', category: ['intrusion_detection'], type: ['info'], risk: 0.5 },
  error: { kind: 'event', type: ['error'], risk: 0 },
} satisfies Record<string, LabelMapping>));
const ORDINARY: LabelMapping = { kind: 'event', type: ['info'], risk: 0 };

const mappingOf = (label: string): LabelMapping => MAPPING.get(label.toLowerCase()) ?? ORDINARY;

/** ECS fields for one result; `labels` are the model's labels (every one has a score in `result.scores`). */
export function toEcs(result: Pick<ClassificationResult, 'label' | 'score' | 'scores'>, labels: readonly string[]): EcsFields {
  const { kind, category, type } = mappingOf(result.label);
  const risk = labels.reduce((sum, label) => sum + mappingOf(label).risk * (Object.hasOwn(result.scores, label) ? result.scores[label]! : 0), 0);
  return {
    event: { kind, ...(category ? { category: [...category] } : {}), type: [...type], risk_score: Math.round(risk * 10_000) / 100 },
    logtriage: { label: result.label, score: result.score },
  };
}

/** The ECS release whose allowed values this mapping uses. */
export const ECS_VERSION = '8.17.0';

/** Where a classified line came from. */
export interface EcsSource {
  /** The log file; undefined for stdin. */
  file?: string;
  /** 1-based line number in the file. */
  line: number;
  /** The line itself; undefined leaves `message` out. */
  text?: string;
  /** When the line was read: ECS fills @timestamp with it when the source has no time of its own. */
  readAt: Date;
}

export interface EcsDocument extends EcsFields {
  '@timestamp': string;
  ecs: { version: string };
  message?: string;
  log?: { file: { path: string } };
  event: EcsFields['event'] & { created: string };
  logtriage: EcsFields['logtriage'] & {
    line: number;
    scores?: Record<string, number>;
    flags?: string[];
    truncated?: true;
    /** With review thresholds: the line needs a human. */
    review?: boolean;
    /** With alert thresholds: the label's threshold was reached (event.kind is 'alert' exactly then). */
    alert?: boolean;
    /** With the template tier: 'template' when the line took its template's result, else 'model'. */
    via?: 'model' | 'template';
    /** With the template tier: the line's template id. */
    template_id?: string;
  };
}

/**
 * One whole ECS document for a classified log line: `toEcs()` plus @timestamp, ecs.version,
 * message and log.file.path. The line number, flags, (with `scores`) every label's probability
 * and (with the template tier) `via` and `template_id` stay under `logtriage`, since ECS has no
 * field for them.
 */
export function ecsDocument(
  result: Pick<ClassificationResult, 'label' | 'score' | 'scores' | 'truncated' | 'via'> & { flags: readonly string[]; review?: boolean; alert?: boolean; templateId?: string },
  labels: readonly string[],
  source: EcsSource,
  options: { scores?: boolean } = {},
): EcsDocument {
  const fields = toEcs(result, labels);
  const readAt = source.readAt.toISOString();
  return {
    '@timestamp': readAt,
    ecs: { version: ECS_VERSION },
    ...(source.text !== undefined ? { message: source.text } : {}),
    ...(source.file !== undefined ? { log: { file: { path: source.file } } } : {}),
    // With alert thresholds, only a line over its label's threshold is an alert.
    event: { ...fields.event, ...(result.alert !== undefined ? { kind: result.alert ? 'alert' : 'event' } : {}), created: readAt },
    logtriage: {
      ...fields.logtriage,
      line: source.line,
      ...(options.scores ? { scores: result.scores } : {}),
      ...(result.flags.length > 0 ? { flags: [...result.flags] } : {}),
      ...(result.truncated ? { truncated: true as const } : {}),
      ...(result.review !== undefined ? { review: result.review } : {}),
      ...(result.alert !== undefined ? { alert: result.alert } : {}),
      ...(result.via !== undefined ? { via: result.via } : {}),
      ...(result.templateId !== undefined ? { template_id: result.templateId } : {}),
    },
  };
}
