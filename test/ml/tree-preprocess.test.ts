/**
 * The 'raw' preprocessing mode that tree models use: numbers pass through with NaN for missing,
 * categories become ordinal codes (NaN when missing or unseen), and 'scaled' is unchanged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { featureCount, featureNames, fitPreprocessor, transform } from '../../src/ml/preprocess.js';
import type { Column } from '../../src/ml/types.js';

const columns: Column[] = [
  { name: 'age', kind: 'numeric', values: new Float64Array([30, NaN, 50, 20, Infinity]) },
  { name: 'city', kind: 'categorical', values: ['paris', 'oslo', null, 'paris', 'rome'] },
  { name: 'size', kind: 'numeric', values: new Float64Array([1.5, 2.5, 3.5, NaN, -1]) },
];
const trainRows = Uint32Array.from([0, 1, 2, 3]);

describe("fitPreprocessor({ mode: 'raw' })", () => {
  const pre = fitPreprocessor(columns, trainRows, { mode: 'raw' });

  it('keeps numbers as they are (fill NaN, center 0, scale 1) and codes categories in one column', () => {
    assert.equal(pre.mode, 'raw');
    assert.deepEqual(
      pre.numeric.map((s) => [s.name, s.fill, s.center, s.scale]),
      [
        ['age', NaN, 0, 1],
        ['size', NaN, 0, 1],
      ],
    );
    assert.deepEqual(pre.categorical, [{ name: 'city', categories: ['oslo', 'paris'], encoding: 'ordinal' }]);
    assert.equal(featureCount(pre), 3);
    assert.deepEqual(featureNames(pre), ['age', 'size', 'city']);
  });

  it('transforms: NaN stays NaN, categories to their index, missing and unseen to NaN', () => {
    const X = transform(pre, columns);
    assert.equal(X.rows, 5);
    assert.equal(X.cols, 3);
    const col = (j: number) => Array.from(X.data.subarray(j * 5, (j + 1) * 5));
    assert.deepEqual(col(0), [30, NaN, 50, 20, Infinity]);
    assert.deepEqual(col(1), [1.5, 2.5, 3.5, NaN, -1]);
    // paris = 1, oslo = 0, null = NaN, rome was never seen in training = NaN.
    assert.deepEqual(col(2), [1, 0, NaN, 1, NaN]);
  });

  it("leaves the default 'scaled' mode as it was (mean fill, one-hot)", () => {
    const scaled = fitPreprocessor(columns, trainRows);
    assert.equal(scaled.mode, undefined);
    assert.deepEqual(scaled.categorical, [{ name: 'city', categories: ['oslo', 'paris'] }]);
    assert.equal(scaled.numeric[0]!.fill, (30 + 50 + 20) / 3);
    assert.deepEqual(featureNames(scaled), ['age', 'size', 'city=oslo', 'city=paris']);
  });
});
