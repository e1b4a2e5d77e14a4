// SPDX-License-Identifier: MIT
// What /ingest holds while it reads a JSON array body of empty records (issue 29, item 3): one
// JSON.parse held every parsed record (about 30 MiB of heap for a 2 MB `[{},…]` body, three such
// bodies at once over the +150 MiB target); read element by element and judged as read, a record
// that goes into a run is garbage at once. Measured in child processes (a fresh heap each), in bytes.
import { describe, expect, it } from 'vitest';
import { spawnNode } from '../helpers/spawnNode.js';

async function peakGrowth(mode: 'sliced' | 'whole'): Promise<{ count: number; peakGrowthMiB: number }> {
  const run = await spawnNode(['--expose-gc', '--max-semi-space-size=1', 'test/server/ingestMemoryChild.ts', mode], { timeoutMs: 300_000 });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

describe('POST /ingest reading a JSON array body', () => {
  it('holds a few MiB of heap for a 2 MB array of empty records, not the parsed array', async () => {
    const sliced = await peakGrowth('sliced');
    const whole = await peakGrowth('whole');
    expect(sliced.count).toBe(whole.count);
    expect(whole.peakGrowthMiB, 'the old whole-body parse, for scale').toBeGreaterThan(15);
    expect(sliced.peakGrowthMiB).toBeLessThan(whole.peakGrowthMiB / 3);
  }, 660_000);
});
