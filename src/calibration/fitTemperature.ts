// SPDX-License-Identifier: MIT
// Temperature scaling: the T > 0 that minimises the mean negative log-likelihood of the gold labels
// under softmax(z / T). In β = 1/T the loss is convex (log-sum-exp of a linear function minus a
// linear one), so its derivative is increasing: the fit brackets the one root of the derivative on
// β > 0 and finds it with Newton steps kept inside the bracket (bisection when a step leaves it).
// No root on β > 0 means no finite best T: that is refused, never clamped.
import { CalibrationError } from '../errors.js';

/** T below this (β above its inverse) is treated as T → 0: the labels are separable by the logits. */
export const MIN_TEMPERATURE = 1e-4;
const MAX_ITERATIONS = 200;

export interface TemperatureFit {
  temperature: number;
  /** Mean NLL at the fitted temperature. */
  nll: number;
  iterations: number;
}

interface Derivatives {
  nll: number;
  /** d NLL / dβ: mean of E_p[z] − z_gold. */
  gradient: number;
  /** d² NLL / dβ²: mean of Var_p[z]. */
  curvature: number;
}

function derivatives(logits: readonly (readonly number[])[], gold: readonly number[], beta: number): Derivatives {
  let nll = 0;
  let gradient = 0;
  let curvature = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i]!;
    let max = -Infinity;
    for (const v of z) max = Math.max(max, beta * v);
    const zGold = z[gold[i]!]!;
    // Moments of z − z_gold: shift-free, so a line the model gets right by a wide margin still
    // adds its (tiny, negative) share instead of cancelling to 0.
    let sum = 0;
    let mean = 0;
    let square = 0;
    for (const v of z) {
      const e = Math.exp(beta * v - max);
      sum += e;
      mean += e * (v - zGold);
      square += e * (v - zGold) ** 2;
    }
    mean /= sum;
    nll += max + Math.log(sum) - beta * zGold;
    gradient += mean;
    curvature += Math.max(0, square / sum - mean * mean);
  }
  const n = logits.length;
  return { nll: nll / n, gradient: gradient / n, curvature: curvature / n };
}

/** Fits T on raw logits (one row per line) and gold label indices. */
export function fitTemperature(logits: readonly (readonly number[])[], gold: readonly number[]): TemperatureFit {
  if (logits.length === 0 || logits.length !== gold.length) throw new RangeError(`need as many gold labels (${gold.length}) as logit rows (${logits.length}), at least one`);
  // Every gold logit at the top: the NLL falls all the way to T → 0 (an exact test, unlike any tolerance).
  if (logits.every((z, i) => z[gold[i]!]! >= Math.max(...z))) {
    throw new CalibrationError(
      "No finite temperature fits: the model's top label is right on every line, so the NLL keeps falling as T → 0. Calibrate on lines that include its mistakes",
    );
  }
  // At β = 0 every label is equally likely; a derivative ≥ 0 there means higher logits do not make
  // the gold label likelier, and the best fit is a negative or infinite T.
  if (derivatives(logits, gold, 0).gradient >= 0) {
    throw new CalibrationError(
      'No finite temperature fits: on these lines the gold label is not likelier where its logit is higher (the best T is infinite or negative). Check that the labels belong to this model and its label order',
    );
  }
  let lo = 0;
  let hi = 1;
  while (derivatives(logits, gold, hi).gradient < 0) {
    lo = hi;
    hi *= 2;
    if (hi > 1 / MIN_TEMPERATURE) {
      throw new CalibrationError(
        `No finite temperature fits: the best T is below ${MIN_TEMPERATURE} (T → 0), because the model's top label is right on nearly every line. Calibrate on lines that include its mistakes`,
      );
    }
  }
  let beta = (lo + hi) / 2;
  for (let iteration = 1; iteration <= MAX_ITERATIONS; iteration++) {
    const d = derivatives(logits, gold, beta);
    if (d.gradient < 0) lo = beta;
    else hi = beta;
    const newton = d.curvature > 0 ? beta - d.gradient / d.curvature : NaN;
    const next = newton > lo && newton < hi ? newton : (lo + hi) / 2;
    if (Math.abs(next - beta) <= 1e-12 * beta || hi - lo <= 1e-12 * hi) {
      return { temperature: 1 / next, nll: derivatives(logits, gold, next).nll, iterations: iteration };
    }
    beta = next;
  }
  throw new CalibrationError(`The temperature fit did not converge in ${MAX_ITERATIONS} iterations (bracket β in [${lo}, ${hi}])`);
}
