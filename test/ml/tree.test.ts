/**
 * The shared tree machinery: binning (thresholds, float32 rule, missing bin, radix sort), the
 * grower's split search (gain formula, missing direction, categorical sets, constraints) and the
 * agreement of the raw and binned traversals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../src/ml/rng.js';
import type { Matrix } from '../../src/ml/types.js';
import {
  applyBins,
  binOf,
  fitBinMapper,
  MISSING_BIN,
  numericThresholds,
  sortFloat64,
} from '../../src/ml/tree/binning.js';
import { TreeGrower } from '../../src/ml/tree/grower.js';
import type { GrowerOptions, LeafValueFn } from '../../src/ml/tree/grower.js';
import {
  buildPacked,
  packGradients,
  packHessians,
  PACK_MAX_ROWS,
  PACKED_SPAN,
  toRowMajor,
} from '../../src/ml/tree/histogram.js';
import { inSet, leafOfBinnedRow, leafOfRow, treeDepth } from '../../src/ml/tree/tree.js';

const matrix = (columns: number[][]): Matrix => {
  const rows = columns[0]!.length;
  const data = new Float64Array(rows * columns.length);
  columns.forEach((c, j) => data.set(c, j * rows));
  return { data, rows, cols: columns.length };
};

const OPTIONS: GrowerOptions = {
  channels: 1,
  maxLeafNodes: Infinity,
  maxDepth: Infinity,
  minSamplesLeaf: 1,
  minHessianLeaf: 0,
  l2: 0,
  minGainToSplit: 0,
  maxFeatures: Infinity,
  minCategorySupport: 1,
  categorySmoothing: 0,
};

const mean: LeafValueFn = (G, g, H, _n, out, o) => {
  out[o] = G[g]! / H;
};

/** Grows one tree with g = y, h = 1 (regression by variance reduction): leaves hold mean(y). */
function growRegression(
  X: Matrix,
  y: number[],
  options: Partial<GrowerOptions> = {},
  categorical?: boolean[],
) {
  const mapper = fitBinMapper(X, categorical ? { categorical } : {});
  const B = applyBins(mapper, X);
  const grower = new TreeGrower(B, mapper, { ...OPTIONS, ...options }, 1);
  const sample = Uint32Array.from({ length: X.rows }, (_, i) => i);
  const grown = grower.grow(
    sample,
    Float64Array.from(y),
    null,
    Int32Array.from({ length: X.cols }, (_, j) => j),
    mean,
    createRng(1),
  );
  return { mapper, B, ...grown };
}

