// SPDX-License-Identifier: MIT
// Lifetimes, cancellation and the event loop.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AbortError, DisposedError, LogClassifier } from '../../src/index.js';
import { loghubFiles, splitLogLines, tinyModel } from '../fixtures/index.js';
import { maxAbsDiff } from '../helpers/logitDiff.js';

const lines = splitLogLines(readFileSync(loghubFiles()[0]!, 'utf8')).slice(0, 400);
const open = (options: { resultCache?: number } = {}) => LogClassifier.open(tinyModel('f32'), { threads: 2, ...options });

describe('LogClassifier#dispose()', () => {
  it('is idempotent; later calls throw DisposedError', async () => {
    const clf = await open();
    await clf.classify(lines[0]!);
    await Promise.all([clf.dispose(), clf.dispose()]);
    await clf.dispose();
    await expect(clf.classify(lines[0]!)).rejects.toBeInstanceOf(DisposedError);
    await expect(clf.tokenize(lines[0]!)).rejects.toBeInstanceOf(DisposedError);
  });

  it('during a batch: queued work rejects with DisposedError, the process carries on', async () => {
    const clf = await open();
    const running = clf.classifyMany(lines);
    const done = clf.dispose();
    await expect(running).rejects.toBeInstanceOf(DisposedError);
    await done;
    const fresh = await open();
    expect((await fresh.classify(lines[0]!)).label).toBeTypeOf('string');
    await fresh.dispose();
  });

  it('works with await using (Symbol.asyncDispose)', async () => {
    let captured: LogClassifier | undefined;
    {
      await using clf = await open();
      captured = clf;
      await clf.classify(lines[1]!);
    }
    await expect(captured!.classify(lines[1]!)).rejects.toBeInstanceOf(DisposedError);
  });
});

describe('LogClassifier#classify() with an AbortSignal', () => {
  it('an aborted signal rejects at once with AbortError', async () => {
    const clf = await open();
    try {
      await expect(clf.classify(lines[0]!, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    } finally {
      await clf.dispose();
    }
  });

  it('aborting mid-flight rejects that call only; the others are unaffected and correct', async () => {
    // No result cache: `other` must be decoded beside the cancelled call, not answered from the
    // cache the reference call filled (which would make the test pass without checking anything).
    const clf = await open({ resultCache: 0 });
    try {
      const reference = await clf.classifyMany(lines.slice(0, 20));
      const controller = new AbortController();
      const cancelled = clf.classifyMany(lines, { signal: controller.signal });
      const other = clf.classifyMany(lines.slice(0, 20));
      setTimeout(() => controller.abort(new Error('user cancelled')), 5);
      await expect(cancelled).rejects.toBeInstanceOf(AbortError);
      const others = await other;
      expect(others).toHaveLength(20);
      expect(reference).toHaveLength(20);
      // Decoded in other batches than the reference: equal up to float rounding (as batching.integration).
      others.forEach((r, i) => expect(maxAbsDiff(r.logits, reference[i]!.logits, `line ${i}`)).toBeLessThanOrEqual(1e-5));
    } finally {
      await clf.dispose();
    }
  });
});

// What this protects against is the JS thread blocked for the length of a decode (a synchronous
// native call): then a 10 ms timer fires a handful of times in the whole run, and its delay is
// the decode's length. The bound is the whole run, not a latency figure: a loaded shared machine
// may stall the loop for tens of milliseconds and still be right. The p99 figure is measured by
// the benchmark (docs/performance.md), not asserted here.
describe('event loop during a large batch', () => {
  it('keeps turning: timers fire all through the batch, and none waits as long as the batch', async () => {
    const clf = await open();
    try {
      const histogram = monitorEventLoopDelay({ resolution: 5 });
      histogram.enable();
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      const started = Date.now();
      await clf.classifyMany([...lines, ...lines]);
      const elapsed = Date.now() - started;
      clearInterval(timer);
      histogram.disable();
      const maxMs = histogram.max / 1e6;
      expect(histogram.count).toBeGreaterThan(0);
      expect(maxMs).toBeLessThan(elapsed / 2);
      expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 10 / 4));
    } finally {
      await clf.dispose();
    }
  });
});
