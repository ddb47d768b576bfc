import { minimizeLbfgs, type ObjectiveFn } from './lbfgs.js';
import type { LinearRegressionModel, LogisticRegressionModel, Matrix, ProgressFn } from './types.js';

/** Predictions of a linear regression: y = X·w + b. */
export function predictLinear(model: LinearRegressionModel, X: Matrix): Float64Array {
  const y = new Float64Array(X.rows).fill(model.bias);
  for (let j = 0; j < X.cols; j++) {
    const w = model.weights[j]!;
    if (w === 0) continue;
    const col = j * X.rows;
    // Column-major: the inner loop walks one feature column sequentially.
    for (let i = 0; i < X.rows; i++) y[i]! += w * X.data[col + i]!;
  }
  return y;
}

/** Class probabilities of a logistic regression, row-major N × C. */
export function predictProba(model: LogisticRegressionModel, X: Matrix): Float64Array {
  const n = X.rows;
  const C = model.classes;
  const P = new Float64Array(n * C);
  if (C === 2) {
    const z = predictLinear({ kind: 'linear_regression', weights: model.weights, bias: model.bias[0]! }, X);
    for (let i = 0; i < n; i++) {
      const p1 = 1 / (1 + Math.exp(-z[i]!));
      P[i * 2] = 1 - p1;
      P[i * 2 + 1] = p1;
    }
    return P;
  }
  const Z = new Float64Array(n * C);
  for (let c = 0; c < C; c++) {
    const zc = predictLinear(
      {
        kind: 'linear_regression',
        weights: model.weights.subarray(c * X.cols, (c + 1) * X.cols),
        bias: model.bias[c]!,
      },
      X,
    );
    for (let i = 0; i < n; i++) Z[i * C + c] = zc[i]!;
  }
  softmaxRows(Z, n, C, P);
  return P;
}

/** Row-wise softmax of an N × C row-major matrix, stabilised by subtracting each row's maximum. */
export function softmaxRows(
  Z: Float64Array,
  n: number,
  C: number,
  out: Float64Array = new Float64Array(n * C),
): Float64Array {
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, Z[i * C + c]!);
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(Z[i * C + c]! - max);
      out[i * C + c] = e;
      sum += e;
    }
    for (let c = 0; c < C; c++) out[i * C + c]! /= sum;
  }
  return out;
}

/** Index of the largest probability per row (first one on ties, as numpy's argmax). */
export function argmaxRows(P: Float64Array, n: number, C: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (P[i * C + c]! > P[i * C + best]!) best = c;
    out[i] = best;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fitting

export interface RidgeOptions {
  /** Penalty λ ≥ 0 on ‖w‖² (scikit-learn's Ridge `alpha`). Default 1. */
  readonly l2?: number;
}

/**
 * Ridge regression: minimises ‖y − X·w − b‖² + λ‖w‖², the intercept b not penalised, as
 * scikit-learn's `Ridge(alpha=λ)`.
 *
 * Centring X and y removes b from the problem (Hastie, Tibshirani, Friedman, The Elements of
 * Statistical Learning, 2nd ed., §3.4.1): with X̄ the column means and ȳ the mean of y,
 * (X_cᵀX_c + λI)·w = X_cᵀy_c and b = ȳ − X̄ᵀw. The F × F system is symmetric positive definite for
 * λ > 0 and solved exactly by a Cholesky factorisation (Golub & Van Loan, Matrix Computations,
 * 4th ed., Algorithm 4.2.1). When it is singular to working precision (λ = 0 with collinear or
 * constant columns) a jitter growing from 1e-10 of the mean diagonal is added, which tends to the
 * minimum-norm least-squares solution.
 */
export function fitRidge(X: Matrix, y: Float64Array, options: RidgeOptions = {}): LinearRegressionModel {
  const l2 = options.l2 ?? 1.0;
  const n = X.rows;
  const F = X.cols;
  if (!(l2 >= 0 && Number.isFinite(l2))) throw new RangeError(`l2 must be finite and ≥ 0, got ${l2}`);
  checkShape(X);
  if (y.length !== n) throw new RangeError(`y has ${y.length} values for ${n} rows`);
  if (n === 0) throw new RangeError('cannot fit a regression on 0 rows');
  const Xd = X.data;

  let yMean = 0;
  for (let i = 0; i < n; i++) yMean += y[i]!;
  yMean /= n;
  const xMean = new Float64Array(F);
  for (let j = 0; j < F; j++) {
    let s = 0;
    const col = j * n;
    for (let i = 0; i < n; i++) s += Xd[col + i]!;
    xMean[j] = s / n;
  }
  if (!Number.isFinite(yMean) || !xMean.every(Number.isFinite)) {
    throw new RangeError('X and y must be finite (impute missing values first)');
  }

  // A = X_cᵀX_c (lower triangle, row-major F × F) and r = X_cᵀy_c. Column j is centred once into
  // a buffer; column k is centred on the fly, so both inner loops walk memory sequentially and
  // no centred copy of X is made. Centring before the products avoids the cancellation of
  // Σx_j·x_k − n·x̄_j·x̄_k when the means are large.
  const A = new Float64Array(F * F);
  const r = new Float64Array(F);
  const xc = new Float64Array(n);
  for (let j = 0; j < F; j++) {
    const colJ = j * n;
    const mj = xMean[j]!;
    let sy = 0;
    for (let i = 0; i < n; i++) {
      const v = Xd[colJ + i]! - mj;
      xc[i] = v;
      sy += v * (y[i]! - yMean);
    }
    r[j] = sy;
    let k = 0;
    // Four columns k per pass over xc, as in addColumns.
    for (; k + 4 <= j + 1; k += 4) {
      const c0 = k * n;
      const c1 = c0 + n;
      const c2 = c1 + n;
      const c3 = c2 + n;
      const m0 = xMean[k]!;
      const m1 = xMean[k + 1]!;
      const m2 = xMean[k + 2]!;
      const m3 = xMean[k + 3]!;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < n; i++) {
        const v = xc[i]!;
        s0 += v * (Xd[c0 + i]! - m0);
        s1 += v * (Xd[c1 + i]! - m1);
        s2 += v * (Xd[c2 + i]! - m2);
        s3 += v * (Xd[c3 + i]! - m3);
      }
      A[j * F + k] = s0;
      A[j * F + k + 1] = s1;
      A[j * F + k + 2] = s2;
      A[j * F + k + 3] = s3;
    }
    for (; k <= j; k++) {
      const colK = k * n;
      const mk = xMean[k]!;
      let s = 0;
      for (let i = 0; i < n; i++) s += xc[i]! * (Xd[colK + i]! - mk);
      A[j * F + k] = s;
    }
    A[j * F + j]! += l2;
  }

  const w = solveSpd(A, r, F);
  let bias = yMean;
  for (let j = 0; j < F; j++) bias -= xMean[j]! * w[j]!;
  return { kind: 'linear_regression', weights: w, bias };
}

