/**
 * L1 and elastic-net penalised linear models by cyclic coordinate descent: J. Friedman,
 * T. Hastie and R. Tibshirani, "Regularization paths for generalized linear models via
 * coordinate descent", J. Stat. Softw. 33(1), 2010 (§2 for least squares, §3 for logistic and
 * §4 for multinomial regression). Each coordinate's update is a soft-thresholded univariate
 * least-squares step, S(z, γ) = sign(z)·max(|z| − γ, 0) (their eq. 6).
 *
 * - `fitElasticNet`: scikit-learn's `ElasticNet(alpha, l1_ratio)` objective and stopping rule,
 *     1/(2n)·‖y − Xw − b‖² + α·ρ·‖w‖₁ + ½·α·(1 − ρ)·‖w‖²,
 *   the intercept unpenalised (X and y centred), stopped by the duality gap as sklearn's
 *   `enet_coordinate_descent` (gap < tol·‖y − ȳ‖²). ρ = 1 is the lasso.
 * - `fitSparseLogistic`: scikit-learn's `LogisticRegression(penalty='elasticnet', C, l1_ratio)`
 *   objective, C·Σᵢ log-loss + ρ‖W‖₁ + ½(1 − ρ)‖W‖², intercepts unpenalised; binary (sigmoid) or
 *   multinomial (softmax). Solved as glmnet does: an outer loop of quadratic (IRLS) approximations
 *   of the log-likelihood, each minimised by coordinate descent over the active set then all
 *   features; multinomial cycles over the classes, one partial Newton step each (§4.1). A
 *   backtracking line search on the true objective makes every outer step a descent step (the
 *   proximal Newton method of J. Lee, Y. Sun, M. Saunders, SIAM J. Optim. 24(3), 2014).
 * X is column-major, so every coordinate step reads one column sequentially.
 */
import type { LinearRegressionModel, LogisticRegressionModel, Matrix } from './types.js';

function soft(z: number, gamma: number): number {
  return z > gamma ? z - gamma : z < -gamma ? z + gamma : 0;
}

function checkMatrix(X: Matrix): void {
  if (X.data.length !== X.rows * X.cols)
    throw new RangeError(`matrix data has ${X.data.length} values for ${X.rows} × ${X.cols}`);
  for (let q = 0; q < X.data.length; q++) {
    const v = X.data[q]!;
    if (!Number.isFinite(v)) {
      throw new RangeError(`X has ${v} at row ${q % X.rows}, column ${Math.floor(q / X.rows)}: impute first`);
    }
  }
}

function checkPenalty(alpha: number, l1Ratio: number, what: string): void {
  if (!(alpha >= 0 && Number.isFinite(alpha)))
    throw new RangeError(`${what} must be finite and ≥ 0, got ${alpha}`);
  if (!(l1Ratio >= 0 && l1Ratio <= 1)) throw new RangeError(`l1Ratio must be in [0, 1], got ${l1Ratio}`);
}

// ---------------------------------------------------------------------------------------------
// Elastic net (least squares)

export interface ElasticNetOptions {
  /** Overall penalty α ≥ 0. Default 1 (scikit-learn's default). */
  readonly alpha?: number;
  /** Share ρ of the L1 part, in [0, 1]. Default 0.5. */
  readonly l1Ratio?: number;
  /** Passes over the features at most. Default 1000. */
  readonly maxIter?: number;
  /** Duality-gap tolerance relative to ‖y − ȳ‖². Default 1e-4. */
  readonly tol?: number;
  /** Called after every pass with the objective. */
  readonly onIteration?: (iteration: number, objective: number) => void;
}

export interface ElasticNetFit {
  readonly model: LinearRegressionModel;
  readonly iterations: number;
  readonly converged: boolean;
  /** The duality gap at the end, in the units of ½‖r‖² (not divided by n). */
  readonly gap: number;
}

