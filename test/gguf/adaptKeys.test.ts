// SPDX-License-Identifier: MIT
// The logtriage.adapt.* keys: what setAdaptedHead writes reads back; malformed keys are a
// ModelFormatError naming the key; the old calibration goes, the bias lands after the weight.
import { describe, expect, it } from 'vitest';
import { ADAPT_KEY, readAdaptRecord, setAdaptedHead, type AdaptRecord } from '../../src/gguf/adaptKeys.js';
import { CALIBRATION_KEY } from '../../src/gguf/calibrationKeys.js';
import { ModelFormatError } from '../../src/errors.js';
import type { GgufMetadata } from '../../src/gguf/ggufTypes.js';
import { KEY } from '../../src/gguf/modelKeys.js';

const record: AdaptRecord = {
  date: '2026-12-06T17:00:00.000Z',
  baseSha256: 'a'.repeat(64),
  validation: 'holdout 0.2',
  l2: 0.5,
  linesPerLabel: [30, 31, 32],
  heldOutLines: 18,
  baseline: 'chance',
  before: { accuracy: 0.25, macroF1: 0.125, nll: 1.5 },
  after: { accuracy: 0.75, macroF1: 0.5, nll: 0.5 },
};

function base(): GgufMetadata {
  return new Map<string, never>([
    [KEY.labels, { type: 'array', itemType: 'string', value: ['A', 'B'] }],
    [KEY.headShape, { type: 'array', itemType: 'u32', value: Uint32Array.from([2, 2]) }],
    [KEY.headWeight, { type: 'array', itemType: 'f32', value: Float32Array.from([1, 2, 3, 4]) }],
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    [CALIBRATION_KEY.method, { type: 'string', value: 'temperature' }],
    [CALIBRATION_KEY.temperature, { type: 'f32', value: 2 }],
  ] as never);
}

function adapted(): { metadata: GgufMetadata; dropped: boolean } {
  const metadata = base();
  const { droppedCalibration } = setAdaptedHead(metadata, {
    labels: ['x', 'y', 'z'],
    weight: Float32Array.from([1, 0, 0, 1, 1, 1]),
    bias: Float32Array.from([0.5, -0.5, 0]),
    record,
  });
  return { metadata, dropped: droppedCalibration };
}

describe('setAdaptedHead() / readAdaptRecord()', () => {
  it('replaces labels and head, puts the bias after the weight, drops the calibration and reads the record back', () => {
    const { metadata, dropped } = adapted();
    expect(dropped).toBe(true);
    const keys = [...metadata.keys()];
    expect(keys.slice(0, 4)).toEqual([KEY.labels, KEY.headShape, KEY.headWeight, KEY.headBias]);
    expect(keys.some((k) => k.startsWith('logtriage.calibration.'))).toBe(false);
    expect(metadata.get(KEY.labels)).toEqual({ type: 'array', itemType: 'string', value: ['x', 'y', 'z'] });
    expect(Array.from((metadata.get(KEY.headShape) as { value: Uint32Array }).value)).toEqual([3, 2]);
    const back = readAdaptRecord(metadata, 3)!;
    expect(back).toMatchObject({ date: record.date, baseSha256: record.baseSha256, validation: 'holdout 0.2', linesPerLabel: [30, 31, 32], heldOutLines: 18, baseline: 'chance' });
    expect(back.l2).toBeCloseTo(0.5, 6);
    expect(back.after.accuracy).toBeCloseTo(0.75, 6);
  });

  it('adapting twice keeps one set of keys, and a model without any has no record', () => {
    const { metadata } = adapted();
    setAdaptedHead(metadata, { labels: ['x', 'y', 'z'], weight: new Float32Array(6), bias: new Float32Array(3), record: { ...record, l2: 2 } });
    expect([...metadata.keys()].filter((k) => k === KEY.headBias)).toHaveLength(1);
    expect(readAdaptRecord(metadata, 3)!.l2).toBe(2);
    expect(readAdaptRecord(base(), 2)).toBeUndefined();
  });

  const broken: Array<[string, (m: GgufMetadata) => void, RegExp]> = [
    ['an unknown key', (m) => m.set('logtriage.adapt.extra', { type: 'u32', value: 1 }), /'logtriage\.adapt\.extra' is not part of the logtriage format/],
    ['a missing key', (m) => m.delete(ADAPT_KEY.nllAfter), /Missing metadata key 'logtriage\.adapt\.nll_after'/],
    ['a count per label short', (m) => m.set(ADAPT_KEY.linesPerLabel, { type: 'array', itemType: 'u32', value: Uint32Array.from([1, 2]) }), /has 2 values, expected one per label \(3\)/],
    ['a wrong type', (m) => m.set(ADAPT_KEY.date, { type: 'u32', value: 1 }), /'logtriage\.adapt\.date' must be string, found u32/],
    ['a non-finite figure', (m) => m.set(ADAPT_KEY.accuracyAfter, { type: 'f32', value: Number.NaN }), /accuracy_after' is NaN/],
    ['an unknown baseline', (m) => m.set(ADAPT_KEY.baseline, { type: 'string', value: 'oracle' }), /'oracle', expected one of/],
    ['a malformed digest', (m) => m.set(ADAPT_KEY.baseSha256, { type: 'string', value: 'XYZ' }), /not a lower-case hex SHA-256/],
    ['a zero L2', (m) => m.set(ADAPT_KEY.l2, { type: 'f32', value: 0 }), /expected a positive number/],
  ];
  it.each(broken)('refuses %s with a ModelFormatError naming the key', (_name, breakIt, message) => {
    const { metadata } = adapted();
    breakIt(metadata);
    expect(() => readAdaptRecord(metadata, 3)).toThrow(ModelFormatError);
    expect(() => readAdaptRecord(metadata, 3)).toThrow(message);
  });
  it('collected every broken case', () => expect(broken).toHaveLength(8));
});
