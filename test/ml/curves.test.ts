import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  averagePrecision,
  calibrationCurve,
  precisionRecallCurve,
  rocCurve,
  thinIndices,
} from '../../src/ml/curves.js';
import { rocAuc } from '../../src/ml/metrics.js';
import { createRng } from '../../src/ml/rng.js';
import { averagePrecisionFromProba } from '../../src/training/evaluate.js';

const close = (a: readonly number[], b: readonly number[], eps = 1e-12) => {
  assert.equal(a.length, b.length, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  a.forEach((x, k) => assert.ok(Math.abs(x - b[k]!) <= eps, `${k}: ${x} vs ${b[k]}`));
};

// The worked example of scikit-learn's documentation: y = [0, 0, 1, 1], scores [0.1, 0.4, 0.35, 0.8].
// Scores in decreasing order: 0.8 (+), 0.4 (−), 0.35 (+), 0.1 (−), so tp = 1, 1, 2, 2 and fp = 0, 1, 1, 2.
const y = [0, 0, 1, 1];
const s = [0.1, 0.4, 0.35, 0.8];

describe('rocCurve', () => {
  test('the documented example: every point is a corner, plus (0, 0) at max + 1', () => {
    const r = rocCurve(y, s)!;
    close(r.fpr, [0, 0, 0.5, 0.5, 1]);
    close(r.tpr, [0, 0.5, 0.5, 1, 1]);
    close(r.thresholds, [1.8, 0.8, 0.4, 0.35, 0.1]);
  });

  test('points on a straight segment are dropped (drop_intermediate)', () => {
    // tp = 1, 2, 2, 2 and fp = 0, 0, 1, 2: the point at 0.7 lies between (0, 1) and (1, 1).
    const r = rocCurve([1, 1, 0, 0], [0.9, 0.8, 0.7, 0.6])!;
    close(r.fpr, [0, 0, 0, 1]);
    close(r.tpr, [0, 0.5, 1, 1]);
    close(r.thresholds, [1.9, 0.9, 0.8, 0.6]);
  });

  test('tied scores make one point; the trapezoids add up to the Mann–Whitney AUC', () => {
    const positive = [1, 0, 1, 0];
    const score = [0.5, 0.5, 0.5, 0.2];
    const r = rocCurve(positive, score)!;
    close(r.fpr, [0, 0.5, 1]);
    close(r.tpr, [0, 1, 1]);
    // Area: ½·0.5·1 + 0.5·1 = 0.75; pairs: (½ + 1 + ½ + 1) / 4 = 0.75.
    let area = 0;
    for (let k = 1; k < r.fpr.length; k++)
      area += ((r.fpr[k]! - r.fpr[k - 1]!) * (r.tpr[k]! + r.tpr[k - 1]!)) / 2;
    assert.equal(area, 0.75);
    assert.equal(rocAuc(positive, score), 0.75);
  });

  test('random scores: the area under the curve equals rocAuc', () => {
    const rng = createRng(3);
    const positive = Array.from({ length: 500 }, () => (rng.next() < 0.3 ? 1 : 0));
    const score = positive.map((p) => Math.round((rng.next() + 0.4 * p) * 20) / 20);
    const r = rocCurve(positive, score)!;
    let area = 0;
    for (let k = 1; k < r.fpr.length; k++)
      area += ((r.fpr[k]! - r.fpr[k - 1]!) * (r.tpr[k]! + r.tpr[k - 1]!)) / 2;
    assert.ok(Math.abs(area - rocAuc(positive, score)) < 1e-12);
  });

  test('bad call: one class only → undefined; NaN score → RangeError', () => {
    assert.equal(rocCurve([1, 1], [0.2, 0.3]), undefined);
    assert.equal(rocCurve([0, 0], [0.2, 0.3]), undefined);
    assert.throws(() => rocCurve([0, 1], [0.2, NaN]), RangeError);
    assert.throws(() => rocCurve([0, 1], [0.2]), RangeError);
  });
});

describe('precisionRecallCurve and averagePrecision', () => {
  test('the documented example, in increasing threshold order, ending at (recall 0, precision 1)', () => {
    const p = precisionRecallCurve(y, s)!;
    close(p.precision, [0.5, 2 / 3, 0.5, 1, 1]);
    close(p.recall, [1, 1, 0.5, 0.5, 0]);
    close(p.thresholds, [0.1, 0.35, 0.4, 0.8, 1.8]);
  });

  test('AP = Σ (Rₙ − Rₙ₋₁)·Pₙ = 0.5·1 + 0·½ + 0.5·⅔ = 0.8333 (scikit-learn: 0.83)', () => {
    assert.ok(Math.abs(averagePrecision(y, s) - (0.5 + 1 / 3)) < 1e-12);
  });

  test('a perfect ranking has AP 1; no positive row makes AP NaN and no curve', () => {
    assert.equal(averagePrecision([0, 1, 1], [0.1, 0.8, 0.9]), 1);
    assert.ok(Number.isNaN(averagePrecision([0, 0], [0.1, 0.2])));
    assert.equal(precisionRecallCurve([0, 0], [0.1, 0.2]), undefined);
  });

  test('multiclass: macro mean of one-vs-rest AP = scikit-learn 1.2.1 average_precision_score (0.907407)', () => {
    const labels = Int32Array.from([0, 1, 2, 2, 1, 0, 1, 2]);
    const P = Float64Array.from(
      [
        [0.7, 0.2, 0.1],
        [0.2, 0.5, 0.3],
        [0.1, 0.3, 0.6],
        [0.3, 0.3, 0.4],
        [0.4, 0.4, 0.2],
        [0.5, 0.3, 0.2],
        [0.1, 0.8, 0.1],
        [0.2, 0.5, 0.3],
      ].flat(),
    );
    assert.ok(Math.abs(averagePrecisionFromProba(labels, P, 3) - 0.9074074074074074) < 1e-12);
  });
});

describe('calibrationCurve', () => {
  test('uniform bins (b/10, (b+1)/10], empty bins left out (scikit-learn 1.2.1 values)', () => {
    // Bin 0 holds 0, 0.05 and 0.1 (an edge belongs to the bin below), bin 1 0.15, bin 2 0.3, bin 9 0.95 and 1.
    const c = calibrationCurve([0, 0, 1, 0, 1, 1, 0], [0.05, 0.1, 0.15, 0.3, 0.95, 1.0, 0], 10);
    close(c.fractionPositive, [0, 1, 0, 1]);
    close(c.meanPredicted, [0.05, 0.15, 0.3, 0.975]);
    assert.deepEqual(c.count, [3, 1, 1, 2]);
  });

  test('float noise at an edge does not move a probability: 0.3 and 0.7 stay below their edges', () => {
    const c = calibrationCurve([1, 0], [0.3, 0.7], 10);
    close(c.meanPredicted, [0.3, 0.7]);
    const d = calibrationCurve([1, 1, 0], [0.3, 0.31, 0.7], 10);
    assert.deepEqual(d.count, [1, 1, 1], '0.3 in (0.2, 0.3], 0.31 in (0.3, 0.4]');
  });

  test('bad call: a probability outside [0, 1] or bins < 1', () => {
    assert.throws(() => calibrationCurve([1], [1.5]), RangeError);
    assert.throws(() => calibrationCurve([1], [0.5], 0), RangeError);
  });
});

describe('thinIndices', () => {
  test('keeps everything when short, else spreads maxPoints indices with both ends', () => {
    assert.deepEqual(thinIndices(3, 200), [0, 1, 2]);
    const k = thinIndices(1000, 200);
    assert.equal(k.length, 200);
    assert.equal(k[0], 0);
    assert.equal(k[199], 999);
    for (let i = 1; i < k.length; i++) assert.ok(k[i]! > k[i - 1]!);
  });
});
