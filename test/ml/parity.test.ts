// Parity with scikit-learn 1.2.1 on the shared datasets and their fixed splits: StandardScaler +
// LogisticRegression(C=1, lbfgs) and StandardScaler + Ridge(alpha=1). Reference figures are from
// /work/shared/data/README.md; each must be met to within 0.01.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fitLogisticDetailed, fitRidge, predictLinear, predictProba } from '../../src/ml/linear.js';
import { classificationReport, regressionReport } from '../../src/ml/metrics.js';
import { fitPreprocessor, transform } from '../../src/ml/preprocess.js';
import type { Matrix, NumericColumn } from '../../src/ml/types.js';

const DATA = resolve(process.cwd(), '../shared/data');

interface Dataset {
  readonly columns: NumericColumn[];
  readonly target: Float64Array;
  readonly train: Uint32Array;
  readonly test: Uint32Array;
}

/** Reads `<name>.csv` (header row, numbers only, no quoting, `target` last) and its split; null if absent. */
function load(name: string): Dataset | null {
  const csv = resolve(DATA, `${name}.csv`);
  const splitFile = resolve(DATA, 'splits', `${name}.split.json`);
  if (!existsSync(csv) || !existsSync(splitFile)) return null;
  const lines = readFileSync(csv, 'utf8').trimEnd().split(/\r?\n/);
  const header = lines[0]!.split(',');
  assert.equal(header.at(-1), 'target');
  const n = lines.length - 1;
  const values = header.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const cells = lines[i + 1]!.split(',');
    assert.equal(cells.length, header.length, `row ${i} of ${name}.csv`);
    cells.forEach((cell, j) => (values[j]![i] = cell === '' ? NaN : Number(cell)));
  }
  const split = JSON.parse(readFileSync(splitFile, 'utf8')) as { train: number[]; test: number[] };
  return {
    columns: header.slice(0, -1).map((h, j) => ({ name: h, kind: 'numeric', values: values[j]! })),
    target: values.at(-1)!,
    train: Uint32Array.from(split.train),
    test: Uint32Array.from(split.test),
  };
}

/** Standardise on the training rows only, as StandardScaler in a scikit-learn Pipeline. */
function prepare(d: Dataset): { Xtrain: Matrix; Xtest: Matrix } {
  const pre = fitPreprocessor(d.columns, d.train);
  return { Xtrain: transform(pre, d.columns, d.train), Xtest: transform(pre, d.columns, d.test) };
}

function loadOrSkip(t: TestContext, name: string): Dataset | null {
  const d = load(name);
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
