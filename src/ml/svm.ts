/**
 * Linear support vector machine for classification, as scikit-learn's `LinearSVC()` (liblinear):
 * squared hinge loss (L2-loss SVM), L2 penalty, one-vs-rest for more than two classes:
 *
 *   min_w ½‖w‖² + C·Σᵢ max(0, 1 − yᵢ·wᵀx̃ᵢ)²,   x̃ = [x, 1],   yᵢ ∈ {−1, +1}
 *
 * The intercept is the weight of a constant feature 1 and is penalised with the rest, as
 * liblinear does (`intercept_scaling=1`). The objective is strictly convex, so its one minimiser
 * can be reached from either side:
 * - dual: coordinate descent with shrinking, C.-J. Hsieh, K.-W. Chang, C.-J. Lin, S. S. Keerthi
 *   and S. Sundararajan, "A dual coordinate descent method for large-scale linear SVM", ICML
 *   2008, Algorithm 1 and §3.2 (for the L2 loss: U = ∞ and D_ii = 1/(2C)) — liblinear's and
 *   LinearSVC's default; one pass costs O(n·F) and, on data that is far from separable, it can
 *   take its whole iteration budget;
 * - primal: the squared hinge is differentiable with a Lipschitz gradient, so L-BFGS applies
 *   (O. Chapelle, "Training a support vector machine in the primal", Neural Computation 19(5),
 *   2007); a few dozen passes over the columns when there are many more rows than features
 *   (scikit-learn's advice: `dual=False` when n_samples > n_features). 'auto' picks it from
 *   PRIMAL_ROWS rows on.
 *
 * Probabilities: Platt scaling of each one-vs-rest decision value, P(k | x) = σ(a_k·f_k(x) + b_k),
 * fitted on the training decision values with Platt's smoothed targets by the Newton method of
 * H.-T. Lin, C.-J. Lin and R. C. Weng, "A note on Platt's probabilistic outputs for support vector
 * machines", Machine Learning 68, 2007 (Algorithm 1). With more than two classes the K sigmoids
 * are divided by their sum (as scikit-learn's `CalibratedClassifierCV` does for one-vs-rest);
 * two classes give [1 − p, p]. Each sigmoid is increasing in its decision value, so for two
 * classes the ROC AUC is that of the SVM's decision function.
 */
import { minimizeLbfgs } from './lbfgs.js';
import type { Rng } from './rng.js';
import type { Matrix } from './types.js';

export interface LinearSVMModel {
  readonly kind: 'linear_svm';
  readonly classes: number; // C ≥ 2
  readonly features: number; // F
  /** K × F row-major, K = 1 for two classes (decision f > 0 means class 1), else K = C. */
  readonly weights: Float64Array;
  /** K intercepts. */
  readonly bias: Float64Array;
  /** Platt's slope a_k and intercept b_k per decision function: P = σ(a·f + b). */
  readonly plattA: Float64Array;
  readonly plattB: Float64Array;
}

/**
 * Rows from which 'auto' solves the primal. Below, the dual is as fast or faster (each L-BFGS
 * step reads all of X; a dual pass only the rows not shrunk), and it is liblinear's path.
 */
export const PRIMAL_ROWS = 10_000;

export interface LinearSVMOptions {
  /** Inverse penalty C > 0 on the hinge losses. Default 1. */
  readonly C?: number;
  /** Outer iterations (passes over the active rows) at most, per binary problem. Default 1000. */
  readonly maxIter?: number;
  /** Stop when the spread of the projected gradient is at most tol (liblinear's eps). Default 1e-4. */
  readonly tol?: number;
  /** 'auto' (default): primal from PRIMAL_ROWS rows on (and twice as many rows as features), else dual. */
  readonly solver?: 'auto' | 'primal' | 'dual';
  /** Order of the coordinate updates. */
  readonly rng: Rng;
  readonly onProgress?: (problem: number, iterations: number) => void;
}

export interface LinearSVMFit {
  readonly model: LinearSVMModel;
  /** Outer iterations of each binary problem. */
  readonly iterations: readonly number[];
  readonly converged: boolean;
}

