import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { classificationReport } from '../../src/ml/metrics.js';
import {
  fitGaussianNB,
  fitMultinomialNB,
  predictGaussianNB,
  predictMultinomialNB,
} from '../../src/ml/naive-bayes.js';
import type { Matrix } from '../../src/ml/types.js';

function matrix(rows: readonly (readonly number[])[]): Matrix {
  const n = rows.length;
  const F = rows[0]!.length;
  const data = new Float64Array(n * F);
  rows.forEach((row, i) => row.forEach((v, j) => (data[j * n + i] = v)));
  return { data, rows: n, cols: F };
}

const close = (actual: number, expected: number, tol: number, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} ≠ ${expected} ± ${tol}`);

const DATA = resolve(process.cwd(), '../shared/data');

/** Raw features of a shared dataset, split into train and test rows; null if absent. */
function load(t: TestContext, name: string) {
  const csv = resolve(DATA, `${name}.csv`);
  const splitFile = resolve(DATA, 'splits', `${name}.split.json`);
  if (!existsSync(csv) || !existsSync(splitFile)) {
    t.skip(`SKIPPED: ${name}.csv or its split is missing under ${DATA}`);
    return null;
  }
  const rows = readFileSync(csv, 'utf8')
    .trimEnd()
    .split(/\r?\n/)
    .slice(1)
    .map((l) => l.split(',').map(Number));
  const split = JSON.parse(readFileSync(splitFile, 'utf8')) as { train: number[]; test: number[] };
  const pick = (idx: number[]) => ({
    X: matrix(idx.map((i) => rows[i]!.slice(0, -1))),
    y: Int32Array.from(idx, (i) => rows[i]!.at(-1)!),
  });
  return { train: pick(split.train), test: pick(split.test) };
}

describe('Gaussian naive Bayes', () => {
  test('by hand: means, population variances, priors and the posterior', () => {
    // Class 0: x = 0, 2 (mean 1, var 1); class 1: x = 4, 6, 8 (mean 6, var 8/3).
    const X = matrix([[0], [2], [4], [6], [8]]);
    const y = Int32Array.from([0, 0, 1, 1, 1]);
    const m = fitGaussianNB(X, y, 2, { varSmoothing: 0 });
    assert.deepEqual(Array.from(m.mean), [1, 6]);
    close(m.variance[0]!, 1, 1e-15);
    close(m.variance[1]!, 8 / 3, 1e-15);
    close(m.logPrior[0]!, Math.log(0.4), 1e-15);
    const normal = (x: number, mu: number, v: number) =>
      Math.exp(-((x - mu) ** 2) / (2 * v)) / Math.sqrt(2 * Math.PI * v);
    const a = 0.4 * normal(3, 1, 1);
    const b = 0.6 * normal(3, 6, 8 / 3);
    const P = predictGaussianNB(m, matrix([[3]]));
    close(P[0]!, a / (a + b), 1e-14);
    close(P[1]!, b / (a + b), 1e-14);
  });

  test('varSmoothing adds that share of the largest feature variance; a constant feature does not divide by zero', () => {
    const X = matrix([
      [0, 5],
      [2, 5],
      [4, 5],
      [6, 5],
    ]);
    const y = Int32Array.from([0, 0, 1, 1]);
    const m = fitGaussianNB(X, y, 2, { varSmoothing: 0.1 });
    // Overall variance of feature 0 is 5; ε = 0.5.
    close(m.variance[0]!, 1 + 0.5, 1e-15);
    close(m.variance[1]!, 0.5, 1e-15);
    const P = predictGaussianNB(m, X);
    assert.ok(P.every(Number.isFinite));
  });

  test('iris: scikit-learn 1.2 GaussianNB’s parameters and probabilities', (t) => {
    const d = load(t, 'iris');
    if (!d) return;
    const m = fitGaussianNB(d.train.X, d.train.y, 3);
    const theta = [4.984999999999999, 3.414999999999999, 1.4774999999999998, 0.255];
    const sigma = [0.09277500310160004, 0.15527500310160003, 0.02524375310160001, 0.012975003101599996];
    for (let j = 0; j < 4; j++) {
      close(m.mean[j]!, theta[j]!, 1e-12, `θ_0${j}`);
      close(m.variance[j]!, sigma[j]!, 1e-12, `σ²_0${j}`);
    }
    const P = predictGaussianNB(m, d.test.X);
    const want = [
      [1.0, 8.223243988098197e-20, 4.819310513120662e-25],
      [1.0, 7.627884936626583e-20, 1.3369784763888389e-24],
      [1.0, 6.307742679991937e-21, 1.1295420672276653e-24],
    ];
    for (let i = 0; i < 3; i++)
      for (let c = 0; c < 3; c++) close(P[i * 3 + c]!, want[i]![c]!, 1e-9 * want[i]![c]! + 1e-30);
    const { metrics } = classificationReport(d.test.y, P, 3);
    close(metrics.accuracy!, 0.9667, 1e-4, 'accuracy');
  });
});

describe('multinomial naive Bayes', () => {
  test('by hand: Laplace-smoothed θ and the posterior', () => {
    // Class 0 counts (2, 1), class 1 counts (0, 3); α = 1: θ_0 = (3/5, 2/5), θ_1 = (1/5, 4/5).
    const X = matrix([
      [1, 1],
      [1, 0],
      [0, 3],
    ]);
    const y = Int32Array.from([0, 0, 1]);
    const m = fitMultinomialNB(X, y, 2);
    close(Math.exp(m.logProb[0]!), 3 / 5, 1e-15);
    close(Math.exp(m.logProb[1]!), 2 / 5, 1e-15);
    close(Math.exp(m.logProb[2]!), 1 / 5, 1e-15);
    close(Math.exp(m.logProb[3]!), 4 / 5, 1e-15);
    // x = (2, 1): P(0) ∝ 2/3·(3/5)²·(2/5), P(1) ∝ 1/3·(1/5)²·(4/5).
    const a = (2 / 3) * (9 / 25) * (2 / 5);
    const b = (1 / 3) * (1 / 25) * (4 / 5);
    const P = predictMultinomialNB(m, matrix([[2, 1]]));
    close(P[0]!, a / (a + b), 1e-14);
  });

  test('a missing (NaN) count counts as 0, in fitting and in predicting', () => {
    const y = Int32Array.from([0, 0, 1]);
    const a = fitMultinomialNB(
      matrix([
        [1, NaN],
        [1, 0],
        [0, 3],
      ]),
      y,
      2,
    );
    const b = fitMultinomialNB(
      matrix([
        [1, 0],
        [1, 0],
        [0, 3],
      ]),
      y,
      2,
    );
    assert.deepEqual(a.logProb, b.logProb);
    assert.deepEqual(predictMultinomialNB(a, matrix([[NaN, 2]])), predictMultinomialNB(a, matrix([[0, 2]])));
  });

  test('digits (pixel counts 0..16): scikit-learn 1.2 MultinomialNB’s accuracy and probabilities', (t) => {
    const d = load(t, 'digits');
    if (!d) return;
    const m = fitMultinomialNB(d.train.X, d.train.y, 10);
    const P = predictMultinomialNB(m, d.test.X);
    // Row 0 of the test split: class 4 with P ≈ 1; class 1 next at 2.2247e-35.
    close(P[4]!, 1, 1e-12);
    close(P[1]! / 2.2247109436151707e-35, 1, 1e-8, 'P(1 | row 0)');
    close(P[10 + 8]! / 2.2710038472830482e-26, 1, 1e-8, 'P(8 | row 1)');
    const { metrics } = classificationReport(d.test.y, P, 10);
    close(metrics.accuracy!, 0.8889, 1e-4, 'accuracy');
    close(metrics.roc_auc!, 0.9914, 1e-4, 'roc_auc');
  });

  test('bad call: a negative value is refused, with where it is', () => {
    assert.throws(
      () => fitMultinomialNB(matrix([[1], [-0.5]]), Int32Array.from([0, 1]), 2),
      /needs non-negative counts: X has -0.5 at row 1, column 0/,
    );
  });
});

describe('naive Bayes: bad calls', () => {
  test('bad call: a label outside 0..C-1', () =>
    assert.throws(() => fitGaussianNB(matrix([[1], [2]]), Int32Array.from([0, 2]), 2), /label 2 at row 1/));
  test('bad call: NaN for the Gaussian model', () =>
    assert.throws(() => fitGaussianNB(matrix([[1], [NaN]]), Int32Array.from([0, 1]), 2), /impute first/));
  test('bad call: predict with the wrong width', () => {
    const m = fitGaussianNB(matrix([[1], [2]]), Int32Array.from([0, 1]), 2);
    assert.throws(() => predictGaussianNB(m, matrix([[1, 2]])), /2 columns, the model 1/);
  });
});