/** Elastic net / lasso regression by cyclic coordinate descent (see the file comment). */
export function fitElasticNet(X: Matrix, y: Float64Array, options: ElasticNetOptions = {}): ElasticNetFit {
  const alpha = options.alpha ?? 1;
  const rho = options.l1Ratio ?? 0.5;
  const maxIter = options.maxIter ?? 1000;
  checkPenalty(alpha, rho, 'alpha');
  checkMatrix(X);
  const n = X.rows;
  const F = X.cols;
  if (y.length !== n) throw new RangeError(`y has ${y.length} values for ${n} rows`);
  if (n === 0) throw new RangeError('cannot fit a regression on 0 rows');
  const Xd = X.data;

  // Centre y and X (X on the fly: x_ij − m_j), so that the intercept drops out.
  let yMean = 0;
  for (let i = 0; i < n; i++) yMean += y[i]!;
  yMean /= n;
  if (!Number.isFinite(yMean)) throw new RangeError('y must be finite');
  const m = new Float64Array(F);
  const norm2 = new Float64Array(F); // Σᵢ (x_ij − m_j)²
  for (let j = 0; j < F; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += Xd[j * n + i]!;
    m[j] = s / n;
    let q = 0;
    for (let i = 0; i < n; i++) q += (Xd[j * n + i]! - m[j]!) ** 2;
    norm2[j] = q;
  }
  const yc = Float64Array.from(y, (v) => v - yMean);
  let yy = 0;
  for (let i = 0; i < n; i++) yy += yc[i]! * yc[i]!;
  // Scaled by n as in sklearn, so that the objective is ½‖r‖² + l1·‖w‖₁ + ½·l2·‖w‖².
  const l1 = alpha * rho * n;
  const l2 = alpha * (1 - rho) * n;
  const tol = (options.tol ?? 1e-4) * yy;

  const w = new Float64Array(F);
  const r = Float64Array.from(yc); // residual yc − X_c·w
  let iterations = 0;
  let converged = false;
  let gap = Infinity;
  for (let it = 0; it < maxIter; it++) {
    let wMax = 0;
    let dwMax = 0;
    for (let j = 0; j < F; j++) {
      if (norm2[j] === 0) continue;
      const col = j * n;
      const mj = m[j]!;
      const old = w[j]!;
      // ρ_j = x_jᵀ(r + x_j·w_j) = x_jᵀr + ‖x_j‖²·w_j  (Friedman et al., eq. 5–6).
      let dot = 0;
      for (let i = 0; i < n; i++) dot += (Xd[col + i]! - mj) * r[i]!;
      const updated = soft(dot + norm2[j]! * old, l1) / (norm2[j]! + l2);
      const delta = updated - old;
      if (delta !== 0) {
        for (let i = 0; i < n; i++) r[i]! -= delta * (Xd[col + i]! - mj);
        w[j] = updated;
      }
      dwMax = Math.max(dwMax, Math.abs(delta));
      wMax = Math.max(wMax, Math.abs(updated));
    }
    iterations = it + 1;
    options.onIteration?.(iterations, enetObjective(r, w, l1, l2) / n);
    if (wMax === 0 || dwMax / wMax < (options.tol ?? 1e-4) || it === maxIter - 1) {
      gap = dualityGap(Xd, n, F, m, yc, r, w, l1, l2);
      if (gap < tol) {
        converged = true;
        break;
      }
    }
  }
  let bias = yMean;
  for (let j = 0; j < F; j++) bias -= m[j]! * w[j]!;
  return { model: { kind: 'linear_regression', weights: w, bias }, iterations, converged, gap };
}

function enetObjective(r: Float64Array, w: Float64Array, l1: number, l2: number): number {
  let rr = 0;
  for (let i = 0; i < r.length; i++) rr += r[i]! * r[i]!;
  let a = 0;
  let b = 0;
  for (let j = 0; j < w.length; j++) {
    a += Math.abs(w[j]!);
    b += w[j]! * w[j]!;
  }
  return 0.5 * rr + l1 * a + 0.5 * l2 * b;
}

