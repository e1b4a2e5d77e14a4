// SPDX-License-Identifier: MIT
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkThresholdsFile, isAlert, loadThresholdsFile, parsePrecisionTargets, thresholdsFileFrom, writeThresholdsFile } from '../../src/calibration/thresholdsFile.js';
import type { Calibration } from '../../src/gguf/calibrationKeys.js';

/** A file read and checked, as open() checks its alertThresholds. */
const readThresholdsFile = async (path: string, labels: readonly string[], calibration: Calibration | null) =>
  checkThresholdsFile(`Thresholds file ${path}`, await loadThresholdsFile(path), labels, calibration);
import { ValidationError } from '../../src/errors.js';

const LABELS = ['Normal', 'Malicious', 'Error'];
const dir = mkdtempSync(join(tmpdir(), 'logtriage-thresholds-'));
const write = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
};

describe('thresholds file', () => {
  it('round-trips the reachable thresholds and leaves unreachable ones out', async () => {
    const file = thresholdsFileFrom(
      [
        { label: 'Malicious', target: 0.95, threshold: 0.91, precision: 0.96, recall: 0.5, alerts: 10, support: 19 },
        { label: 'Error', target: 0.99, threshold: null, precision: 0.8, recall: 0.3, alerts: 5, support: 13 },
      ],
      { method: 'temperature', temperature: 1.5 },
    );
    expect(file.thresholds).toEqual({ Malicious: 0.91 });
    const path = join(dir, 'ok.json');
    await writeThresholdsFile(path, file);
    const read = await readThresholdsFile(path, LABELS, { method: 'temperature', temperature: 1.2 });
    expect([...read]).toEqual([['Malicious', 0.91]]);
  });

  it('matches labels case-insensitively and refuses unknown ones', async () => {
    const path = write('case.json', { version: 1, calibration: 'none', thresholds: { malicious: 0.5 } });
    expect([...(await readThresholdsFile(path, LABELS, null))]).toEqual([['Malicious', 0.5]]);
    const bad = write('unknown.json', { version: 1, calibration: 'none', thresholds: { Catastrophic: 0.5 } });
    await expect(readThresholdsFile(bad, LABELS, null)).rejects.toThrow(/names label 'Catastrophic', which this model does not have; its labels are: Normal, Malicious, Error/);
  });

  it('refuses malformed files with ValidationErrors that name the field', async () => {
    await expect(readThresholdsFile(write('json.json', '{'), LABELS, null)).rejects.toThrow(ValidationError);
    await expect(readThresholdsFile(join(dir, 'missing.json'), LABELS, null)).rejects.toThrow(/Cannot read thresholds file/);
    await expect(readThresholdsFile(write('range.json', { version: 1, calibration: 'none', thresholds: { Error: 1.5 } }), LABELS, null)).rejects.toThrow(
      /Expected a number of at most 1 for thresholds file .*\.thresholds\.Error but received 1.5/,
    );
    await expect(readThresholdsFile(write('version.json', { version: 2, calibration: 'none', thresholds: {} }), LABELS, null)).rejects.toThrow(/\.version/);
    await expect(readThresholdsFile(write('extra.json', { version: 1, calibration: 'none', thresholds: {}, thresold: 1 }), LABELS, null)).rejects.toThrow(/Unknown option 'thresold'/);
  });

  it('refuses thresholds set on differently calibrated scores', async () => {
    const path = write('cal.json', { version: 1, calibration: 'none', thresholds: { Error: 0.5 } });
    await expect(readThresholdsFile(path, LABELS, { method: 'temperature', temperature: 2 })).rejects.toThrow(/calibration 'none', but this classifier applies 'temperature'/);
  });

  it('isAlert(): label with a threshold and score at or above it', () => {
    const t = { Malicious: 0.9 };
    expect(isAlert(t, { label: 'Malicious', score: 0.9 })).toBe(true);
    expect(isAlert(t, { label: 'Malicious', score: 0.89 })).toBe(false);
    expect(isAlert(t, { label: 'Error', score: 1 })).toBe(false);
    // A label named like an Object.prototype member has no threshold unless the file gives it one.
    expect(isAlert(t, { label: 'constructor', score: 1 })).toBe(false);
  });
});

describe('parsePrecisionTargets()', () => {
  it('parses LABEL=PRECISION pairs by the model’s spelling', () => {
    expect(parsePrecisionTargets('malicious=0.95, Error = 0.9', LABELS)).toEqual([
      { label: 'Malicious', target: 0.95 },
      { label: 'Error', target: 0.9 },
    ]);
  });

  it.each([
    ['Malicious', /expected LABEL=PRECISION/],
    ['Bogus=0.9', /unknown label 'Bogus'/],
    ['Malicious=0', /expected a precision in \(0, 1\]/],
    ['Malicious=1.2', /expected a precision in \(0, 1\]/],
    ['Malicious=x', /expected a precision in \(0, 1\]/],
    ['Malicious=0.9,malicious=0.8', /given twice/],
  ])('refuses %s', (value, message) => {
    expect(() => parsePrecisionTargets(value, LABELS)).toThrow(message);
  });
});
