// SPDX-License-Identifier: MIT
// Which rows eval scores apart: the 'random' ones, only in a file that mixes them with others.
import { describe, expect, it } from 'vitest';
import { randomModeRows } from '../../src/evaluation/randomModeRows.js';

describe('randomModeRows()', () => {
  it("gives the indices of the 'random' rows when other rows (another mode or none) are there too", () => {
    expect(randomModeRows([{ mode: 'uncertain' }, { mode: 'random' }, {}, { mode: 'random' }])).toEqual([1, 3]);
    expect(randomModeRows([{ mode: 'random' }, {}])).toEqual([0]);
    // Exact: another spelling is another mode.
    expect(randomModeRows([{ mode: 'Random' }, { mode: 'random' }])).toEqual([1]);
  });

  it('gives nothing when no row is random, or every row is', () => {
    expect(randomModeRows([{}, {}])).toBeUndefined();
    expect(randomModeRows([{ mode: 'uncertain' }, { mode: 'uncertain' }])).toBeUndefined();
    expect(randomModeRows([{ mode: 'random' }, { mode: 'random' }])).toBeUndefined();
  });
});
