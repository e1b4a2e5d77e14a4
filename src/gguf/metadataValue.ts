// SPDX-License-Identifier: MIT
// Typed reads of one optional-section metadata key (`logtriage.calibration.*`, `logtriage.adapt.*`),
// each failure a ModelFormatError naming the key, what was expected and what was found.
import { ModelFormatError } from '../errors.js';
import type { GgufMetadata, GgufValue } from './ggufTypes.js';

export function describeValue(value: GgufValue): string {
  return value.type === 'array' ? `array of ${value.itemType}` : value.type;
}

type Scalar = 'string' | 'u32' | 'f32';
type ScalarValue<T extends Scalar> = T extends 'string' ? string : number;

/**
 * The value of `key`, which must have `type`. `section` says why the key is required, for the
 * message of a missing key: "the model has 'logtriage.calibration.method'".
 */
export function scalarValue<T extends Scalar>(metadata: GgufMetadata, key: string, type: T, section: string): ScalarValue<T> {
  const value = metadata.get(key);
  if (value === undefined) throw new ModelFormatError(`Missing metadata key '${key}' (${section})`);
  if (value.type !== type) throw new ModelFormatError(`Metadata key '${key}' must be ${type}, found ${describeValue(value)}`);
  return value.value as ScalarValue<T>;
}

export function finiteF32(metadata: GgufMetadata, key: string, section: string): number {
  const value = scalarValue(metadata, key, 'f32', section);
  if (!Number.isFinite(value)) throw new ModelFormatError(`Metadata key '${key}' is ${value}, expected a finite number`);
  return value;
}

/** An array of `itemType` with one value per label. */
export function perLabelArray(metadata: GgufMetadata, key: string, itemType: 'f32' | 'u32', nLabels: number, section: string): number[] {
  const value = metadata.get(key);
  if (value === undefined) throw new ModelFormatError(`Missing metadata key '${key}' (${section})`);
  if (value.type !== 'array' || value.itemType !== itemType) throw new ModelFormatError(`Metadata key '${key}' must be an array of ${itemType}, found ${describeValue(value)}`);
  if (value.value.length !== nLabels) throw new ModelFormatError(`Metadata key '${key}' has ${value.value.length} values, expected one per label (${nLabels})`);
  const values = Array.from(value.value as ArrayLike<number>);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad !== -1) throw new ModelFormatError(`Metadata key '${key}' has a non-finite value ${values[bad]} at index ${bad}`);
  return values;
}

/** The keys of a section, refusing any the format does not define. */
export function sectionKeys(metadata: GgufMetadata, prefix: string, known: ReadonlySet<string>): string[] {
  const present = [...metadata.keys()].filter((k) => k.startsWith(prefix));
  const unknown = present.find((k) => !known.has(k));
  if (unknown !== undefined) throw new ModelFormatError(`Metadata key '${unknown}' is not part of the logtriage format (known: ${[...known].join(', ')})`);
  return present;
}
