// SPDX-License-Identifier: MIT
// Run-time choice of the llama.cpp thread count (`threads: 'auto'`). llama.cpp's threads spin at
// the barriers between graph ops, so more threads than free cores does not just stop helping, it
// collapses throughput: one thread descheduled holds every other one at each barrier (measured
// 26x slower with 2 threads than 1 on a loaded 2-core host, tiny model; 0.68x with two
// processes on the 1.5B, issue 17). The free cores change while a process runs, so no count fixed
// at open() is right both on an idle and on a busy host.
//
// The controller measures milliseconds per decoded token of each native call at the thread
// count it ran with, keeps to the best count found, and now and then probes a neighbour (one
// thread fewer or more), the first one right after the first call. A probe that is clearly
// worse (1.5x) after its first call ends at once, one clearly better (2x) wins at once. After
// a lost probe, that direction waits until the probe's extra cost is `probeCostShare` of the
// calls in between (a 1-call probe r times slower than the current count waits (r - 1) / share
// calls). So a collapse costs about 5% while it lasts, and the price is the delay before more
// threads are tried again once the load has gone: ~(r - 1) / share calls. A sharp rise of the
// current cost (load arrived) probes downward at once. Pure code: the caller times the calls
// (classifyAdapting below) and applies the count (native classify's `threads` argument,
// llama_set_n_threads between decodes).
import type { RunBatch } from './BatchQueue.js';

export interface ThreadControllerOptions {
  /** Most threads (the physical cores); the controller starts here. */
  max: number;
  /** Fewest calls at the current count between probes of one direction. */
  probeInterval?: number;
  /** After a lost probe of n calls r times slower than the current count, that direction waits n (r - 1) / probeCostShare calls. */
  probeCostShare?: number;
  /** Most calls between probes of one direction. */
  maxProbeInterval?: number;
  /** Calls a probe lasts when it is not ended early. */
  probeCalls?: number;
  /** A probe's first call costing more than this times the current cost ends the probe. */
  abandonRatio?: number;
  /** A probe wins when it costs less than this times the current cost. */
  winRatio?: number;
  /** A probe's first call costing less than this times the current cost wins at once. */
  clearWinRatio?: number;
  /** The current cost rising past this times its level after the last decision probes downward at once. */
  loadRiseRatio?: number;
}

interface Cost {
  ms: number;
  tokens: number;
}

const EWMA = 0.3;

export class ThreadController {
  private current: number;
  /** Smoothed cost at the current count (ms and tokens, each an EWMA, so the ratio weighs calls by tokens). */
  private smoothed: Cost | undefined;
  /** The smoothed cost right after the last decision: a sharp rise from it means the host got busier. */
  private settled: number | undefined;
  private probe: { threads: number; cost: Cost; calls: number } | undefined;
  private readonly interval: { down: number; up: number };
  // The first probe (downward) comes after the first call: starting at the most threads is right
  // on an idle host, and on a busy one every call there may be a collapse.
  private readonly sinceProbe = { down: Infinity, up: 0 };
  private readonly opts: Required<ThreadControllerOptions>;

  constructor(options: ThreadControllerOptions) {
    this.opts = { probeInterval: 4, probeCostShare: 0.05, maxProbeInterval: 1024, probeCalls: 3, abandonRatio: 1.5, winRatio: 0.95, clearWinRatio: 0.5, loadRiseRatio: 1.5, ...options };
    this.current = this.opts.max;
    this.interval = { down: this.opts.probeInterval, up: this.opts.probeInterval };
  }

  /** The thread count the next native call should run with. */
  get threads(): number {
    return this.probe?.threads ?? this.current;
  }

