// SPDX-License-Identifier: MIT
// A new linear head on frozen hidden states: multinomial logistic regression with an L2 penalty
// and class-balanced weights, minimised by L-BFGS. The features are standardised first (mean 0,
// variance 1 per dimension: a few dimensions of a transformer's hidden state are orders of
// magnitude larger than the rest, which would leave the problem badly conditioned) and the head is
// folded back to the raw hidden state at the end, so `W·h + b` applies to what embed() returns.
// The penalty is on the standardised weights (as scikit-learn's StandardScaler + LogisticRegression);
// the bias is not penalised. A warm start maps the current head into the same space.
//
// Objective: Σ_i w_i · −ln softmax(V·z_i + c)[y_i] + (λ/2)·‖V‖², with w_i = 1 / (K · n_{y_i})
// (each label weighs the same in total, however many lines it has: scikit-learn's 'balanced'
// weights, normalised to sum 1).

export interface HeadFitOptions {
  /** λ of the L2 penalty on the standardised weights. */
  l2: number;
  /** Start from this head (raw space, row-major [K, d]) instead of zeros. */
  init?: { weight: Float32Array; bias?: Float32Array | undefined };
  maxIterations?: number;
  /** Stop when the largest gradient component is below this. */
  gradientTolerance?: number;
}

export interface HeadFit {
  /** Row-major [K, d], for the raw hidden state. */
  weight: Float32Array;
  bias: Float32Array;
  /** The objective at the end (weighted NLL + penalty). */
  loss: number;
  iterations: number;
  /** Whether the gradient tolerance was met (false: stopped by maxIterations or a stalled line search). */
  converged: boolean;
}

const HISTORY = 10;
const DEFAULT_MAX_ITERATIONS = 500;
// On the mean weighted NLL: well below what moves a prediction, and half the iterations of 1e-6 on correlated states.
const DEFAULT_GRADIENT_TOLERANCE = 1e-4;

/** Standardised copy of `x` (n rows of d) and the mean and scale of each column (scale 1 for a constant column). */
function standardise(x: Float32Array, n: number, d: number): { z: Float32Array; mean: Float64Array; scale: Float64Array } {
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j]! - mean[j]!;
      scale[j]! += v * v;
    }
  }
  for (let j = 0; j < d; j++) {
    const sd = Math.sqrt(scale[j]! / n);
    scale[j] = sd > 1e-12 * (1 + Math.abs(mean[j]!)) ? sd : 1;
  }
  // F32 like the hidden states themselves: half the bytes the fit streams through (sums stay F64).
  const z = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) z[i * d + j] = (x[i * d + j]! - mean[j]!) / scale[j]!;
  return { z, mean, scale };
}

/**
 * Fits the head. `x`: n hidden states of width d, row-major; `gold`: a label index per row,
 * every label of 0..K-1 present at least once (the caller checks counts).
 */
