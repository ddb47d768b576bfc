import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { classificationReport } from '../../src/ml/metrics.js';
import { fitPreprocessor, transform } from '../../src/ml/preprocess.js';
import { createRng, type Rng } from '../../src/ml/rng.js';
import { fitLinearSVM, plattScaling, predictSVMProba, svmDecision } from '../../src/ml/svm.js';
import type { Matrix, NumericColumn } from '../../src/ml/types.js';

function gauss(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/** n rows, F features, labels from a noisy linear rule over `classes` classes. */
function problem(n: number, F: number, classes: number, seed: number): { X: Matrix; y: Int32Array } {
  const rng = createRng(seed);
  const data = Float64Array.from({ length: n * F }, () => gauss(rng));
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = data[i]! + 0.5 * data[n + i]! + 0.7 * gauss(rng);
    y[i] = classes === 2 ? (s > 0 ? 1 : 0) : Math.min(classes - 1, Math.max(0, Math.floor(s + classes / 2)));
  }
  return { X: { data, rows: n, cols: F }, y };
}

/** ½‖w̃‖² + C·Σ max(0, 1 − yᵢ·w̃ᵀx̃ᵢ)² of one binary problem (positive class 1). */
function primalObjective(X: Matrix, y: Int32Array, w: Float64Array, b: number, C: number): number {
  let loss = 0;
  for (let i = 0; i < X.rows; i++) {
    let f = b;
    for (let j = 0; j < X.cols; j++) f += w[j]! * X.data[j * X.rows + i]!;
    const slack = 1 - (y[i] === 1 ? 1 : -1) * f;
    if (slack > 0) loss += slack * slack;
  }
  let ww = b * b;
  for (const v of w) ww += v * v;
  return 0.5 * ww + C * loss;
}

