// SPDX-License-Identifier: MIT
// Long work on the event loop, in slices: a slice ends after `maxSteps` steps or `maxMs`
// milliseconds, whichever comes first, and the next one starts a turn of the event loop later
// (setImmediate), so other requests (`/health`) are served between. A count of steps alone let a
// slice of costly steps run long: records of a few KB, or any request early in a process, whose
// code V8 has not optimised yet (three 2 MB NDJSON bodies over the cap: 96 ms of CPU in one turn
// on the first round of a process, 12 ms by the third).

import { setImmediate as nextTurn } from 'node:timers/promises';

/** Steps between two looks at the clock (performance.now() costs more than a cheap step). */
const CLOCK_EVERY = 16;

/** Milliseconds one slice may take, unless told otherwise. */
export const SLICE_MS = 4;

export class TurnBudget {
  private steps = 0;
  private sliceStart = performance.now();

  constructor(
    private readonly maxSteps: number,
    private readonly maxMs = SLICE_MS,
  ) {}

  /** Counts one step; true when the slice is spent (then `await budget.nextSlice()`). */
  spent(): boolean {
    this.steps++;
    if (this.steps >= this.maxSteps) return true;
    return this.steps % CLOCK_EVERY === 0 && performance.now() - this.sliceStart >= this.maxMs;
  }

  /** Waits one turn of the event loop, and starts a new slice. */
  async nextSlice(): Promise<void> {
    await nextTurn();
    this.steps = 0;
    this.sliceStart = performance.now();
  }
}
