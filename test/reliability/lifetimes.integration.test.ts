// SPDX-License-Identifier: MIT
// Lifetimes and concurrency beyond test/classifier/lifecycle: dispose() while many callers have
// batches in flight, 1,000 aborts mid-flight, two classifiers on one file, the native objects
// used after dispose, classifiers dropped without dispose() (collected by GC), and the addon in
// worker_threads, terminated at every step. Nothing may crash or leak, and every call that is
// not cancelled must still get the right logits.
import { spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon } from '../../src/engine/binding.js';
import { AbortError, DisposedError, LogClassifier, type ClassificationResult } from '../../src/index.js';
import { readGgufHeader, validateLogtriageModel } from '../../src/gguf/index.js';
import { loghubFiles, repoRoot, splitLogLines, tinyModel } from '../fixtures/index.js';
import { serializeGguf, shrinkTinyModel } from './helpers/ggufBytes.js';
import { maxAbsDiff } from '../helpers/logitDiff.js';

const lines = loghubFiles()
  .flatMap((f) => splitLogLines(readFileSync(f, 'utf8')).slice(200, 240))
  .slice(0, 200);
// Every call reaches native code: no exact-repeat cache.
const open = () => LogClassifier.open(tinyModel('f32'), { threads: 1, resultCache: 0 });
/** As test/classifier/batching: packing lines differently may move logits by float rounding. */
const TOL = 1e-5;

function expectLogits(results: readonly ClassificationResult[], expected: readonly number[][], what: string): void {
  expect(results, what).toHaveLength(expected.length);
  results.forEach((r, i) => {
    const diff = maxAbsDiff(r.logits, expected[i]!, `${what}: line ${i}`);
    expect(diff, `${what}: line ${i}`).toBeLessThanOrEqual(TOL);
  });
}

let reference: number[][];
beforeAll(async () => {
  expect(lines).toHaveLength(200);
  const clf = await open();
  reference = (await clf.classifyMany(lines)).map((r) => r.logits);
  await clf.dispose();
});

/**
 * Starts classifying `batch`; `back` resolves when its first native batch has returned. The call
 * is settled into `started` at once, so a rejection caused by a dispose() is never unhandled.
 */
function firstBatchBack(clf: LogClassifier, batch: string[]): { started: Promise<PromiseSettledResult<ClassificationResult[]>>; back: Promise<void> } {
  let onBack!: () => void;
  const back = new Promise<void>((resolve) => (onBack = resolve));
  const [started] = settleEach([clf.classifyMany(batch, { onProgress: () => onBack() })]);
  return { started: started!, back };
}

/** Attaches a handler to each promise now, before whatever may reject them runs. */
function settleEach<T>(promises: Array<Promise<T>>): Array<Promise<PromiseSettledResult<T>>> {
  return promises.map((p) =>
    p.then(
      (value) => ({ status: 'fulfilled', value }) as const,
      (reason: unknown) => ({ status: 'rejected', reason }) as const,
    ),
  );
}

function fulfilled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

describe('LogClassifier#dispose() under load', () => {
  it('while 20 callers have batches in flight: each call gets correct logits or a DisposedError, then nothing runs', async () => {
    const clf = await open();
    const slices = Array.from({ length: 20 }, (_, i) => lines.slice((i * 10) % 200, ((i * 10) % 200) + 40));
    const { started, back } = firstBatchBack(clf, lines);
    const calls = [started, ...settleEach(slices.map((s) => clf.classifyMany(s)))];
    await back;
    await Promise.all([clf.dispose(), clf.dispose()]);
    const settled = await Promise.all(calls);
    const rejected = settled.filter((s) => s.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const s of rejected) expect((s as PromiseRejectedResult).reason).toBeInstanceOf(DisposedError);
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') expectLogits(s.value, i === 0 ? reference : slices[i - 1]!.map((l) => reference[lines.indexOf(l)]!), `call ${i}`);
    });
    for (const late of [() => clf.classifyMany(lines), () => clf.pipeline(lines[0]!), () => clf.tokenizeMany(lines), () => clf.classify(lines[0]!)]) {
      await expect(late()).rejects.toBeInstanceOf(DisposedError);
    }
    await clf.dispose();
  });
});

