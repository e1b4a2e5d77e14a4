// SPDX-License-Identifier: MIT
// The provenance of an adapted head (`logtriage.adapt.*`, docs/model-format.md#adapted-heads):
// reading it back with a ModelFormatError naming the key for anything malformed, and the edit
// `logtriage adapt` makes to a model's metadata: new labels and head, the provenance keys, and no
// calibration (one fitted for the old head means nothing for the new one).
import { ModelFormatError } from '../errors.js';
import { CALIBRATION_PREFIX } from './calibrationKeys.js';
import type { GgufMetadata, GgufValue } from './ggufTypes.js';
import { finiteF32, perLabelArray, scalarValue, sectionKeys } from './metadataValue.js';
import { KEY } from './modelKeys.js';

export const ADAPT_PREFIX = 'logtriage.adapt.';

export const ADAPT_KEY = {
  date: 'logtriage.adapt.date',
  baseSha256: 'logtriage.adapt.base_sha256',
  validation: 'logtriage.adapt.validation',
  l2: 'logtriage.adapt.l2',
  linesPerLabel: 'logtriage.adapt.lines_per_label',
  heldOutLines: 'logtriage.adapt.heldout_lines',
  baseline: 'logtriage.adapt.baseline',
  accuracyBefore: 'logtriage.adapt.accuracy_before',
  accuracyAfter: 'logtriage.adapt.accuracy_after',
  macroF1Before: 'logtriage.adapt.macro_f1_before',
  macroF1After: 'logtriage.adapt.macro_f1_after',
  nllBefore: 'logtriage.adapt.nll_before',
  nllAfter: 'logtriage.adapt.nll_after',
} as const;

const KNOWN_KEYS = new Set<string>(Object.values(ADAPT_KEY));

/** What the held-out figures were compared with: the model's own head (same labels), or chance (a new label set). */
export const ADAPT_BASELINES = ['current head', 'chance'] as const;
export type AdaptBaseline = (typeof ADAPT_BASELINES)[number];

/** Held-out figures of one head. */
export interface HeldOutFigures {
  accuracy: number;
  macroF1: number;
  /** Mean −ln p(gold). */
  nll: number;
}

/** The provenance `adapt` writes and `info` shows. */
export interface AdaptRecord {
  /** ISO 8601 UTC time of the fit. */
  date: string;
  /** SHA-256 of the whole base model file (what `sha256sum` prints). */
  baseSha256: string;
  /** How the held-out figures were measured: `holdout 0.2` or `5 folds`. */
  validation: string;
  l2: number;
  /** Labeled lines per label, in label order. */
  linesPerLabel: number[];
  /** Lines the held-out figures cover. */
  heldOutLines: number;
  baseline: AdaptBaseline;
  before: HeldOutFigures;
  after: HeldOutFigures;
}

const SECTION = `the model has other '${ADAPT_PREFIX}*' keys`;
const take = <T extends 'string' | 'u32'>(metadata: GgufMetadata, key: string, type: T) => scalarValue(metadata, key, type, SECTION);
const finite = (metadata: GgufMetadata, key: string): number => finiteF32(metadata, key, SECTION);

/** The provenance a model carries, or undefined when it has no `logtriage.adapt.*` key. */
export function readAdaptRecord(metadata: GgufMetadata, nLabels: number): AdaptRecord | undefined {
  const present = sectionKeys(metadata, ADAPT_PREFIX, KNOWN_KEYS);
  if (present.length === 0) return undefined;
  const linesPerLabel = perLabelArray(metadata, ADAPT_KEY.linesPerLabel, 'u32', nLabels, SECTION);
  const baseline = take(metadata, ADAPT_KEY.baseline, 'string');
  if (!(ADAPT_BASELINES as readonly string[]).includes(baseline)) {
    throw new ModelFormatError(`Metadata key '${ADAPT_KEY.baseline}' is '${baseline}', expected one of ${ADAPT_BASELINES.map((b) => `'${b}'`).join(', ')}`);
  }
  const baseSha256 = take(metadata, ADAPT_KEY.baseSha256, 'string');
  if (!/^[0-9a-f]{64}$/.test(baseSha256)) throw new ModelFormatError(`Metadata key '${ADAPT_KEY.baseSha256}' is not a lower-case hex SHA-256`);
  const l2 = finite(metadata, ADAPT_KEY.l2);
  if (!(l2 > 0)) throw new ModelFormatError(`Metadata key '${ADAPT_KEY.l2}' is ${l2}, expected a positive number`);
  return {
    date: take(metadata, ADAPT_KEY.date, 'string'),
    baseSha256,
    validation: take(metadata, ADAPT_KEY.validation, 'string'),
    l2,
    linesPerLabel,
    heldOutLines: take(metadata, ADAPT_KEY.heldOutLines, 'u32'),
    baseline: baseline as AdaptBaseline,
    before: { accuracy: finite(metadata, ADAPT_KEY.accuracyBefore), macroF1: finite(metadata, ADAPT_KEY.macroF1Before), nll: finite(metadata, ADAPT_KEY.nllBefore) },
    after: { accuracy: finite(metadata, ADAPT_KEY.accuracyAfter), macroF1: finite(metadata, ADAPT_KEY.macroF1After), nll: finite(metadata, ADAPT_KEY.nllAfter) },
  };
}

