// ±Infinity in a numeric input: missing (filled, as NaN is) in 'scaled' and 'counts' pipelines,
// passed through in 'raw' ones; the ONNX graph does what `transform` does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { fitLogistic, predictProba } from '../../src/ml/linear.js';
import { fitPreprocessor, transform, type FeatureMode } from '../../src/ml/preprocess.js';
import type { Column } from '../../src/ml/types.js';
import { exportPipeline, linearHead } from '../../src/onnx/export.js';

const x = Float64Array.from([1, 2, Infinity, 4, -Infinity, NaN, 7, 8, 0.5, 3]);
const columns: Column[] = [
  { name: 'x', kind: 'numeric', values: x },
  { name: 'c', kind: 'categorical', values: ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'] },
];
const rows = Uint32Array.from({ length: 10 }, (_, i) => i);
const y = Int32Array.from([0, 0, 1, 0, 1, 0, 1, 1, 0, 1]);

describe('±Infinity in numeric inputs', () => {
  for (const mode of ['scaled', 'counts'] as FeatureMode[]) {
    it(`${mode}: infinite is missing in fit, transform and the ONNX graph`, async () => {
      const pre = fitPreprocessor(columns, rows, { mode });
      const step = pre.numeric[0]!;
      if (mode === 'scaled') assert.ok(Math.abs(step.fill - (1 + 2 + 4 + 7 + 8 + 0.5 + 3) / 7) < 1e-12);
      const X = transform(pre, columns);
      assert.ok(X.data.every(Number.isFinite));
      assert.equal(X.data[2], X.data[5], 'Infinity is filled like NaN');
      const model = fitLogistic(X, y, 2, { l2: 1 });
      const s = await ort.InferenceSession.create(
        exportPipeline({ preprocessor: pre, head: linearHead(model), graphName: 'inf', metadata: {} }),
      );
      try {
        const out = await s.run({
          x: new ort.Tensor('float32', Float32Array.from(x), [10, 1]),
          c: new ort.Tensor('string', columns[1]!.values as string[], [10, 1]),
        });
        const want = predictProba(model, X);
        const got = out['probabilities']!.data as Float32Array;
        for (let q = 0; q < want.length; q++) assert.ok(Math.abs(got[q]! - want[q]!) < 1e-6, `value ${q}`);
      } finally {
        await s.release();
      }
    });
  }

  it('raw: infinite passes through (trees order it), NaN stays missing', () => {
    const X = transform(fitPreprocessor(columns, rows, { mode: 'raw' }), columns);
    assert.deepEqual(Array.from(X.data.subarray(0, 10)), Array.from(x));
  });
});
