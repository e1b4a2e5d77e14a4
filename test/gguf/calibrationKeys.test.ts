// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { CALIBRATION_KEY, readCalibration, withCalibration, type CalibrationRecord } from '../../src/gguf/calibrationKeys.js';
import { ModelFormatError } from '../../src/errors.js';
import type { GgufMetadata } from '../../src/gguf/index.js';

const figures = { lines: 100, nllBefore: 1, nllAfter: 0.5, eceBefore: 0.2, eceAfter: 0.05 };
const base: GgufMetadata = new Map([['general.architecture', { type: 'string', value: 'qwen2' }]]);

describe('calibration metadata', () => {
  it('round-trips temperature and vector scaling (as f32), replacing an earlier calibration', () => {
    const temperature: CalibrationRecord = { calibration: { method: 'temperature', temperature: 1.5 }, ...figures };
    const vector: CalibrationRecord = { calibration: { method: 'vector', scale: [1, 2], bias: [0.5, -0.5] }, ...figures };
    expect(readCalibration(withCalibration(base, temperature), 2)).toEqual(temperature);
    const both = withCalibration(withCalibration(base, temperature), vector);
    expect(both.has(CALIBRATION_KEY.temperature)).toBe(false);
    expect(readCalibration(both, 2)).toEqual(vector);
    expect(readCalibration(base, 2)).toBeUndefined();
  });

  it.each<[string, (m: GgufMetadata) => void, RegExp]>([
    ['an unknown method', (m) => m.set(CALIBRATION_KEY.method, { type: 'string', value: 'platt' }), /'logtriage.calibration.method' is 'platt', expected one of temperature, vector/],
    ['a zero temperature', (m) => m.set(CALIBRATION_KEY.temperature, { type: 'f32', value: 0 }), /expected a positive number/],
    ['a NaN temperature', (m) => m.set(CALIBRATION_KEY.temperature, { type: 'f32', value: NaN }), /expected a finite number/],
    ['an unknown key', (m) => m.set('logtriage.calibration.platt_a', { type: 'f32', value: 1 }), /'logtriage.calibration.platt_a' is not part of the logtriage format/],
    ['no method', (m) => m.delete(CALIBRATION_KEY.method), /'logtriage.calibration.method' is missing/],
    ['vector keys beside a temperature', (m) => m.set(CALIBRATION_KEY.scale, { type: 'array', itemType: 'f32', value: new Float32Array(2) }), /belong to method 'vector'/],
    ['no line count', (m) => m.delete(CALIBRATION_KEY.lines), /'logtriage.calibration.lines' must be u32, found nothing/],
  ])('refuses %s with a ModelFormatError naming the key', (_, corrupt, message) => {
    const m = withCalibration(base, { calibration: { method: 'temperature', temperature: 1.5 }, ...figures });
    corrupt(m);
    expect(() => readCalibration(m, 2)).toThrow(ModelFormatError);
    expect(() => readCalibration(m, 2)).toThrow(message);
  });

  it('refuses a vector of the wrong length', () => {
    const m = withCalibration(base, { calibration: { method: 'vector', scale: [1, 2, 3], bias: [0, 0, 0] }, ...figures });
    expect(() => readCalibration(m, 2)).toThrow(/'logtriage.calibration.scale' has 3 values, expected one per label \(2\)/);
  });
});
