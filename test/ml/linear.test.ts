import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  fitLogistic,
  fitLogisticDetailed,
  fitRidge,
  logisticObjective,
  predictLinear,
  predictProba,
} from '../../src/ml/linear.js';
import { createRng } from '../../src/ml/rng.js';
import type { Matrix } from '../../src/ml/types.js';

/** Column-major matrix from rows, as written on paper. */
function matrix(rows: readonly (readonly number[])[]): Matrix {
  const n = rows.length;
  const F = rows[0]!.length;
  const data = new Float64Array(n * F);
  rows.forEach((row, i) => row.forEach((v, j) => (data[j * n + i] = v)));
  return { data, rows: n, cols: F };
}

function randomMatrix(n: number, F: number, seed: number): Matrix {
  const rng = createRng(seed);
  return { data: Float64Array.from({ length: n * F }, () => 2 * rng.next() - 1), rows: n, cols: F };
}

const close = (actual: number, expected: number, tol: number, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} ≠ ${expected} ± ${tol}`);

describe('fitRidge', () => {
  test('one feature, by hand', () => {
    // x = (1, 2, 3), y = (1, 2, 2): x̄ = 2, ȳ = 5/3, x_c = (−1, 0, 1), x_cᵀx_c = 2, x_cᵀy_c = 1.
    const X = matrix([[1], [2], [3]]);
    const y = Float64Array.from([1, 2, 2]);
    // λ = 1: w = 1 / (2 + 1) = 1/3, b = 5/3 − 2/3 = 1.
    const m1 = fitRidge(X, y, { l2: 1 });
    close(m1.weights[0]!, 1 / 3, 1e-12, 'w');
    close(m1.bias, 1, 1e-12, 'b');
    // λ = 0 (ordinary least squares): w = 1/2, b = 5/3 − 1 = 2/3.
    const m0 = fitRidge(X, y, { l2: 0 });
    close(m0.weights[0]!, 0.5, 1e-12, 'w');
    close(m0.bias, 2 / 3, 1e-12, 'b');
  });

  test('two features against the closed form (X_cᵀX_c + λI)⁻¹X_cᵀy_c by the 2 × 2 inverse', () => {
    const rows = [
      [1, 1],
      [2, 0],
      [3, 1],
      [4, 3],
      [0, 2],
    ];
    const yv = [1, 3, 2, 5, 0.5];
    const l2 = 0.7;
    const n = rows.length;
    const m = [0, 1].map((j) => rows.reduce((s, r) => s + r[j]!, 0) / n);
    const ym = yv.reduce((a, b) => a + b, 0) / n;
    const S = (j: number, k: number): number =>
      rows.reduce((s, r) => s + (r[j]! - m[j]!) * (r[k]! - m[k]!), 0);
    const t = (j: number): number => rows.reduce((s, r, i) => s + (r[j]! - m[j]!) * (yv[i]! - ym), 0);
    const a = S(0, 0) + l2;
    const b = S(0, 1);
    const d = S(1, 1) + l2;
    const det = a * d - b * b;
    const w0 = (d * t(0) - b * t(1)) / det;
    const w1 = (a * t(1) - b * t(0)) / det;
    const model = fitRidge(matrix(rows), Float64Array.from(yv), { l2 });
    close(model.weights[0]!, w0, 1e-12, 'w0');
    close(model.weights[1]!, w1, 1e-12, 'w1');
    close(model.bias, ym - m[0]! * w0 - m[1]! * w1, 1e-12, 'b');
  });

  test('the solution is stationary: ∂/∂w = −2X_cᵀ(y − Xw − b) + 2λw = 0 and the residuals sum to 0', () => {
    const X = randomMatrix(200, 6, 1);
    const rng = createRng(2);
    const y = Float64Array.from({ length: 200 }, () => 10 + rng.next());
    const l2 = 3;
    const model = fitRidge(X, y, { l2 });
    const yhat = predictLinear(model, X);
    let sumResidual = 0;
    for (let i = 0; i < 200; i++) sumResidual += y[i]! - yhat[i]!;
    close(sumResidual, 0, 1e-9, 'Σ residuals');
    for (let j = 0; j < 6; j++) {
      let g = 2 * l2 * model.weights[j]!;
      for (let i = 0; i < 200; i++) g -= 2 * X.data[j * 200 + i]! * (y[i]! - yhat[i]!);
      close(g, 0, 1e-9, `gradient ${j}`);
    }
  });

  test('λ = 0 with a duplicated and a constant column still gives the least-squares fit', () => {
    // y = 2x + 1 exactly; x appears twice and a constant column is added.
    const rows = [0, 1, 2, 3, 4].map((x) => [x, x, 5]);
    const y = Float64Array.from([1, 3, 5, 7, 9]);
    const model = fitRidge(matrix(rows), y, { l2: 0 });
    for (const w of model.weights) assert.ok(Number.isFinite(w));
    // The jitter picks (nearly) the minimum-norm solution: the weight split evenly, none on the constant.
    close(model.weights[0]!, 1, 1e-6, 'w0');
    close(model.weights[1]!, 1, 1e-6, 'w1');
    close(model.weights[2]!, 0, 1e-6, 'w2');
    const yhat = predictLinear(model, matrix(rows));
    for (let i = 0; i < 5; i++) close(yhat[i]!, y[i]!, 1e-6, `ŷ${i}`);
  });

  test('the intercept is not penalised: a huge λ predicts the mean of y', () => {
    const X = randomMatrix(50, 3, 4);
    const y = Float64Array.from({ length: 50 }, (_, i) => i);
    const model = fitRidge(X, y, { l2: 1e12 });
    close(model.bias, 24.5, 1e-6, 'b');
  });

  test('bad call: mismatched lengths, negative λ or NaN in X', () => {
    assert.throws(() => fitRidge(matrix([[1], [2]]), Float64Array.from([1])), RangeError);
    assert.throws(() => fitRidge(matrix([[1], [2]]), Float64Array.from([1, 2]), { l2: -1 }), RangeError);
    assert.throws(() => fitRidge(matrix([[1], [NaN]]), Float64Array.from([1, 2])), RangeError);
  });
});

/** Largest relative difference between the analytic gradient and central differences (f(θ+h) − f(θ−h)) / 2h. */
function gradientError(X: Matrix, y: Int32Array, C: number, l2: number, seed: number): number {
  const K = C === 2 ? 1 : C;
  const fg = logisticObjective(X, y, C, l2);
  const rng = createRng(seed);
  const theta = Float64Array.from({ length: K * X.cols + K }, () => rng.next() * 2 - 1);
  const grad = new Float64Array(theta.length);
  fg(theta, grad);
  const scratch = new Float64Array(theta.length);
  let worst = 0;
  const h = 1e-5;
  for (let k = 0; k < theta.length; k++) {
    const plus = Float64Array.from(theta);
    const minus = Float64Array.from(theta);
    plus[k]! += h;
    minus[k]! -= h;
    const numeric = (fg(plus, scratch) - fg(minus, scratch)) / (2 * h);
    worst = Math.max(worst, Math.abs(numeric - grad[k]!) / Math.max(1e-3, Math.abs(grad[k]!)));
  }
  return worst;
}

function labels(n: number, C: number, seed: number): Int32Array {
  const rng = createRng(seed);
  return Int32Array.from({ length: n }, () => rng.int(C));
}

describe('logistic regression', () => {
  test('gradient check, binary (sigmoid): analytic = finite differences', () => {
    const err = gradientError(randomMatrix(40, 5, 10), labels(40, 2, 11), 2, 0.3, 12);
    assert.ok(err < 1e-6, `relative error ${err}`);
  });

  test('gradient check, multinomial (softmax over 4 classes): analytic = finite differences', () => {
    const err = gradientError(randomMatrix(40, 5, 20), labels(40, 4, 21), 4, 0.3, 22);
    assert.ok(err < 1e-6, `relative error ${err}`);
  });

  test('the binary loss is the log-loss by hand', () => {
    // One row x = 2, y = 1, w = 0.5, b = −0.25: z = 0.75, loss = log(1 + e^{−0.75}); penalty ½·2·0.25.
    const fg = logisticObjective(matrix([[2]]), Int32Array.from([1]), 2, 2);
    const grad = new Float64Array(2);
    const value = fg(Float64Array.from([0.5, -0.25]), grad);
    close(value, Math.log1p(Math.exp(-0.75)) + 0.25, 1e-12, 'f');
    const r = 1 / (1 + Math.exp(-0.75)) - 1;
    close(grad[0]!, r * 2 + 2 * 0.5, 1e-12, '∂w');
    close(grad[1]!, r, 1e-12, '∂b');
  });

  test('huge scores do not overflow (stable log-sum-exp)', () => {
    const fg = logisticObjective(matrix([[1000], [-1000]]), Int32Array.from([0, 2]), 3, 0);
    const grad = new Float64Array(6);
    const value = fg(Float64Array.from([1, 0, -1, 0, 0, 0]), grad);
    // Row 1: z = (1000, 0, −1000), y = 0 → ≈ 0. Row 2: z = (−1000, 0, 1000), y = 2 → ≈ 0.
    assert.ok(Number.isFinite(value) && value < 1e-12);
    for (const g of grad) assert.ok(Number.isFinite(g));
  });

  test('fitLogistic reaches a stationary point of the objective (binary and multinomial)', () => {
    for (const C of [2, 3]) {
      const X = randomMatrix(300, 4, 30 + C);
      const rng = createRng(40 + C);
      // Labels that depend on the features, with noise.
      const y = Int32Array.from({ length: 300 }, (_, i) => {
        const s = X.data[i]! - X.data[300 + i]! + 0.5 * (rng.next() - 0.5);
        return C === 2 ? (s > 0 ? 1 : 0) : s < -0.5 ? 0 : s < 0.5 ? 1 : 2;
      });
      const iterations: number[] = [];
      const fit = fitLogisticDetailed(X, y, C, { l2: 1, tol: 1e-8, onProgress: (it) => iterations.push(it) });
      assert.ok(fit.converged);
      assert.equal(iterations.length, fit.iterations);
      const K = C === 2 ? 1 : C;
      const grad = new Float64Array(K * 4 + K);
      const theta = new Float64Array(K * 4 + K);
      theta.set(fit.model.weights);
      theta.set(fit.model.bias, K * 4);
      logisticObjective(X, y, C, 1)(theta, grad);
      for (const g of grad) assert.ok(Math.abs(g) <= 1e-8);
      // Probabilities are rows that sum to 1.
      const P = predictProba(fit.model, X);
      for (let i = 0; i < 300; i++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += P[i * C + c]!;
        close(s, 1, 1e-12, 'Σp');
      }
    }
  });

  test('the intercept is not penalised: with a huge λ it gives the class log-odds', () => {
    // 30 of 100 rows positive: b → log(0.3 / 0.7) as W → 0.
    const X = randomMatrix(100, 2, 50);
    const y = Int32Array.from({ length: 100 }, (_, i) => (i < 30 ? 1 : 0));
    const model = fitLogistic(X, y, 2, { l2: 1e9 });
    close(model.bias[0]!, Math.log(0.3 / 0.7), 1e-4, 'b');
  });

  test('bad call: labels outside 0..C-1 or fewer than 2 classes', () => {
    const X = matrix([[0], [1]]);
    assert.throws(() => fitLogistic(X, Int32Array.from([0, 2]), 2), RangeError);
    assert.throws(() => fitLogistic(X, Int32Array.from([0, -1]), 3), RangeError);
    assert.throws(() => fitLogistic(X, Int32Array.from([0, 0]), 1), RangeError);
  });
});
