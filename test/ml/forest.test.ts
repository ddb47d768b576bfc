/**
 * Random forests: max_features rules, out-of-bag score, determinism across thread counts (the
 * worker path from the compiled dist/ layout included), and parity with scikit-learn 1.2's
 * RandomForest on the shared datasets and splits (figures from ../shared/data/README.md).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { fitForest, predictForest, resolveMaxFeatures } from '../../src/ml/forest.js';
import type { ForestModel } from '../../src/ml/forest.js';
import { classificationReport, regressionReport } from '../../src/ml/metrics.js';
import { createRng } from '../../src/ml/rng.js';
import type { Matrix } from '../../src/ml/types.js';
import { loadSharedOrSkip, rawSplit, type RawSplit } from '../support/data.js';

/** A shared dataset split by its split file; undefined (and skipped loudly) when absent. */
function loadSplit(t: TestContext, name: string): RawSplit | undefined {
  const d = loadSharedOrSkip(t, name);
  return d ? rawSplit(d) : undefined;
}

const sameForest = (a: ForestModel, b: ForestModel) => {
  assert.equal(a.ensemble.trees.length, b.ensemble.trees.length);
  a.ensemble.trees.forEach((t, k) => {
    const u = b.ensemble.trees[k]!;
    assert.deepEqual(Array.from(t.feature), Array.from(u.feature), `tree ${k}`);
    assert.deepEqual(Array.from(t.value), Array.from(u.value), `tree ${k}`);
  });
  assert.equal(a.oobScore, b.oobScore);
  assert.deepEqual(Array.from(a.importance), Array.from(b.importance));
};

describe('fitForest', () => {
  it('draws sqrt, log2 or all features per split, as scikit-learn', () => {
    assert.equal(resolveMaxFeatures('sqrt', 30), 5);
    assert.equal(resolveMaxFeatures('log2', 30), 4);
    assert.equal(resolveMaxFeatures('all', 30), 30);
    assert.equal(resolveMaxFeatures(0.5, 7), 3);
    assert.equal(resolveMaxFeatures('sqrt', 1), 1);
    assert.throws(() => resolveMaxFeatures(1.5, 4), /maxFeatures/);
  });

  it('averages class distributions (rows sum to 1) and scores out of bag', () => {
    const rng = createRng(1);
    const n = 400;
    const data = new Float64Array(2 * n);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      data[i] = rng.next();
      data[n + i] = rng.next();
      y[i] = data[i]! + 0.2 * rng.next() > 0.6 ? 2 : data[n + i]! > 0.5 ? 1 : 0;
    }
    const X: Matrix = { data, rows: n, cols: 2 };
    const model = fitForest(X, y, { task: 'classification', trees: 25, seed: 2 });
    const P = predictForest(model, X);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(P[3 * i]! + P[3 * i + 1]! + P[3 * i + 2]! - 1) < 1e-6);
    assert.ok(model.oobScore! > 0.8 && model.oobScore! < 1, `oob ${model.oobScore}`);
    const noBootstrap = fitForest(X, y, { task: 'classification', trees: 3, bootstrap: false, seed: 2 });
    assert.equal(noBootstrap.oobScore, undefined);
  });

  it('predicts a constant target everywhere', () => {
    const X: Matrix = { data: Float64Array.from({ length: 40 }, (_, i) => i % 7), rows: 40, cols: 1 };
    const model = fitForest(X, new Float64Array(40).fill(-3), { task: 'regression', trees: 5 });
    assert.deepEqual(new Set(predictForest(model, X)), new Set([-3]));
  });

  it('gives the same forest and out-of-bag score on one thread and two (workers from dist/)', () => {
    const rng = createRng(3);
    const n = 3000;
    const F = 8;
    const data = Float64Array.from({ length: n * F }, () => rng.next());
    const y = Float64Array.from(
      { length: n },
      (_, i) => data[i]! * 3 + Math.sin(6 * data[n + i]!) + rng.next(),
    );
    const X: Matrix = { data, rows: n, cols: F };
    const options = { task: 'regression', trees: 12, maxFeatures: 0.5, seed: 4 } as const;
    const one = fitForest(X, y, { ...options, threads: 1 });
    const two = fitForest(X, y, { ...options, threads: 2 });
    assert.equal(two.threads, 2);
    sameForest(one, two);
    let done = 0;
    fitForest(X, y, { ...options, threads: 2, onProgress: (d) => (done = d) });
    assert.equal(done, 12);
  });

  it('bad call: no trees, labels outside the classes', () => {
    const X: Matrix = { data: Float64Array.from([0, 1, 2]), rows: 3, cols: 1 };
    assert.throws(
      () => fitForest(X, Int32Array.from([0, 1, 0]), { task: 'classification', trees: 0 }),
      /trees/,
    );
    assert.throws(
      () => fitForest(X, Int32Array.from([0, 1, 3]), { task: 'classification', classes: 2 }),
      /outside/,
    );
  });
});

describe('fitForest: parity with scikit-learn 1.2 RandomForest (100 trees, same split)', () => {
  // [dataset, accuracy, ROC AUC]: accuracy within 1 percentage point or better, ROC AUC within 0.01.
  const classification = [
    ['iris', 0.9333, 0.9883],
    ['breast_cancer', 0.9474, 0.9927],
  ] as const;
  for (const [name, accuracy, auc] of classification) {
    it(`${name}: accuracy ${accuracy}, ROC AUC ${auc}`, (t) => {
      const d = loadSplit(t, name);
      if (!d) return;
      const model = fitForest(d.Xtrain, Int32Array.from(d.ytrain), { task: 'classification', seed: 0 });
      const report = classificationReport(
        Int32Array.from(d.ytest),
        predictForest(model, d.Xtest),
        model.classes,
      );
      assert.ok(report.metrics.accuracy! >= accuracy - 0.01, `accuracy ${report.metrics.accuracy}`);
      assert.ok(report.metrics.roc_auc! >= auc - 0.01, `ROC AUC ${report.metrics.roc_auc}`);
    });
  }

  it('diabetes: RMSE within 3% of 55.88', (t) => {
    const d = loadSplit(t, 'diabetes');
    if (!d) return;
    const model = fitForest(d.Xtrain, d.ytrain, { task: 'regression', seed: 0 });
    const rmse = regressionReport(d.ytest, predictForest(model, d.Xtest)).metrics.rmse!;
    assert.ok(rmse <= 55.88 * 1.03, `RMSE ${rmse}`);
  });
});
