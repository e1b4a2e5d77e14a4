// SPDX-License-Identifier: MIT
// Maps each row's gold label onto the model's label ids. Matching ignores case and surrounding
// spaces, as hand-labeled sets spell labels loosely; an exact match wins over a case-insensitive
// one so a model with both "error" and "Error" still resolves.
import { ValidationError } from '../errors.js';
import type { LabeledRow } from './readLabeledRows.js';

export function resolveGoldLabels(rows: readonly LabeledRow[], labels: readonly string[], file: string): number[] {
  const exact = new Map(labels.map((l, i) => [l, i]));
  const folded = new Map<string, number[]>();
  labels.forEach((l, i) => {
    const key = l.trim().toLowerCase();
    folded.set(key, [...(folded.get(key) ?? []), i]);
  });
  const valid = labels.map((l) => JSON.stringify(l)).join(', ');
  return rows.map((row) => {
    const label = row.label.trim();
    const hit = exact.get(label);
    if (hit !== undefined) return hit;
    const candidates = folded.get(label.toLowerCase()) ?? [];
    if (candidates.length === 1) return candidates[0]!;
    const why = candidates.length === 0 ? 'is not a label of the model' : 'matches several labels of the model when case is ignored';
    throw new ValidationError(`${file}, ${row.where}: gold label ${JSON.stringify(row.label)} ${why}; valid labels: ${valid}`);
  });
}