describe('LogClassifier#classifyMany() with 1,000 aborts mid-flight', () => {
  it('rejects only the aborted calls, each with AbortError; the 200 others are correct; no abort listener stays behind', async () => {
    const clf = await open();
    try {
      const { started: sentinel, back } = firstBatchBack(clf, lines);
      const controllers: AbortController[] = [];
      const aborted: Array<Promise<PromiseSettledResult<ClassificationResult>>> = [];
      const kept: Array<Promise<ClassificationResult>> = [];
      for (let i = 0; i < 1200; i++) {
        const line = lines[i % lines.length]!;
        if (i % 6 === 5) {
          kept.push(clf.classify(line));
          continue;
        }
        const controller = new AbortController();
        controllers.push(controller);
        aborted.push(...settleEach([clf.classify(line, { signal: controller.signal })]));
        // Abort at once, after a microtask, after the queue's first turn, or while native code runs.
        const abort = () => controller.abort(new Error(`cancelled ${i}`));
        switch (i % 4) {
          case 0: abort(); break;
          case 1: queueMicrotask(abort); break;
          case 2: setImmediate(abort); break;
          default: void back.then(abort);
        }
      }
      expect(controllers).toHaveLength(1000);
      const settled = await Promise.all(aborted);
      let rejectedCount = 0;
      settled.forEach((s, k) => {
        const i = Math.floor(k / 5) * 6 + (k % 5);
        if (s.status === 'rejected') {
          rejectedCount++;
          expect(s.reason, `call ${i}`).toBeInstanceOf(AbortError);
        } else {
          // The native batch had already finished before the abort came: a correct result.
          expectLogits([s.value], [reference[i % lines.length]!], `call ${i}`);
        }
      });
      expect(rejectedCount).toBeGreaterThan(900);
      expectLogits(await Promise.all(kept), kept.map((_, k) => reference[(k * 6 + 5) % lines.length]!), 'kept calls');
      expectLogits(fulfilled(await sentinel), reference, 'sentinel batch');
      for (const c of controllers) expect(getEventListeners(c.signal, 'abort')).toHaveLength(0);
      expectLogits(await clf.classifyMany(lines.slice(0, 20)), reference.slice(0, 20), 'after the aborts');
    } finally {
      await clf.dispose();
    }
  });
});

describe('Two LogClassifiers on one file', () => {
  it('agree with each other, and disposing one mid-batch leaves the other correct', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    try {
      const [ra, rb] = await Promise.all([a.classifyMany(lines), b.classifyMany(lines)]);
      expectLogits(ra, reference, 'first classifier');
      expectLogits(rb, reference, 'second classifier');
      const running = b.classifyMany(lines);
      const { started, back } = firstBatchBack(a, lines);
      await back;
      await a.dispose();
      expect(await started).toMatchObject({ status: 'rejected', reason: expect.any(DisposedError) });
      expectLogits(await running, reference, 'second classifier after the first was disposed');
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });
});

