import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { trainTestSplit } from '../../src/ml/split.js';

function assertPartition(n: number, train: Uint32Array, test: Uint32Array): void {
  assert.equal(train.length + test.length, n);
  const seen = new Uint8Array(n);
  for (const part of [train, test]) {
    for (let k = 0; k < part.length; k++) {
      if (k > 0) assert.ok(part[k - 1]! < part[k]!, 'indices are sorted and distinct');
      assert.equal(seen[part[k]!], 0);
      seen[part[k]!] = 1;
    }
  }
}

describe('trainTestSplit', () => {
  test('test size is ⌈fraction·n⌉ and the sets partition 0..n-1', () => {
    const { train, test: held } = trainTestSplit(101, { testFraction: 0.2, seed: 0 });
    assert.equal(held.length, 21);
    assertPartition(101, train, held);
  });

  test('deterministic for a seed, different across seeds', () => {
    const a = trainTestSplit(1000, { testFraction: 0.25, seed: 42 });
    const b = trainTestSplit(1000, { testFraction: 0.25, seed: 42 });
    const c = trainTestSplit(1000, { testFraction: 0.25, seed: 43 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.test, c.test);
  });

  test('stratified: every class keeps its proportion to within one row', () => {
    // Classes of 500, 300, 150, 45 and 5 rows, interleaved.
    const sizes = [500, 300, 150, 45, 5];
    const labels: number[] = [];
    sizes.forEach((size, c) => {
      for (let k = 0; k < size; k++) labels.push(c);
    });
    const y = Int32Array.from(labels.map((_, i) => labels[(i * 7919) % labels.length]!));
    const n = y.length;
    const a = trainTestSplit(n, { testFraction: 0.2, seed: 1, stratify: y });
    const b = trainTestSplit(n, { testFraction: 0.2, seed: 1, stratify: y });
    assert.deepEqual(a, b);
    assertPartition(n, a.train, a.test);
    assert.equal(a.test.length, Math.ceil(0.2 * n));
    const counts = new Array<number>(sizes.length).fill(0);
    for (const i of a.test) counts[y[i]!]!++;
    sizes.forEach((size, c) => {
      const quota = (a.test.length * size) / n;
      assert.ok(
        Math.abs(counts[c]! - quota) < 1,
        `class ${c}: ${counts[c]} test rows for a quota of ${quota}`,
      );
    });
  });

  test('stratified: a class of 2 rows keeps one in train, a class of 1 row goes to train', () => {
    // Class 1 has 2 rows and class 2 one row; a test fraction of 0.6 would put both of class 1 in test.
    const y = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 1, 1, 2]);
    for (let seed = 0; seed < 20; seed++) {
      const { train, test: held } = trainTestSplit(y.length, { testFraction: 0.6, seed, stratify: y });
      assert.equal(held.length, 6);
      const inTrain = (c: number): number => Array.from(train).filter((i) => y[i] === c).length;
      assert.equal(inTrain(1), 1);
      assert.equal(inTrain(2), 1);
      assert.ok(inTrain(0) >= 1);
    }
  });

  test('stratified split does not depend on the label values, only on the grouping', () => {
    const y = Int32Array.from({ length: 200 }, (_, i) => i % 3);
    const renamed = Int32Array.from(y, (c) => c * 10 - 5);
    assert.deepEqual(
      trainTestSplit(200, { testFraction: 0.3, seed: 9, stratify: y }),
      trainTestSplit(200, { testFraction: 0.3, seed: 9, stratify: renamed }),
    );
  });

  test('bad call: fractions outside (0, 1), too few rows, or no room for the test set', () => {
    assert.throws(() => trainTestSplit(10, { testFraction: 0, seed: 0 }), RangeError);
    assert.throws(() => trainTestSplit(10, { testFraction: 1, seed: 0 }), RangeError);
    assert.throws(() => trainTestSplit(1, { testFraction: 0.5, seed: 0 }), RangeError);
    assert.throws(
      () => trainTestSplit(3, { testFraction: 0.5, seed: 0, stratify: Int32Array.from([0, 1]) }),
      RangeError,
    );
    // Three classes of one row each: every row must stay in train.
    assert.throws(
      () => trainTestSplit(3, { testFraction: 0.3, seed: 0, stratify: Int32Array.from([0, 1, 2]) }),
      RangeError,
    );
  });
});