  /** Records a native call: `threads` it ran with, its wall time, the tokens it decoded. */
  record(threads: number, ms: number, tokens: number): void {
    if (tokens <= 0 || !(ms >= 0)) return;
    if (this.probe && threads === this.probe.threads) {
      this.recordProbe(ms, tokens);
      return;
    }
    if (threads !== this.current) return;
    this.smoothed = this.smoothed ? { ms: this.smoothed.ms + EWMA * (ms - this.smoothed.ms), tokens: this.smoothed.tokens + EWMA * (tokens - this.smoothed.tokens) } : { ms, tokens };
    const cost = this.smoothed.ms / this.smoothed.tokens;
    this.settled ??= cost;
    this.sinceProbe.down++;
    this.sinceProbe.up++;
    if (this.current > 1 && cost > this.opts.loadRiseRatio * this.settled) {
      this.interval.down = this.opts.probeInterval;
      this.startProbe(this.current - 1);
    } else if (this.current > 1 && this.sinceProbe.down >= this.interval.down) {
      this.startProbe(this.current - 1);
    } else if (this.current < this.opts.max && this.sinceProbe.up >= this.interval.up) {
      this.startProbe(this.current + 1);
    }
  }

  private startProbe(threads: number): void {
    this.sinceProbe[threads < this.current ? 'down' : 'up'] = 0;
    this.probe = { threads, cost: { ms: 0, tokens: 0 }, calls: 0 };
  }

  private recordProbe(ms: number, tokens: number): void {
    const probe = this.probe!;
    probe.cost.ms += ms;
    probe.cost.tokens += tokens;
    probe.calls++;
    const current = this.smoothed!.ms / this.smoothed!.tokens;
    const cost = probe.cost.ms / probe.cost.tokens;
    const direction = probe.threads < this.current ? 'down' : 'up';
    if (probe.calls === 1 && cost > this.opts.abandonRatio * current) {
      this.loseProbe(direction, probe.calls, cost / current);
    } else if ((probe.calls === 1 && cost < this.opts.clearWinRatio * current) || probe.calls >= this.opts.probeCalls) {
      if (cost < this.opts.winRatio * current) {
        this.current = probe.threads;
        this.smoothed = { ...probe.cost };
        this.settled = cost;
        this.probe = undefined;
        // The way on is worth trying soon; the way back was just measured slower by current / cost,
        // and waits as a lost probe of one call would.
        const back = direction === 'down' ? 'up' : 'down';
        this.interval[direction] = this.opts.probeInterval;
        this.interval[back] = this.affordable(1, current / cost);
        this.sinceProbe.down = this.sinceProbe.up = 0;
      } else {
        this.loseProbe(direction, probe.calls, cost / current);
      }
    }
  }

  /** Calls to wait before a probe of `calls` calls `slowdown` times slower costs probeCostShare of the time. */
  private affordable(calls: number, slowdown: number): number {
    const wait = Math.ceil((calls * Math.max(0, slowdown - 1)) / this.opts.probeCostShare);
    return Math.min(this.opts.maxProbeInterval, Math.max(this.opts.probeInterval, wait));
  }

  private loseProbe(direction: 'down' | 'up', calls: number, slowdown: number): void {
    this.probe = undefined;
    this.interval[direction] = this.affordable(calls, slowdown);
    this.settled = this.smoothed!.ms / this.smoothed!.tokens;
  }
}

/** What classifyAdapting needs of the native context. */
export interface ThreadedContext {
  classify(tokens: Int32Array, offsets: Uint32Array, threads?: number): Promise<Float32Array>;
  embed(tokens: Int32Array, offsets: Uint32Array, threads?: number): Promise<Float32Array>;
  info(): { tokensDecoded: number };
}

/**
 * A BatchQueue runner that runs each native call at the controller's thread count and reports
 * its time per decoded token back. The queue runs one call at a time, so the tokensDecoded
 * difference is this call's. `embed` calls decode the same way and count alike.
 */
export function classifyAdapting(context: ThreadedContext, controller: ThreadController): RunBatch {
  return async (tokens, offsets, output = 'logits') => {
    const threads = controller.threads;
    const before = context.info().tokensDecoded;
    const started = performance.now();
    const result = output === 'hidden' ? await context.embed(tokens, offsets, threads) : await context.classify(tokens, offsets, threads);
    controller.record(threads, performance.now() - started, context.info().tokensDecoded - before);
    return result;
  };
}