describe('binning', () => {
  it('puts thresholds at the midpoints of distinct values when there are few (scikit-learn)', () => {
    assert.deepEqual(Array.from(numericThresholds(Float64Array.from([3, 1, 2, 2, 1]), 255)), [1.5, 2.5]);
    assert.deepEqual(Array.from(numericThresholds(new Float64Array(0), 255)), []);
    assert.deepEqual(Array.from(numericThresholds(Float64Array.from([7, 7, 7]), 255)), []);
  });

  it('cuts many distinct values into at most maxBins bins at midpoint quantiles', () => {
    const values = Float64Array.from({ length: 10_000 }, (_, i) => i);
    const t = numericThresholds(values.slice(), 4);
    // numpy percentile(midpoint) at 25, 50, 75 % of 0..9999: ranks 2499.75, 4999.5, 7499.25.
    assert.deepEqual(Array.from(t), [2499.5, 4999.5, 7499.5]);
    assert.equal(numericThresholds(values.slice(), 255).length, 254);
  });

  it('keeps thresholds that separate float32 values: bin ≤ b ⇔ fround(x) ≤ t[b]', () => {
    const rng = createRng(3);
    const x = Array.from({ length: 2000 }, () => (rng.next() - 0.5) * 10 ** (rng.int(8) - 3));
    const X = matrix([x]);
    const mapper = fitBinMapper(X, { maxBins: 64 });
    const t = mapper.thresholds[0]!;
    for (let k = 1; k < t.length; k++) assert.ok(t[k - 1]! < t[k]!, 'thresholds increase');
    for (const v of x) {
      const b = binOf(mapper, 0, v);
      if (b < t.length) assert.ok(Math.fround(v) <= t[b]!);
      if (b > 0) assert.ok(Math.fround(v) > t[b - 1]!);
    }
  });

  it('sends NaN to the missing bin, keeps ±∞ in the end bins, and codes categories by value', () => {
    const X = matrix([
      [1, 2, NaN, Infinity, -Infinity, 3],
      [0, 2, 1, NaN, 2, 0],
    ]);
    const mapper = fitBinMapper(X, { categorical: [false, true] });
    assert.equal(mapper.hasMissing[0], 1);
    assert.equal(mapper.categorical[1], 1);
    assert.equal(mapper.nBins[1], 3);
    const B = applyBins(mapper, X);
    assert.deepEqual(Array.from(B.bins.subarray(6)), [0, 2, 1, MISSING_BIN, 2, 0]);
    const numeric = Array.from(B.bins.subarray(0, 6));
    assert.equal(numeric[2], MISSING_BIN);
    assert.equal(numeric[4], 0);
    assert.equal(numeric[3], mapper.nBins[0]! - 1);
  });

  it('bins by table look-up exactly as the binary search does (±0, ±∞, subnormals, ties)', () => {
    const rng = createRng(8);
    const special = [0, -0, Infinity, -Infinity, 1e-40, -1e-40, 3.4e38, -3.4e38];
    const x = Array.from({ length: 20_000 }, (_, i) =>
      i < special.length ? special[i]! : (rng.next() - 0.5) * 10 ** (rng.int(12) - 6),
    );
    // Thresholds from a coarse copy, so that many values sit exactly on one.
    const X = matrix([x.map((v, i) => (i % 3 === 0 ? Math.round(v * 100) / 100 : v))]);
    for (const maxBins of [255, 17, 2]) {
      const mapper = fitBinMapper(X, { maxBins });
      const B = applyBins(mapper, X);
      for (let i = 0; i < X.rows; i++)
        assert.equal(B.bins[i], binOf(mapper, 0, X.data[i]!), `value ${X.data[i]}`);
    }
  });

  it('treats a categorical column with codes ≥ maxBins or fractions as numeric', () => {
    const mapper = fitBinMapper(matrix([[0, 1.5, 2]]), { categorical: [true] });
    assert.equal(mapper.categorical[0], 0);
  });

  it('radix-sorts doubles exactly as the native sort (negatives, −0, ±∞, ties)', () => {
    const rng = createRng(5);
    const a = Float64Array.from({ length: 5000 }, (_, i) =>
      i % 97 === 0
        ? -0
        : i % 89 === 0
          ? Infinity
          : i % 83 === 0
            ? -Infinity
            : Math.round((rng.next() - 0.5) * 1e6) / 7,
    );
    const want = a.slice().sort();
    sortFloat64(a);
    assert.deepEqual(Array.from(a), Array.from(want));
  });

  it('row-major copy holds the same bins', () => {
    const bins = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    assert.deepEqual(Array.from(toRowMajor(bins, 3, 2)), [1, 4, 2, 5, 3, 6]);
  });
});