/** Fits the one-vs-rest L2-loss linear SVMs, then Platt scaling on their training decision values. */
export function fitLinearSVM(
  X: Matrix,
  y: Int32Array,
  classes: number,
  options: LinearSVMOptions,
): LinearSVMFit {
  const n = X.rows;
  const F = X.cols;
  const Cpen = options.C ?? 1;
  const maxIter = options.maxIter ?? 1000;
  const tol = options.tol ?? 1e-4;
  if (!(Cpen > 0 && Number.isFinite(Cpen))) throw new RangeError(`C must be finite and > 0, got ${Cpen}`);
  if (!Number.isInteger(maxIter) || maxIter < 1)
    throw new RangeError(`maxIter must be an integer ≥ 1, got ${maxIter}`);
  if (!(tol > 0)) throw new RangeError(`tol must be > 0, got ${tol}`);
  if (!Number.isInteger(classes) || classes < 2)
    throw new RangeError(`classes must be an integer ≥ 2, got ${classes}`);
  if (X.data.length !== n * F)
    throw new RangeError(`matrix data has ${X.data.length} values for ${n} × ${F}`);
  if (y.length !== n) throw new RangeError(`y has ${y.length} labels for ${n} rows`);
  if (n === 0) throw new RangeError('cannot fit a classifier on 0 rows');
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (!(c >= 0 && c < classes)) throw new RangeError(`label ${c} at row ${i} is outside 0..${classes - 1}`);
  }

  const solver = options.solver ?? 'auto';
  const primal = solver === 'primal' || (solver === 'auto' && n >= PRIMAL_ROWS && n >= 2 * (F + 1));
  if (primal) {
    for (let q = 0; q < X.data.length; q++) {
      const v = X.data[q]!;
      if (!Number.isFinite(v))
        throw new RangeError(`X has ${v} at row ${q % n}, column ${Math.floor(q / n)}: impute first`);
    }
  }
  // Rows of [x, 1] in row-major order: the dual method reads one row at a time.
  const G = F + 1;
  const Z = primal ? new Float64Array(0) : new Float64Array(n * G);
  const norms = new Float64Array(primal ? 0 : n);
  if (!primal) {
    for (let j = 0; j < F; j++) {
      const col = j * n;
      for (let i = 0; i < n; i++) {
        const v = X.data[col + i]!;
        if (!Number.isFinite(v)) throw new RangeError(`X has ${v} at row ${i}, column ${j}: impute first`);
        Z[i * G + j] = v;
      }
    }
    for (let i = 0; i < n; i++) Z[i * G + F] = 1;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < G; j++) s += Z[i * G + j]! * Z[i * G + j]!;
      norms[i] = s;
    }
  }

  const K = classes === 2 ? 1 : classes;
  const weights = new Float64Array(K * F);
  const bias = new Float64Array(K);
  const plattA = new Float64Array(K);
  const plattB = new Float64Array(K);
  const iterations: number[] = [];
  let converged = true;
  const sign = new Float64Array(n);
  const f = new Float64Array(n);
  for (let k = 0; k < K; k++) {
    const positive = classes === 2 ? 1 : k;
    for (let i = 0; i < n; i++) sign[i] = y[i] === positive ? 1 : -1;
    const r = primal
      ? primalLbfgs(X, sign, Cpen, maxIter)
      : dualCoordinateDescent(Z, n, G, sign, norms, Cpen, maxIter, tol, options.rng);
    iterations.push(r.iterations);
    converged &&= r.converged;
    options.onProgress?.(k, r.iterations);
    weights.set(r.w.subarray(0, F), k * F);
    bias[k] = r.w[F]!;
    decision(X, r.w, f);
    const [a, b] = plattScaling(f, sign);
    plattA[k] = a;
    plattB[k] = b;
  }
  return {
    model: { kind: 'linear_svm', classes, features: F, weights, bias, plattA, plattB },
    iterations,
    converged,
  };
}

/** f = X·w[0..F) + w[F], column by column. */
function decision(X: Matrix, w: Float64Array, f: Float64Array): void {
  const n = X.rows;
  const F = X.cols;
  f.fill(w[F]!);
  for (let j = 0; j < F; j++) {
    const wj = w[j]!;
    if (wj === 0) continue;
    const col = j * n;
    for (let i = 0; i < n; i++) f[i]! += wj * X.data[col + i]!;
  }
}

/**
 * The primal problem by L-BFGS (Chapelle 2007): P(w̃) = ½‖w̃‖² + C·Σᵢ max(0, 1 − yᵢ·w̃ᵀx̃ᵢ)², whose
 * gradient is w̃ − 2C·Σ_{margin < 1} (1 − yᵢ·w̃ᵀx̃ᵢ)·yᵢ·x̃ᵢ. Minimised as P / (C·n), so that the
 * gradient tolerance (1e-6, as the logistic regression's) does not depend on n or C.
 */
