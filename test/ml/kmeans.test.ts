import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import {
  copyRows,
  fitKMeans,
  kmeansInertia,
  kmeansPlusPlus,
  lloydRows,
  predictKMeans,
  silhouetteScore,
} from '../../src/ml/kmeans.js';
import { createRng, type Rng } from '../../src/ml/rng.js';
import type { Matrix } from '../../src/ml/types.js';

/** Column-major matrix from rows, as written on paper. */
function matrix(rows: readonly (readonly number[])[]): Matrix {
  const n = rows.length;
  const F = rows[0]!.length;
  const data = new Float64Array(n * F);
  rows.forEach((row, i) => row.forEach((v, j) => (data[j * n + i] = v)));
  return { data, rows: n, cols: F };
}

/** Standard normal by Box–Muller from the seeded generator. */
function gauss(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/** n points around each of the given centres, with standard deviation sd. */
function blobs(centres: readonly (readonly number[])[], n: number, sd: number, seed: number): Matrix {
  const rng = createRng(seed);
  return matrix(centres.flatMap((c) => Array.from({ length: n }, () => c.map((v) => v + sd * gauss(rng)))));
}

/** Row-major double copy of X. */
function toRowMajor(X: Matrix): Float64Array {
  const R = new Float64Array(X.rows * X.cols);
  for (let j = 0; j < X.cols; j++)
    for (let i = 0; i < X.rows; i++) R[i * X.cols + j] = X.data[j * X.rows + i]!;
  return R;
}

/** Textbook Lloyd: every distance, every iteration; the reference for the accelerated versions. */
function naiveLloyd(
  R: Float64Array,
  n: number,
  F: number,
  init: Float64Array,
  maxIter: number,
  tolAbs: number,
): { C: Float64Array; labels: Int32Array; iterations: number } {
  const k = init.length / F;
  let C = Float64Array.from(init);
  const labels = new Int32Array(n).fill(-1);
  const assign = (): number => {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        let d = 0;
        for (let j = 0; j < F; j++) d += (R[i * F + j]! - C[c * F + j]!) ** 2;
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      if (labels[i] !== best) changed++;
      labels[i] = best;
    }
    return changed;
  };
  let iterations = 0;
  for (;;) {
    const changed = assign();
    const next = new Float64Array(k * F);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      counts[labels[i]!]!++;
      for (let j = 0; j < F; j++) next[labels[i]! * F + j]! += R[i * F + j]!;
    }
    let shift = 0;
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < F; j++) {
        next[c * F + j] = counts[c]! > 0 ? next[c * F + j]! / counts[c]! : C[c * F + j]!;
        shift += (next[c * F + j]! - C[c * F + j]!) ** 2;
      }
    }
    C = next;
    iterations++;
    if ((iterations > 1 && changed === 0) || shift <= tolAbs || iterations >= maxIter) break;
  }
  assign();
  return { C, labels, iterations };
}

const DATA = resolve(process.cwd(), '../shared/data');

function irisFeatures(): Matrix | null {
  const path = resolve(DATA, 'iris.csv');
  if (!existsSync(path)) return null;
  const lines = readFileSync(path, 'utf8').trimEnd().split(/\r?\n/).slice(1);
  return matrix(lines.map((l) => l.split(',').slice(0, 4).map(Number)));
}

describe('k-means++', () => {
  test('picks k distinct rows, one from each well-separated blob, and is reproducible', () => {
    const X = blobs(
      [
        [0, 0],
        [10, 0],
        [0, 10],
        [10, 10],
      ],
      25,
      0.5,
      1,
    );
    const C = kmeansPlusPlus(X, 4, createRng(7));
    assert.deepEqual(C, kmeansPlusPlus(X, 4, createRng(7)));
    const quadrants = new Set<string>();
    for (let c = 0; c < 4; c++) quadrants.add(`${C[c * 2]! > 5}/${C[c * 2 + 1]! > 5}`);
    assert.equal(quadrants.size, 4, `centroids ${Array.from(C)}`);
    // Every centroid is a row of X.
    const R = toRowMajor(X);
    for (let c = 0; c < 4; c++) {
      let found = false;
      for (let i = 0; i < X.rows && !found; i++)
        found = R[i * 2] === C[c * 2] && R[i * 2 + 1] === C[c * 2 + 1];
      assert.ok(found);
    }
  });

  test('with as many clusters as distinct rows, every distinct row becomes a centroid', () => {
    const X = matrix([[0], [0], [5], [5], [9]]);
    const C = kmeansPlusPlus(X, 3, createRng(3));
    assert.deepEqual(
      [...C].sort((a, b) => a - b),
      [0, 5, 9],
    );
  });
});