/**
 * The duality gap of sklearn's `enet_coordinate_descent`: with the dual point R scaled into the
 * dual feasible set (‖X_cᵀR − l2·w‖∞ ≤ l1),
 * gap = ½(‖R‖² + ‖κR‖²) + l1‖w‖₁ − κRᵀy + ½·l2·(1 + κ²)‖w‖², κ = min(1, l1/‖X_cᵀR − l2·w‖∞).
 */
function dualityGap(
  Xd: Float64Array,
  n: number,
  F: number,
  m: Float64Array,
  yc: Float64Array,
  r: Float64Array,
  w: Float64Array,
  l1: number,
  l2: number,
): number {
  let dualNorm = 0;
  for (let j = 0; j < F; j++) {
    const col = j * n;
    const mj = m[j]!;
    let s = 0;
    for (let i = 0; i < n; i++) s += (Xd[col + i]! - mj) * r[i]!;
    dualNorm = Math.max(dualNorm, Math.abs(s - l2 * w[j]!));
  }
  let rr = 0;
  let ry = 0;
  for (let i = 0; i < n; i++) {
    rr += r[i]! * r[i]!;
    ry += r[i]! * yc[i]!;
  }
  let wl1 = 0;
  let ww = 0;
  for (let j = 0; j < F; j++) {
    wl1 += Math.abs(w[j]!);
    ww += w[j]! * w[j]!;
  }
  let gap: number;
  let kappa: number;
  if (dualNorm > l1) {
    kappa = l1 / dualNorm;
    gap = 0.5 * (rr + rr * kappa * kappa);
  } else {
    kappa = 1;
    gap = rr;
  }
  return gap + l1 * wl1 - kappa * ry + 0.5 * l2 * (1 + kappa * kappa) * ww;
}

// ---------------------------------------------------------------------------------------------
// Sparse logistic regression

export interface SparseLogisticOptions {
  /** Inverse penalty strength C > 0 (scikit-learn's `C`). Default 1. */
  readonly C?: number;
  /** Share ρ of the L1 part, in [0, 1]; 1 is the lasso (`penalty='l1'`). Default 1. */
  readonly l1Ratio?: number;
  /** Outer (Newton) iterations at most. Default 100. */
  readonly maxIter?: number;
  /** Converged when an outer iteration lowers the mean objective by at most tol·max(1, |f|). Default 1e-8. */
  readonly tol?: number;
  readonly onIteration?: (iteration: number, objective: number) => void;
}

export interface SparseLogisticFit {
  readonly model: LogisticRegressionModel;
  readonly iterations: number;
  readonly converged: boolean;
  /** Mean log-loss plus penalty/(C·n) at the solution. */
  readonly objective: number;
}

/**
 * L1 / elastic-net logistic regression by glmnet's coordinate descent (see the file comment).
 * Labels 0..classes−1; two classes give one weight vector (P(1) = σ(X·w + b)), more give
 * class-major weights and the softmax, as `LogisticRegressionModel` says.
 */
