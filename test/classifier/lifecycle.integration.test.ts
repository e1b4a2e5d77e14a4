// SPDX-License-Identifier: MIT
// Lifetimes, cancellation and the event loop.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AbortError, DisposedError, LogClassifier } from '../../src/index.js';
import { loghubFiles, splitLogLines, tinyModel } from '../fixtures/index.js';

const lines = splitLogLines(readFileSync(loghubFiles()[0]!, 'utf8')).slice(0, 400);
const open = () => LogClassifier.open(tinyModel('f32'), { threads: 2 });

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
    const clf = await open();
    try {
      const reference = await clf.classifyMany(lines.slice(0, 20));
      const controller = new AbortController();
      const cancelled = clf.classifyMany(lines, { signal: controller.signal });
      const other = clf.classifyMany(lines.slice(0, 20));
      setTimeout(() => controller.abort(new Error('user cancelled')), 5);
      await expect(cancelled).rejects.toBeInstanceOf(AbortError);
      const others = await other;
      others.forEach((r, i) => expect(r.logits).toEqual(reference[i]!.logits));
    } finally {
      await clf.dispose();
    }
  });
});

describe('event loop during a large batch', () => {
  it('keeps turning: timer p99 delay under 50 ms', async () => {
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
      const p99ms = histogram.percentile(99) / 1e6;
      expect(p99ms).toBeLessThan(50);
      expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 10 / 4));
    } finally {
      await clf.dispose();
    }
  });
});
