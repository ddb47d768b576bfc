/**
 * The 'raw' feature block of the ONNX pipeline: numbers cast to double with NaN kept, categories
 * through ai.onnx.ml LabelEncoder to their ordinal code (NaN for '' and unseen values). Checked
 * through onnxruntime-node against `transform` with an identity-like linear head per column.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitPreprocessor, transform } from '../../src/ml/preprocess.js';
import type { Column, Preprocessor } from '../../src/ml/types.js';
import { exportPipeline } from '../../src/onnx/export.js';
import type { ModelHead } from '../../src/onnx/export.js';
import { feedsOf, mulberry32, randomColumns, session } from './fixtures.js';

/** A regression head that returns column `j` of X, to read the feature matrix back out of the graph. */
function columnHead(j: number): ModelHead {
  return {
    kind: 'regression',
    write(g, X) {
      const index = g.constant('column', { type: 'int64', dims: [1], values: [j] });
      return g.op('Gather', [X, index], { attributes: [{ name: 'axis', type: 'int', value: 1 }] });
    },
  };
}

async function columnOf(pre: Preprocessor, columns: readonly Column[], j: number): Promise<Float32Array> {
  const bytes = exportPipeline({ preprocessor: pre, head: columnHead(j), graphName: 'raw', metadata: {} });
  const s = await session(bytes);
  const out = await s.run(feedsOf(columns));
  await s.release();
  return out['value']!.data as Float32Array;
}

describe("exportPipeline: the 'raw' feature block", () => {
  it('equals transform column by column, NaN, missing and unseen categories included', async () => {
    const rand = mulberry32(41);
    const shapes: Preprocessor = {
      numeric: [
        { name: 'a', fill: 0, center: 0, scale: 1 },
        { name: 'b', fill: 0, center: 0, scale: 1 },
      ],
      categorical: [
        { name: 'c', categories: ['v0', 'v1', 'v2'] },
        { name: 'd', categories: ['v0'] },
        { name: 'e', categories: [] },
      ],
    };
    const columns = randomColumns(rand, shapes, 200);
    const pre = fitPreprocessor(
      columns,
      Uint32Array.from({ length: 150 }, (_, i) => i),
      { mode: 'raw' },
    );
    const X = transform(pre, columns);
    for (let j = 0; j < X.cols; j++) {
      const got = await columnOf(pre, columns, j);
      for (let i = 0; i < X.rows; i++) {
        const want = Math.fround(X.data[j * X.rows + i]!);
        assert.ok(Object.is(got[i], want), `column ${j} row ${i}: ${got[i]} vs ${want}`);
      }
    }
  });

  it('maps a hand-made example: codes by index in categories, blank and unseen to NaN', async () => {
    const pre: Preprocessor = {
      numeric: [{ name: 'x', fill: NaN, center: 0, scale: 1 }],
      categorical: [{ name: 'c', categories: ['b', 'a'], encoding: 'ordinal' }],
      mode: 'raw',
    };
    const columns: Column[] = [
      { name: 'x', kind: 'numeric', values: new Float64Array([1, NaN, 3, 4]) },
      { name: 'c', kind: 'categorical', values: ['a', 'b', null, 'zzz'] },
    ];
    assert.deepEqual(Array.from(await columnOf(pre, columns, 0)), [1, NaN, 3, 4]);
    assert.deepEqual(Array.from(await columnOf(pre, columns, 1)), [1, 0, NaN, NaN]);
  });
});