/**
 * Solves A·x = r for symmetric positive (semi)definite A given by its lower triangle (row-major
 * F × F), by Cholesky A = L·Lᵀ and two triangular solves; adds diagonal jitter when a pivot is
 * not clearly positive.
 */
function solveSpd(A: Float64Array, r: Float64Array, F: number): Float64Array {
  let meanDiag = 0;
  for (let j = 0; j < F; j++) meanDiag += A[j * F + j]! / F;
  const L = new Float64Array(F * F);
  let jitter = 0;
  for (let attempt = 0; ; attempt++) {
    if (cholesky(A, F, jitter, L)) break;
    if (attempt === 12) throw new Error('ridge: the normal equations are not positive definite');
    jitter = jitter === 0 ? 1e-10 * (meanDiag > 0 ? meanDiag : 1) : jitter * 10;
  }
  // L·z = r (forward), then Lᵀ·x = z (backward).
  const x = Float64Array.from(r);
  for (let j = 0; j < F; j++) {
    let s = x[j]!;
    for (let k = 0; k < j; k++) s -= L[j * F + k]! * x[k]!;
    x[j] = s / L[j * F + j]!;
  }
  for (let j = F - 1; j >= 0; j--) {
    let s = x[j]!;
    for (let k = j + 1; k < F; k++) s -= L[k * F + j]! * x[k]!;
    x[j] = s / L[j * F + j]!;
  }
  return x;
}

/**
 * Cholesky–Banachiewicz factorisation of A + jitter·I into L (lower, row-major). Returns false when
 * a pivot falls to 1e-13 of its diagonal entry or below: A is then singular to working precision
 * and the solution would be dominated by rounding.
 */
function cholesky(A: Float64Array, F: number, jitter: number, L: Float64Array): boolean {
  L.fill(0);
  for (let j = 0; j < F; j++) {
    for (let k = 0; k <= j; k++) {
      let s = A[j * F + k]! + (j === k ? jitter : 0);
      for (let p = 0; p < k; p++) s -= L[j * F + p]! * L[k * F + p]!;
      if (j === k) {
        const diag = A[j * F + j]! + jitter;
        if (!(s > 1e-13 * diag) || !(diag > 0)) return false;
        L[j * F + j] = Math.sqrt(s);
      } else {
        L[j * F + k] = s / L[k * F + k]!;
      }
    }
  }
  return true;
}

