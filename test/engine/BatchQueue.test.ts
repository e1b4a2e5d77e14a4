// SPDX-License-Identifier: MIT
// BatchQueue against a fake native call: budgets, sharing a call, abort, overload, close().
import { describe, expect, it } from 'vitest';
import { AbortError, DisposedError, OverloadedError } from '../../src/errors.js';
import { BatchQueue, type BatchTiming, type QueueLimits } from '../../src/engine/BatchQueue.js';

/** A line of `length` tokens, all equal to `id`. */
const line = (id: number, length = 1) => new Int32Array(length).fill(id);

/**
 * A fake native call that records each call's lines and answers, per line, [first token, token count].
 * With `hold`, each call waits until release() is called.
 */
function fakeRun(hold = false) {
  const calls: number[][][] = [];
  const outputs: string[] = [];
  const pending: Array<() => void> = [];
  let failNext: Error | undefined;
  const run = async (tokens: Int32Array, offsets: Uint32Array, output = 'logits'): Promise<Float32Array> => {
    const lines: number[][] = [];
    for (let i = 0; i + 1 < offsets.length; i++) lines.push(Array.from(tokens.subarray(offsets[i]!, offsets[i + 1]!)));
    calls.push(lines);
    outputs.push(output);
    if (hold) await new Promise<void>((resolve) => pending.push(resolve));
    if (failNext) {
      const err = failNext;
      failNext = undefined;
      throw err;
    }
    return Float32Array.from(lines.flatMap((l) => [l[0]!, l.length]));
  };
  return {
    run,
    calls,
    outputs,
    /** Lets the oldest held call finish. */
    release: () => pending.shift()?.(),
    held: () => pending.length,
    failNextWith: (err: Error) => {
      failNext = err;
    },
  };
}

const limits = (over: Partial<QueueLimits> = {}): QueueLimits => ({ nLabels: 2, linesPerCall: 4, tokensPerCall: 1000, maxQueuedLines: 100, ...over });
const tick = () => new Promise<void>((r) => setImmediate(r));

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await tick();
  expect(condition()).toBe(true);
}

describe('BatchQueue#push()', () => {
  it("gives each line its own logits, in order, and packs calls up to the line budget", async () => {
    const fake = fakeRun();
    const queue = new BatchQueue(fake.run, limits({ linesPerCall: 4 }));
    const results = await Promise.all(queue.push([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((id) => line(id, id))));
    expect(results.map((r) => Array.from(r))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((id) => [id, id]));
    expect(fake.calls.map((c) => c.length)).toEqual([4, 4, 2]);
  });

  it('keeps each call within the token budget; a line over it alone goes alone', async () => {
    const fake = fakeRun();
    const queue = new BatchQueue(fake.run, limits({ tokensPerCall: 7 }));
    await Promise.all(queue.push([line(1, 3), line(2, 3), line(3, 3), line(4, 20), line(5, 1), line(6, 7)]));
    expect(fake.calls.map((c) => c.map((l) => l.length))).toEqual([[3, 3], [3], [20], [1], [7]]);
  });

  it('lets callers that push in the same tick share one call, and later ones join the next', async () => {
    const fake = fakeRun(true);
    const queue = new BatchQueue(fake.run, limits());
    const first = [...queue.push([line(1)]), ...queue.push([line(2)])];
    await until(() => fake.held() === 1);
    const late = queue.push([line(3), line(4)]);
    expect(queue.queuedLines).toBe(2);
    fake.release();
    await until(() => fake.held() === 1);
    fake.release();
    await Promise.all([...first, ...late]);
    expect(fake.calls).toEqual([[[1], [2]], [[3], [4]]]);
  });

  it('reports each call to onBatch: lines, tokens, per-line queue time, success', async () => {
    const fake = fakeRun();
    const timings: BatchTiming[] = [];
    const queue = new BatchQueue(fake.run, limits({ linesPerCall: 2 }), (t) => timings.push(t));
    await Promise.all(queue.push([line(1, 2), line(2, 3), line(3, 4)]));
    expect(timings.map(({ lines, tokens, ok }) => ({ lines, tokens, ok }))).toEqual([
      { lines: 2, tokens: 5, ok: true },
      { lines: 1, tokens: 4, ok: true },
    ]);
    for (const t of timings) {
      expect(t.queueMs).toHaveLength(t.lines);
      expect(t.inferenceMs).toBeGreaterThanOrEqual(0);
    }
  });

  it("a failed call rejects only its own lines, reports ok: false, and the queue goes on", async () => {
    const fake = fakeRun();
    const timings: boolean[] = [];
    const queue = new BatchQueue(fake.run, limits({ linesPerCall: 2 }), (t) => timings.push(t.ok));
    const boom = new Error('decode failed');
    fake.failNextWith(boom);
    const settled = await Promise.allSettled(queue.push([line(1), line(2), line(3)]));
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect((settled[0] as PromiseRejectedResult).reason).toBe(boom);
    expect(timings).toEqual([false, true]);
  });
});

describe('BatchQueue admission', () => {
  it('throws OverloadedError past maxQueuedLines, naming the numbers, and queues nothing of that push', async () => {
    const fake = fakeRun(true);
    const queue = new BatchQueue(fake.run, limits({ maxQueuedLines: 5 }));
    const admitted = queue.push([line(1), line(2), line(3)]);
    expect(() => queue.push([line(4), line(5), line(6)])).toThrow(OverloadedError);
    expect(() => queue.push([line(4), line(5), line(6)])).toThrow('Queue full: 3 lines waiting, 3 more would pass maxQueuedLines 5');
    expect(queue.queuedLines).toBe(3);
    const fits = queue.push([line(4), line(5)]);
    await until(() => fake.held() === 1);
    fake.release();
    await until(() => fake.held() === 1);
    fake.release();
    await Promise.all([...admitted, ...fits]);
    expect(fake.calls.flat()).toHaveLength(5);
  });
});

describe('BatchQueue abort', () => {
  it('an already aborted signal throws AbortError at once', () => {
    const queue = new BatchQueue(fakeRun().run, limits());
    expect(() => queue.push([line(1)], AbortSignal.abort())).toThrow(AbortError);
    expect(queue.queuedLines).toBe(0);
  });

  it("drops an aborted push's waiting lines in one pass, keeping the others in order", async () => {
    const fake = fakeRun(true);
    const queue = new BatchQueue(fake.run, limits({ linesPerCall: 2 }));
    const running = queue.push([line(1), line(2)]);
    await until(() => fake.held() === 1);
    const controller = new AbortController();
    const before = queue.push([line(3)]);
    const aborted = queue.push([line(10), line(11), line(12)], controller.signal);
    const after = queue.push([line(4)]);
    expect(queue.queuedLines).toBe(5);
    controller.abort('changed my mind');
    expect(queue.queuedLines).toBe(2);
    const reasons = await Promise.allSettled(aborted);
    for (const r of reasons) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(AbortError);
      expect(((r as PromiseRejectedResult).reason as Error).cause).toBe('changed my mind');
    }
    fake.release();
    await until(() => fake.held() === 1);
    fake.release();
    await Promise.all([...running, ...before, ...after]);
    expect(fake.calls).toEqual([[[1], [2]], [[3], [4]]]);
  });

  it('rejects lines of a call already running at once; the call itself finishes', async () => {
    const fake = fakeRun(true);
    const queue = new BatchQueue(fake.run, limits());
    const controller = new AbortController();
    const [inFlight] = queue.push([line(1)], controller.signal);
    await until(() => fake.held() === 1);
    controller.abort();
    await expect(inFlight).rejects.toBeInstanceOf(AbortError);
    fake.release();
    await queue.idle();
    expect(fake.calls).toEqual([[[1]]]);
  });
});

