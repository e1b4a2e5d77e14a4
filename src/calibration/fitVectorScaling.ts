// SPDX-License-Identifier: MIT
// Vector scaling: per label k, scale[k] and bias[k] minimising the mean NLL of the gold labels
// under softmax(scale ⊙ z + bias). The calibrated logits are linear in the 2K parameters, so the
// loss is convex and Newton's method with a backtracking line search reaches its minimum in a few
// dozen steps. Softmax ignores a shift shared by all biases, so bias[0] is held at 0 during the fit
// (which makes the Hessian definite) and the result is centred to mean 0. A minimum at infinity
// (separable labels, or a label never gold) is refused, never clamped.
import { CalibrationError } from '../errors.js';

/** A parameter past this magnitude means the loss has no finite minimum (see fitTemperature). */
export const MAX_PARAMETER = 1e4;
const MAX_ITERATIONS = 500;
const GRADIENT_TOLERANCE = 1e-10;

export interface VectorFit {
  scale: number[];
  /** Centred: sums to 0. */
  bias: number[];
  nll: number;
  iterations: number;
}

interface Evaluation {
  nll: number;
  gradient: Float64Array;
  hessian: Float64Array[];
}

/** Parameter layout: scale[0..K-1] at 0..K-1, bias[1..K-1] at K..2K-2. */
const biasIndex = (k: number, labels: number) => labels + k - 1;

function nllAt(logits: readonly (readonly number[])[], gold: readonly number[], theta: Float64Array, labels: number): number {
  let nll = 0;
  const z = new Float64Array(labels);
  for (let i = 0; i < logits.length; i++) {
    let max = -Infinity;
    for (let k = 0; k < labels; k++) {
      z[k] = theta[k]! * logits[i]![k]! + (k === 0 ? 0 : theta[biasIndex(k, labels)]!);
      max = Math.max(max, z[k]!);
    }
    let sum = 0;
    for (let k = 0; k < labels; k++) sum += Math.exp(z[k]! - max);
    nll += max + Math.log(sum) - z[gold[i]!]!;
  }
  return nll / logits.length;
}

function evaluate(logits: readonly (readonly number[])[], gold: readonly number[], theta: Float64Array, labels: number): Evaluation {
  const size = 2 * labels - 1;
  const gradient = new Float64Array(size);
  const hessian = Array.from({ length: size }, () => new Float64Array(size));
  const p = new Float64Array(labels);
  const m = new Float64Array(size);
  let nll = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i]!;
    let max = -Infinity;
    for (let k = 0; k < labels; k++) {
      p[k] = theta[k]! * z[k]! + (k === 0 ? 0 : theta[biasIndex(k, labels)]!);
      max = Math.max(max, p[k]!);
    }
    let sum = 0;
    for (let k = 0; k < labels; k++) sum += Math.exp(p[k]! - max);
    const g = gold[i]!;
    nll += max + Math.log(sum) - p[g]!;
    for (let k = 0; k < labels; k++) p[k] = Math.exp(p[k]! - max) / sum;
    // Logit k depends on parameter vector φ_k = (z_k at scale k, 1 at bias k); the Hessian of
    // log-sum-exp is Σ p_k φ_k φ_kᵀ − m mᵀ with m = Σ p_k φ_k.
    for (let k = 0; k < labels; k++) {
      const residual = p[k]! - (k === g ? 1 : 0);
      gradient[k]! += residual * z[k]!;
      m[k] = p[k]! * z[k]!;
      hessian[k]![k]! += p[k]! * z[k]! * z[k]!;
      if (k > 0) {
        const b = biasIndex(k, labels);
        gradient[b]! += residual;
        m[b] = p[k]!;
        hessian[b]![b]! += p[k]!;
        hessian[k]![b]! += p[k]! * z[k]!;
        hessian[b]![k]! += p[k]! * z[k]!;
      }
    }
    for (let r = 0; r < size; r++) {
      const row = hessian[r]!;
      const mr = m[r]!;
      for (let c = 0; c < size; c++) row[c]! -= mr * m[c]!;
    }
  }
  const n = logits.length;
  for (let r = 0; r < size; r++) {
    gradient[r]! /= n;
    for (let c = 0; c < size; c++) hessian[r]![c]! /= n;
  }
  return { nll: nll / n, gradient, hessian };
}