export interface LogisticOptions {
  /** Penalty λ on ½‖W‖² (scikit-learn's LogisticRegression `C` = 1/λ). Default 1. */
  readonly l2?: number;
  /** Maximum number of L-BFGS iterations. Default 200. */
  readonly maxIter?: number;
  /** Converged when every component of the gradient of the objective divided by N is at most tol. Default 1e-6. */
  readonly tol?: number;
  /** Called after every iteration with the objective divided by N (mean log-loss plus penalty). */
  readonly onProgress?: ProgressFn;
}

/** A fitted logistic regression and how its optimisation ended. */
export interface LogisticFit {
  readonly model: LogisticRegressionModel;
  readonly iterations: number;
  readonly converged: boolean;
  /** Objective divided by N at the solution. */
  readonly loss: number;
}

/**
 * Penalised multinomial / binary logistic regression: minimises Σᵢ −log P(yᵢ | xᵢ) + ½λ‖W‖², the
 * intercepts not penalised — the objective of scikit-learn's `LogisticRegression(C=1/λ,
 * solver='lbfgs')` — by L-BFGS from zero. C = 2 uses one score vector and the sigmoid; C > 2 the
 * softmax over C score vectors (W class-major, see `LogisticRegressionModel`).
 */
export function fitLogistic(
  X: Matrix,
  y: Int32Array,
  classes: number,
  options: LogisticOptions = {},
): LogisticRegressionModel {
  return fitLogisticDetailed(X, y, classes, options).model;
}

/** `fitLogistic`, also saying whether the optimiser converged within `maxIter`. */
export function fitLogisticDetailed(
  X: Matrix,
  y: Int32Array,
  classes: number,
  options: LogisticOptions = {},
): LogisticFit {
  const l2 = options.l2 ?? 1.0;
  const K = classes === 2 ? 1 : classes;
  const fg = logisticObjective(X, y, classes, l2);
  const onProgress = options.onProgress;
  const result = minimizeLbfgs(fg, new Float64Array(K * X.cols + K), {
    maxIter: options.maxIter ?? 200,
    tol: options.tol ?? 1e-6,
    ...(onProgress
      ? { onIteration: (iteration: number, value: number) => onProgress(iteration, value) }
      : {}),
  });
  const model: LogisticRegressionModel = {
    kind: 'logistic_regression',
    classes,
    weights: result.x.slice(0, K * X.cols),
    bias: result.x.slice(K * X.cols),
  };
  return { model, iterations: result.iterations, converged: result.converged, loss: result.value };
}

/**
 * The logistic regression objective as a function of the packed parameters θ = [W, b]: W the
 * K × F weights class-major, b the K intercepts, K = 1 for two classes and K = C otherwise.
 * Returns (Σᵢ ℓᵢ + ½λ‖W‖²) / N and writes its gradient; dividing by N leaves the minimiser
 * unchanged and makes gradient tolerances independent of the number of rows.
 *
 * Binary: ℓᵢ = log(1 + e^{zᵢ}) − yᵢzᵢ, ∂ℓᵢ/∂zᵢ = σ(zᵢ) − yᵢ. Multinomial: ℓᵢ = logΣ_c e^{z_ic} − z_{i,yᵢ},
 * ∂ℓᵢ/∂z_ic = softmax(zᵢ)_c − [yᵢ = c] (Bishop, Pattern Recognition and Machine Learning, §4.3.4).
 * Then ∇_W = Rᵀ·X + λW and ∇_b = Σᵢ Rᵢ for the residuals R.
 */