function primalLbfgs(
  X: Matrix,
  y: Float64Array,
  C: number,
  maxIter: number,
): { w: Float64Array; iterations: number; converged: boolean } {
  const n = X.rows;
  const F = X.cols;
  const Xd = X.data;
  const z = new Float64Array(n);
  const scale = 1 / (C * n);
  const fg = (w: Float64Array, grad: Float64Array): number => {
    decision(X, w, z);
    let loss = 0;
    // z becomes the residual −2(1 − yᵢzᵢ)yᵢ of the active rows, 0 elsewhere.
    for (let i = 0; i < n; i++) {
      const slack = 1 - y[i]! * z[i]!;
      if (slack > 0) {
        loss += slack * slack;
        z[i] = -2 * slack * y[i]!;
      } else {
        z[i] = 0;
      }
    }
    let ww = 0;
    for (let j = 0; j < F; j++) {
      const col = j * n;
      let s = 0;
      for (let i = 0; i < n; i++) s += z[i]! * Xd[col + i]!;
      grad[j] = (w[j]! + C * s) * scale;
      ww += w[j]! * w[j]!;
    }
    let sb = 0;
    for (let i = 0; i < n; i++) sb += z[i]!;
    grad[F] = (w[F]! + C * sb) * scale;
    ww += w[F]! * w[F]!;
    return (0.5 * ww + C * loss) * scale;
  };
  const r = minimizeLbfgs(fg, new Float64Array(F + 1), { maxIter, tol: 1e-6 });
  return { w: r.x, iterations: r.iterations, converged: r.converged };
}

/**
 * Hsieh et al. (2008), Algorithm 1 with the shrinking of §3.2, for the L2 loss (liblinear's
 * `solve_l2r_l1l2_svc`): α ≥ 0, Q̄_ii = x̃ᵢᵀx̃ᵢ + D_ii, D_ii = 1/(2C); w = Σ αᵢyᵢx̃ᵢ is kept up to date.
 */
function dualCoordinateDescent(
  Z: Float64Array,
  n: number,
  G: number,
  y: Float64Array,
  norms: Float64Array,
  C: number,
  maxIter: number,
  eps: number,
  rng: Rng,
): { w: Float64Array; iterations: number; converged: boolean } {
  const diag = 0.5 / C;
  const w = new Float64Array(G);
  const alpha = new Float64Array(n);
  const index = Int32Array.from({ length: n }, (_, i) => i);
  let active = n;
  let pgMaxOld = Infinity;
  let iter = 0;
  let converged = false;
  while (iter < maxIter) {
    let pgMax = -Infinity;
    let pgMin = Infinity;
    // A random order of the active rows (Durstenfeld's shuffle).
    for (let s = active - 1; s > 0; s--) {
      const t = rng.int(s + 1);
      const tmp = index[s]!;
      index[s] = index[t]!;
      index[t] = tmp;
    }
    for (let s = 0; s < active; s++) {
      const i = index[s]!;
      const yi = y[i]!;
      const o = i * G;
      let wx = 0;
      for (let j = 0; j < G; j++) wx += w[j]! * Z[o + j]!;
      const g = yi * wx - 1 + diag * alpha[i]!;
      let pg = 0;
      if (alpha[i] === 0) {
        if (g > pgMaxOld) {
          // Shrink: at the bound and likely to stay there.
          active--;
          index[s] = index[active]!;
          index[active] = i;
          s--;
          continue;
        }
        if (g < 0) pg = g;
      } else {
        pg = g;
      }
      if (pg > pgMax) pgMax = pg;
      if (pg < pgMin) pgMin = pg;
      if (Math.abs(pg) > 1e-12) {
        const old = alpha[i]!;
        const updated = Math.max(old - g / (norms[i]! + diag), 0);
        alpha[i] = updated;
        const d = (updated - old) * yi;
        for (let j = 0; j < G; j++) w[j]! += d * Z[o + j]!;
      }
    }
    iter++;
    if (pgMax - pgMin <= eps) {
      if (active === n) {
        converged = true;
        break;
      }
      // Converged on the shrunk problem: check every row again before stopping.
      active = n;
      pgMaxOld = Infinity;
      continue;
    }
    // Only rows at α = 0 shrink when U = ∞, so only the upper threshold is kept.
    pgMaxOld = pgMax <= 0 ? Infinity : pgMax;
  }
  return { w, iterations: iter, converged };
}

/**
 * Platt scaling by Lin, Lin & Weng (2007), Algorithm 1: minimises the cross-entropy of
 * p = 1 / (1 + exp(A·f + B)) against the targets t₊ = (N₊ + 1)/(N₊ + 2), t₋ = 1/(N₋ + 2) by Newton's
 * method with a backtracking line search, every term written so that no exponential overflows.
 * Returns [a, b] = [−A, −B], so that p = σ(a·f + b).
 */
