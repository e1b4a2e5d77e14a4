// SPDX-License-Identifier: MIT
// Slices of work on the event loop end by count or by time, whichever comes first (issue 29: a
// slice of a fixed count of records ran long where records were costly, or the code still cold).
import { describe, expect, it } from 'vitest';
import { TurnBudget } from '../../src/server/TurnBudget.js';

/** Holds the thread for `ms` of wall-clock time, as a costly record would. */
const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('TurnBudget#spent()', () => {
  it('ends a slice after maxSteps cheap steps', () => {
    const budget = new TurnBudget(5, 1_000_000);
    expect([1, 2, 3, 4, 5].map(() => budget.spent())).toEqual([false, false, false, false, true]);
  });

  it('ends a slice of costly steps by time, long before their count', () => {
    const budget = new TurnBudget(1_000_000, 2);
    let steps = 0;
    do {
      busy(0.25);
      steps++;
    } while (!budget.spent() && steps < 1000);
    // Past 2 ms after 8 steps; the clock is read every 16 steps.
    expect(steps).toBeLessThanOrEqual(16);
  });

  it('starts a new slice a turn of the event loop later', async () => {
    const budget = new TurnBudget(2, 1_000_000);
    budget.spent();
    expect(budget.spent()).toBe(true);
    let turned = false;
    setImmediate(() => (turned = true));
    await budget.nextSlice();
    expect(turned).toBe(true);
    expect(budget.spent()).toBe(false);
  });
});
