// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { computeCalibrationMetrics } from '../../src/calibration/calibrationMetrics.js';
import { coverageAt, coverageCurve } from '../../src/calibration/selectiveClassification.js';
import { formatCoverageTable, formatThresholdFits } from '../../src/evaluation/formatTrustTables.js';
import { renderTrustSection } from '../../src/evaluation/renderTrustSection.js';

const probs = [
  [0.95, 0.05],
  [0.7, 0.3],
  [0.4, 0.6],
  [0.5, 0.5],
];
const gold = [0, 1, 1, 0];
const calibration = computeCalibrationMetrics(probs, gold);
const scores = probs.map((p) => Math.max(...p));
const correct = [true, false, true, true];
const fits = [
  { label: '<b>Evil</b>', target: 0.9, threshold: 0.7, precision: 1, recall: 0.5, alerts: 1, support: 2 },
  { label: 'Other', target: 0.99, threshold: null, precision: 0.5, recall: 0.5, alerts: 2, support: 2 },
];

describe('renderTrustSection()', () => {
  const html = renderTrustSection({ calibration, applied: 'none', selective: coverageAt(scores, correct, [0, 0.5, 0.9]), curve: coverageCurve(scores, correct), fits });

  it('draws a reliability bar per non-empty bin and a count bar per bin', () => {
    expect(html.match(/class="count-bar"/g)).toHaveLength(15);
    const bars = [...html.matchAll(/class="reliability-bar"[^>]*data-count="(\d+)"/g)].map((m) => Number(m[1]));
    expect(bars.reduce((a, b) => a + b, 0)).toBe(4);
    expect(bars).toHaveLength(calibration.bins.filter((b) => b.count > 0).length);
  });

  it('draws the coverage curve, the table and the fits, escaping labels', () => {
    expect(html).toContain(`data-points="${coverageCurve(scores, correct).length}"`);
    expect(html.match(/class="coverage-row"/g)).toHaveLength(3);
    expect(html).toContain('&lt;b&gt;Evil&lt;/b&gt;');
    expect(html).not.toContain('<b>Evil');
    expect(html).toContain('unreachable (best precision 0.500)');
  });
});

describe('terminal tables', () => {
  it('prints coverage rows and unreachable targets', () => {
    const table = formatCoverageTable(coverageAt(scores, correct, [0, 0.99]));
    expect(table).toMatch(/0\.000\s+1\.000\s+4\s+0\.750/);
    expect(table).toMatch(/0\.990\s+0\.000\s+0\s+-/);
    const text = formatThresholdFits(fits);
    expect(text).toMatch(/Other\s+0\.990\s+unreachable \(best precision 0\.500 at recall 0\.500\)/);
    expect(text).toMatch(/<b>Evil<\/b>\s+0\.900\s+0\.700\s+1\.000\s+0\.500\s+1/);
  });
});