/** Whether every line's calibrated gold logit is strictly the largest: then the loss has no finite minimum. */
function separates(logits: readonly (readonly number[])[], gold: readonly number[], theta: Float64Array, labels: number): boolean {
  return logits.every((z, i) => {
    const calibrated = z.map((v, k) => theta[k]! * v + (k === 0 ? 0 : theta[biasIndex(k, labels)]!));
    const g = gold[i]!;
    return calibrated.every((v, k) => k === g || v < calibrated[g]!);
  });
}

/** Solves (A + damping·I) x = b by Cholesky; undefined when that matrix is not positive definite. */
export function solveCholesky(a: readonly Float64Array[], b: Float64Array, damping = 0): Float64Array | undefined {
  const n = b.length;
  const l = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i]![j]! + (i === j ? damping : 0);
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      if (i === j) {
        if (!(s > 0)) return undefined;
        l[i]![i] = Math.sqrt(s);
      } else {
        l[i]![j] = s / l[j]![j]!;
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i]![k]! * y[k]!;
    y[i] = s / l[i]![i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k]![i]! * x[k]!;
    x[i] = s / l[i]![i]!;
  }
  return x;
}

/** Newton direction, with Levenberg damping only where the Hessian is (numerically) singular. */
function newtonStep(e: Evaluation): Float64Array {
  const scale = Math.max(...e.hessian.map((row, i) => Math.abs(row[i]!)), 1e-300);
  for (let damping = 0; ; damping = damping === 0 ? scale * 1e-12 : damping * 10) {
    const step = solveCholesky(e.hessian, e.gradient, damping);
    if (step) return step;
    if (damping > scale * 1e6) return e.gradient.map((g) => g / scale);
  }
}

function degenerate(detail: string): CalibrationError {
  return new CalibrationError(
    `Vector scaling has no finite fit: ${detail}. This happens when the labels are separable by the logits or some label is never (or always) right; use --method temperature or add lines the model gets wrong`,
  );
}

/** Fits per-label scale and bias on raw logits (one row per line, K labels) and gold label indices. */
export function fitVectorScaling(logits: readonly (readonly number[])[], gold: readonly number[], labels: number): VectorFit {
  if (logits.length === 0 || logits.length !== gold.length) throw new RangeError(`need as many gold labels (${gold.length}) as logit rows (${logits.length}), at least one`);
  if (labels < 2) throw new RangeError('vector scaling needs at least two labels');
  const goldCounts = new Array<number>(labels).fill(0);
  for (const g of gold) goldCounts[g]!++;
  const absent = goldCounts.findIndex((c) => c === 0);
  if (absent !== -1) throw degenerate(`label ${absent} is never the gold label, so its bias runs to −∞`);
  const theta = new Float64Array(2 * labels - 1);
  theta.fill(1, 0, labels);
  let e = evaluate(logits, gold, theta, labels);
  for (let iteration = 1; iteration <= MAX_ITERATIONS; iteration++) {
    const step = newtonStep(e);
    const slope = step.reduce((s, v, i) => s + v * e.gradient[i]!, 0);
    let t = 1;
    let candidate = theta.map((v, i) => v - step[i]!);
    // Armijo backtracking: the loss must fall by a share of what the step promises.
    while (nllAt(logits, gold, candidate, labels) > e.nll - 1e-4 * t * slope && t > 1e-10) {
      t /= 2;
      candidate = theta.map((v, i) => v - t * step[i]!);
    }
    theta.set(candidate);
    const largest = Math.max(...Array.from(theta, Math.abs));
    if (!(largest <= MAX_PARAMETER)) throw degenerate(`a parameter passed ${MAX_PARAMETER} (reached ${largest.toExponential(2)}), so the loss falls without bound`);
    const previous = e.nll;
    e = evaluate(logits, gold, theta, labels);
    const gradientNorm = Math.max(...e.gradient.map(Math.abs));
    if (gradientNorm < GRADIENT_TOLERANCE || (t <= 1e-10 && previous - e.nll <= 0)) {
      if (gradientNorm > 1e-6) throw degenerate(`the line search stalled with gradient ${gradientNorm.toExponential(2)}`);
      if (separates(logits, gold, theta, labels)) throw degenerate('the fitted scaling ranks the gold label first on every line, and scaling it up only lowers the loss');
      const bias = Array.from({ length: labels }, (_, k) => (k === 0 ? 0 : theta[biasIndex(k, labels)]!));
      const mean = bias.reduce((a, b) => a + b, 0) / labels;
      return { scale: Array.from(theta.subarray(0, labels)), bias: bias.map((b) => b - mean), nll: e.nll, iterations: iteration };
    }
  }
  throw degenerate(`it did not converge in ${MAX_ITERATIONS} Newton steps`);
}
