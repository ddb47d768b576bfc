// The `mlp` trainer: its parameters resolve to the ml/ defaults, it reports progress per epoch,
// stops early on the validation rows the pipeline hands it, and its ONNX head is the perceptron's.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MLP_DEFAULTS } from '../../src/ml/mlp.js';
import { createRng } from '../../src/ml/rng.js';
import type { Matrix } from '../../src/ml/types.js';
import { resolveParams } from '../../src/training/params.js';
import type { FitContext } from '../../src/training/trainer.js';
import { mlp } from '../../src/training/trainers/mlp.js';

function problem(n: number, seed: number): { X: Matrix; y: Int32Array; v: Float64Array } {
  const rng = createRng(seed);
  const data = Float64Array.from({ length: 2 * n }, () => 2 * rng.next() - 1);
  const y = Int32Array.from({ length: n }, (_, i) => (data[i]! * data[n + i]! > 0 ? 1 : 0));
  const v = Float64Array.from({ length: n }, (_, i) => data[i]! - 2 * data[n + i]!);
  return { X: { data, rows: n, cols: 2 }, y, v };
}

function context(
  overrides: Partial<FitContext> = {},
): FitContext & { reports: [number, number, Record<string, number>][] } {
  const reports: [number, number, Record<string, number>][] = [];
  return {
    task: 'classification',
    classes: 2,
    seed: 1,
    onProgress: (fraction, iteration, metrics) => reports.push([fraction, iteration, metrics]),
    ...overrides,
    reports,
  };
}

describe('mlp trainer', () => {
  test('every parameter has a spec, and the resolved defaults are those of ml/mlp', () => {
    const params = resolveParams(mlp, {});
    for (const [name, value] of Object.entries(params)) {
      assert.deepEqual(value, MLP_DEFAULTS[name as keyof typeof MLP_DEFAULTS], name);
    }
    assert.equal(mlp.preprocessing, 'scaled');
    assert.equal(mlp.params.hiddenLayers!.type, 'integers');
    assert.equal(mlp.wantsValidation?.(params), false);
    assert.equal(mlp.wantsValidation?.({ ...params, earlyStopping: true }), true);
  });

  test('classification: progress per epoch, info, a classification head', () => {
    const { X, y } = problem(400, 2);
    const params = resolveParams(mlp, { hiddenLayers: [16, 8], maxEpochs: 20, learningRate: 0.01 });
    const ctx = context();
    const fitted = mlp.fit(X, y, params, ctx);
    assert.equal(ctx.reports.length, fitted.info.epochs);
    assert.deepEqual(ctx.reports[0]!.slice(0, 2), [1 / 20, 1]);
    assert.ok(Number.isFinite(ctx.reports[0]![2].loss!));
    assert.equal(fitted.info.converged, fitted.info.stopReason !== 'max_epochs');
    assert.equal(fitted.head.kind, 'classification');
    const P = fitted.predict(X);
    assert.equal(P.length, 2 * X.rows);
  });

  test('early stopping uses ctx.validation and reports the validation score', () => {
    const { X, y } = problem(400, 3);
    const valid = problem(100, 4);
    const params = resolveParams(mlp, { earlyStopping: true, maxEpochs: 500, learningRate: 0.01 });
    const ctx = context({ validation: { X: valid.X, y: valid.y } });
    const fitted = mlp.fit(X, y, params, ctx);
    assert.equal(fitted.info.stopReason, 'validation_score');
    const scores = ctx.reports.map((r) => r[2].validation_score!);
    assert.equal(fitted.info.bestValidationScore, Math.max(...scores));
    // Accuracy on 100 validation rows.
    for (const s of scores) assert.ok(Math.abs(s * 100 - Math.round(s * 100)) < 1e-9);
  });

  test('regression: a regression head and values', () => {
    const { X, v } = problem(300, 5);
    const params = resolveParams(mlp, { maxEpochs: 5 });
    const fitted = mlp.fit(X, v, params, context({ task: 'regression', classes: 0 }));
    assert.equal(fitted.head.kind, 'regression');
    assert.equal(fitted.predict(X).length, X.rows);
  });

  test('bad call: no target', () => {
    const { X } = problem(10, 6);
    assert.throws(() => mlp.fit(X, undefined, resolveParams(mlp, {}), context()), /needs a target/);
  });
});