export function logisticObjective(X: Matrix, y: Int32Array, classes: number, l2: number): ObjectiveFn {
  const n = X.rows;
  const F = X.cols;
  if (!Number.isInteger(classes) || classes < 2)
    throw new RangeError(`classes must be an integer ≥ 2, got ${classes}`);
  if (!(l2 >= 0 && Number.isFinite(l2))) throw new RangeError(`l2 must be finite and ≥ 0, got ${l2}`);
  checkShape(X);
  if (y.length !== n) throw new RangeError(`y has ${y.length} labels for ${n} rows`);
  if (n === 0) throw new RangeError('cannot fit a classifier on 0 rows');
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (c < 0 || c >= classes) throw new RangeError(`label ${c} at row ${i} is outside 0..${classes - 1}`);
  }
  const K = classes === 2 ? 1 : classes;
  const Xd = X.data;
  // Scores, then residuals, class-major (Z[c·n + i]) so that each class's column is contiguous.
  const Z = new Float64Array(K * n);

  return (theta: Float64Array, grad: Float64Array): number => {
    // Z = X·Wᵀ + b, class by class.
    for (let c = 0; c < K; c++) {
      const zc = Z.subarray(c * n, (c + 1) * n);
      zc.fill(theta[K * F + c]!);
      addColumns(Xd, n, F, theta, c * F, zc);
    }

    let loss = 0;
    if (K === 1) {
      for (let i = 0; i < n; i++) {
        const z = Z[i]!;
        // With e = exp(−|z|) ≤ 1 neither term overflows: log(1 + e^z) = max(z, 0) + log1p(e),
        // σ(z) = 1 / (1 + e) for z ≥ 0 and e / (1 + e) otherwise.
        const e = Math.exp(-Math.abs(z));
        const yi = y[i]!;
        loss += (z > 0 ? z : 0) + Math.log1p(e) - yi * z;
        Z[i] = (z >= 0 ? 1 : e) / (1 + e) - yi;
      }
    } else {
      for (let i = 0; i < n; i++) {
        // log-sum-exp shifted by the row maximum so that no exponential overflows.
        let max = -Infinity;
        for (let c = 0; c < K; c++) max = Math.max(max, Z[c * n + i]!);
        const yi = y[i]!;
        const zy = Z[yi * n + i]!;
        let sum = 0;
        for (let c = 0; c < K; c++) {
          const e = Math.exp(Z[c * n + i]! - max);
          Z[c * n + i] = e;
          sum += e;
        }
        loss += max + Math.log(sum) - zy;
        const inv = 1 / sum;
        for (let c = 0; c < K; c++) Z[c * n + i]! *= inv;
        Z[yi * n + i]! -= 1;
      }
    }

    // ∇_W = (Rᵀ·X + λW) / n and ∇_b = Σᵢ Rᵢ / n.
    let penalty = 0;
    for (let c = 0; c < K; c++) {
      const rc = Z.subarray(c * n, (c + 1) * n);
      let gb = 0;
      for (let i = 0; i < n; i++) gb += rc[i]!;
      grad[K * F + c] = gb / n;
      dotColumns(Xd, n, F, rc, grad, c * F);
      for (let j = 0; j < F; j++) {
        const w = theta[c * F + j]!;
        grad[c * F + j] = (grad[c * F + j]! + l2 * w) / n;
        penalty += w * w;
      }
    }
    return (loss + 0.5 * l2 * penalty) / n;
  };
}

function checkShape(X: Matrix): void {
  if (X.data.length !== X.rows * X.cols) {
    throw new RangeError(`matrix data has ${X.data.length} values for ${X.rows} × ${X.cols}`);
  }
}

/**
 * z += X·w[offset .. offset+F) for column-major X (n × F). Four columns per pass over z: the
 * inner loop then reads four sequential streams and writes z a quarter as often, which about
 * halves the time of the one-column loop on 10⁵-row data.
 */
function addColumns(
  Xd: Float64Array,
  n: number,
  F: number,
  w: Float64Array,
  offset: number,
  z: Float64Array,
): void {
  let j = 0;
  for (; j + 4 <= F; j += 4) {
    const w0 = w[offset + j]!;
    const w1 = w[offset + j + 1]!;
    const w2 = w[offset + j + 2]!;
    const w3 = w[offset + j + 3]!;
    if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0) continue;
    const c0 = j * n;
    const c1 = c0 + n;
    const c2 = c1 + n;
    const c3 = c2 + n;
    for (let i = 0; i < n; i++) {
      z[i]! += w0 * Xd[c0 + i]! + w1 * Xd[c1 + i]! + w2 * Xd[c2 + i]! + w3 * Xd[c3 + i]!;
    }
  }
  for (; j < F; j++) {
    const wj = w[offset + j]!;
    if (wj === 0) continue;
    const col = j * n;
    for (let i = 0; i < n; i++) z[i]! += wj * Xd[col + i]!;
  }
}

/** out[offset + j] = Σᵢ r_i·X_ij for every column j, four columns per pass over r (see addColumns). */
function dotColumns(
  Xd: Float64Array,
  n: number,
  F: number,
  r: Float64Array,
  out: Float64Array,
  offset: number,
): void {
  let j = 0;
  for (; j + 4 <= F; j += 4) {
    const c0 = j * n;
    const c1 = c0 + n;
    const c2 = c1 + n;
    const c3 = c2 + n;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < n; i++) {
      const ri = r[i]!;
      s0 += ri * Xd[c0 + i]!;
      s1 += ri * Xd[c1 + i]!;
      s2 += ri * Xd[c2 + i]!;
      s3 += ri * Xd[c3 + i]!;
    }
    out[offset + j] = s0;
    out[offset + j + 1] = s1;
    out[offset + j + 2] = s2;
    out[offset + j + 3] = s3;
  }
  for (; j < F; j++) {
    const col = j * n;
    let s = 0;
    for (let i = 0; i < n; i++) s += r[i]! * Xd[col + i]!;
    out[offset + j] = s;
  }
}