describe('TreeGrower', () => {
  it('finds the split of largest gain G_L²/H_L + G_R²/H_R − G²/H and stores leaf means', () => {
    // y jumps between x = 2 and x = 3; the other feature is noise.
    const x = [0, 1, 2, 3, 4, 5];
    const noise = [5, 3, 1, 0, 4, 2];
    const y = [1, 1, 1, 7, 7, 7];
    const { tree } = growRegression(matrix([x, noise]), y, { maxLeafNodes: 2 });
    assert.equal(tree.feature[0], 0);
    assert.equal(tree.threshold[0], 2.5);
    const gain = 3 ** 2 / 3 + 21 ** 2 / 3 - 24 ** 2 / 6;
    assert.ok(Math.abs(tree.gain[0]! - gain) < 1e-9, `gain ${tree.gain[0]} vs ${gain}`);
    assert.equal(tree.value[tree.left[0]!], 1);
    assert.equal(tree.value[tree.right[0]!], 7);
  });

  it('grows to purity without a limit and stops at pure nodes (no noise splits)', () => {
    const x = [0, 1, 2, 3, 4, 5, 6, 7];
    const y = [0, 0, 5, 5, 5, 9, 9, 9];
    const { tree } = growRegression(matrix([x]), y);
    assert.equal(tree.feature.filter((f) => f < 0).length, 3);
  });

  it('respects min_samples_leaf and max_depth', () => {
    const rng = createRng(9);
    const x = Array.from({ length: 200 }, () => rng.next());
    const y = x.map((v) => Math.sin(10 * v));
    const a = growRegression(matrix([x]), y, { minSamplesLeaf: 15 });
    for (let k = 0; k < a.tree.feature.length; k++)
      if (a.tree.feature[k]! < 0) assert.ok(a.tree.count[k]! >= 15);
    const b = growRegression(matrix([x]), y, { maxDepth: 3 });
    assert.ok(treeDepth(b.tree) <= 3);
  });

  it('learns where missing values go (XGBoost sparsity-aware split)', () => {
    // Rows with x missing have the high target: they must join the x > 2.5 side.
    const x = [0, 1, 2, 3, 4, 5, NaN, NaN];
    const y = [0, 0, 0, 10, 10, 10, 10, 10];
    const { tree } = growRegression(matrix([x]), y, { maxLeafNodes: 2 });
    assert.equal(tree.missingLeft[0], 0);
    assert.equal(tree.value[tree.right[0]!], 10);
    const flipped = growRegression(matrix([x]), [10, 10, 10, 0, 0, 0, 10, 10], { maxLeafNodes: 2 });
    assert.equal(flipped.tree.missingLeft[0], 1);
  });

  it('splits a categorical feature by a set of categories (Fisher 1958 ordering)', () => {
    // Codes 1 and 3 have the high target; no threshold on the codes separates them.
    const codes = Array.from({ length: 80 }, (_, i) => i % 4);
    const y = codes.map((c) => (c === 1 || c === 3 ? 5 : 0));
    const { tree } = growRegression(matrix([codes]), y, { maxLeafNodes: 2 }, [true]);
    assert.ok(tree.set[0]! >= 0, 'a set split at the root');
    const left = [0, 1, 2, 3].filter((c) => inSet(tree, 0, c));
    assert.ok(left.join() === '1,3' || left.join() === '0,2', `left set ${left.join()}`);
    assert.equal(tree.value[tree.left[0]!], left.includes(1) ? 5 : 0);
  });

  it('routes every row to the same leaf from raw values and from bins', () => {
    const rng = createRng(11);
    const n = 500;
    const a = Array.from({ length: n }, () => (rng.next() < 0.1 ? NaN : rng.next() * 3));
    const c = Array.from({ length: n }, () => (rng.next() < 0.1 ? NaN : rng.int(6)));
    const y = a.map((v, i) => (Number.isNaN(v) ? 1 : v) + (c[i] === 2 || c[i] === 4 ? 2 : 0) + rng.next());
    const X = matrix([a, c]);
    const { tree, B } = growRegression(X, y, { minSamplesLeaf: 5 }, [false, true]);
    for (let i = 0; i < n; i++) assert.equal(leafOfRow(tree, X, i), leafOfBinnedRow(tree, B, i), `row ${i}`);
  });
});