export function fitHead(x: Float32Array, gold: ArrayLike<number>, nLabels: number, options: HeadFitOptions): HeadFit {
  const n = gold.length;
  const d = x.length / n;
  const K = nLabels;
  if (!Number.isInteger(d) || n === 0) throw new RangeError(`fitHead: ${x.length} values is not ${n} rows`);
  const counts = new Float64Array(K);
  for (let i = 0; i < n; i++) counts[gold[i]!]!++;
  for (let k = 0; k < K; k++) if (counts[k] === 0) throw new RangeError(`fitHead: label ${k} has no row`);
  const weightOf = new Float64Array(K).map((_, k) => 1 / (K * counts[k]!));
  const { z, mean, scale } = standardise(x, n, d);
  const lambda = options.l2;
  const size = K * d + K;

  // θ = [V (K×d) | c (K)] in the standardised space.
  const theta = new Float64Array(size);
  if (options.init) {
    const { weight, bias } = options.init;
    for (let k = 0; k < K; k++) {
      let shift = bias?.[k] ?? 0;
      for (let j = 0; j < d; j++) {
        theta[k * d + j] = weight[k * d + j]! * scale[j]!;
        shift += weight[k * d + j]! * mean[j]!;
      }
      theta[K * d + k] = shift;
    }
  }

  // Rows are taken four at a time and weight rows two at a time, so each value loaded serves
  // several products (1.4x the speed of one weight row at a time, scalar JS being load-bound):
  // z is padded with zero rows of weight 0 to a multiple of 4.
  const rows = Math.ceil(n / 4) * 4;
  const zp = rows === n ? z : new Float32Array(rows * d);
  if (zp !== z) zp.set(z);
  const rowWeight = new Float64Array(rows);
  const rowGold = new Int32Array(rows);
  for (let i = 0; i < n; i++) {
    rowGold[i] = gold[i]!;
    rowWeight[i] = weightOf[gold[i]!]!;
  }
  const logits = new Float64Array(4 * K);
  const coef = new Float64Array(4 * K);
  /** The objective at `t`; its gradient into `grad`. */
  const evaluate = (t: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < rows; i += 4) {
      const o0 = i * d;
      const o1 = o0 + d;
      const o2 = o1 + d;
      const o3 = o2 + d;
      // Two weight rows at a time as well: eight sums share each load.
      let k = 0;
      for (; k + 1 < K; k += 2) {
        const r = k * d;
        const s = r + d;
        const c = t[K * d + k]!;
        const e = t[K * d + k + 1]!;
        let a0 = c;
        let a1 = c;
        let a2 = c;
        let a3 = c;
        let b0 = e;
        let b1 = e;
        let b2 = e;
        let b3 = e;
        for (let j = 0; j < d; j++) {
          const v = t[r + j]!;
          const u = t[s + j]!;
          const z0 = zp[o0 + j]!;
          const z1 = zp[o1 + j]!;
          const z2 = zp[o2 + j]!;
          const z3 = zp[o3 + j]!;
          a0 += v * z0;
          a1 += v * z1;
          a2 += v * z2;
          a3 += v * z3;
          b0 += u * z0;
          b1 += u * z1;
          b2 += u * z2;
          b3 += u * z3;
        }
        logits[k] = a0;
        logits[K + k] = a1;
        logits[2 * K + k] = a2;
        logits[3 * K + k] = a3;
        logits[k + 1] = b0;
        logits[K + k + 1] = b1;
        logits[2 * K + k + 1] = b2;
        logits[3 * K + k + 1] = b3;
      }
      for (; k < K; k++) {
        const r = k * d;
        const c = t[K * d + k]!;
        let a0 = c;
        let a1 = c;
        let a2 = c;
        let a3 = c;
        for (let j = 0; j < d; j++) {
          const v = t[r + j]!;
          a0 += v * zp[o0 + j]!;
          a1 += v * zp[o1 + j]!;
          a2 += v * zp[o2 + j]!;
          a3 += v * zp[o3 + j]!;
        }
        logits[k] = a0;
        logits[K + k] = a1;
        logits[2 * K + k] = a2;
        logits[3 * K + k] = a3;
      }
      for (let b = 0; b < 4; b++) {
        const w = rowWeight[i + b]!;
        const y = rowGold[i + b]!;
        const base = b * K;
        let max = -Infinity;
        for (let k = 0; k < K; k++) max = Math.max(max, logits[base + k]!);
        let sum = 0;
        for (let k = 0; k < K; k++) sum += Math.exp(logits[base + k]! - max);
        // −ln p_y = max + ln Σ exp(z_k − max) − z_y, computed without forming p_y (no underflow).
        if (w > 0) loss += w * (max + Math.log(sum) - logits[base + y]!);
        for (let k = 0; k < K; k++) coef[base + k] = w * (Math.exp(logits[base + k]! - max) / sum - (k === y ? 1 : 0));
      }
      let m = 0;
      for (; m + 1 < K; m += 2) {
        const r = m * d;
        const s = r + d;
        const g0 = coef[m]!;
        const g1 = coef[K + m]!;
        const g2 = coef[2 * K + m]!;
        const g3 = coef[3 * K + m]!;
        const h0 = coef[m + 1]!;
        const h1 = coef[K + m + 1]!;
        const h2 = coef[2 * K + m + 1]!;
        const h3 = coef[3 * K + m + 1]!;
        for (let j = 0; j < d; j++) {
          const z0 = zp[o0 + j]!;
          const z1 = zp[o1 + j]!;
          const z2 = zp[o2 + j]!;
          const z3 = zp[o3 + j]!;
          grad[r + j]! += g0 * z0 + g1 * z1 + g2 * z2 + g3 * z3;
          grad[s + j]! += h0 * z0 + h1 * z1 + h2 * z2 + h3 * z3;
        }
        grad[K * d + m]! += g0 + g1 + g2 + g3;
        grad[K * d + m + 1]! += h0 + h1 + h2 + h3;
      }
      for (; m < K; m++) {
        const r = m * d;
        const g0 = coef[m]!;
        const g1 = coef[K + m]!;
        const g2 = coef[2 * K + m]!;
        const g3 = coef[3 * K + m]!;
        for (let j = 0; j < d; j++) grad[r + j]! += g0 * zp[o0 + j]! + g1 * zp[o1 + j]! + g2 * zp[o2 + j]! + g3 * zp[o3 + j]!;
        grad[K * d + m]! += g0 + g1 + g2 + g3;
      }
    }
    let penalty = 0;
    for (let p = 0; p < K * d; p++) {
      penalty += t[p]! * t[p]!;
      grad[p]! += lambda * t[p]!;
    }
    return loss + (lambda / 2) * penalty;
  };

  const result = lbfgs(theta, evaluate, options.maxIterations ?? DEFAULT_MAX_ITERATIONS, options.gradientTolerance ?? DEFAULT_GRADIENT_TOLERANCE);

  // Back to the raw hidden state: W = V / scale, b = c − W·mean.
  const weight = new Float32Array(K * d);
  const bias = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    let shift = theta[K * d + k]!;
    for (let j = 0; j < d; j++) {
      const w = theta[k * d + j]! / scale[j]!;
      weight[k * d + j] = w;
      shift -= w * mean[j]!;
    }
    bias[k] = shift;
  }
  return { weight, bias, loss: result.loss, iterations: result.iterations, converged: result.converged };
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

