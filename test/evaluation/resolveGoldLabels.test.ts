// SPDX-License-Identifier: MIT
// Gold labels onto model label ids: case and surrounding spaces ignored, unknown labels refused.
import { describe, expect, it } from 'vitest';
import { resolveGoldLabels } from '../../src/evaluation/resolveGoldLabels.js';

const rows = (...labels: string[]) => labels.map((label, i) => ({ where: `line ${i + 1}`, text: 'x', label }));
const LABELS = ['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error'];

describe('resolveGoldLabels()', () => {
  it('matches labels ignoring case and surrounding spaces', () => {
    expect(resolveGoldLabels(rows('Normal', 'ERROR', ' malicious ', 'informational'), LABELS, 'set.jsonl')).toEqual([0, 4, 2, 3]);
  });

  it('names the row and lists the valid labels for an unknown one', () => {
    expect(() => resolveGoldLabels(rows('Normal', 'Warning'), LABELS, 'set.jsonl')).toThrow(
      'set.jsonl, line 2: gold label "Warning" is not a label of the model; valid labels: "Normal", "Suspicious", "Malicious", "Informational", "Error"',
    );
  });

  it('prefers an exact match and refuses a case-insensitive one that is ambiguous', () => {
    const labels = ['error', 'Error'];
    expect(resolveGoldLabels(rows('Error', 'error'), labels, 'f')).toEqual([1, 0]);
    expect(() => resolveGoldLabels(rows('ERROR'), labels, 'f')).toThrow(/line 1: gold label "ERROR" matches several labels/);
  });
});
