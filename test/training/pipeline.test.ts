// One training run through trainPipeline on the shared datasets: the evaluation report stored with
// every version, byte-identical models for the same seed and data, a search and the automatic mode.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { trainPipeline } from '../../src/training/pipeline.js';
import type { TrainSpec } from '../../src/training/spec.js';
import { loadShared, SHARED_DATA } from './helpers.js';

const skip = existsSync(SHARED_DATA) ? false : `${SHARED_DATA} is absent`;
const quiet = () => {};

describe('trainPipeline', { skip }, () => {
  test('the same seed and data give a byte-identical ONNX model; another seed another model', async () => {
    const { columns, spec } = await loadShared('breast_cancer');
    const a = trainPipeline(columns, spec, quiet);
    const b = trainPipeline(columns, spec, quiet);
    assert.ok(Buffer.from(a.onnx).equals(Buffer.from(b.onnx)), 'same bytes');
    assert.deepEqual(a.metrics, b.metrics, 'same report, permutation importance included');
    const c = trainPipeline(columns, { ...spec, seed: 7 }, quiet);
    assert.ok(!Buffer.from(a.onnx).equals(Buffer.from(c.onnx)));
  });

  test('binary: ROC and PR curves of the positive class, calibration, AP, both importances', async () => {
    const { columns, spec } = await loadShared('breast_cancer');
    const m = trainPipeline(columns, spec, quiet).metrics as any;
    assert.ok(m.accuracy > 0.95);
    assert.ok(m.average_precision > 0.95 && m.average_precision <= 1);
    assert.equal(m.curves.roc.length, 1);
    const roc = m.curves.roc[0];
    assert.equal(roc.label, 1);
    assert.ok(Math.abs(roc.auc - m.roc_auc) < 1e-6, 'the curve AUC is the test AUC');
    assert.ok(roc.fpr.length <= 200 && roc.fpr.length === roc.tpr.length);
    assert.deepEqual([roc.fpr[0], roc.tpr[0]], [0, 0]);
    assert.deepEqual([roc.fpr.at(-1), roc.tpr.at(-1)], [1, 1]);
    const pr = m.curves.precisionRecall[0];
    assert.ok(Math.abs(pr.averagePrecision - m.average_precision) < 1e-6);
    assert.ok(pr.precision.length <= 200);
    assert.equal(m.calibration.length, 1);
    assert.equal(m.calibration[0].bins, 10);
    assert.equal(
      m.calibration[0].count.reduce((a: number, b: number) => a + b, 0),
      114,
      'every test row is in a bin',
    );
    const perm = m.permutationImportance;
    assert.equal(perm.metric, 'accuracy');
    assert.equal(perm.repeats, 5);
    assert.equal(perm.rows, 114);
    assert.equal(perm.features.length, 30);
    assert.ok(Math.abs(perm.baseline - m.accuracy) < 1e-6);
    assert.ok(m.importance.length === 30, 'native importance next to it');
  });

  test('multiclass: one-vs-rest curves per class; regression: permutation importance by R², no curves', async () => {
    const iris = await loadShared('iris');
    const m = trainPipeline(iris.columns, iris.spec, quiet).metrics as any;
    assert.deepEqual(
      m.curves.roc.map((c: { label: number }) => c.label),
      [0, 1, 2],
    );
    assert.equal(m.calibration.length, 3);
    assert.ok(m.average_precision > 0.9);
    const diabetes = await loadShared('diabetes');
    const r = trainPipeline(diabetes.columns, diabetes.spec, quiet).metrics as any;
    assert.equal(r.curves, undefined);
    assert.equal(r.permutationImportance.metric, 'r2');
    assert.equal(r.permutationImportance.features.length, 10);
    assert.ok(Math.abs(r.permutationImportance.baseline - r.r2) < 1e-6);
  });

  test('search: trials on the training rows, progress trial n/N, the best params fitted; seeded', async () => {
    const { columns, spec } = await loadShared('breast_cancer');
    const searched: TrainSpec = {
      ...spec,
      params: { l2: 1, maxIter: 300 },
      search: {
        strategy: 'grid',
        space: { l2: { kind: 'choice', values: [0.001, 0.1, 10, 1000] } },
        budget: {},
        folds: 3,
        metric: 'accuracy',
      },
    };
    const messages: string[] = [];
    const out = trainPipeline(columns, searched, (_f, message) => messages.push(message));
    const s = (out.metrics as any).search;
    assert.equal(s.trials.length, 4);
    assert.equal(s.folds, 3);
    assert.ok(
      messages.some((m) => /^trial 4\/4: accuracy 0\.\d{4}; best 0\.\d{4}$/.test(m)),
      messages.join('\n'),
    );
    const best = s.trials.reduce((a: any, b: any) => (b.score > a.score ? b : a));
    assert.equal(s.bestTrial, best.trial);
    assert.equal(out.params.l2, best.params.l2, 'the version is fitted with the best params');
    assert.equal(s.bestParams.maxIter, 300);
    assert.ok(best.params.l2 !== 1000, 'a heavy penalty does worse');
    const again = trainPipeline(columns, searched, quiet);
    assert.ok(
      Buffer.from(again.onnx).equals(Buffer.from(out.onnx)),
      'a search with a trial budget is reproducible',
    );
  });

  test('auto: a leaderboard on the training rows, the winner fitted and named as the algorithm', async () => {
    const { columns, spec } = await loadShared('iris');
    const out = trainPipeline(
      columns,
      { ...spec, algorithm: 'auto', params: {}, timeBudgetSeconds: 3, autoMetric: 'roc_auc' },
      quiet,
    );
    const a = (out.metrics as any).auto;
    assert.equal(a.metric, 'roc_auc');
    assert.equal(a.folds, 5, 'small data: 5-fold cross-validation of the training rows');
    assert.ok(a.leaderboard.length >= 1);
    assert.equal(a.leaderboard.find((r: { picked?: boolean }) => r.picked).algorithm, out.algorithm);
    assert.equal(a.best.algorithm, out.algorithm);
    assert.ok(a.seconds < 3.5, `${a.seconds} s for a 3 s budget`);
    assert.ok((out.metrics as any).roc_auc > 0.95);
  });
});