describe('packed histograms', () => {
  it('decode every bin to its exact count and gradient sum, in any row order', () => {
    const rng = createRng(5);
    const n = 3000;
    // Gradients of very different sizes, as float32 like the boosting ones.
    const grad = Float64Array.from({ length: n }, (_, i) =>
      Math.fround((rng.next() - 0.5) * (i % 97 === 0 ? 1e6 : i % 5 === 0 ? 1e-3 : 1)),
    );
    const packed = new Float64Array(2 * n);
    const exact = new Float64Array(n);
    const p = packGradients(grad, n, packed, exact)!;
    assert.ok(p, 'packed');
    // Each exact gradient is the fixed-point value, within half a step of the original.
    for (let i = 0; i < n; i++) assert.ok(Math.abs(exact[i]! - grad[i]!) <= p.step / 2);
    const bins = Uint8Array.from({ length: n }, () => rng.int(4));
    const build = (order: Uint32Array) => {
      const hist = new Float64Array(PACKED_SPAN);
      buildPacked(hist, bins, 1, order, 0, n, packed, 1, Int32Array.of(4), Int32Array.of(0), true, 0, 1);
      return hist;
    };
    const ascending = Uint32Array.from({ length: n }, (_, i) => i);
    const reversed = ascending.slice().reverse();
    const a = build(ascending);
    assert.deepEqual(Array.from(build(reversed)), Array.from(a), 'the same sums in any order');
    for (let b = 0; b < 4; b++) {
      let count = 0;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        if (bins[i] !== b) continue;
        count++;
        sum += exact[i]!;
      }
      const decoded = Math.round(a[b]! * p.invUnit);
      assert.equal(decoded, count);
      assert.equal((a[b]! - decoded * p.unit) * p.step, sum, `bin ${b}: the sum is exact`);
    }
  });

  it('are not used when they would be too coarse or the gradients are not finite', () => {
    const big = PACK_MAX_ROWS + 1;
    assert.equal(
      packGradients(new Float64Array(big), big, new Float64Array(2 * big), new Float64Array(big)),
      null,
    );
    const bad = Float64Array.of(1, Infinity);
    assert.equal(packGradients(bad, 2, new Float64Array(4), new Float64Array(2)), null);
    // All-zero gradients pack (a constant target).
    const zero = packGradients(new Float64Array(4), 4, new Float64Array(8), new Float64Array(4))!;
    assert.ok(zero);
    // Hessians must be non-negative and finite.
    const h = new Float64Array(8);
    assert.equal(packHessians(zero, Float64Array.of(1, -1, 0, 0), 4, h, new Float64Array(4)), null);
    assert.equal(packHessians(zero, Float64Array.of(1, NaN, 0, 0), 4, h, new Float64Array(4)), null);
    const exactH = new Float64Array(4);
    const given = Float64Array.of(0.25, 0.1, 0, 3);
    const withH = packHessians(zero, given, 4, h, exactH)!;
    assert.equal(withH.slots, 2);
    given.forEach((x, i) => assert.ok(Math.abs(exactH[i]! - x) <= withH.hessianStep / 2, `hessian ${i}`));
  });

  it('grow the tree that unpacked histograms grow, with and without hessians (same splits, leaves within rounding)', () => {
    const rng = createRng(21);
    const n = 4000;
    const cols = [0, 1, 2, 3].map(() =>
      Array.from({ length: n }, () => (rng.next() < 0.05 ? NaN : rng.next() * 4 - 2)),
    );
    const codes = Array.from({ length: n }, () => rng.int(7));
    const y = cols[0]!.map(
      (v, i) =>
        (Number.isNaN(v) ? 1 : Math.sin(2 * v)) +
        (cols[1]![i]! || 0) * 0.5 +
        (codes[i]! % 3 === 1 ? 1.5 : 0) +
        rng.next() * 0.1,
    );
    const X = matrix([...cols, codes]);
    const categorical = [false, false, false, false, true];
    const mapper = fitBinMapper(X, { categorical });
    const B = applyBins(mapper, X);
    const options = { ...OPTIONS, maxLeafNodes: 31, minSamplesLeaf: 20 };
    const grower = new TreeGrower(B, mapper, options, 1, {
      bins: toRowMajor(B.bins, B.rows, B.cols),
      threads: 1,
    });
    const sample = Uint32Array.from({ length: n }, (_, i) => i);
    const features = Int32Array.from({ length: X.cols }, (_, j) => j);
    const grad = Float64Array.from(y, (v) => Math.fround(-v));
    const packed = grower.grow(sample, grad, null, features, mean, createRng(1)).tree;
    const unpacked = grower.grow(
      sample,
      grad,
      new Float64Array(n).fill(1),
      features,
      mean,
      createRng(1),
    ).tree;
    grower.close();
    assert.ok(
      packed.feature.length > 40,
      `a tree of ${packed.feature.length} nodes (unpacked ${unpacked.feature.length})`,
    );
    assert.ok(
      packed.set.some((s) => s >= 0),
      'a categorical split',
    );
    assert.deepEqual(Array.from(packed.feature), Array.from(unpacked.feature));
    assert.deepEqual(Array.from(packed.threshold), Array.from(unpacked.threshold));
    assert.deepEqual(Array.from(packed.missingLeft), Array.from(unpacked.missingLeft));
    // With hessians (two doubles per bin), against the column-major grower, which never packs.
    const hess = Float64Array.from({ length: n }, () => Math.fround(0.05 + rng.next() * 0.2));
    const plain = new TreeGrower(B, mapper, options, 1);
    const weighted = grower.grow(sample, grad, hess, features, mean, createRng(1)).tree;
    const reference = plain.grow(sample, grad, hess, features, mean, createRng(1)).tree;
    assert.deepEqual(Array.from(weighted.feature), Array.from(reference.feature));
    assert.deepEqual(Array.from(weighted.threshold), Array.from(reference.threshold));
    weighted.value.forEach((v, k) =>
      assert.ok(Math.abs(v - reference.value[k]!) <= 1e-6 * (1 + Math.abs(v)), `weighted leaf ${k}`),
    );
    // A leaf's mean moves by at most half a fixed-point step.
    const { step } = packGradients(grad, n, new Float64Array(2 * n), new Float64Array(n))!;
    packed.value.forEach((v, k) => assert.ok(Math.abs(v - unpacked.value[k]!) <= step / 2, `leaf ${k}`));
    grower.close();
  });
});
