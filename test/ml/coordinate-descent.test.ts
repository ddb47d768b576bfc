import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fitElasticNet, fitSparseLogistic } from '../../src/ml/coordinate-descent.js';
import { fitLogistic, predictProba } from '../../src/ml/linear.js';
import { fitPreprocessor, transform } from '../../src/ml/preprocess.js';
import { createRng, type Rng } from '../../src/ml/rng.js';
import type { Matrix, NumericColumn } from '../../src/ml/types.js';

function gauss(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

function randomMatrix(n: number, F: number, seed: number): Matrix {
  const rng = createRng(seed);
  return { data: Float64Array.from({ length: n * F }, () => gauss(rng)), rows: n, cols: F };
}

const DATA = resolve(process.cwd(), '../shared/data');

/** Standardized training rows of a shared dataset (as StandardScaler), with the raw targets. */
function standardized(t: TestContext, name: string): { X: Matrix; y: Float64Array } | null {
  const csv = resolve(DATA, `${name}.csv`);
  if (!existsSync(csv)) {
    t.skip(`SKIPPED: ${name}.csv is missing under ${DATA}`);
    return null;
  }
  const lines = readFileSync(csv, 'utf8').trimEnd().split(/\r?\n/);
  const header = lines[0]!.split(',');
  const rows = lines.slice(1).map((l) => l.split(',').map(Number));
  const split = JSON.parse(readFileSync(resolve(DATA, 'splits', `${name}.split.json`), 'utf8')) as {
    train: number[];
  };
  const columns: NumericColumn[] = header.slice(0, -1).map((h, j) => ({
    name: h,
    kind: 'numeric',
    values: Float64Array.from(rows, (r) => r[j]!),
  }));
  const X = transform(fitPreprocessor(columns, split.train), columns, split.train);
  return { X, y: Float64Array.from(split.train, (i) => rows[i]!.at(-1)!) };
}

/** Mean log-loss of a logistic model plus the penalty divided by C·n (scikit-learn's objective / (C·n)). */
function logisticObjective(
  X: Matrix,
  y: Int32Array,
  P: Float64Array,
  W: Float64Array,
  C: number,
  rho: number,
): number {
  const K = P.length / X.rows;
  let loss = 0;
  for (let i = 0; i < X.rows; i++) loss -= Math.log(P[i * K + y[i]!]!);
  let l1 = 0;
  let l2 = 0;
  for (const w of W) {
    l1 += Math.abs(w);
    l2 += w * w;
  }
  return loss / X.rows + (rho * l1 + 0.5 * (1 - rho) * l2) / (C * X.rows);
}

describe('elastic net by coordinate descent', () => {
  test('one feature, lasso: the soft-thresholded least-squares slope', () => {
    // x = (1, 2, 3, 4), y = (1, 3, 2, 6): x_cᵀy_c / n = 7/4, x_cᵀx_c / n = 5/4; w = (7/4 − ½) / (5/4) = 1.
    const X: Matrix = { data: Float64Array.from([1, 2, 3, 4]), rows: 4, cols: 1 };
    const y = Float64Array.from([1, 3, 2, 6]);
    const fit = fitElasticNet(X, y, { alpha: 0.5, l1Ratio: 1, tol: 1e-12 });
    assert.ok(Math.abs(fit.model.weights[0]! - 1) < 1e-12);
    assert.ok(Math.abs(fit.model.bias - (3 - 2.5)) < 1e-12);
  });

  test('at α ≥ α_max = ‖X_cᵀy_c‖∞ / (n·ρ) every weight is 0 and the intercept is ȳ', () => {
    const X = randomMatrix(50, 4, 1);
    const y = Float64Array.from({ length: 50 }, (_, i) => X.data[i]! * 3 + 1);
    let alphaMax = 0;
    for (let j = 0; j < 4; j++) {
      let s = 0;
      let mx = 0;
      let my = 0;
      for (let i = 0; i < 50; i++) {
        mx += X.data[j * 50 + i]! / 50;
        my += y[i]! / 50;
      }
      for (let i = 0; i < 50; i++) s += (X.data[j * 50 + i]! - mx) * (y[i]! - my);
      alphaMax = Math.max(alphaMax, Math.abs(s) / (50 * 0.5));
    }
    const off = fitElasticNet(X, y, { alpha: alphaMax * 1.001, l1Ratio: 0.5 });
    assert.ok(off.model.weights.every((w) => w === 0));
    const on = fitElasticNet(X, y, { alpha: alphaMax * 0.9, l1Ratio: 0.5 });
    assert.ok(on.model.weights[0]! > 0);
  });

  test('optimality (KKT): x_jᵀr/n − α(1−ρ)w_j = αρ·sign(w_j) when w_j ≠ 0, and |·| ≤ αρ when w_j = 0', () => {
    const X = randomMatrix(200, 8, 2);
    const rng = createRng(3);
    const y = Float64Array.from(
      { length: 200 },
      (_, i) => 2 * X.data[i]! - X.data[400 + i]! + 0.5 * gauss(rng),
    );
    const alpha = 0.1;
    const rho = 0.7;
    const { model } = fitElasticNet(X, y, { alpha, l1Ratio: rho, tol: 1e-12, maxIter: 100_000 });
    const r = Float64Array.from(y, (v, i) => {
      let f = model.bias;
      for (let j = 0; j < 8; j++) f += model.weights[j]! * X.data[j * 200 + i]!;
      return v - f;
    });
    let zeros = 0;
    for (let j = 0; j < 8; j++) {
      let g = 0;
      for (let i = 0; i < 200; i++) g += X.data[j * 200 + i]! * r[i]!;
      g = g / 200 - alpha * (1 - rho) * model.weights[j]!;
      const w = model.weights[j]!;
      if (w === 0) {
        zeros++;
        assert.ok(Math.abs(g) <= alpha * rho + 1e-9);
      } else {
        assert.ok(Math.abs(g - alpha * rho * Math.sign(w)) < 1e-6, `feature ${j}: ${g}`);
      }
    }
    assert.ok(zeros > 0, 'some weights are exactly 0');
  });

  test('diabetes: scikit-learn 1.2 ElasticNet() and Lasso(alpha=1) weights after StandardScaler', (t) => {
    const d = standardized(t, 'diabetes');
    if (!d) return;
    const enet = [
      1.823915912245268, -6.0421959451576885, 18.961787779791692, 12.26520652853018, -1.1798690349163399,
      -2.880352561926793, -8.437918854077015, 5.846287873407873, 14.419950169339634, 5.012797223635658,
    ];
    const lasso = [
      0.6870323301926187, -9.297519082557365, 26.219224871363288, 15.657314850006996, -8.228174534344275, 0,
      -9.024083406001244, 3.420866487791653, 22.636464163135596, 2.0986461505318967,
    ];
    for (const [rho, want] of [
      [0.5, enet],
      [1, lasso],
    ] as const) {
      const fit = fitElasticNet(d.X, d.y, { alpha: 1, l1Ratio: rho });
      assert.ok(fit.converged);
      for (let j = 0; j < 10; j++)
        assert.ok(Math.abs(fit.model.weights[j]! - want[j]!) < 1e-6, `ρ ${rho}, w_${j}`);
      assert.ok(Math.abs(fit.model.bias - 153.73654390934846) < 1e-9);
    }
  });
});

describe('L1 / elastic-net logistic regression by coordinate descent', () => {
  test('l1Ratio = 0 is the L2 logistic regression (l2 = 1/C) that L-BFGS finds', () => {
    for (const classes of [2, 3]) {
      const X = randomMatrix(150, 4, 10 + classes);
      const y = Int32Array.from({ length: 150 }, (_, i) =>
        Math.min(classes - 1, Math.max(0, Math.round(X.data[i]! + X.data[150 + i]! + classes / 2 - 0.5))),
      );
      const cd = fitSparseLogistic(X, y, classes, { C: 0.5, l1Ratio: 0, tol: 1e-12, maxIter: 1000 });
      const lb = fitLogistic(X, y, classes, { l2: 2, tol: 1e-10, maxIter: 1000 });
      const Pc = predictProba(cd.model, X);
      const Pl = predictProba(lb, X);
      for (let q = 0; q < Pc.length; q++)
        assert.ok(Math.abs(Pc[q]! - Pl[q]!) < 1e-5, `${classes} classes, ${q}`);
    }
  });

  test('optimality (KKT) of the binary L1 problem', () => {
    const X = randomMatrix(300, 10, 4);
    const rng = createRng(5);
    const y = Int32Array.from({ length: 300 }, (_, i) =>
      X.data[i]! - X.data[300 + i]! + gauss(rng) > 0 ? 1 : 0,
    );
    const C = 0.05;
    const { model } = fitSparseLogistic(X, y, 2, { C, tol: 1e-14, maxIter: 1000 });
    const P = predictProba(model, X);
    // ∇ of (1/n)Σ log-loss = (1/n)Xᵀ(p − y); the L1 part has weight 1/(C·n).
    const l1 = 1 / (C * 300);
    let zeros = 0;
    for (let j = 0; j < 10; j++) {
      let g = 0;
      for (let i = 0; i < 300; i++) g += X.data[j * 300 + i]! * (P[i * 2 + 1]! - y[i]!);
      g /= 300;
      const w = model.weights[j]!;
      if (w === 0) {
        zeros++;
        assert.ok(Math.abs(g) <= l1 + 1e-8, `feature ${j}: |${g}| > ${l1}`);
      } else {
        assert.ok(Math.abs(g + l1 * Math.sign(w)) < 1e-6, `feature ${j}: ${g}`);
      }
    }
    assert.ok(zeros >= 5, `${zeros} zero weights`);
  });

  for (const [name, classes, want] of [
    ['iris', 3, 0.2098551318897427],
    ['breast_cancer', 2, 0.08417870831551477],
  ] as const) {
    test(`${name}: at least as low an objective as scikit-learn 1.2's saga at tol 1e-8 (${want})`, (t) => {
      const d = standardized(t, name);
      if (!d) return;
      const y = Int32Array.from(d.y);
      const fit = fitSparseLogistic(d.X, y, classes);
      assert.ok(fit.converged);
      const f = logisticObjective(d.X, y, predictProba(fit.model, d.X), fit.model.weights, 1, 1);
      assert.ok(Math.abs(f - fit.objective) < 1e-12);
      assert.ok(f <= want + 1e-9, `objective ${f}`);
    });
  }
});

describe('coordinate descent: bad calls', () => {
  const X: Matrix = { data: Float64Array.from([0, 1, 2]), rows: 3, cols: 1 };
  test('bad call: l1Ratio outside [0, 1]', () =>
    assert.throws(
      () => fitElasticNet(X, Float64Array.from([0, 1, 2]), { l1Ratio: 1.5 }),
      /l1Ratio must be in/,
    ));
  test('bad call: a negative alpha', () =>
    assert.throws(() => fitElasticNet(X, Float64Array.from([0, 1, 2]), { alpha: -1 }), /alpha must be/));
  test('bad call: NaN in X', () =>
    assert.throws(
      () => fitSparseLogistic({ ...X, data: Float64Array.from([0, NaN, 2]) }, Int32Array.from([0, 1, 1]), 2),
      /NaN at row 1, column 0/,
    ));
});