describe('BatchQueue#close()', () => {
  it('rejects waiting lines with the given error, refuses new ones, and lets the running call finish', async () => {
    const fake = fakeRun(true);
    const queue = new BatchQueue(fake.run, limits({ linesPerCall: 1 }));
    const [running, waiting] = queue.push([line(1), line(2)]);
    await until(() => fake.held() === 1);
    queue.close(new DisposedError());
    await expect(waiting).rejects.toBeInstanceOf(DisposedError);
    expect(() => queue.push([line(3)])).toThrow(DisposedError);
    expect(queue.queuedLines).toBe(0);
    fake.release();
    expect(Array.from(await running!)).toEqual([1, 1]);
    await queue.idle();
    expect(fake.calls).toHaveLength(1);
  });

  it('a running call that fails after close() rejects with the close error', async () => {
    const fake = fakeRun(true);
    const queue = new BatchQueue(fake.run, limits());
    const [running] = queue.push([line(1)]);
    await until(() => fake.held() === 1);
    const closed = new DisposedError();
    queue.close(closed);
    fake.failNextWith(new Error('llama_decode: aborted'));
    fake.release();
    await expect(running).rejects.toBe(closed);
  });
});

describe('BatchQueue hidden states', () => {
  it('keeps each native call to one output kind, the oldest line\'s, and every line its own result', async () => {
    const fake = fakeRun();
    const queue = new BatchQueue(fake.run, limits({ nEmbd: 2, linesPerCall: 3 }));
    const a = queue.push([line(1), line(2)]);
    const b = queue.push([line(3, 2), line(4)], undefined, 'hidden');
    const c = queue.push([line(5)]);
    const results = await Promise.all([...a, ...b, ...c]);
    expect(fake.calls).toEqual([[[1], [2], [5]], [[3, 3], [4]]]);
    expect(fake.outputs).toEqual(['logits', 'hidden']);
    expect(results.map((r) => Array.from(r))).toEqual([[1, 1], [2, 1], [3, 2], [4, 1], [5, 1]]);
  });

  it('refuses hidden-state lines when the queue was not given their width', () => {
    const queue = new BatchQueue(fakeRun().run, limits());
    expect(() => queue.push([line(1)], undefined, 'hidden')).toThrow(RangeError);
  });

  it('rejects a call whose result has the wrong number of values', async () => {
    const queue = new BatchQueue(fakeRun().run, limits({ nEmbd: 3 }));
    await expect(queue.push([line(1)], undefined, 'hidden')[0]).rejects.toThrow(/returned 2 values for 1 lines of 3/);
  });
});
