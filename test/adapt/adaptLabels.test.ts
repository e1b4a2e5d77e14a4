// SPDX-License-Identifier: MIT
// adaptLabels: the model's labels when the file uses them, the file's (sorted) with newLabels,
// and typed errors for unknown or foreign labels and short labels.
import { describe, expect, it } from 'vitest';
import { adaptLabels } from '../../src/adapt/adaptLabels.js';
import { AdaptError } from '../../src/errors.js';
import type { LabeledRow } from '../../src/evaluation/readLabeledRows.js';

const MODEL = ['Normal', 'Error'];
const rowsOf = (labels: string[]): LabeledRow[] => labels.map((label, i) => ({ where: `line ${i + 1}`, text: `text ${i}`, label }));
const many = (label: string, n: number) => Array.from({ length: n }, () => label);

describe('adaptLabels()', () => {
  it("keeps the model's labels and order when the file uses them (case-insensitively)", () => {
    const r = adaptLabels(rowsOf([...many('error', 3), ...many('Normal', 2)]), MODEL, 'f.jsonl', { newLabels: false, minPerLabel: 2 });
    expect(r).toEqual({ labels: MODEL, gold: [1, 1, 1, 0, 0], sameAsModel: true, linesPerLabel: [2, 3] });
  });

  it("counts a model label without lines as short", () => {
    expect(() => adaptLabels(rowsOf(many('Normal', 5)), MODEL, 'f.jsonl', { newLabels: false, minPerLabel: 2 })).toThrow(/"Error" has 0/);
  });

  it('names an unknown label with its row, and says a file labeled for another model is one', () => {
    const unknown = () => adaptLabels(rowsOf([...many('Normal', 3), 'Eror']), MODEL, 'f.jsonl', { newLabels: false, minPerLabel: 1 });
    expect(unknown).toThrow(AdaptError);
    expect(unknown).toThrow(/line 4: gold label "Eror" is not a label of the model .*--new-labels/);
    const foreign = () => adaptLabels(rowsOf(['HDFS', 'Linux']), MODEL, 'f.jsonl', { newLabels: false, minPerLabel: 1 });
    expect(foreign).toThrow(/looks labeled for another model: none of its labels \("HDFS", "Linux"\)/);
  });

  it("with newLabels takes the file's labels in code-point order, whatever the row order", () => {
    const a = adaptLabels(rowsOf([...many('b', 2), ...many('a', 2), ...many('B', 2)]), MODEL, 'f.jsonl', { newLabels: true, minPerLabel: 2 });
    expect(a.labels).toEqual(['B', 'a', 'b']);
    expect(a.gold).toEqual([2, 2, 1, 1, 0, 0]);
    expect(a.sameAsModel).toBe(false);
    const b = adaptLabels(rowsOf([...many('a', 2), ...many('B', 2), ...many('b', 2)]), MODEL, 'f.jsonl', { newLabels: true, minPerLabel: 2 });
    expect(b.labels).toEqual(a.labels);
  });

  it('names every label short of lines with its count', () => {
    expect(() => adaptLabels(rowsOf([...many('x', 9), ...many('y', 3), ...many('z', 1)]), MODEL, 'f.jsonl', { newLabels: true, minPerLabel: 5 })).toThrow(
      /each label needs at least 5; "y" has 3, "z" has 1/,
    );
  });
});
