/**
 * Naive Bayes classifiers: P(c | x) ∝ P(c)·Πⱼ P(xⱼ | c), the features independent given the class
 * (Manning, Raghavan & Schütze, Introduction to Information Retrieval, 2008, ch. 13; Hastie,
 * Tibshirani & Friedman, ESL §6.6.3). Probabilities are the softmax of the joint log-likelihoods.
 *
 * - Gaussian: P(xⱼ | c) = N(θ_cj, σ²_cj), the maximum-likelihood means and variances, every
 *   variance increased by `varSmoothing` times the largest feature variance, as scikit-learn's
 *   `GaussianNB(var_smoothing=1e-9)` (keeps a constant feature from dividing by zero).
 * - Multinomial: for non-negative counts, log P(xⱼ | c) = xⱼ·log θ_cj with the Laplace / Lidstone
 *   smoothed θ_cj = (N_cj + α) / (N_c + αF), as scikit-learn's `MultinomialNB(alpha=1)`
 *   (McCallum & Nigam, "A comparison of event models for naive Bayes text classification", AAAI
 *   1998 workshop). The log-likelihood is linear in x: jll = X·(log θ)ᵀ + log P(c).
 * Priors are the class frequencies of the training rows.
 */
import { softmaxRows } from './linear.js';
import type { Matrix } from './types.js';

export interface GaussianNBModel {
  readonly kind: 'gaussian_nb';
  readonly classes: number; // C
  readonly features: number; // F
  /** log P(c), length C. */
  readonly logPrior: Float64Array;
  /** θ, C × F row-major. */
  readonly mean: Float64Array;
  /** σ² (smoothed), C × F row-major. */
  readonly variance: Float64Array;
}

export interface MultinomialNBModel {
  readonly kind: 'multinomial_nb';
  readonly classes: number;
  readonly features: number;
  readonly logPrior: Float64Array;
  /** log θ, C × F row-major. */
  readonly logProb: Float64Array;
}

function checkLabels(X: Matrix, y: Int32Array, classes: number): Float64Array {
  const n = X.rows;
  if (X.data.length !== n * X.cols)
    throw new RangeError(`matrix data has ${X.data.length} values for ${n} × ${X.cols}`);
  if (y.length !== n) throw new RangeError(`y has ${y.length} labels for ${n} rows`);
  if (n === 0) throw new RangeError('cannot fit a classifier on 0 rows');
  if (!Number.isInteger(classes) || classes < 2)
    throw new RangeError(`classes must be an integer ≥ 2, got ${classes}`);
  const count = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (!(c >= 0 && c < classes)) throw new RangeError(`label ${c} at row ${i} is outside 0..${classes - 1}`);
    count[c]!++;
  }
  return count;
}

/** log(n_c / n); −∞ for a class without rows (it is then never predicted). */
function logPriors(count: Float64Array, n: number): Float64Array {
  return count.map((m) => Math.log(m / n));
}

export interface GaussianNBOptions {
  /** Portion of the largest feature variance added to every variance. Default 1e-9. */
  readonly varSmoothing?: number;
}

/** Fits a Gaussian naive Bayes model (two passes per column: means, then centred squares). */
export function fitGaussianNB(
  X: Matrix,
  y: Int32Array,
  classes: number,
  options: GaussianNBOptions = {},
): GaussianNBModel {
  const varSmoothing = options.varSmoothing ?? 1e-9;
  if (!(varSmoothing >= 0 && Number.isFinite(varSmoothing)))
    throw new RangeError(`varSmoothing must be finite and ≥ 0, got ${varSmoothing}`);
  const count = checkLabels(X, y, classes);
  const n = X.rows;
  const F = X.cols;
  const C = classes;
  const mean = new Float64Array(C * F);
  const variance = new Float64Array(C * F);
  let maxVariance = 0;
  for (let j = 0; j < F; j++) {
    const col = j * n;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const x = X.data[col + i]!;
      if (!Number.isFinite(x)) throw new RangeError(`X has ${x} at row ${i}, column ${j}: impute first`);
      total += x;
      mean[y[i]! * F + j]! += x;
    }
    for (let c = 0; c < C; c++) if (count[c]! > 0) mean[c * F + j]! /= count[c]!;
    // Centred sums of squares avoid the cancellation of E[x²] − E[x]².
    const overall = total / n;
    let all = 0;
    for (let i = 0; i < n; i++) {
      const x = X.data[col + i]!;
      const d = x - mean[y[i]! * F + j]!;
      variance[y[i]! * F + j]! += d * d;
      all += (x - overall) * (x - overall);
    }
    for (let c = 0; c < C; c++) if (count[c]! > 0) variance[c * F + j]! /= count[c]!;
    maxVariance = Math.max(maxVariance, all / n);
  }
  const epsilon = varSmoothing * maxVariance;
  for (let q = 0; q < C * F; q++) variance[q]! += epsilon;
  // A constant data set (every variance 0) would divide by zero: fall back to a unit variance.
  if (epsilon === 0) for (let q = 0; q < C * F; q++) if (variance[q] === 0) variance[q] = 1;
  return { kind: 'gaussian_nb', classes: C, features: F, logPrior: logPriors(count, n), mean, variance };
}