/** The head `adapt` writes: labels in label-id order, weight row-major [labels, n_embd], bias per label. */
export interface AdaptedHead {
  labels: readonly string[];
  weight: Float32Array;
  bias: Float32Array;
  record: AdaptRecord;
}

/**
 * The copyGguf `editMetadata` of an adapted copy, in place: labels, head shape, weight and bias
 * replaced, every `logtriage.calibration.*` and earlier `logtriage.adapt.*` key removed, the
 * record's keys appended. Returns whether a calibration was dropped.
 */
export function setAdaptedHead(metadata: GgufMetadata, head: AdaptedHead): { droppedCalibration: boolean } {
  const nLabels = head.labels.length;
  const nEmbd = head.weight.length / nLabels;
  const droppedCalibration = [...metadata.keys()].some((k) => k.startsWith(CALIBRATION_PREFIX));
  for (const key of [...metadata.keys()]) if (key.startsWith(CALIBRATION_PREFIX) || key.startsWith(ADAPT_PREFIX)) metadata.delete(key);
  // Replacing a key's value keeps its place in the header; the bias goes after the weight when it is new.
  metadata.set(KEY.labels, { type: 'array', itemType: 'string', value: [...head.labels] });
  metadata.set(KEY.headShape, { type: 'array', itemType: 'u32', value: Uint32Array.from([nLabels, nEmbd]) });
  metadata.set(KEY.headWeight, { type: 'array', itemType: 'f32', value: Float32Array.from(head.weight) });
  if (metadata.has(KEY.headBias)) {
    metadata.set(KEY.headBias, { type: 'array', itemType: 'f32', value: Float32Array.from(head.bias) });
  } else {
    const reordered: [string, GgufValue][] = [];
    for (const entry of metadata) {
      reordered.push(entry);
      if (entry[0] === KEY.headWeight) reordered.push([KEY.headBias, { type: 'array', itemType: 'f32', value: Float32Array.from(head.bias) }]);
    }
    metadata.clear();
    for (const [key, value] of reordered) metadata.set(key, value);
  }
  const { record } = head;
  const f32 = (value: number): GgufValue => ({ type: 'f32', value });
  metadata.set(ADAPT_KEY.date, { type: 'string', value: record.date });
  metadata.set(ADAPT_KEY.baseSha256, { type: 'string', value: record.baseSha256 });
  metadata.set(ADAPT_KEY.validation, { type: 'string', value: record.validation });
  metadata.set(ADAPT_KEY.l2, f32(record.l2));
  metadata.set(ADAPT_KEY.linesPerLabel, { type: 'array', itemType: 'u32', value: Uint32Array.from(record.linesPerLabel) });
  metadata.set(ADAPT_KEY.heldOutLines, { type: 'u32', value: record.heldOutLines });
  metadata.set(ADAPT_KEY.baseline, { type: 'string', value: record.baseline });
  metadata.set(ADAPT_KEY.accuracyBefore, f32(record.before.accuracy));
  metadata.set(ADAPT_KEY.accuracyAfter, f32(record.after.accuracy));
  metadata.set(ADAPT_KEY.macroF1Before, f32(record.before.macroF1));
  metadata.set(ADAPT_KEY.macroF1After, f32(record.after.macroF1));
  metadata.set(ADAPT_KEY.nllBefore, f32(record.before.nll));
  metadata.set(ADAPT_KEY.nllAfter, f32(record.after.nll));
  return { droppedCalibration };
}
