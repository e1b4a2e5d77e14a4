// SPDX-License-Identifier: MIT
// splitHeldOut: stratified by label, every copy of a text on one side, stable, and folds that
// hold every line out exactly once.
import { describe, expect, it } from 'vitest';
import { describeValidation, splitHeldOut } from '../../src/adapt/splitHeldOut.js';
import { AdaptError } from '../../src/errors.js';

const LABELS = ['a', 'b'];

function rows(): { texts: string[]; gold: number[] } {
  const texts: string[] = [];
  const gold: number[] = [];
  for (let i = 0; i < 20; i++) {
    texts.push(`a line ${i}`);
    gold.push(0);
  }
  for (let i = 0; i < 10; i++) {
    texts.push(`b line ${i}`);
    gold.push(1);
  }
  // Duplicates: the same text five more times (label a), and once more with the other label.
  for (let i = 0; i < 5; i++) {
    texts.push('a line 3');
    gold.push(0);
  }
  texts.push('a line 3');
  gold.push(1);
  return { texts, gold };
}

describe('splitHeldOut()', () => {
  it('holds out about the share of each label and keeps every copy of a text on one side', () => {
    const { texts, gold } = rows();
    const [split] = splitHeldOut(texts, gold, LABELS, { holdout: 0.2 });
    expect(split!.train.length + split!.heldOut.length).toBe(texts.length);
    const heldTexts = new Set(split!.heldOut.map((i) => texts[i]!));
    const trainTexts = new Set(split!.train.map((i) => texts[i]!));
    expect([...heldTexts].filter((t) => trainTexts.has(t))).toEqual([]);
    for (const k of [0, 1]) {
      expect(split!.heldOut.some((i) => gold[i] === k)).toBe(true);
      expect(split!.train.some((i) => gold[i] === k)).toBe(true);
    }
    const heldB = split!.heldOut.filter((i) => gold[i] === 1 && texts[i] !== 'a line 3').length;
    expect(heldB).toBe(2);
  });

  it('gives the same split whatever the order of the rows', () => {
    const { texts, gold } = rows();
    const order = texts.map((_, i) => i).reverse();
    const [a] = splitHeldOut(texts, gold, LABELS, { holdout: 0.3 });
    const [b] = splitHeldOut(order.map((i) => texts[i]!), order.map((i) => gold[i]!), LABELS, { holdout: 0.3 });
    expect(new Set(a!.heldOut.map((i) => texts[i]))).toEqual(new Set(b!.heldOut.map((i) => texts[order[i]!])));
  });

  it('k folds hold every row out exactly once, each fold with every label, copies together', () => {
    const { texts, gold } = rows();
    const folds = splitHeldOut(texts, gold, LABELS, { folds: 5 });
    expect(folds).toHaveLength(5);
    const held = folds.flatMap((f) => f.heldOut).sort((a, b) => a - b);
    expect(held).toEqual(texts.map((_, i) => i));
    for (const fold of folds) {
      expect(fold.train.length + fold.heldOut.length).toBe(texts.length);
      for (const k of [0, 1]) expect(fold.heldOut.some((i) => gold[i] === k)).toBe(true);
      const trainTexts = new Set(fold.train.map((i) => texts[i]));
      expect(fold.heldOut.filter((i) => trainTexts.has(texts[i]!))).toEqual([]);
    }
  });

  it('refuses a label with too few distinct texts, naming it and its count', () => {
    const texts = ['x', 'x', 'x', 'y', 'z'];
    const gold = [0, 0, 0, 1, 1];
    expect(() => splitHeldOut(texts, gold, LABELS, { holdout: 0.2 })).toThrow(AdaptError);
    expect(() => splitHeldOut(texts, gold, LABELS, { holdout: 0.2 })).toThrow(/"a" has 1/);
    expect(() => splitHeldOut(texts, gold, LABELS, { folds: 3 })).toThrow(/"a" has 1, "b" has 2/);
  });

  it('describes the validation as the provenance records it', () => {
    expect(describeValidation({ holdout: 0.2 })).toBe('holdout 0.2');
    expect(describeValidation({ folds: 5 })).toBe('5 folds');
  });
});