export function fitSparseLogistic(
  X: Matrix,
  y: Int32Array,
  classes: number,
  options: SparseLogisticOptions = {},
): SparseLogisticFit {
  const Cpen = options.C ?? 1;
  const rho = options.l1Ratio ?? 1;
  const maxIter = options.maxIter ?? 100;
  const tol = options.tol ?? 1e-8;
  if (!(Cpen > 0 && Number.isFinite(Cpen))) throw new RangeError(`C must be finite and > 0, got ${Cpen}`);
  checkPenalty(1, rho, 'C');
  if (!Number.isInteger(classes) || classes < 2)
    throw new RangeError(`classes must be an integer ≥ 2, got ${classes}`);
  checkMatrix(X);
  const n = X.rows;
  const F = X.cols;
  if (y.length !== n) throw new RangeError(`y has ${y.length} labels for ${n} rows`);
  if (n === 0) throw new RangeError('cannot fit a classifier on 0 rows');
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (!(c >= 0 && c < classes)) throw new RangeError(`label ${c} at row ${i} is outside 0..${classes - 1}`);
  }
  const K = classes === 2 ? 1 : classes;
  // Mean objective: (1/n)Σ log-loss + λ(ρ‖W‖₁ + ½(1 − ρ)‖W‖²) with λ = 1/(C·n).
  const lambda = 1 / (Cpen * n);
  const l1 = lambda * rho;
  const l2 = lambda * (1 - rho);
  const W = new Float64Array(K * F);
  const b = new Float64Array(K);
  const eta = new Float64Array(K * n); // class-major scores
  const objective = (): number => logLoss(eta, y, n, K) / n + penalty(W, l1, l2);

  // Start from the intercepts of the null model (log class frequencies), W = 0.
  const freq = new Float64Array(classes);
  for (let i = 0; i < n; i++) freq[y[i]!]!++;
  if (K === 1) b[0] = Math.log((freq[1]! + 0.5) / (freq[0]! + 0.5));
  else for (let k = 0; k < K; k++) b[k] = Math.log((freq[k]! + 0.5) / (n + 0.5 * K));
  for (let k = 0; k < K; k++) eta.fill(b[k]!, k * n, (k + 1) * n);

  const v = new Float64Array(n); // IRLS weights
  const r = new Float64Array(n); // working residuals z − η
  const wx2 = new Float64Array(F); // (1/n)Σ vᵢx²_ij
  const oldW = new Float64Array(F);
  const oldEta = new Float64Array(n);
  const p = new Float64Array(n);
  let f = objective();
  let iterations = 0;
  let converged = false;
  for (let it = 0; it < maxIter; it++) {
    const fStart = f;
    for (let k = 0; k < K; k++) {
      // Quadratic approximation in class k's parameters, the others fixed (glmnet §4.1).
      classProbability(eta, n, K, k, p);
      for (let i = 0; i < n; i++) {
        // Probabilities clipped to [1e-5, 1 − 1e-5] as glmnet does, so weights stay positive.
        const pi = Math.min(Math.max(p[i]!, 1e-5), 1 - 1e-5);
        const target = (K === 1 ? y[i] === 1 : y[i] === k) ? 1 : 0;
        v[i] = pi * (1 - pi);
        r[i] = (target - p[i]!) / v[i]!;
      }
      const wk = W.subarray(k * F, (k + 1) * F);
      oldW.set(wk);
      const oldB = b[k]!;
      oldEta.set(eta.subarray(k * n, (k + 1) * n));
      if (F + 1 <= GRAM_MAX_FEATURES) {
        b[k] = gramLeastSquares(X, v, r, wk, oldB, l1, l2);
      } else {
        for (let j = 0; j < F; j++) {
          const col = j * n;
          let s = 0;
          for (let i = 0; i < n; i++) s += v[i]! * X.data[col + i]! * X.data[col + i]!;
          wx2[j] = s / n;
        }
        weightedLeastSquares(X, v, r, wx2, wk, b, k, l1, l2);
      }
      // η_k = X·w_k + b_k for the new parameters, then backtrack until the objective decreases.
      const ek = eta.subarray(k * n, (k + 1) * n);
      const dW = Float64Array.from(wk, (x, j) => x - oldW[j]!);
      const dB = b[k]! - oldB;
      const dEta = new Float64Array(n).fill(dB);
      for (let j = 0; j < F; j++) {
        const d = dW[j]!;
        if (d === 0) continue;
        const col = j * n;
        for (let i = 0; i < n; i++) dEta[i]! += d * X.data[col + i]!;
      }
      let step = 1;
      let accepted = false;
      for (let tries = 0; tries < 30; tries++) {
        for (let i = 0; i < n; i++) ek[i] = oldEta[i]! + step * dEta[i]!;
        for (let j = 0; j < F; j++) wk[j] = oldW[j]! + step * dW[j]!;
        b[k] = oldB + step * dB;
        const fNew = objective();
        if (fNew <= f) {
          f = fNew;
          accepted = true;
          break;
        }
        step /= 2;
      }
      if (!accepted) {
        ek.set(oldEta);
        wk.set(oldW);
        b[k] = oldB;
      }
    }
    iterations = it + 1;
    options.onIteration?.(iterations, f);
    if (fStart - f <= tol * Math.max(1, Math.abs(f))) {
      converged = true;
      break;
    }
  }
  return {
    model: { kind: 'logistic_regression', classes, weights: W, bias: b },
    iterations,
    converged,
    objective: f,
  };
}

