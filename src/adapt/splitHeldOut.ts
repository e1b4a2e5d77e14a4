// SPDX-License-Identifier: MIT
// Held-out splits for `logtriage adapt`: a holdout fraction or k folds, stratified by label, with
// every copy of a text on the same side (logs repeat lines verbatim; a line in both the training
// and the held-out part would make the held-out figures a memory test). The split depends on the
// texts alone (SHA-256 order within each label), not on the file's order or on a random seed, so
// running adapt twice on the same file gives the same split.
import { createHash } from 'node:crypto';
import { AdaptError } from '../errors.js';

/** Row indices of one split. */
export interface Split {
  train: number[];
  heldOut: number[];
}

/** How to hold lines out: a fraction, or k folds (each line held out once). */
export type Validation = { holdout: number } | { folds: number };

export function describeValidation(v: Validation): string {
  return 'folds' in v ? `${v.folds} folds` : `holdout ${v.holdout}`;
}

interface Group {
  rows: number[];
  order: string;
}

/** Per label, its texts' groups of rows in a stable pseudo-random order. */
function groupsByLabel(texts: readonly string[], gold: readonly number[], labels: readonly string[]): Group[][] {
  const byText = new Map<string, Group>();
  texts.forEach((text, i) => {
    let group = byText.get(text);
    if (group === undefined) {
      group = { rows: [], order: createHash('sha256').update(text).digest('hex') };
      byText.set(text, group);
    }
    group.rows.push(i);
  });
  const out: Group[][] = labels.map(() => []);
  for (const group of byText.values()) {
    // A text labeled two ways stays whole, stratified by its most frequent label (the first on a tie).
    const votes = new Map<number, number>();
    for (const row of group.rows) votes.set(gold[row]!, (votes.get(gold[row]!) ?? 0) + 1);
    const [label] = [...votes].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;
    out[label]!.push(group);
  }
  for (const groups of out) groups.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  return out;
}

/**
 * The splits of `validation`: one for a holdout, k for folds. Each label needs at least two
 * distinct texts for a holdout (one on each side) and k for k folds: fewer is an AdaptError
 * naming the label and its count.
 */
export function splitHeldOut(texts: readonly string[], gold: readonly number[], labels: readonly string[], validation: Validation): Split[] {
  const groups = groupsByLabel(texts, gold, labels);
  const parts = 'folds' in validation ? validation.folds : 2;
  const short = labels.map((label, k) => ({ label, distinct: groups[k]!.length })).filter((g) => g.distinct < parts);
  if (short.length > 0) {
    throw new AdaptError(
      `Too few distinct lines to hold some out (${describeValidation(validation)} needs at least ${parts} per label): ` +
        short.map((s) => `${JSON.stringify(s.label)} has ${s.distinct}`).join(', '),
    );
  }
  if ('folds' in validation) {
    const folds: number[][] = Array.from({ length: validation.folds }, () => []);
    for (const label of groups) label.forEach((g, i) => folds[i % validation.folds]!.push(...g.rows));
    return folds.map((heldOut, f) => ({
      train: folds.flatMap((rows, other) => (other === f ? [] : rows)).sort((a, b) => a - b),
      heldOut: heldOut.sort((a, b) => a - b),
    }));
  }
  const train: number[] = [];
  const heldOut: number[] = [];
  for (const label of groups) {
    const lines = label.reduce((n, g) => n + g.rows.length, 0);
    let held = 0;
    label.forEach((g, i) => {
      // At least one text held out, at least one kept for training.
      const hold = i === 0 || (i < label.length - 1 && held + g.rows.length <= Math.round(validation.holdout * lines));
      (hold ? heldOut : train).push(...g.rows);
      if (hold) held += g.rows.length;
    });
  }
  return [{ train: train.sort((a, b) => a - b), heldOut: heldOut.sort((a, b) => a - b) }];
}
