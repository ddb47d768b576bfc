import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  accuracy,
  balancedAccuracy,
  classificationReport,
  confusionMatrix,
  logLoss,
  mae,
  mape,
  precisionRecallF1,
  r2,
  regressionReport,
  rmse,
  rocAuc,
  rocAucFromProba,
} from '../../src/ml/metrics.js';

const close = (actual: number, expected: number, tol = 1e-12, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} ≠ ${expected}`);

// A 3-class example worked by hand. Confusion matrix (row = true, column = predicted):
//   [1 1 0]   class 0: tp 1, predicted 2, actual 2 → P ½,  R ½,  F1 ½
//   [0 2 0]   class 1: tp 2, predicted 3, actual 2 → P ⅔,  R 1,  F1 0.8
//   [1 0 2]   class 2: tp 2, predicted 2, actual 3 → P 1,  R ⅔,  F1 0.8
const yTrue = Int32Array.from([0, 0, 1, 1, 2, 2, 2]);
const yPred = Int32Array.from([0, 1, 1, 1, 2, 0, 2]);

describe('classification metrics', () => {
  test('confusion matrix, accuracy, balanced accuracy', () => {
    assert.deepEqual(confusionMatrix(yTrue, yPred, 3), [
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 2],
    ]);
    close(accuracy(yTrue, yPred), 5 / 7);
    close(balancedAccuracy(yTrue, yPred, 3), (0.5 + 1 + 2 / 3) / 3);
  });

  test('precision, recall, F1: per class, macro and weighted', () => {
    const s = precisionRecallF1(yTrue, yPred, 3);
    assert.deepEqual(s.support, [2, 2, 3]);
    [0.5, 2 / 3, 1].forEach((p, c) => close(s.precision[c]!, p));
    [0.5, 1, 2 / 3].forEach((r, c) => close(s.recall[c]!, r));
    [0.5, 0.8, 0.8].forEach((f, c) => close(s.f1[c]!, f));
    close(s.macro.precision, (0.5 + 2 / 3 + 1) / 3);
    close(s.macro.recall, (0.5 + 1 + 2 / 3) / 3);
    close(s.macro.f1, 0.7);
    close(s.weighted.precision, (2 * 0.5 + 2 * (2 / 3) + 3 * 1) / 7);
    close(s.weighted.recall, 5 / 7);
    close(s.weighted.f1, (2 * 0.5 + 2 * 0.8 + 3 * 0.8) / 7);
  });

  test('a class never true nor predicted is left out of the macro mean', () => {
    const s = precisionRecallF1(Int32Array.from([0, 1]), Int32Array.from([0, 1]), 3);
    close(s.macro.f1, 1);
  });

  test('ROC AUC with ties: a tied positive–negative pair counts ½', () => {
    // Positives 0.35, 0.8, 0.4; negatives 0.1, 0.4, 0.4.
    // Pairs won: 0.35 → 1 (beats 0.1); 0.8 → 3; 0.4 → 1 + ½ + ½. AUC = 6 / 9.
    const y = [0, 0, 1, 1, 0, 1];
    const s = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4];
    close(rocAuc(y, s), 2 / 3);
    close(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75); // scikit-learn's documented example
    close(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]), 0.5);
    close(rocAuc([0, 1], [-Infinity, Infinity]), 1);
    assert.ok(Number.isNaN(rocAuc([1, 1], [0.2, 0.3])));
  });

  test('ROC AUC one-vs-rest macro equals the mean of the three binary AUCs', () => {
    const y = Int32Array.from([0, 1, 2, 0, 1, 2]);
    const P = Float64Array.from([
      0.7, 0.2, 0.1, 0.3, 0.4, 0.3, 0.2, 0.5, 0.3, 0.4, 0.4, 0.2, 0.3, 0.3, 0.4, 0.1, 0.1, 0.8,
    ]);
    const col = (c: number): number[] => [0, 1, 2, 3, 4, 5].map((i) => P[i * 3 + c]!);
    const is = (c: number): boolean[] => Array.from(y, (v) => v === c);
    const expected = (rocAuc(is(0), col(0)) + rocAuc(is(1), col(1)) + rocAuc(is(2), col(2))) / 3;
    close(rocAucFromProba(y, P, 3), expected);
    // By hand, class 0: positives 0.7, 0.4; negatives 0.3, 0.2, 0.3, 0.1 → all 8 pairs won.
    close(rocAuc(is(0), col(0)), 1);
  });

  test('log loss, by hand and clipped', () => {
    const y = Int32Array.from([0, 1]);
    close(logLoss(y, Float64Array.from([0.8, 0.2, 0.4, 0.6]), 2), -(Math.log(0.8) + Math.log(0.6)) / 2);
    // A certain mistake costs −log(1e-15) instead of ∞.
    close(logLoss(Int32Array.from([1]), Float64Array.from([1, 0]), 2), -Math.log(1e-15), 1e-9);
  });

  test('classification report: plain JSON with the binary extras', () => {
    const y = Int32Array.from([0, 0, 1, 1]);
    const P = Float64Array.from([0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8]);
    const report = classificationReport(y, P, 2);
    assert.deepEqual(report.confusionMatrix, [
      [2, 0],
      [1, 1],
    ]);
    close(report.metrics.accuracy!, 0.75);
    close(report.metrics.precision!, 1);
    close(report.metrics.recall!, 0.5);
    close(report.metrics.f1!, 2 / 3);
    close(report.metrics.roc_auc!, 0.75);
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });

  test('undefined metrics are left out of the report', () => {
    const report = classificationReport(Int32Array.from([1, 1]), Float64Array.from([0.3, 0.7, 0.6, 0.4]), 2);
    assert.equal('roc_auc' in report.metrics, false);
    assert.equal(report.metrics.accuracy, 0.5);
  });

  test('bad call: labels outside 0..C-1 and shape mismatches', () => {
    assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), RangeError);
    assert.throws(() => accuracy([0, 1], [0]), RangeError);
    assert.throws(() => classificationReport(Int32Array.from([0]), Float64Array.from([1]), 2), RangeError);
  });
});

describe('regression metrics', () => {
  // scikit-learn's documented example: y = (3, −0.5, 2, 7), ŷ = (2.5, 0, 2, 8).
  const y = Float64Array.from([3, -0.5, 2, 7]);
  const yhat = Float64Array.from([2.5, 0, 2, 8]);

  test('RMSE, MAE, R², MAPE against the documented values', () => {
    close(rmse(y, yhat), Math.sqrt(0.375));
    close(mae(y, yhat), 0.5);
    close(r2(y, yhat), 0.9486081370449679);
    close(mape(y, yhat), (0.5 / 3 + 1 + 0 + 1 / 7) / 4); // 0.3273809523809524 in the docs
  });

  test('R² of a constant target: 1 if exact, 0 otherwise', () => {
    assert.equal(r2([2, 2], [2, 2]), 1);
    assert.equal(r2([2, 2], [2, 3]), 0);
  });

  test('regression report', () => {
    const report = regressionReport(y, yhat);
    assert.deepEqual(Object.keys(report.metrics).sort(), ['mae', 'mape', 'r2', 'rmse']);
    close(report.metrics.rmse!, Math.sqrt(0.375));
  });
});
