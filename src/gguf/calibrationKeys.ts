// SPDX-License-Identifier: MIT
// The `logtriage.calibration.*` metadata keys (docs/model-format.md#calibration) and the
// Calibration they store: reading them back, with a ModelFormatError naming the key for anything
// malformed, and the entries `logtriage calibrate` writes. calibration/ holds the math.
import { ModelFormatError } from '../errors.js';
import type { GgufMetadata } from './ggufTypes.js';
import { describeValue, finiteF32, perLabelArray, sectionKeys } from './metadataValue.js';

/** A fitted calibration of the logits (calibration/applyCalibration.ts applies it). */
export type Calibration =
  | { readonly method: 'temperature'; readonly temperature: number }
  | { readonly method: 'vector'; readonly scale: readonly number[]; readonly bias: readonly number[] };

export const CALIBRATION_METHODS = ['temperature', 'vector'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

export const CALIBRATION_PREFIX = 'logtriage.calibration.';

export const CALIBRATION_KEY = {
  method: 'logtriage.calibration.method',
  temperature: 'logtriage.calibration.temperature',
  scale: 'logtriage.calibration.scale',
  bias: 'logtriage.calibration.bias',
  lines: 'logtriage.calibration.lines',
  nllBefore: 'logtriage.calibration.nll_before',
  nllAfter: 'logtriage.calibration.nll_after',
  eceBefore: 'logtriage.calibration.ece_before',
  eceAfter: 'logtriage.calibration.ece_after',
} as const;

const KNOWN_KEYS = new Set<string>(Object.values(CALIBRATION_KEY));
const FIGURE_KEYS = [CALIBRATION_KEY.nllBefore, CALIBRATION_KEY.nllAfter, CALIBRATION_KEY.eceBefore, CALIBRATION_KEY.eceAfter] as const;

/** What the fit was measured on, kept beside the parameters for `info`. */
export interface CalibrationRecord {
  calibration: Calibration;
  lines: number;
  nllBefore: number;
  nllAfter: number;
  eceBefore: number;
  eceAfter: number;
}

const SECTION = `the model has '${CALIBRATION_KEY.method}'`;

/** The calibration a model carries, or undefined when it has no `logtriage.calibration.*` key. */
export function readCalibration(metadata: GgufMetadata, nLabels: number): CalibrationRecord | undefined {
  const present = sectionKeys(metadata, CALIBRATION_PREFIX, KNOWN_KEYS);
  if (present.length === 0) return undefined;
  const method = metadata.get(CALIBRATION_KEY.method);
  if (method === undefined) throw new ModelFormatError(`Metadata key '${present[0]}' is present but '${CALIBRATION_KEY.method}' is missing`);
  if (method.type !== 'string' || !(CALIBRATION_METHODS as readonly string[]).includes(method.value)) {
    const shown = method.type === 'string' ? `'${method.value}'` : describeValue(method);
    throw new ModelFormatError(`Metadata key '${CALIBRATION_KEY.method}' is ${shown}, expected one of ${CALIBRATION_METHODS.join(', ')}`);
  }
  let calibration: Calibration;
  if (method.value === 'temperature') {
    if (metadata.has(CALIBRATION_KEY.scale) || metadata.has(CALIBRATION_KEY.bias)) {
      throw new ModelFormatError(`Metadata keys '${CALIBRATION_KEY.scale}' and '${CALIBRATION_KEY.bias}' belong to method 'vector', not 'temperature'`);
    }
    const temperature = finiteF32(metadata, CALIBRATION_KEY.temperature, SECTION);
    if (!(temperature > 0)) throw new ModelFormatError(`Metadata key '${CALIBRATION_KEY.temperature}' is ${temperature}, expected a positive number`);
    calibration = { method: 'temperature', temperature };
  } else {
    if (metadata.has(CALIBRATION_KEY.temperature)) {
      throw new ModelFormatError(`Metadata key '${CALIBRATION_KEY.temperature}' belongs to method 'temperature', not 'vector'`);
    }
    calibration = { method: 'vector', scale: perLabelArray(metadata, CALIBRATION_KEY.scale, 'f32', nLabels, `${SECTION} 'vector'`), bias: perLabelArray(metadata, CALIBRATION_KEY.bias, 'f32', nLabels, `${SECTION} 'vector'`) };
  }
  const lines = metadata.get(CALIBRATION_KEY.lines);
  if (lines === undefined || lines.type !== 'u32') {
    throw new ModelFormatError(`Metadata key '${CALIBRATION_KEY.lines}' must be u32, found ${lines === undefined ? 'nothing' : describeValue(lines)}`);
  }
  const [nllBefore, nllAfter, eceBefore, eceAfter] = FIGURE_KEYS.map((key) => finiteF32(metadata, key, SECTION)) as [number, number, number, number];
  return { calibration, lines: lines.value, nllBefore, nllAfter, eceBefore, eceAfter };
}

/** `metadata` without any calibration key, then the record's keys appended. */
export function withCalibration(metadata: GgufMetadata, record: CalibrationRecord): GgufMetadata {
  const out: GgufMetadata = new Map([...metadata].filter(([key]) => !key.startsWith(CALIBRATION_PREFIX)));
  const { calibration } = record;
  out.set(CALIBRATION_KEY.method, { type: 'string', value: calibration.method });
  if (calibration.method === 'temperature') {
    out.set(CALIBRATION_KEY.temperature, { type: 'f32', value: calibration.temperature });
  } else {
    out.set(CALIBRATION_KEY.scale, { type: 'array', itemType: 'f32', value: Float32Array.from(calibration.scale) });
    out.set(CALIBRATION_KEY.bias, { type: 'array', itemType: 'f32', value: Float32Array.from(calibration.bias) });
  }
  out.set(CALIBRATION_KEY.lines, { type: 'u32', value: record.lines });
  out.set(CALIBRATION_KEY.nllBefore, { type: 'f32', value: record.nllBefore });
  out.set(CALIBRATION_KEY.nllAfter, { type: 'f32', value: record.nllAfter });
  out.set(CALIBRATION_KEY.eceBefore, { type: 'f32', value: record.eceBefore });
  out.set(CALIBRATION_KEY.eceAfter, { type: 'f32', value: record.eceAfter });
  return out;
}

/** withCalibration() in place: the copyGguf `editMetadata` of a calibrated copy. */
export function setCalibration(metadata: GgufMetadata, record: CalibrationRecord): void {
  const calibrated = withCalibration(metadata, record);
  metadata.clear();
  for (const [key, value] of calibrated) metadata.set(key, value);
}