describe('Lloyd iterations', () => {
  // Overlapping blobs in 6 dimensions: many rows sit near a boundary, so the bounds matter.
  const X = blobs(
    Array.from({ length: 5 }, (_, c) => Array.from({ length: 6 }, (__, j) => ((c * 7 + j * 3) % 5) * 0.8)),
    120,
    1,
    2,
  );
  const R = toRowMajor(X);
  const init = kmeansPlusPlus(X, 5, createRng(11));

  for (const bounds of ['elkan', 'hamerly'] as const) {
    test(`${bounds} bounds give textbook Lloyd's centroids, labels and iteration count`, () => {
      for (const maxIter of [1, 2, 5, 300]) {
        const ref = naiveLloyd(R, X.rows, 6, init, maxIter, 0);
        const got = lloydRows(copyRows(X), init, { maxIter, tolAbs: 0, bounds });
        assert.equal(got.iterations, ref.iterations, `maxIter ${maxIter}`);
        assert.deepEqual(got.labels, ref.labels, `maxIter ${maxIter}`);
        for (let q = 0; q < ref.C.length; q++) assert.ok(Math.abs(got.centroids[q]! - ref.C[q]!) < 1e-9);
      }
    });
  }

  test('exact ties and close calls between float32-rounded rows follow the textbook rule', () => {
    // x₀ = 1 + 2⁻³⁰ rounds to 1 in float32, and sits exactly halfway between x₀ ± ½ (exact in
    // double): Lloyd gives the tie to centroid 0; the rounded row alone would pick centroid 1.
    const x0 = 1 + 2 ** -30;
    const X1 = matrix([[x0], [3], [-1], [x0 + 2]]);
    const init = Float64Array.from([x0 + 0.5, x0 - 0.5]);
    for (const bounds of ['elkan', 'hamerly'] as const) {
      for (const maxIter of [1, 300]) {
        const ref = naiveLloyd(toRowMajor(X1), 4, 1, init, maxIter, 0);
        const got = lloydRows(copyRows(X1), init, { maxIter, tolAbs: 0, bounds });
        assert.deepEqual(got.centroids, ref.C, `${bounds}, maxIter ${maxIter}`);
        assert.deepEqual(got.labels, ref.labels, `${bounds}, maxIter ${maxIter}`);
      }
    }
  });

  test('the inertia is Σ‖x − c‖² of the returned labels, and predict gives those labels', () => {
    const fit = fitKMeans(X, { k: 5, rng: createRng(4) });
    assert.deepEqual(predictKMeans(fit.model, X), fit.labels);
    const inertia = kmeansInertia(fit.model, X);
    assert.ok(Math.abs(inertia - fit.inertia) <= 1e-9 * inertia);
    assert.ok(fit.converged);
  });

  test('by hand: two clusters on a line', () => {
    const X1 = matrix([[0], [1], [2], [10], [11], [12]]);
    const fit = fitKMeans(X1, { k: 2, rng: createRng(0) });
    const centres = [...fit.model.centroids].sort((a, b) => a - b);
    assert.deepEqual(centres, [1, 11]);
    assert.equal(fit.inertia, 4); // (1 + 0 + 1) twice
  });

  test('an empty cluster takes the farthest row (duplicate initial centroids)', () => {
    const X1 = matrix([[0], [1], [2], [10], [11], [12], [30]]);
    const r = lloydRows(copyRows(X1), Float64Array.from([0, 0, 11]), { maxIter: 100, tolAbs: 0 });
    assert.equal(new Set(r.labels).size, 3);
    assert.ok(r.inertia < 20, `inertia ${r.inertia}`);
  });

  test('nInit keeps the best of several starts; the same seed gives the same model', () => {
    const a = fitKMeans(X, { k: 5, rng: createRng(9), nInit: 4 });
    const b = fitKMeans(X, { k: 5, rng: createRng(9), nInit: 4 });
    assert.deepEqual(a.model.centroids, b.model.centroids);
    const rng = createRng(9);
    const singles = Array.from({ length: 4 }, () => fitKMeans(X, { k: 5, rng }).inertia);
    assert.equal(a.inertia, Math.min(...singles));
  });

  test('iris, k = 3: scikit-learn 1.2 KMeans(n_init=10) reaches inertia 78.851441', (t) => {
    const iris = irisFeatures();
    if (!iris) return t.skip(`SKIPPED: iris.csv is missing under ${DATA}`);
    const fit = fitKMeans(iris, { k: 3, rng: createRng(0), nInit: 10 });
    assert.ok(Math.abs(fit.inertia - 78.851441426146) < 1e-6, `inertia ${fit.inertia}`);
  });
});

