import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kFold, subsample, takeRows, takeValues, trainValidationTestSplit } from '../../src/ml/cv.js';
import { trainTestSplit } from '../../src/ml/split.js';

describe('kFold', () => {
  test('every row is scored once; fold sizes differ by at most one; train = the rest', () => {
    const folds = kFold(103, 5, { seed: 1 });
    const count = new Uint8Array(103);
    for (const { train, test } of folds) {
      assert.equal(train.length + test.length, 103);
      assert.ok(test.length === 20 || test.length === 21);
      const inTest = new Set(test);
      for (const i of train) assert.ok(!inTest.has(i));
      for (const i of test) count[i]!++;
      for (let k = 1; k < test.length; k++) assert.ok(test[k]! > test[k - 1]!, 'ascending');
    }
    assert.ok(count.every((c) => c === 1));
  });

  test('stratified: each class has ⌊n_c/k⌋ or ⌈n_c/k⌉ rows in every fold', () => {
    const sizes = [50, 31, 12, 4];
    const labels = sizes.flatMap((size, c) => Array<number>(size).fill(c));
    // Interleave so that classes are not in blocks.
    const y = Int32Array.from(labels.map((_, i) => labels[(i * 37) % labels.length]!));
    const folds = kFold(y.length, 5, { seed: 3, stratify: y });
    for (const { test } of folds) {
      sizes.forEach((size, c) => {
        const inFold = [...test].filter((i) => y[i] === c).length;
        assert.ok(inFold === Math.floor(size / 5) || inFold === Math.ceil(size / 5), `class ${c}: ${inFold}`);
      });
      assert.ok(test.length === 19 || test.length === 20);
    }
  });

  test('seeded: same seed, same folds; another seed, other folds', () => {
    assert.deepEqual(kFold(50, 3, { seed: 9 }), kFold(50, 3, { seed: 9 }));
    assert.notDeepEqual(kFold(50, 3, { seed: 9 })[0]!.test, kFold(50, 3, { seed: 10 })[0]!.test);
  });

  test('bad call: k < 2, fewer rows than folds, labels of another length', () => {
    assert.throws(() => kFold(10, 1, { seed: 0 }), RangeError);
    assert.throws(() => kFold(3, 5, { seed: 0 }), RangeError);
    assert.throws(() => kFold(10, 2, { seed: 0, stratify: new Int32Array(3) }), RangeError);
  });
});

describe('trainValidationTestSplit', () => {
  test('the test rows are those of trainTestSplit; validation comes out of the rest', () => {
    const y = Int32Array.from({ length: 200 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const three = trainValidationTestSplit(200, {
      testFraction: 0.2,
      validationFraction: 0.25,
      seed: 4,
      stratify: y,
    });
    const two = trainTestSplit(200, { testFraction: 0.2, seed: 4, stratify: y });
    assert.deepEqual(three.test, two.test);
    assert.equal(three.validation.length, 40);
    assert.equal(three.train.length, 120);
    const all = new Set([...three.train, ...three.validation, ...three.test]);
    assert.equal(all.size, 200);
    assert.equal([...three.validation].filter((i) => y[i] === 1).length, 8, 'stratified: 20% positives');
  });
});

describe('subsample, takeRows, takeValues', () => {
  test('subsample keeps ⌈fraction·n⌉ of the given rows, stratified, seeded; fraction 1 keeps all', () => {
    const rows = Uint32Array.from({ length: 90 }, (_, k) => 10 + 2 * k);
    const labels = Int32Array.from({ length: 90 }, (_, k) => (k < 30 ? 1 : 0));
    const half = subsample(rows, 1 / 3, 5, labels);
    assert.equal(half.length, 30);
    assert.equal([...half].filter((r) => (r - 10) / 2 < 30).length, 10);
    assert.deepEqual(half, subsample(rows, 1 / 3, 5, labels));
    assert.equal(subsample(rows, 1, 5), rows);
  });

  test('takeRows copies rows of a column-major matrix; takeValues keeps the array type', () => {
    const X = { data: Float64Array.from([1, 2, 3, 10, 20, 30]), rows: 3, cols: 2 };
    assert.deepEqual(takeRows(X, [2, 0]), { data: Float64Array.from([3, 1, 30, 10]), rows: 2, cols: 2 });
    const y = Int32Array.from([7, 8, 9]);
    const t = takeValues(y, [1, 1]);
    assert.ok(t instanceof Int32Array);
    assert.deepEqual([...t], [8, 8]);
  });
});