describe('Native Model and Context after dispose()', () => {
  it('refuse new work with DISPOSED, dispose twice, and keep weights while a Context uses them', async () => {
    // The addon itself, not the wrapped binding: these are its bare codes and synchronous throws.
    const binding = loadAddon();
    const meta = validateLogtriageModel(await readGgufHeader(tinyModel('f32')));
    const model = await binding.Model.load(tinyModel('f32'), { gpuLayers: 0, useMmap: true });
    const options = { nCtx: 512, nBatch: 512, nUbatch: 512, nSeqMax: 8, threads: 1, flashAttn: false, kvType: 'f32' as const, nLabels: meta.labels.length, head: meta.head.weight };
    const context = await binding.Context.create(model, options);
    const { tokens, offsets } = await model.tokenize(lines.slice(0, 8), false);
    const before = await context.classify(tokens, offsets);

    await Promise.all([model.dispose(), model.dispose()]);
    await model.dispose();
    const disposed = { code: 'DISPOSED' };
    expect(() => model.tokenize(lines.slice(0, 1), false)).toThrow(expect.objectContaining(disposed));
    expect(() => model.info()).toThrow(expect.objectContaining(disposed));
    expect(() => binding.Context.create(model, options)).toThrow(expect.objectContaining(disposed));
    // The context still holds the weights.
    expect(Array.from(await context.classify(tokens, offsets))).toEqual(Array.from(before));

    // Dispose while a classify is queued or running: it finishes, is aborted mid-decode, or is
    // refused before it starts; nothing crashes.
    const long = await Promise.all([context.classify(tokens, offsets), context.dispose(), context.dispose()].map((p) => p.then(() => 'ok', (e: { code?: string }) => e.code)));
    expect(['ok', 'ABORTED', 'DISPOSED']).toContain(long[0]);
    expect(long.slice(1)).toEqual(['ok', 'ok']);
    expect(() => context.classify(tokens, offsets)).toThrow(expect.objectContaining(disposed));
    expect(() => context.info()).toThrow(expect.objectContaining(disposed));
    await context.dispose();
  });
});

/** Runs a helper script with --expose-gc in a child process; resolves with its JSON report. */
function runScenario(script: string, args: string[]): Promise<{ report: Record<string, unknown>; exitCode: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(repoRoot, 'test', 'reliability', 'helpers', script), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 240_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      let report: Record<string, unknown> = {};
      try {
        report = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      } catch {
        report = { unparsed: stdout.slice(-2000) };
      }
      resolve({ report, exitCode, signal, stderr });
    });
  });
}

describe('In child processes, on a small-vocabulary copy of the tiny model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'logtriage-lifetimes-'));
  const model = join(dir, 'tiny-small-vocab.gguf');
  beforeAll(async () => {
    writeFileSync(model, serializeGguf(await shrinkTinyModel(tinyModel('f32'), 1000)).bytes);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('classifiers dropped without dispose() are collected: JS objects, contexts and weights; disposed models free at once', async () => {
    const run = await runScenario('forgetClassifiers.ts', [model, '30']);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.exitCode, run.stderr).toBe(0);
    const { afterForgetting, liveAfterDispose } = run.report as {
      afterForgetting: { collected: number; opened: number; peakLive: number; live: number; handleGrowth: number };
      liveAfterDispose: number[];
    };
    expect(afterForgetting.opened).toBe(35);
    expect(afterForgetting.collected).toBe(afterForgetting.opened);
    // Up to one collection's worth wait for GC at a time; none survive the last one.
    expect(afterForgetting.peakLive).toBeGreaterThan(1);
    expect(afterForgetting.live).toBe(0);
    expect(afterForgetting.handleGrowth).toBe(0);
    expect(liveAfterDispose).toEqual(new Array(10).fill(0));
  });

  it('worker_threads: workers agree with the main thread; terminating them at every step crashes nothing and leaks no model', async () => {
    const run = await runScenario('workerThreadsScenario.ts', [model]);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.report as { workers: number; terminated: Array<{ label: string; phases: string[]; error?: string }>; mismatches: string[]; liveModelsAtEnd: number };
    expect(report.mismatches).toEqual([]);
    expect(report.workers).toBe(14);
    expect(report.terminated.filter((t) => t.error)).toEqual([]);
    // Each was terminated where it was asked to be (a worker that finished first would not count).
    const midBatch = report.terminated.filter((t) => t.label.startsWith('terminated at progress'));
    expect(midBatch.map((t) => t.phases.at(-1))).toEqual(['progress', 'progress']);
    expect(report.liveModelsAtEnd).toBe(0);
  });
});