describe('mini-batch k-means', () => {
  test('on blobs, within 2% of Lloyd’s inertia', () => {
    const X = blobs(
      Array.from({ length: 6 }, (_, c) => [(c % 3) * 6, Math.floor(c / 3) * 6, c]),
      2000,
      1,
      5,
    );
    const lloyd = fitKMeans(X, { k: 6, rng: createRng(1), algorithm: 'lloyd' });
    const mini = fitKMeans(X, { k: 6, rng: createRng(1), algorithm: 'minibatch', batchSize: 256 });
    assert.ok(mini.inertia <= lloyd.inertia * 1.02, `mini-batch ${mini.inertia}, Lloyd ${lloyd.inertia}`);
    assert.deepEqual(predictKMeans(mini.model, X), mini.labels);
  });
});

describe('silhouette', () => {
  test('by hand on four points', () => {
    // Clusters {0, 1} and {10, 11}: a = 1 for every point; b = 10.5, 9.5, 9.5, 10.5.
    const X = matrix([[0], [1], [10], [11]]);
    const s = silhouetteScore(X, Int32Array.from([0, 0, 1, 1]));
    const want = ((10.5 - 1) / 10.5 + (9.5 - 1) / 9.5 + (9.5 - 1) / 9.5 + (10.5 - 1) / 10.5) / 4;
    assert.ok(Math.abs(s - want) < 1e-15);
  });

  test('a row alone in its cluster scores 0; a single cluster is undefined (NaN)', () => {
    const X = matrix([[0], [1], [10]]);
    const s = silhouetteScore(X, Int32Array.from([0, 0, 1]));
    assert.ok(Math.abs(s - ((10 - 1) / 10 + (9 - 1) / 9 + 0) / 3) < 1e-15);
    assert.ok(Number.isNaN(silhouetteScore(X, Int32Array.from([0, 0, 0]))));
  });

  test('iris, k = 3: scikit-learn gives 0.5528 for its labels; a sample of 100 rows is close', (t) => {
    const iris = irisFeatures();
    if (!iris) return t.skip(`SKIPPED: iris.csv is missing under ${DATA}`);
    const fit = fitKMeans(iris, { k: 3, rng: createRng(0), nInit: 10 });
    const full = silhouetteScore(iris, fit.labels);
    assert.ok(Math.abs(full - 0.5528190123564102) < 1e-9, `silhouette ${full}`);
    const sampled = silhouetteScore(iris, fit.labels, { sampleSize: 100, rng: createRng(1) });
    assert.ok(Math.abs(sampled - full) < 0.05, `sampled ${sampled}`);
  });
});

describe('k-means: bad calls', () => {
  const X = matrix([[0], [1], [2]]);
  test('bad call: more clusters than rows', () =>
    assert.throws(() => fitKMeans(X, { k: 4, rng: createRng(0) }), /need at least 4 rows/));
  test('bad call: k = 0', () =>
    assert.throws(() => fitKMeans(X, { k: 0, rng: createRng(0) }), /integer ≥ 1/));
  test('bad call: NaN in X', () =>
    assert.throws(() => fitKMeans(matrix([[0], [NaN], [2]]), { k: 2, rng: createRng(0) }), /NaN at row 1/));
  test('bad call: predict with the wrong width', () => {
    const fit = fitKMeans(X, { k: 2, rng: createRng(0) });
    assert.throws(() => predictKMeans(fit.model, matrix([[0, 1]])), /2 columns, the model 1/);
  });
});