export function plattScaling(f: Float64Array, sign: Float64Array): [number, number] {
  const n = f.length;
  let prior1 = 0;
  for (let i = 0; i < n; i++) if (sign[i]! > 0) prior1++;
  const prior0 = n - prior1;
  const hiTarget = (prior1 + 1) / (prior1 + 2);
  const loTarget = 1 / (prior0 + 2);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = sign[i]! > 0 ? hiTarget : loTarget;
  const maxIter = 100;
  const minStep = 1e-10;
  const sigma = 1e-12; // keeps the Hessian positive definite
  const eps = 1e-5;
  let A = 0;
  let B = Math.log((prior0 + 1) / (prior1 + 1));
  const objective = (a: number, b: number): number => {
    let fval = 0;
    for (let i = 0; i < n; i++) {
      const fApB = f[i]! * a + b;
      fval +=
        fApB >= 0
          ? t[i]! * fApB + Math.log1p(Math.exp(-fApB))
          : (t[i]! - 1) * fApB + Math.log1p(Math.exp(fApB));
    }
    return fval;
  };
  let fval = objective(A, B);
  for (let it = 0; it < maxIter; it++) {
    let h11 = sigma;
    let h22 = sigma;
    let h21 = 0;
    let g1 = 0;
    let g2 = 0;
    for (let i = 0; i < n; i++) {
      const fApB = f[i]! * A + B;
      let p: number;
      let q: number;
      if (fApB >= 0) {
        const e = Math.exp(-fApB);
        p = e / (1 + e);
        q = 1 / (1 + e);
      } else {
        const e = Math.exp(fApB);
        p = 1 / (1 + e);
        q = e / (1 + e);
      }
      const d2 = p * q;
      h11 += f[i]! * f[i]! * d2;
      h22 += d2;
      h21 += f[i]! * d2;
      const d1 = t[i]! - p;
      g1 += f[i]! * d1;
      g2 += d1;
    }
    if (Math.abs(g1) < eps && Math.abs(g2) < eps) break;
    const det = h11 * h22 - h21 * h21;
    const dA = -(h22 * g1 - h21 * g2) / det;
    const dB = -(-h21 * g1 + h11 * g2) / det;
    const gd = g1 * dA + g2 * dB;
    let step = 1;
    let accepted = false;
    while (step >= minStep) {
      const newA = A + step * dA;
      const newB = B + step * dB;
      const newF = objective(newA, newB);
      if (newF < fval + 1e-4 * step * gd) {
        A = newA;
        B = newB;
        fval = newF;
        accepted = true;
        break;
      }
      step /= 2;
    }
    if (!accepted) break;
  }
  return [-A, -B];
}

/** Decision values f = X·Wᵀ + b, N × K row-major. */
export function svmDecision(model: LinearSVMModel, X: Matrix): Float64Array {
  const n = X.rows;
  const F = model.features;
  if (X.cols !== F) throw new RangeError(`X has ${X.cols} columns, the model ${F} features`);
  const K = model.bias.length;
  const D = new Float64Array(n * K);
  for (let k = 0; k < K; k++) {
    const b = model.bias[k]!;
    for (let i = 0; i < n; i++) D[i * K + k] = b;
    for (let j = 0; j < F; j++) {
      const w = model.weights[k * F + j]!;
      if (w === 0) continue;
      const col = j * n;
      for (let i = 0; i < n; i++) D[i * K + k]! += w * X.data[col + i]!;
    }
  }
  return D;
}

/** Class probabilities, N × C row-major (see the file comment). */
export function predictSVMProba(model: LinearSVMModel, X: Matrix): Float64Array {
  const n = X.rows;
  const C = model.classes;
  const K = model.bias.length;
  const D = svmDecision(model, X);
  const P = new Float64Array(n * C);
  for (let i = 0; i < n; i++) {
    if (K === 1) {
      const p = sigmoid(model.plattA[0]! * D[i]! + model.plattB[0]!);
      P[i * 2] = 1 - p;
      P[i * 2 + 1] = p;
      continue;
    }
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const p = sigmoid(model.plattA[k]! * D[i * K + k]! + model.plattB[k]!);
      P[i * C + k] = p;
      sum += p;
    }
    // Every sigmoid underflowed (decision values below −745): nothing to prefer, uniform.
    for (let k = 0; k < K; k++) P[i * C + k] = sum > 0 ? P[i * C + k]! / sum : 1 / C;
  }
  return P;
}

/** The logistic function, as ONNX's Sigmoid computes it. */
function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}