/**
 * Joint log-likelihoods log P(c) + Σⱼ log N(xⱼ; θ_cj, σ²_cj), N × C row-major:
 * log P(c) − ½Σⱼ log(2πσ²_cj) − ½Σⱼ (xⱼ − θ_cj)² / σ²_cj. The squares are formed as differences,
 * as the ONNX head does, rather than expanded (which would cancel for |x| ≫ σ).
 */
export function gaussianNBLogLikelihood(model: GaussianNBModel, X: Matrix): Float64Array {
  checkFeatures(X, model.features);
  const n = X.rows;
  const F = model.features;
  const C = model.classes;
  const J = new Float64Array(n * C);
  for (let c = 0; c < C; c++) {
    let constant = model.logPrior[c]!;
    for (let j = 0; j < F; j++) constant -= 0.5 * Math.log(2 * Math.PI * model.variance[c * F + j]!);
    for (let i = 0; i < n; i++) J[i * C + c] = constant;
  }
  const Xd = X.data;
  for (let j = 0; j < F; j++) {
    const col = j * n;
    for (let c = 0; c < C; c++) {
      const m = model.mean[c * F + j]!;
      const h = 0.5 / model.variance[c * F + j]!;
      for (let i = 0; i < n; i++) {
        const d = Xd[col + i]! - m;
        J[i * C + c]! -= h * d * d;
      }
    }
  }
  return J;
}

/** Class probabilities, N × C row-major. */
export function predictGaussianNB(model: GaussianNBModel, X: Matrix): Float64Array {
  return softmaxRows(gaussianNBLogLikelihood(model, X), X.rows, model.classes);
}

export interface MultinomialNBOptions {
  /** Additive (Lidstone) smoothing α ≥ 0; 1 is Laplace smoothing. Default 1. */
  readonly alpha?: number;
}

/**
 * Fits a multinomial naive Bayes model on non-negative features (counts or frequencies). A NaN
 * (missing) count counts as 0; a negative or infinite value throws a RangeError naming it.
 */
export function fitMultinomialNB(
  X: Matrix,
  y: Int32Array,
  classes: number,
  options: MultinomialNBOptions = {},
): MultinomialNBModel {
  const alpha = options.alpha ?? 1;
  if (!(alpha >= 0 && Number.isFinite(alpha)))
    throw new RangeError(`alpha must be finite and ≥ 0, got ${alpha}`);
  const count = checkLabels(X, y, classes);
  const n = X.rows;
  const F = X.cols;
  const C = classes;
  const N = new Float64Array(C * F); // N_cj, the summed feature values of class c
  for (let j = 0; j < F; j++) {
    const col = j * n;
    for (let i = 0; i < n; i++) {
      const x = X.data[col + i]!;
      if (Number.isNaN(x)) continue; // a missing count counts as 0
      if (!(x >= 0) || x === Infinity) {
        throw new RangeError(
          `multinomial naive Bayes needs non-negative counts: X has ${x} at row ${i}, column ${j}`,
        );
      }
      N[y[i]! * F + j]! += x;
    }
  }
  // α = 0 with a zero count gives log 0 = −∞, which softmax handles (that class gets P = 0 when
  // the feature occurs); scikit-learn clips α to 1e-10 instead, which we follow to stay finite.
  const a = Math.max(alpha, 1e-10);
  const logProb = new Float64Array(C * F);
  for (let c = 0; c < C; c++) {
    let total = 0;
    for (let j = 0; j < F; j++) total += N[c * F + j]! + a;
    const logTotal = Math.log(total);
    for (let j = 0; j < F; j++) logProb[c * F + j] = Math.log(N[c * F + j]! + a) - logTotal;
  }
  return { kind: 'multinomial_nb', classes: C, features: F, logPrior: logPriors(count, n), logProb };
}

/** Joint log-likelihoods X·(log θ)ᵀ + log P(c), N × C row-major; a NaN (missing) count counts as 0. */
export function multinomialNBLogLikelihood(model: MultinomialNBModel, X: Matrix): Float64Array {
  checkFeatures(X, model.features);
  const n = X.rows;
  const F = model.features;
  const C = model.classes;
  const J = new Float64Array(n * C);
  for (let c = 0; c < C; c++) {
    const p = model.logPrior[c]!;
    for (let i = 0; i < n; i++) J[i * C + c] = p;
  }
  for (let j = 0; j < F; j++) {
    const col = j * n;
    for (let c = 0; c < C; c++) {
      const w = model.logProb[c * F + j]!;
      for (let i = 0; i < n; i++) {
        const x = X.data[col + i]!;
        if (x === x) J[i * C + c]! += w * x; // NaN (missing) counts as 0
      }
    }
  }
  return J;
}

/** Class probabilities, N × C row-major. */
export function predictMultinomialNB(model: MultinomialNBModel, X: Matrix): Float64Array {
  return softmaxRows(multinomialNBLogLikelihood(model, X), X.rows, model.classes);
}

function checkFeatures(X: Matrix, F: number): void {
  if (X.cols !== F) throw new RangeError(`X has ${X.cols} columns, the model ${F} features`);
  if (X.data.length !== X.rows * X.cols)
    throw new RangeError(`matrix data has ${X.data.length} values for ${X.rows} × ${X.cols}`);
}
