// SPDX-License-Identifier: MIT
// The terminal table: per-class rows, averages and the confusion matrix, aligned in columns.
import { describe, expect, it } from 'vitest';
import { formatMetricsTable } from '../../src/evaluation/formatMetricsTable.js';
import { computeMetrics } from '../../src/evaluation/metrics.js';

describe('formatMetricsTable()', () => {
  it('lays out the report and the matrix with gold labels down and predictions across', () => {
    const table = formatMetricsTable(computeMetrics(['Normal', 'Error', 'Unused'], [0, 0, 1, 1], [0, 1, 1, 1]));
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^\s+precision\s+recall\s+f1-score\s+support$/);
    expect(lines).toContain('      Normal     1.000     0.500     0.667         2');
    expect(lines).toContain('       Error     0.667     1.000     0.800         2');
    expect(lines).toContain('    accuracy                         0.750         4');
    expect(table).toMatch(/leave out labels that are neither gold nor predicted: Unused/);
    const matrix = lines.slice(lines.indexOf('Confusion matrix (rows: gold label, columns: predicted label)') + 1);
    expect(matrix[0]!.trim().split(/\s+/)).toEqual(['Normal', 'Error', 'Unused']);
    expect(matrix[1]!.trim().split(/\s+/)).toEqual(['Normal', '1', '1', '0']);
    expect(matrix[2]!.trim().split(/\s+/)).toEqual(['Error', '0', '2', '0']);
    // Every row of the matrix is as wide as its header.
    expect(new Set(matrix.slice(0, 4).map((l) => l.length)).size).toBe(1);
  });
});
