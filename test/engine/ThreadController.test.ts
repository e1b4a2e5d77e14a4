// SPDX-License-Identifier: MIT
// The thread-count controller against simulated hosts: each call's time follows a cost model of
// threads and free cores (linear speed-up up to the free cores, a collapse past them, +-15%
// noise), and the controller must keep within 0.8x of the best fixed count, idle and loaded,
// and follow load that comes and goes.
import { describe, expect, it } from 'vitest';
import { classifyAdapting, ThreadController } from '../../src/engine/ThreadController.js';

/** ms per token with `threads` threads when `free` cores are free; `collapse` is the slowdown per thread past them. */
const costOf = (threads: number, free: number, collapse: number): number => (threads <= free ? 1 / threads : (collapse * (threads - free)) / free);

function seeded(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

interface Host {
  /** Free cores at call i. */
  free: (i: number) => number;
  collapse: number;
}

/** Runs `calls` calls of 20-40 tokens; returns the total time and the counts used. */
function simulate(controller: ThreadController | number, host: Host, calls: number, from = 0): { ms: number; used: number[] } {
  const random = seeded(7);
  let ms = 0;
  const used: number[] = [];
  for (let i = from; i < from + calls; i++) {
    const threads = typeof controller === 'number' ? controller : controller.threads;
    const tokens = 20 + Math.floor(random() * 21);
    const t = costOf(threads, host.free(i), host.collapse) * tokens * (0.85 + 0.3 * random());
    if (typeof controller !== 'number') controller.record(threads, t, tokens);
    ms += t;
    used.push(threads);
  }
  return { ms, used };
}

const bestFixed = (max: number, host: Host, calls: number, from = 0): number => Math.min(...Array.from({ length: max }, (_, i) => simulate(i + 1, host, calls, from).ms));

describe('ThreadController', () => {
  const hosts: Array<[string, number, Host]> = [
    ['idle 2-core host', 2, { free: () => 2, collapse: 26 }],
    ['2 cores, one hogged, severe collapse', 2, { free: () => 1, collapse: 26 }],
    ['2 cores, one hogged, mild collapse', 2, { free: () => 1, collapse: 1.5 }],
    ['idle 8-core host', 8, { free: () => 8, collapse: 5 }],
    ['8 cores, 3 hogged', 8, { free: () => 5, collapse: 5 }],
  ];
  it.each(hosts)('%s: within 0.8x of the best fixed count', (_, max, host) => {
    const controller = new ThreadController({ max });
    const calls = 2000;
    const { ms, used } = simulate(controller, host, calls);
    const best = bestFixed(max, host, calls);
    expect(best / ms).toBeGreaterThanOrEqual(0.8);
    // It ends where the best fixed count is (no count beats the free cores in this model): probes
    // of a count only a little slower come often (their cost is small), so the most used count.
    const last = used.slice(-200);
    const mostUsed = [...new Set(last)].sort((a, b) => last.filter((n) => n === b).length - last.filter((n) => n === a).length)[0];
    expect(mostUsed).toBe(Math.min(max, host.free(calls)));
  });

  it('follows load that arrives and leaves: within 0.8x of the best in each phase', () => {
    // A 3x collapse: probes up wait ~40 calls; a 26x one would wait ~500 before trying 2 again.
    const host: Host = { free: (i) => (i >= 1000 && i < 2000 ? 1 : 2), collapse: 3 };
    const controller = new ThreadController({ max: 2 });
    const phases = [0, 1000, 2000].map((from) => {
      const { ms, used } = simulate(controller, host, 1000, from);
      const counts = used.slice(-100);
      return { ratio: bestFixed(2, host, 1000, from) / ms, mostly: counts.filter((n) => n === 2).length > 50 ? 2 : 1 };
    });
    expect(phases.map((p) => p.mostly)).toEqual([2, 1, 2]);
    for (const p of phases) expect(p.ratio).toBeGreaterThanOrEqual(0.8);
  });

  it('stays at the maximum on an idle host, its probes costing about 5% of the time', () => {
    const host: Host = { free: () => 4, collapse: 5 };
    const controller = new ThreadController({ max: 4 });
    const { ms, used } = simulate(controller, host, 3000);
    expect(used.filter((n) => n !== 4).length).toBeGreaterThan(0);
    expect(simulate(4, host, 3000).ms / ms).toBeGreaterThan(0.92);
    expect(used.at(-1)).toBe(4);
  });

  it('ignores calls that decoded nothing and counts it did not ask for; probes down after the first call', () => {
    const controller = new ThreadController({ max: 2 });
    controller.record(2, 1000, 0);
    controller.record(1, 1, 100);
    expect(controller.threads).toBe(2);
    controller.record(2, 10, 10);
    expect(controller.threads).toBe(1);
  });

  it('takes a probe that is clearly better at once, and waits long before going back to a collapse', () => {
    const controller = new ThreadController({ max: 2 });
    controller.record(2, 400, 10);
    expect(controller.threads).toBe(1);
    controller.record(1, 10, 10);
    // 40x better in one call: moved; 2 threads are probed again only after (40 - 1) / 0.05 calls.
    const { used } = simulate(controller, { free: () => 1, collapse: 40 }, 700);
    expect(used.every((n) => n === 1)).toBe(true);
  });

  it('with a maximum of 1 never moves', () => {
    const controller = new ThreadController({ max: 1 });
    const { used } = simulate(controller, { free: () => 1, collapse: 26 }, 200);
    expect(used.length).toBe(200);
    expect(new Set(used)).toEqual(new Set([1]));
  });
});

describe('classifyAdapting', () => {
  it('runs each call at the controller count and reports the tokens that call decoded', async () => {
    let decoded = 0;
    const seen: (number | undefined)[] = [];
    const context = {
      classify: async (tokens: Int32Array, _offsets: Uint32Array, threads?: number) => {
        seen.push(threads);
        decoded += tokens.length;
        return new Float32Array(2);
      },
      embed: async () => new Float32Array(0),
      info: () => ({ tokensDecoded: decoded }),
    };
    const controller = new ThreadController({ max: 3 });
    const recorded: [number, number][] = [];
    const record = controller.record.bind(controller);
    controller.record = (threads, ms, tokens) => {
      recorded.push([threads, tokens]);
      record(threads, ms, tokens);
    };
    const run = classifyAdapting(context, controller);
    for (const n of [5, 7, 9]) await run(new Int32Array(n), new Uint32Array([0, n]));
    expect(seen).toEqual([3, 2, 2]);
    expect(recorded).toEqual([
      [3, 5],
      [2, 7],
      [2, 9],
    ]);
  });
});
