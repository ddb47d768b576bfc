// Parity with scikit-learn 1.2.1 on the shared datasets and their fixed splits: StandardScaler +
// LogisticRegression(C=1, lbfgs) and StandardScaler + Ridge(alpha=1). Reference figures are from
// /work/shared/data/README.md; each must be met to within 0.01.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { fitLogisticDetailed, fitRidge, predictLinear, predictProba } from '../../src/ml/linear.js';
import { classificationReport, regressionReport } from '../../src/ml/metrics.js';
import { fitPreprocessor, transform } from '../../src/ml/preprocess.js';
import type { Matrix } from '../../src/ml/types.js';
import { DATA, loadShared, type SharedDataset } from '../support/data.js';

/** Standardise on the training rows only, as StandardScaler in a scikit-learn Pipeline. */
function prepare(d: SharedDataset): { Xtrain: Matrix; Xtest: Matrix } {
  const pre = fitPreprocessor(d.columns, d.train);
  return { Xtrain: transform(pre, d.columns, d.train), Xtest: transform(pre, d.columns, d.test) };
}

function loadOrSkip(t: TestContext, name: string): SharedDataset | null {
  const d = loadShared(name);
  if (!d) t.skip(`SKIPPED: ${name}.csv or its split is missing under ${DATA}`);
  return d;
}

describe('parity with scikit-learn on the shared datasets', () => {
  // Test accuracy and one-vs-rest ROC AUC of LogisticRegression(C=1) from the data README.
  const references = [
    { name: 'iris', classes: 3, accuracy: 0.9333, auc: 0.9967 },
    { name: 'wine', classes: 3, accuracy: 0.9722, auc: 1.0 },
    { name: 'breast_cancer', classes: 2, accuracy: 0.9825, auc: 0.9954 },
    { name: 'digits', classes: 10, accuracy: 0.9722, auc: 0.9991 },
  ];
  for (const ref of references) {
    test(`LogisticRegression on ${ref.name}: accuracy ${ref.accuracy}, ROC AUC ${ref.auc}`, (t) => {
      const d = loadOrSkip(t, ref.name);
      if (!d) return;
      const { Xtrain, Xtest } = prepare(d);
      const ytrain = Int32Array.from(d.train, (i) => d.target[i]!);
      const ytest = Int32Array.from(d.test, (i) => d.target[i]!);
      const fit = fitLogisticDetailed(Xtrain, ytrain, ref.classes, { l2: 1 });
      assert.ok(fit.converged, `not converged after ${fit.iterations} iterations`);
      const { metrics } = classificationReport(ytest, predictProba(fit.model, Xtest), ref.classes);
      t.diagnostic(
        `accuracy ${metrics.accuracy!.toFixed(4)}, auc ${metrics.roc_auc!.toFixed(4)}, ${fit.iterations} iterations`,
      );
      assert.ok(Math.abs(metrics.accuracy! - ref.accuracy) <= 0.01, `accuracy ${metrics.accuracy}`);
      assert.ok(Math.abs(metrics.roc_auc! - ref.auc) <= 0.01, `roc_auc ${metrics.roc_auc}`);
    });
  }

  test('Ridge on diabetes: R² 0.4541, RMSE 53.78', (t) => {
    const d = loadOrSkip(t, 'diabetes');
    if (!d) return;
    const { Xtrain, Xtest } = prepare(d);
    const model = fitRidge(
      Xtrain,
      Float64Array.from(d.train, (i) => d.target[i]!),
      { l2: 1 },
    );
    const ytest = Float64Array.from(d.test, (i) => d.target[i]!);
    const { metrics } = regressionReport(ytest, predictLinear(model, Xtest));
    t.diagnostic(`r2 ${metrics.r2!.toFixed(4)}, rmse ${metrics.rmse!.toFixed(2)}`);
    assert.ok(Math.abs(metrics.r2! - 0.4541) <= 0.01, `r2 ${metrics.r2}`);
    // RMSE is in the target's units (0..350); 1% of the reference.
    assert.ok(Math.abs(metrics.rmse! - 53.78) <= 0.54, `rmse ${metrics.rmse}`);
  });
});