/**
 * Up to this many coefficients (features + intercept), the weighted least-squares subproblems use
 * "covariance updates" (Friedman et al. 2010, §2.2): the Gram matrix H = (1/n)·X̃ᵀVX̃ is formed once
 * per Newton step (n·F²/2 products) and each coordinate step then costs O(F) instead of O(n), so
 * the subproblem can be solved to high precision even when collinear columns make coordinate
 * descent converge slowly. Beyond it, the naive updates (O(n) per step) of weightedLeastSquares.
 */
const GRAM_MAX_FEATURES = 512;

/**
 * Minimises ½(β − β⁰)ᵀH(β − β⁰) − gᵀ(β − β⁰) + l1‖w‖₁ + ½·l2‖w‖² over β = (w, b) — the Newton model of
 * the mean log-likelihood with H = (1/n)X̃ᵀVX̃ and g = (1/n)X̃ᵀV·r for the working residuals r —
 * by cyclic coordinate descent on q = g − H(β − β⁰), the negative gradient of the smooth part.
 * Writes w in place and returns b.
 */
function gramLeastSquares(
  X: Matrix,
  v: Float64Array,
  r: Float64Array,
  w: Float64Array,
  b0: number,
  l1: number,
  l2: number,
): number {
  const n = X.rows;
  const F = X.cols;
  const G = F + 1; // coefficient F is the intercept (a column of ones)
  const Xd = X.data;
  const H = new Float64Array(G * G);
  const q = new Float64Array(G);
  const vx = new Float64Array(n);
  for (let j = 0; j < G; j++) {
    const cj = j * n;
    if (j < F) for (let i = 0; i < n; i++) vx[i] = v[i]! * Xd[cj + i]!;
    else vx.set(v);
    let gj = 0;
    for (let i = 0; i < n; i++) gj += vx[i]! * r[i]!;
    q[j] = gj / n;
    for (let k = 0; k <= j; k++) {
      let h = 0;
      if (k < F) {
        const ck = k * n;
        for (let i = 0; i < n; i++) h += vx[i]! * Xd[ck + i]!;
      } else {
        for (let i = 0; i < n; i++) h += vx[i]!;
      }
      H[j * G + k] = H[k * G + j] = h / n;
    }
  }
  const beta = new Float64Array(G);
  beta.set(w);
  beta[F] = b0;
  const step = (j: number): number => {
    const h = H[j * G + j]!;
    if (h === 0) return 0;
    const old = beta[j]!;
    const updated = j === F ? old + q[j]! / h : soft(h * old + q[j]!, l1) / (h + l2);
    const d = updated - old;
    if (d === 0) return 0;
    beta[j] = updated;
    for (let k = 0; k < G; k++) q[k]! -= H[k * G + j]! * d;
    return h * d * d;
  };
  // Sweep the active set (non-zero coefficients and the intercept) to convergence, then every
  // coefficient once; done when a full sweep changes nothing by more than the threshold.
  const thresh = 1e-16;
  for (let outer = 0; outer < 1000; outer++) {
    let change = 0;
    for (let j = 0; j < G; j++) change = Math.max(change, step(j));
    if (change <= thresh) break;
    for (let inner = 0; inner < 10_000; inner++) {
      let c = 0;
      for (let j = 0; j < G; j++) if (j === F || beta[j] !== 0) c = Math.max(c, step(j));
      if (c <= thresh) break;
    }
  }
  w.set(beta.subarray(0, F));
  return beta[F]!;
}

