import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRng, shuffle, xoshiro128StarStar } from '../../src/ml/rng.js';

describe('xoshiro128**', () => {
  test('matches the reference C implementation (prng.di.unimi.it) from state {1, 2, 3, 4}', () => {
    const rng = xoshiro128StarStar([1, 2, 3, 4]);
    const out = Array.from({ length: 6 }, () => rng.nextUint32());
    // Printed by the authors' xoshiro128starstar.c compiled with gcc.
    assert.deepEqual(out, [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  test('seeds through SplitMix64 as the reference does', () => {
    // State = two SplitMix64(42) outputs split into 32-bit words, low word first; values from the C code.
    const rng = createRng(42);
    assert.deepEqual(
      Array.from({ length: 4 }, () => rng.nextUint32()),
      [1776835114, 4165204688, 17111135, 2317295270],
    );
  });

  test('same seed, same stream; nearby seeds, different streams', () => {
    const a = createRng(7);
    const b = createRng(7);
    const c = createRng(8);
    const sa = Array.from({ length: 10 }, () => a.next());
    assert.deepEqual(
      sa,
      Array.from({ length: 10 }, () => b.next()),
    );
    assert.notDeepEqual(
      sa,
      Array.from({ length: 10 }, () => c.next()),
    );
  });

  test('next() is in [0, 1) with mean ½ and variance 1/12', () => {
    const rng = createRng(1);
    const N = 100_000;
    let s = 0;
    let s2 = 0;
    for (let k = 0; k < N; k++) {
      const u = rng.next();
      assert.ok(u >= 0 && u < 1);
      s += u;
      s2 += u * u;
    }
    const mean = s / N;
    // Standard error of the mean is √(1/12/N) ≈ 0.0009; 5 standard errors.
    assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
    assert.ok(Math.abs(s2 / N - mean * mean - 1 / 12) < 0.002);
  });

  test('int(n) covers 0..n-1 evenly (χ² test, 9 degrees of freedom)', () => {
    const rng = createRng(3);
    const n = 10;
    const N = 50_000;
    const counts = new Array<number>(n).fill(0);
    for (let k = 0; k < N; k++) counts[rng.int(n)]!++;
    const expected = N / n;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // The 99.9% quantile of χ²(9) is 27.88.
    assert.ok(chi2 < 27.88, `chi2 ${chi2}`);
  });

  test('bad call: a non-integer seed or n ≤ 0 is rejected', () => {
    assert.throws(() => createRng(0.5), RangeError);
    assert.throws(() => createRng(42).int(0), RangeError);
    assert.throws(() => xoshiro128StarStar([0, 0, 0, 0]), RangeError);
  });
});

describe('shuffle', () => {
  test('returns a permutation, the same one for the same seed', () => {
    const a = shuffle(
      Uint32Array.from({ length: 100 }, (_, i) => i),
      createRng(5),
    );
    const b = shuffle(
      Uint32Array.from({ length: 100 }, (_, i) => i),
      createRng(5),
    );
    assert.deepEqual(a, b);
    assert.deepEqual(
      Array.from(a).sort((x, y) => x - y),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.notDeepEqual(
      Array.from(a),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  test('every permutation of 3 items is about equally likely', () => {
    const rng = createRng(11);
    const counts = new Map<string, number>();
    const N = 60_000;
    for (let k = 0; k < N; k++) {
      const key = shuffle(['a', 'b', 'c'], rng).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    for (const c of counts.values()) assert.ok(Math.abs(c - N / 6) < 0.05 * (N / 6));
  });
});
