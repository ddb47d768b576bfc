import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { permutationImportance } from '../../src/ml/importance.js';
import { createRng, type Rng } from '../../src/ml/rng.js';
import type { Matrix } from '../../src/ml/types.js';

/** A generator whose int() is always 0: Fisher–Yates then rotates [a, b, c, d] to [b, c, d, a]. */
const rotating: Rng = { nextUint32: () => 0, next: () => 0, int: () => 0 };

/** Column-major matrix from columns. */
const matrix = (...cols: number[][]): Matrix => ({
  data: Float64Array.from(cols.flat()),
  rows: cols[0]!.length,
  cols: cols.length,
});

describe('permutationImportance', () => {
  test('hand-computed: y = x₀, score −MSE; shuffled x₀ = [2, 3, 4, 1] gives MSE (1+1+1+9)/4 = 3', () => {
    const X = matrix([1, 2, 3, 4], [5, 5, 7, 9]);
    const y = [1, 2, 3, 4];
    const negMse = (Z: Matrix, rows: Uint32Array) => {
      let s = 0;
      for (let k = 0; k < Z.rows; k++) s += (Z.data[k]! - y[rows[k]!]!) ** 2;
      return -s / Z.rows;
    };
    const r = permutationImportance(X, negMse, { repeats: 2, rng: rotating });
    assert.ok(r.baseline === 0, 'a perfect fit has MSE 0');
    assert.deepEqual([...r.mean], [3, 0], 'x₁ is not used by the model: exactly 0');
    assert.deepEqual([...r.std], [0, 0]);
    assert.equal(r.rows, 4);
    assert.deepEqual([...X.data], [1, 2, 3, 4, 5, 5, 7, 9], 'X itself is left untouched');
  });

  test('a group is shuffled with one permutation: one-hot rows stay one-hot', () => {
    // Columns 0 and 1 are a one-hot pair; the scorer fails loudly on a row with two ones.
    const X = matrix([1, 0, 1, 0, 0, 1], [0, 1, 0, 1, 1, 0], [3, 1, 4, 1, 5, 9]);
    const seen: number[] = [];
    const score = (Z: Matrix) => {
      for (let i = 0; i < Z.rows; i++) assert.equal(Z.data[i]! + Z.data[Z.rows + i]!, 1);
      seen.push(Z.data[0]!);
      return Z.data[0]!;
    };
    const r = permutationImportance(X, score, { repeats: 3, rng: createRng(1), groups: [[0, 1], [2]] });
    assert.equal(r.mean.length, 2);
    assert.equal(r.mean[1], 0, 'column 2 does not change the score');
  });

  test('seeded and row-subsampled: same seed, same figures; at most maxRows rows scored', () => {
    const n = 1000;
    const rng = createRng(0);
    const x0 = Array.from({ length: n }, () => rng.next());
    const x1 = Array.from({ length: n }, () => rng.next());
    const X = matrix(x0, x1);
    const acc = (Z: Matrix, rows: Uint32Array) => {
      let hits = 0;
      for (let k = 0; k < Z.rows; k++)
        hits += (Z.data[k]! > 0.5 ? 1 : 0) === (x0[rows[k]!]! > 0.5 ? 1 : 0) ? 1 : 0;
      return hits / Z.rows;
    };
    const a = permutationImportance(X, acc, { repeats: 5, rng: createRng(7), maxRows: 300 });
    const b = permutationImportance(X, acc, { repeats: 5, rng: createRng(7), maxRows: 300 });
    assert.equal(a.rows, 300);
    assert.deepEqual(a, b);
    assert.equal(a.baseline, 1);
    // Shuffling a balanced sign: about half the rows flip, so the drop is near 0.5.
    assert.ok(a.mean[0]! > 0.4 && a.mean[0]! < 0.6, `importance ${a.mean[0]}`);
    assert.equal(a.mean[1], 0);
  });

  test('bad call: repeats < 1 or a group column out of range', () => {
    const X = matrix([1, 2]);
    assert.throws(() => permutationImportance(X, () => 0, { repeats: 0, rng: rotating }), RangeError);
    assert.throws(
      () => permutationImportance(X, () => 0, { repeats: 1, rng: rotating, groups: [[1]] }),
      RangeError,
    );
  });
});