const maxAbs = (a: Float64Array): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

/** Limited-memory BFGS (Nocedal & Wright, algorithm 7.5) with a backtracking Armijo line search; minimises in place. */
function lbfgs(
  x: Float64Array,
  evaluate: (x: Float64Array, grad: Float64Array) => number,
  maxIterations: number,
  tolerance: number,
): { loss: number; iterations: number; converged: boolean } {
  const size = x.length;
  let grad = new Float64Array(size);
  let loss = evaluate(x, grad);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(HISTORY);
  const direction = new Float64Array(size);
  const trial = new Float64Array(size);
  let trialGrad = new Float64Array(size);
  let iterations = 0;
  while (iterations < maxIterations) {
    if (maxAbs(grad) < tolerance) return { loss, iterations, converged: true };
    // direction = −H·grad by the two-loop recursion.
    direction.set(grad);
    for (let m = s.length - 1; m >= 0; m--) {
      alpha[m] = rho[m]! * dot(s[m]!, direction);
      const ym = y[m]!;
      for (let i = 0; i < size; i++) direction[i]! -= alpha[m]! * ym[i]!;
    }
    const gamma = s.length > 0 ? dot(s[s.length - 1]!, y[y.length - 1]!) / dot(y[y.length - 1]!, y[y.length - 1]!) : 1 / Math.max(1, Math.sqrt(dot(grad, grad)));
    for (let i = 0; i < size; i++) direction[i]! *= gamma;
    for (let m = 0; m < s.length; m++) {
      const beta = rho[m]! * dot(y[m]!, direction);
      const sm = s[m]!;
      for (let i = 0; i < size; i++) direction[i]! += sm[i]! * (alpha[m]! - beta);
    }
    for (let i = 0; i < size; i++) direction[i] = -direction[i]!;
    let slope = dot(grad, direction);
    if (!(slope < 0)) {
      // Not a descent direction (curvature lost): restart from steepest descent.
      s.length = 0;
      y.length = 0;
      rho.length = 0;
      for (let i = 0; i < size; i++) direction[i] = -grad[i]! / Math.max(1, Math.sqrt(dot(grad, grad)));
      slope = dot(grad, direction);
    }
    let step = 1;
    let trialLoss = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < size; i++) trial[i] = x[i]! + step * direction[i]!;
      trialLoss = evaluate(trial, trialGrad);
      if (trialLoss <= loss + 1e-4 * step * slope) break;
      step /= 2;
    }
    iterations++;
    if (!(trialLoss <= loss + 1e-4 * step * slope)) return { loss, iterations, converged: false };
    const sNew = new Float64Array(size);
    const yNew = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      sNew[i] = trial[i]! - x[i]!;
      yNew[i] = trialGrad[i]! - grad[i]!;
    }
    const sy = dot(sNew, yNew);
    if (sy > 1e-12 * Math.sqrt(dot(sNew, sNew) * dot(yNew, yNew))) {
      if (s.length === HISTORY) {
        s.shift();
        y.shift();
        rho.shift();
      }
      s.push(sNew);
      y.push(yNew);
      rho.push(1 / sy);
    }
    const previous = loss;
    x.set(trial);
    [grad, trialGrad] = [trialGrad, grad];
    loss = trialLoss;
    if (previous - loss <= 1e-12 * Math.max(1, Math.abs(loss))) return { loss, iterations, converged: maxAbs(grad) < tolerance };
  }
  return { loss, iterations, converged: maxAbs(grad) < tolerance };
}
