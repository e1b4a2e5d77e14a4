// SPDX-License-Identifier: MIT
// The held-out comparison `logtriage adapt` reports and decides by: the current head (with its
// calibration, as open() applies it) or chance (a new label set: the current head has other labels)
// against a head fitted on the training part of each split. Over k folds every line is held out
// once and the figures pool the k folds' predictions; the head written is then fitted on all lines.
// With a holdout, the head written is the one measured.
import { calibrateLogits } from '../calibration/applyCalibration.js';
import { type Calibration } from '../gguf/calibrationKeys.js';
import { argmax } from '../calibration/calibrationMetrics.js';
import { computeMetrics } from '../evaluation/metrics.js';
import { softmax } from '../engine/scores.js';
import type { AdaptBaseline, HeldOutFigures } from '../gguf/adaptKeys.js';
import { fitHead, type HeadFit } from './fitHead.js';
import type { Split } from './splitHeldOut.js';

/** A linear head on the raw hidden state. */
export interface LinearHead {
  weight: Float32Array;
  bias?: Float32Array | undefined;
}

export interface HeadComparison {
  baseline: AdaptBaseline;
  before: HeldOutFigures;
  after: HeldOutFigures;
  heldOutLines: number;
  /** The head to write. */
  head: HeadFit;
  /** L-BFGS iterations of every fit, in order (the splits', then the final one's when folds refit). */
  iterations: number[];
  /** Milliseconds of CPU (user + system) spent fitting, hidden states not counted. */
  fitCpuMs: number;
}

/** Rows `which` of the n × d matrix `x`. */
function rowsOf(x: Float32Array, d: number, which: readonly number[]): Float32Array {
  const out = new Float32Array(which.length * d);
  which.forEach((row, i) => out.set(x.subarray(row * d, (row + 1) * d), i * d));
  return out;
}

/** Probabilities of `head` (then `calibration`) on row `row` of `x`. */
function probsOf(x: Float32Array, d: number, row: number, head: LinearHead, nLabels: number, calibration?: Calibration): number[] {
  const logits: number[] = [];
  for (let k = 0; k < nLabels; k++) {
    let acc = head.bias?.[k] ?? 0;
    for (let j = 0; j < d; j++) acc += head.weight[k * d + j]! * x[row * d + j]!;
    logits.push(acc);
  }
  return softmax(calibrateLogits(logits, calibration ?? null));
}

/** Accuracy, macro-F1 (over every label, as eval's averages) and mean NLL of `probs` against `gold`. */
export function heldOutFigures(labels: readonly string[], probs: readonly (readonly number[])[], gold: readonly number[]): HeldOutFigures {
  const metrics = computeMetrics(labels, gold, probs.map(argmax));
  const nll = probs.reduce((sum, p, i) => sum - Math.log(Math.max(p[gold[i]!]!, Number.MIN_VALUE)), 0) / probs.length;
  return { accuracy: metrics.accuracy, macroF1: metrics.macroAvg.f1, nll };
}

/** True when `after` is worse than `before`: a lower macro-F1, or the same macro-F1 with a higher NLL. */
export function isWorse(after: HeldOutFigures, before: HeldOutFigures): boolean {
  const eps = 1e-9;
  if (after.macroF1 < before.macroF1 - eps) return true;
  return Math.abs(after.macroF1 - before.macroF1) <= eps && after.nll > before.nll + eps;
}

/**
 * Fits and compares. `x`: n hidden states of width d; `current`: the model's head and calibration
 * when the labels are its own (warm start and baseline), or undefined (chance baseline, cold start).
 */
export function compareHeads(
  x: Float32Array,
  gold: readonly number[],
  labels: readonly string[],
  splits: readonly Split[],
  options: { l2: number; current?: { head: LinearHead; calibration?: Calibration | undefined } | undefined },
): HeadComparison {
  const n = gold.length;
  const d = x.length / n;
  const K = labels.length;
  const init = options.current?.head;
  const heldOutGold: number[] = [];
  const beforeProbs: number[][] = [];
  const afterProbs: number[][] = [];
  const iterations: number[] = [];
  let cpu = 0;
  const timed = (rows: readonly number[]): HeadFit => {
    const start = process.cpuUsage();
    const fit = fitHead(rowsOf(x, d, rows), rows.map((r) => gold[r]!), K, { l2: options.l2, ...(init ? { init } : {}) });
    const used = process.cpuUsage(start);
    cpu += (used.user + used.system) / 1000;
    iterations.push(fit.iterations);
    return fit;
  };
  let last: HeadFit | undefined;
  for (const split of splits) {
    last = timed(split.train);
    for (const row of split.heldOut) {
      heldOutGold.push(gold[row]!);
      beforeProbs.push(options.current ? probsOf(x, d, row, options.current.head, K, options.current.calibration) : labels.map(() => 1 / K));
      afterProbs.push(probsOf(x, d, row, last, K));
    }
  }
  const head = splits.length > 1 ? timed(gold.map((_, i) => i)) : last!;
  return {
    baseline: options.current ? 'current head' : 'chance',
    before: heldOutFigures(labels, beforeProbs, heldOutGold),
    after: heldOutFigures(labels, afterProbs, heldOutGold),
    heldOutLines: heldOutGold.length,
    head,
    iterations,
    fitCpuMs: cpu,
  };
}
