/**
 * The `gradient_boosting` and `random_forest` trainers as the pipeline drives them: 'raw'
 * preprocessing, default parameters from their ParamSpecs, progress, importance and info, and an
 * exported head that ONNX Runtime runs to the same answers as `predict`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { fitPreprocessor, transform } from '../../src/ml/preprocess.js';
import type { Column } from '../../src/ml/types.js';
import { exportPipeline } from '../../src/onnx/export.js';
import type { FitContext, Params, Trainer } from '../../src/training/trainer.js';
import { gradientBoosting, randomForest } from '../../src/training/trainers/trees.js';

function defaults(trainer: Trainer): Params {
  return Object.fromEntries(Object.entries(trainer.params).map(([name, spec]) => [name, spec.default]));
}

function data(n: number): { columns: Column[]; label: Int32Array; value: Float64Array } {
  const x = new Float64Array(n);
  const kind: (string | null)[] = [];
  const label = new Int32Array(n);
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i % 10 === 0 ? NaN : Math.fround(Math.sin(i) * 3);
    kind.push(i % 13 === 0 ? null : ['a', 'b', 'c'][i % 3]!);
    const s = (Number.isNaN(x[i]!) ? 0 : x[i]!) + (kind[i] === 'b' ? 2 : 0);
    label[i] = s > 1 ? 1 : 0;
    value[i] = s * 10;
  }
  return {
    columns: [
      { name: 'x', kind: 'numeric', values: x },
      { name: 'kind', kind: 'categorical', values: kind },
    ],
    label,
    value,
  };
}

describe('tree trainers', () => {
  for (const trainer of [gradientBoosting, randomForest]) {
    for (const task of ['classification', 'regression'] as const) {
      it(`${trainer.name}, ${task}: fits on raw features and exports a matching head`, async () => {
        assert.equal(trainer.preprocessing, 'raw');
        const { columns, label, value } = data(300);
        const rows = Uint32Array.from({ length: 300 }, (_, i) => i);
        const pre = fitPreprocessor(columns, rows, { mode: 'raw' });
        const X = transform(pre, columns);
        const params = {
          ...defaults(trainer),
          ...(trainer === randomForest ? { trees: 10 } : { maxIter: 20 }),
        };
        let reported = 0;
        const ctx: FitContext & { categorical: boolean[] } = {
          task,
          classes: task === 'classification' ? 2 : 0,
          seed: 7,
          categorical: [false, true],
          onProgress: (fraction) => {
            assert.ok(fraction >= 0 && fraction <= 1);
            reported++;
          },
        };
        const fitted = trainer.fit(X, task === 'classification' ? label : value, params, ctx);
        assert.ok(reported > 0, 'progress reported');
        assert.equal(fitted.importance!.length, 2);
        assert.ok(Number(fitted.info.trees) > 0);
        if (trainer === randomForest) assert.equal(typeof fitted.info.oobScore, 'number');
        else assert.equal(fitted.info.iterations, 20);
        const predicted = fitted.predict(X);
        const s = await ort.InferenceSession.create(
          exportPipeline({ preprocessor: pre, head: fitted.head, graphName: 'g', metadata: {} }),
        );
        const out = await s.run({
          x: new ort.Tensor('float32', Float32Array.from(columns[0]!.values as Float64Array), [300, 1]),
          kind: new ort.Tensor(
            'string',
            (columns[1]!.values as (string | null)[]).map((v) => v ?? ''),
            [300, 1],
          ),
        });
        await s.release();
        const got = (task === 'classification' ? out['probabilities'] : out['value'])!.data as Float32Array;
        for (let k = 0; k < predicted.length; k++)
          assert.ok(Math.abs(got[k]! - predicted[k]!) <= 1e-5 * (1 + Math.abs(predicted[k]!)), `${k}`);
      });
    }
  }

  it('gradient_boosting asks for a validation split only when early stopping is forced on', () => {
    assert.equal(gradientBoosting.wantsValidation!({ ...defaults(gradientBoosting) }), false);
    assert.equal(
      gradientBoosting.wantsValidation!({ ...defaults(gradientBoosting), earlyStopping: 'on' }),
      true,
    );
  });
});