describe('linear SVM (L2-loss, L2 penalty)', () => {
  test('the dual (coordinate descent) and the primal (L-BFGS) reach the same optimum', () => {
    const { X, y } = problem(400, 5, 2, 1);
    for (const C of [0.1, 1, 10]) {
      const dual = fitLinearSVM(X, y, 2, {
        C,
        rng: createRng(0),
        solver: 'dual',
        tol: 1e-8,
        maxIter: 100_000,
      });
      const primal = fitLinearSVM(X, y, 2, { C, rng: createRng(0), solver: 'primal' });
      assert.ok(dual.converged && primal.converged);
      const pd = primalObjective(X, y, dual.model.weights, dual.model.bias[0]!, C);
      const pp = primalObjective(X, y, primal.model.weights, primal.model.bias[0]!, C);
      assert.ok(Math.abs(pd - pp) <= 1e-7 * pd, `C = ${C}: dual ${pd}, primal ${pp}`);
      for (let j = 0; j < 5; j++)
        assert.ok(Math.abs(dual.model.weights[j]! - primal.model.weights[j]!) < 1e-4);
    }
  });

  test('the solution satisfies the optimality condition w̃ = 2C·Σ slackᵢ·yᵢ·x̃ᵢ', () => {
    const { X, y } = problem(300, 3, 2, 2);
    const C = 0.5;
    const { model } = fitLinearSVM(X, y, 2, {
      C,
      rng: createRng(0),
      solver: 'dual',
      tol: 1e-10,
      maxIter: 100_000,
    });
    const f = svmDecision(model, X);
    const g = new Float64Array(4);
    for (let i = 0; i < X.rows; i++) {
      const yi = y[i] === 1 ? 1 : -1;
      const slack = 1 - yi * f[i]!;
      if (slack <= 0) continue;
      for (let j = 0; j < 3; j++) g[j]! += 2 * C * slack * yi * X.data[j * X.rows + i]!;
      g[3]! += 2 * C * slack * yi;
    }
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(g[j]! - model.weights[j]!) < 1e-6, `w_${j}`);
    assert.ok(Math.abs(g[3]! - model.bias[0]!) < 1e-6, 'b');
  });

  test('one-vs-rest probabilities: rows sum to 1, and binary ones rank rows as the decision does', () => {
    const { X, y } = problem(300, 4, 3, 3);
    const { model } = fitLinearSVM(X, y, 3, { rng: createRng(0) });
    const P = predictSVMProba(model, X);
    for (let i = 0; i < X.rows; i++)
      assert.ok(Math.abs(P[i * 3]! + P[i * 3 + 1]! + P[i * 3 + 2]! - 1) < 1e-12);
    const b = problem(200, 4, 2, 4);
    const fit = fitLinearSVM(b.X, b.y, 2, { rng: createRng(0) });
    const f = svmDecision(fit.model, b.X);
    const Pb = predictSVMProba(fit.model, b.X);
    for (let i = 1; i < b.X.rows; i++) {
      assert.equal(Math.sign(f[i]! - f[i - 1]!), Math.sign(Pb[i * 2 + 1]! - Pb[(i - 1) * 2 + 1]!));
    }
  });

  test('Platt scaling: the gradient of the cross-entropy vanishes at (A, B) = (−a, −b)', () => {
    const rng = createRng(5);
    const f = Float64Array.from({ length: 200 }, () => 2 * gauss(rng));
    const sign = Float64Array.from(f, (v) => (v + gauss(rng) > 0 ? 1 : -1));
    const [a, b] = plattScaling(f, sign);
    const n1 = sign.filter((s) => s > 0).length;
    const t1 = (n1 + 1) / (n1 + 2);
    const t0 = 1 / (200 - n1 + 2);
    let gA = 0;
    let gB = 0;
    for (let i = 0; i < 200; i++) {
      const p = 1 / (1 + Math.exp(-(a * f[i]! + b)));
      const t = sign[i]! > 0 ? t1 : t0;
      gA += (p - t) * f[i]!;
      gB += p - t;
    }
    assert.ok(Math.abs(gA) < 1e-5 && Math.abs(gB) < 1e-5, `gradient ${gA}, ${gB}`);
    assert.ok(a > 0);
  });

  test('breast_cancer: the weights of scikit-learn 1.2 LinearSVC(tol=1e-10)', (t) => {
    const DATA = resolve(process.cwd(), '../shared/data');
    const csv = resolve(DATA, 'breast_cancer.csv');
    if (!existsSync(csv)) return t.skip(`SKIPPED: breast_cancer.csv is missing under ${DATA}`);
    const lines = readFileSync(csv, 'utf8').trimEnd().split(/\r?\n/);
    const header = lines[0]!.split(',');
    const rows = lines.slice(1).map((l) => l.split(',').map(Number));
    const split = JSON.parse(readFileSync(resolve(DATA, 'splits/breast_cancer.split.json'), 'utf8')) as {
      train: number[];
      test: number[];
    };
    const columns: NumericColumn[] = header.slice(0, -1).map((name, j) => ({
      name,
      kind: 'numeric',
      values: Float64Array.from(rows, (r) => r[j]!),
    }));
    const pre = fitPreprocessor(columns, split.train);
    const Xtr = transform(pre, columns, split.train);
    const ytr = Int32Array.from(split.train, (i) => rows[i]!.at(-1)!);
    const fit = fitLinearSVM(Xtr, ytr, 2, { rng: createRng(0), solver: 'primal', maxIter: 10_000 });
    const want = [0.010040626267413165, -0.11772116862668074, 0.007962896517956704, -0.07325538732971029];
    for (let j = 0; j < 4; j++)
      assert.ok(Math.abs(fit.model.weights[j]! - want[j]!) < 2e-4, `w_${j} ${fit.model.weights[j]}`);
    assert.ok(Math.abs(fit.model.bias[0]! - -0.16875758878382507) < 2e-4);
    const yte = Int32Array.from(split.test, (i) => rows[i]!.at(-1)!);
    const { metrics } = classificationReport(
      yte,
      predictSVMProba(fit.model, transform(pre, columns, split.test)),
      2,
    );
    assert.ok(metrics.accuracy! >= 0.9649 - 0.01, `accuracy ${metrics.accuracy}`);
  });
});

describe('linear SVM: bad calls', () => {
  const X: Matrix = { data: Float64Array.from([0, 1, 2, 3]), rows: 4, cols: 1 };
  test('bad call: C ≤ 0', () =>
    assert.throws(
      () => fitLinearSVM(X, Int32Array.from([0, 0, 1, 1]), 2, { C: 0, rng: createRng(0) }),
      /C must be/,
    ));
  test('bad call: a label outside 0..C-1', () =>
    assert.throws(
      () => fitLinearSVM(X, Int32Array.from([0, 0, 1, 3]), 2, { rng: createRng(0) }),
      /label 3 at row 3/,
    ));
  test('bad call: NaN in X', () =>
    assert.throws(
      () =>
        fitLinearSVM({ ...X, data: Float64Array.from([0, NaN, 2, 3]) }, Int32Array.from([0, 0, 1, 1]), 2, {
          rng: createRng(0),
        }),
      /impute first/,
    ));
});