/**
 * Coordinate descent on (1/2n)Σᵢ vᵢ(rᵢ − Δb − xᵢᵀΔw)² + l1‖w‖₁ + ½·l2‖w‖² over the coefficients w
 * (updated in place) and the intercept b[k]; r holds the working residuals and is updated too.
 * Sweeps the active set (non-zero coefficients) until it settles, then all features; stops when
 * a full sweep changes no coefficient by more than 1e-7 in the weighted scale √(wx2_j)·|Δw_j|.
 */
function weightedLeastSquares(
  X: Matrix,
  v: Float64Array,
  r: Float64Array,
  wx2: Float64Array,
  w: Float64Array,
  b: Float64Array,
  k: number,
  l1: number,
  l2: number,
): void {
  const n = X.rows;
  const F = X.cols;
  const Xd = X.data;
  let vSum = 0;
  for (let i = 0; i < n; i++) vSum += v[i]!;
  const thresh = 1e-12;
  const sweep = (all: boolean): number => {
    let maxChange = 0;
    for (let j = 0; j < F; j++) {
      if (!all && w[j] === 0) continue;
      if (wx2[j] === 0) continue;
      const col = j * n;
      let g = 0;
      for (let i = 0; i < n; i++) g += v[i]! * Xd[col + i]! * r[i]!;
      const old = w[j]!;
      const updated = soft(g / n + wx2[j]! * old, l1) / (wx2[j]! + l2);
      const d = updated - old;
      if (d !== 0) {
        w[j] = updated;
        for (let i = 0; i < n; i++) r[i]! -= d * Xd[col + i]!;
        maxChange = Math.max(maxChange, wx2[j]! * d * d);
      }
    }
    // The unpenalised intercept: a weighted mean of the residuals.
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i]! * r[i]!;
    const db = s / vSum;
    if (db !== 0) {
      b[k]! += db;
      for (let i = 0; i < n; i++) r[i]! -= db;
      maxChange = Math.max(maxChange, (vSum / n) * db * db);
    }
    return maxChange;
  };
  for (let outer = 0; outer < 100; outer++) {
    if (sweep(true) <= thresh) return;
    for (let inner = 0; inner < 1000; inner++) if (sweep(false) <= thresh) break;
  }
}

/** P(class k) for every row from class-major scores η (binary: σ(η), else softmax over K). */
function classProbability(eta: Float64Array, n: number, K: number, k: number, out: Float64Array): void {
  if (K === 1) {
    for (let i = 0; i < n; i++) {
      const z = eta[i]!;
      out[i] = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < K; c++) max = Math.max(max, eta[c * n + i]!);
    let sum = 0;
    for (let c = 0; c < K; c++) sum += Math.exp(eta[c * n + i]! - max);
    out[i] = Math.exp(eta[k * n + i]! - max) / sum;
  }
}

/** Σᵢ −log P(yᵢ | ηᵢ), without overflow. */
function logLoss(eta: Float64Array, y: Int32Array, n: number, K: number): number {
  let loss = 0;
  if (K === 1) {
    for (let i = 0; i < n; i++) {
      const z = eta[i]!;
      loss += (z > 0 ? z : 0) + Math.log1p(Math.exp(-Math.abs(z))) - (y[i] === 1 ? z : 0);
    }
    return loss;
  }
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < K; c++) max = Math.max(max, eta[c * n + i]!);
    let sum = 0;
    for (let c = 0; c < K; c++) sum += Math.exp(eta[c * n + i]! - max);
    loss += max + Math.log(sum) - eta[y[i]! * n + i]!;
  }
  return loss;
}

function penalty(W: Float64Array, l1: number, l2: number): number {
  let a = 0;
  let q = 0;
  for (let j = 0; j < W.length; j++) {
    a += Math.abs(W[j]!);
    q += W[j]! * W[j]!;
  }
  return l1 * a + 0.5 * l2 * q;
}
