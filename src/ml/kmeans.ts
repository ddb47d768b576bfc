/**
 * k-means clustering: minimise the inertia Σᵢ ‖xᵢ − c_{a(i)}‖² over k centroids c and the
 * assignment a.
 *
 * - Initialisation: greedy k-means++ (D. Arthur and S. Vassilvitskii, "k-means++: the advantages
 *   of careful seeding", SODA 2007, with the greedy choice among 2 + ⌊ln k⌋ candidates of their
 *   §6 and of scikit-learn's `_kmeans_plusplus`), pruned by the triangle inequality (E. Raff,
 *   "Exact acceleration of k-means++ and k-means‖", IJCAI 2021).
 * - Lloyd's iterations (S. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory
 *   28(2), 1982) accelerated by the triangle inequality: Elkan's bounds (C. Elkan, "Using the
 *   triangle inequality to accelerate k-means", ICML 2003), or Hamerly's (G. Hamerly, "Making
 *   k-means even faster", SIAM SDM 2010) when k bounds per row would take too much memory. The
 *   result is Lloyd's: the same assignments and centroids, iteration by iteration.
 * - Mini-batch k-means (D. Sculley, "Web-scale k-means clustering", WWW 2010) for large data:
 *   per-centroid learning rate 1/count, early stopping on the smoothed batch inertia as
 *   scikit-learn's `MiniBatchKMeans`.
 * - Silhouette (P. Rousseeuw, J. Comput. Appl. Math. 20, 1987), on a random sample for large n.
 *
 * Rows are copied once into a row-major float32 buffer (`RowCopy`): every step reads one row's F
 * features at a time, which would be F cache misses per row in the column-major `Matrix`, and
 * float32 halves the memory traffic, which bounds the speed of the accelerated iterations. The
 * rounding is accounted for, not ignored: with eᵢ = ‖xᵢ − fl32(xᵢ)‖ (computed in double), the
 * triangle inequality gives |‖fl32(xᵢ) − c‖ − ‖xᵢ − c‖| ≤ eᵢ, so the bounds stay valid and, where
 * two centroids are within 2eᵢ of each other, the choice is made with the exact double distance.
 * Sums, centroids and the inertia are computed from the double values.
 */
import type { Rng } from './rng.js';
import type { Matrix } from './types.js';

/** k centroids over F features. */
export interface KMeansModel {
  readonly kind: 'kmeans';
  readonly k: number;
  readonly features: number;
  /** k × F, row-major: centroid c is `centroids[c * F .. (c + 1) * F)`. */
  readonly centroids: Float64Array;
}

export type KMeansAlgorithm = 'lloyd' | 'minibatch';

export interface KMeansOptions {
  /** Number of clusters k ≥ 1. */
  readonly k: number;
  /** Source of randomness for the initialisation (and the mini-batches). */
  readonly rng: Rng;
  /** Independent initialisations; the run with the lowest inertia is kept. Default 1. */
  readonly nInit?: number;
  /** Lloyd iterations per run, or passes over the data for mini-batch. Default 300 (Lloyd), 100 (mini-batch). */
  readonly maxIter?: number;
  /**
   * Converged when Σ_c ‖c_new − c_old‖² ≤ tol · (mean variance of the features), or when no
   * assignment changes; scikit-learn's meaning of `tol`. Default 1e-4.
   */
  readonly tol?: number;
  /** 'lloyd' (default) or 'minibatch'. */
  readonly algorithm?: KMeansAlgorithm;
  /** Rows per mini-batch. Default 1024. */
  readonly batchSize?: number;
  /** Called after each Lloyd iteration (with the squared shift) or mini-batch step (smoothed batch inertia). */
  readonly onIteration?: (run: number, iteration: number, figure: number) => void;
}

export interface KMeansFit {
  readonly model: KMeansModel;
  /** Cluster of every training row. */
  readonly labels: Int32Array;
  /** Σᵢ ‖xᵢ − c_{a(i)}‖² over the training rows. */
  readonly inertia: number;
  /** Iterations of the kept run (mini-batch: steps). */
  readonly iterations: number;
  readonly converged: boolean;
}

// ---------------------------------------------------------------------------------------------
// Rows

/** The rows of X as float32, row-major, with each row's rounding error (see the file comment). */
export interface RowCopy {
  readonly X: Matrix;
  readonly n: number;
  readonly F: number;
  /** n × F row-major, fl32(X). */
  readonly R: Float32Array;
  /** eᵢ = ‖xᵢ − fl32(xᵢ)‖, computed in double. */
  readonly err: Float64Array;
}

/** Copies X into a RowCopy; throws on NaN or ±∞. */
export function copyRows(X: Matrix): RowCopy {
  const n = X.rows;
  const F = X.cols;
  if (X.data.length !== n * F)
    throw new RangeError(`matrix data has ${X.data.length} values for ${n} × ${F}`);
  const R = new Float32Array(n * F);
  const err2 = new Float64Array(n);
  const Xd = X.data;
  for (let j = 0; j < F; j++) {
    const col = j * n;
    for (let i = 0; i < n; i++) {
      const v = Xd[col + i]!;
      if (!Number.isFinite(v)) throw new RangeError(`X has ${v} at row ${i}, column ${j}: impute first`);
      const r = Math.fround(v);
      R[i * F + j] = r;
      err2[i]! += (v - r) * (v - r);
    }
  }
  // Rounded up a little: the sum and the square root above are themselves rounded.
  const err = err2.map((e) => (e === 0 ? 0 : Math.sqrt(e) * (1 + 1e-10)));
  return { X, n, F, R, err };
}

/**
 * ‖fl32(xᵢ) − c‖² for the row at R[o..o+F) (float32) and the centroid at C[co..co+F), accumulated
 * in double. Four partial sums: one accumulator would wait on the latency of each addition (the
 * loop is a dependency chain); four overlap them, about 1.5× faster at F = 30.
 */
function sqDist32(R: Float32Array, o: number, C: Float64Array, co: number, F: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 4 <= F; j += 4) {
    const d0 = R[o + j]! - C[co + j]!;
    const d1 = R[o + j + 1]! - C[co + j + 1]!;
    const d2 = R[o + j + 2]! - C[co + j + 2]!;
    const d3 = R[o + j + 3]! - C[co + j + 3]!;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; j < F; j++) {
    const d = R[o + j]! - C[co + j]!;
    s0 += d * d;
  }
  return s0 + s1 + (s2 + s3);
}

/** ‖fl32(xᵢ) − fl32(x_t)‖² between two rows of R (four partial sums, as sqDist32). */
function sqDistRows(R: Float32Array, o: number, p: number, F: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 4 <= F; j += 4) {
    const d0 = R[o + j]! - R[p + j]!;
    const d1 = R[o + j + 1]! - R[p + j + 1]!;
    const d2 = R[o + j + 2]! - R[p + j + 2]!;
    const d3 = R[o + j + 3]! - R[p + j + 3]!;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; j < F; j++) {
    const d = R[o + j]! - R[p + j]!;
    s0 += d * d;
  }
  return s0 + s1 + (s2 + s3);
}

/** The exact ‖xᵢ − c‖² from the double values of X (a strided read: only for the rare close calls). */
function exactSqDist(X: Matrix, i: number, C: Float64Array, co: number): number {
  const n = X.rows;
  let s = 0;
  for (let j = 0; j < X.cols; j++) {
    const d = X.data[j * n + i]! - C[co + j]!;
    s += d * d;
  }
  return s;
}

/** Sets centroid c to row i of X (exact values). */
function setToRow(C: Float64Array, c: number, X: Matrix, i: number): void {
  const F = X.cols;
  for (let j = 0; j < F; j++) C[c * F + j] = X.data[j * X.rows + i]!;
}

/** Mean over the features of their population variance: the scale of scikit-learn's `tol`. */
function meanVariance(X: Matrix): number {
  const n = X.rows;
  let s = 0;
  for (let j = 0; j < X.cols; j++) {
    const col = j * n;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += X.data[col + i]!;
    mean /= n;
    for (let i = 0; i < n; i++) s += (X.data[col + i]! - mean) ** 2;
  }
  return s / (n * X.cols);
}

function checkK(k: number, n: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be an integer ≥ 1, got ${k}`);
  if (k > n) throw new RangeError(`k = ${k} clusters need at least ${k} rows, got ${n}`);
}

// ---------------------------------------------------------------------------------------------
// k-means++

/**
 * Greedy k-means++ seeding over rows `subset` of the copy (all rows when omitted): the first
 * centroid is a uniform row; each next one is the best, by the resulting potential
 * Σᵢ min_c ‖xᵢ − c‖², of `trials` rows drawn with probability proportional to D(x)², the squared
 * distance to the nearest centroid chosen so far; `trials` defaults to 2 + ⌊ln k⌋ (Arthur &
 * Vassilvitskii 2007, §6; scikit-learn). Distances are those of the float32 rows (a seeding
 * heuristic needs no more); the returned k × F centroids are the chosen rows' exact values.
 *
 * A candidate x' cannot come closer to row x than x's nearest centroid c when ‖x' − c‖ ≥ 2·D(x)
 * (triangle inequality), so that distance is not computed (Raff 2021): later rounds, with small
 * D(x), skip most rows.
 */
export function kmeansPlusPlusRows(
  rows: RowCopy,
  k: number,
  rng: Rng,
  options: { trials?: number; subset?: Uint32Array } = {},
): Float64Array {
  const { R, F, X } = rows;
  const subset = options.subset;
  const n = subset ? subset.length : rows.n;
  const trials = options.trials ?? 2 + Math.floor(Math.log(k));
  checkK(k, n);
  const offsets = Int32Array.from({ length: n }, (_, t) => (subset ? subset[t]! : t) * F);
  const at = (t: number): number => offsets[t]!; // offset of the t-th row in R
  const chosen = new Int32Array(k); // offsets in R of the chosen rows
  chosen[0] = at(rng.int(n));
  const closest = new Float64Array(n); // D(x)²
  const owner = new Int32Array(n); // the centroid at D(x)
  for (let t = 0; t < n; t++) closest[t] = sqDistRows(R, offsets[t]!, chosen[0]!, F);
  const cumulative = new Float64Array(n);
  // The trials of one round are scored in one pass over the rows, each row read once.
  const candidate = Array.from({ length: trials }, () => new Float64Array(n));
  const picks = new Int32Array(trials);
  const pickAt = new Int32Array(trials);
  const apart = new Float64Array(trials * k); // ‖x'_q − c‖² for trial q and the chosen centroids c
  const pot = new Float64Array(trials);
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let t = 0; t < n; t++) cumulative[t] = acc += closest[t]!;
    for (let q = 0; q < trials; q++) {
      // Inverse-CDF sampling: the first row whose cumulative D² reaches u·potential (numpy's searchsorted 'left').
      picks[q] = Math.min(lowerBound(cumulative, rng.next() * acc), n - 1);
      pickAt[q] = at(picks[q]!);
      for (let p = 0; p < c; p++) apart[q * k + p] = sqDistRows(R, at(picks[q]!), chosen[p]!, F);
    }
    pot.fill(0);
    for (let t = 0; t < n; t++) {
      const dt = closest[t]!;
      const ot = offsets[t]!;
      const own = owner[t]!;
      for (let q = 0; q < trials; q++) {
        // ‖x' − c‖ ≥ 2·D(x) ⇔ ‖x' − c‖² ≥ 4·D(x)²: x' is no closer than c.
        const d = apart[q * k + own]! >= 4 * dt ? dt : Math.min(dt, sqDistRows(R, ot, pickAt[q]!, F));
        candidate[q]![t] = d;
        pot[q]! += d;
      }
    }
    let best = 0;
    for (let q = 1; q < trials; q++) if (pot[q]! < pot[best]!) best = q;
    chosen[c] = at(picks[best]!);
    const winner = candidate[best]!;
    for (let t = 0; t < n; t++) {
      if (winner[t]! < closest[t]!) {
        closest[t] = winner[t]!;
        owner[t] = c;
      }
    }
  }
  const C = new Float64Array(k * F);
  for (let c = 0; c < k; c++) setToRow(C, c, X, chosen[c]! / F);
  return C;
}

/** First index i with a[i] ≥ v in the non-decreasing array a, or a.length. */
function lowerBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Greedy k-means++ on a column-major matrix; k × F row-major centroids. */
export function kmeansPlusPlus(X: Matrix, k: number, rng: Rng, trials?: number): Float64Array {
  return kmeansPlusPlusRows(copyRows(X), k, rng, trials === undefined ? {} : { trials });
}

// ---------------------------------------------------------------------------------------------
// Lloyd with Elkan's or Hamerly's bounds

interface RunResult {
  readonly centroids: Float64Array;
  readonly labels: Int32Array;
  readonly inertia: number;
  readonly iterations: number;
  readonly converged: boolean;
}

/** Lower bounds per row above which Hamerly's single bound replaces Elkan's k bounds: 64 MiB of them. */
const ELKAN_MAX_BOUNDS = 8 * 1024 * 1024;

/**
 * Lloyd's algorithm from the given centroids (copied), as scikit-learn's `_kmeans_single_lloyd`:
 * each iteration assigns every row to its nearest centroid (the lowest index on ties), then moves
 * each centroid to the mean of its rows; it stops when no assignment changes or when the total
 * squared centroid shift is at most `tolAbs`, and the returned labels are those of the final
 * centroids.
 *
 * The assignments are found with the triangle inequality instead of all n·k distances, keeping
 * an upper bound u(i) ≥ ‖xᵢ − c_{a(i)}‖ and lower bounds on the distances to the other centroids:
 * - Elkan (2003): one lower bound l(i, c) per centroid; the distance to c is computed only if
 *   u(i) > l(i, c) and u(i) > ½‖c_{a(i)} − c‖ (Lemma 1). Used while n·k bounds fit in 64 MiB.
 * - Hamerly (2010) beyond that: one bound l(i) ≤ min_{c≠a(i)} ‖xᵢ − c‖; row i is skipped if
 *   u(i) ≤ max(l(i), ½ min_{c≠a(i)} ‖c_{a(i)} − c‖).
 * After the centroids move by p(c), u(i) += p(a(i)) and each lower bound drops by the largest move
 * it covers. Every skip is exact, so the iterations are Lloyd's. Cluster sums are updated
 * incrementally as rows change cluster.
 */
export function lloydRows(
  rows: RowCopy,
  initial: Float64Array,
  options: {
    maxIter: number;
    tolAbs: number;
    onIteration?: (iteration: number, shift: number) => void;
    /** Force one kind of bounds (tests); by default Elkan's when they fit. */
    bounds?: 'elkan' | 'hamerly';
  },
): RunResult {
  const { X, n, F } = rows;
  const k = initial.length / F;
  const elkan = (options.bounds ?? (n * k <= ELKAN_MAX_BOUNDS ? 'elkan' : 'hamerly')) === 'elkan';
  const C = Float64Array.from(initial);
  const a = new Int32Array(n);
  // Elkan's bounds are stored relative to each centroid's total movement so far, drift(c):
  // u(i) = upper[i] + drift(a(i)) and l(i, c) = lower[i·k + c] − drift(c). Moving the centroids
  // then changes k numbers instead of n·(k + 1). Hamerly's are stored as they are.
  const upper = new Float64Array(n);
  const lower = new Float64Array(elkan ? n * k : n);
  const drift = new Float64Array(k);
  // With Elkan's bounds, also Hamerly's min_{c≠a(i)} l(i, c), kept by its own rule: one test then
  // skips a row that all k tests would skip. On overlapping clusters s(a(i)) rarely does.
  const nearestOther = new Float64Array(elkan ? n : 0);
  const sums = new Float64Array(k * F);
  const counts = new Float64Array(k);
  const half = new Float64Array(k); // s(c) = ½ min_{c'≠c} ‖c − c'‖
  const halfBetween = new Float64Array(k * k); // ½‖c − c'‖
  const moved = new Float64Array(k); // p(c)
  const next = new Float64Array(k * F);
  const dist = new Float64Array(k);
  const state: BoundState = {
    rows,
    k,
    C,
    a,
    upper,
    lower,
    drift,
    nearestOther,
    sums,
    counts,
    half,
    halfBetween,
    moved,
    maxMoved: 0,
    secondMoved: 0,
    argMax: -1,
    dist,
  };

  // First assignment: every distance.
  for (let i = 0; i < n; i++) {
    const [best, second] = assignFully(state, i);
    a[i] = best;
    counts[best]!++;
    if (elkan) {
      for (let c = 0; c < k; c++) lower[i * k + c] = Math.sqrt(dist[c]!) - rows.err[i]!;
      nearestOther[i] = second;
    } else {
      lower[i] = second;
    }
  }
  for (let j = 0; j < F; j++) {
    const col = j * n;
    for (let i = 0; i < n; i++) sums[a[i]! * F + j]! += X.data[col + i]!;
  }

  let iterations = 0;
  let converged = false;
  let changed = n; // assignments changed by the last E-step (the first one counts as all)
  for (;;) {
    // M-step: centroids to the means; an empty cluster takes the row farthest from its centroid,
    // whose bounds then say nothing (u = ∞ would do; these are exact: it sits on its centroid).
    const relocated = relocateEmpty(rows, C, a, sums, counts);
    for (const i of relocated) {
      upper[i] = (elkan ? -drift[a[i]!]! : 0) + rows.err[i]!;
      if (elkan) {
        for (let c = 0; c < k; c++) lower[i * k + c] = drift[c]!;
        nearestOther[i] = 0;
      } else {
        lower[i] = 0;
      }
    }
    let shift = 0;
    let maxMoved = 0;
    let secondMoved = 0;
    let argMax = -1;
    for (let c = 0; c < k; c++) {
      let p2 = 0;
      for (let j = 0; j < F; j++) {
        const v = counts[c]! > 0 ? sums[c * F + j]! / counts[c]! : C[c * F + j]!;
        const d = v - C[c * F + j]!;
        p2 += d * d;
        next[c * F + j] = v;
      }
      shift += p2;
      const p = Math.sqrt(p2);
      moved[c] = p;
      drift[c]! += p;
      if (p > maxMoved) {
        secondMoved = maxMoved;
        maxMoved = p;
        argMax = c;
      } else if (p > secondMoved) secondMoved = p;
    }
    C.set(next);
    iterations++;
    options.onIteration?.(iterations, shift);
    // scikit-learn's tests after its M-step: no label changed (strict: the labels already belong
    // to these centroids), or a small total shift; either way, as at maxIter, one more E-step
    // gives the labels of the final centroids.
    if (iterations > 1 && changed === 0 && relocated.length === 0) {
      converged = true;
      break;
    }
    converged = shift <= options.tolAbs;
    const last = converged || iterations >= options.maxIter;
    separations(C, k, F, half, halfBetween);

    // E-step (in functions of their own: small enough for the optimising compiler to take whole).
    state.maxMoved = maxMoved;
    state.secondMoved = secondMoved;
    state.argMax = argMax;
    changed = elkan ? elkanStep(state) : hamerlyStep(state);
    if (last) break;
  }

  // The labels now belong to the final centroids: the inertia needs one distance per row.
  let inertia = 0;
  for (let j = 0; j < F; j++) {
    const col = j * n;
    for (let i = 0; i < n; i++) inertia += (X.data[col + i]! - C[a[i]! * F + j]!) ** 2;
  }
  return { centroids: C, labels: a, inertia, iterations, converged };
}

/** Everything one E-step reads and updates (see lloydRows). */
interface BoundState {
  readonly rows: RowCopy;
  readonly k: number;
  readonly C: Float64Array;
  readonly a: Int32Array;
  readonly upper: Float64Array;
  readonly lower: Float64Array;
  readonly drift: Float64Array;
  readonly nearestOther: Float64Array;
  readonly sums: Float64Array;
  readonly counts: Float64Array;
  readonly half: Float64Array;
  readonly halfBetween: Float64Array;
  readonly moved: Float64Array;
  maxMoved: number;
  secondMoved: number;
  argMax: number;
  /** Scratch: the squared float32 distances of the last `assignFully`. */
  readonly dist: Float64Array;
}

/**
 * Every distance of row i: returns [nearest centroid, lower bound on the distance to the second
 * nearest] and sets upper[i] to an upper bound on the distance to the nearest. The float32
 * distances decide unless another centroid is within 2eᵢ of the nearest; then the exact ones do.
 */
function assignFully(st: BoundState, i: number): [number, number] {
  const { rows, k, C, dist, upper } = st;
  const { R, F, err } = rows;
  const o = i * F;
  const e = err[i]!;
  let best = 0;
  let d1 = Infinity;
  for (let c = 0; c < k; c++) {
    const d = sqDist32(R, o, C, c * F, F);
    dist[c] = d;
    if (d < d1) {
      d1 = d;
      best = c;
    }
  }
  let dBest = Math.sqrt(d1);
  if (e > 0) {
    let exactBest = NaN;
    for (let c = 0; c < k; c++) {
      if (c === best || Math.sqrt(dist[c]!) - e > dBest + e) continue;
      // A close call: decide with the exact distances (lowest index on ties).
      if (Number.isNaN(exactBest)) exactBest = exactSqDist(rows.X, i, C, best * F);
      const x = exactSqDist(rows.X, i, C, c * F);
      if (x < exactBest || (x === exactBest && c < best)) {
        exactBest = x;
        best = c;
      }
    }
    dBest = Math.sqrt(dist[best]!);
  }
  let second = Infinity;
  for (let c = 0; c < k; c++) if (c !== best) second = Math.min(second, Math.sqrt(dist[c]!) - e);
  upper[i] = dBest + e;
  return [best, second];
}

/** Elkan's E-step with the drift-relative bounds; returns the number of rows that changed cluster. */
function elkanStep(st: BoundState): number {
  const { rows, k, C, a, upper, lower, drift, nearestOther, sums, counts, half, halfBetween } = st;
  const { maxMoved, secondMoved, argMax } = st;
  const { R, n, F, err } = rows;
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const ai = a[i]!;
    let u = upper[i]! + drift[ai]!;
    const other = nearestOther[i]! - (ai === argMax ? secondMoved : maxMoved);
    nearestOther[i] = other;
    if (u <= half[ai]! || u <= other) continue;
    // Tighten u first: a row that gets here nearly always needs it (Elkan's step 3a).
    const o = i * F;
    const lo = i * k;
    const e = err[i]!;
    let dBest = Math.sqrt(sqDist32(R, o, C, ai * F, F));
    u = dBest + e;
    lower[lo + ai] = dBest - e + drift[ai]!;
    if (u <= half[ai]! || u <= other) {
      upper[i] = u - drift[ai]!;
      continue;
    }
    // One pass over the other centroids: the distance to c is needed only if both bounds allow
    // c to be nearer (Lemma 1); `second` collects min_{c≠best} of the lower bounds known.
    let best = ai;
    let exactBest = NaN;
    let second = Infinity;
    for (let c = 0; c < k; c++) {
      if (c === ai) continue;
      let v = lower[lo + c]! - drift[c]!;
      if (v >= u) {
        if (v < second) second = v;
        continue;
      }
      // ‖x − c‖ ≥ ‖c − c_best‖ − ‖x − c_best‖ ≥ 2·½‖c − c_best‖ − u: a lower bound for free,
      // kept so that the row is not revisited for c next time.
      const viaBest = 2 * halfBetween[best * k + c]! - u;
      if (viaBest >= u) {
        if (viaBest > v) lower[lo + c] = (v = viaBest) + drift[c]!;
        if (v < second) second = v;
        continue;
      }
      const dc = Math.sqrt(sqDist32(R, o, C, c * F, F));
      v = dc - e;
      lower[lo + c] = v + drift[c]!;
      let nearer = dc + e < dBest - e;
      if (!nearer && dc - e <= dBest + e) {
        // A close call (or a tie): decide with the exact distances, the lowest index winning ties.
        if (Number.isNaN(exactBest)) exactBest = exactSqDist(rows.X, i, C, best * F);
        const x = exactSqDist(rows.X, i, C, c * F);
        nearer = x < exactBest || (x === exactBest && c < best);
        if (nearer) exactBest = x;
      } else if (nearer) {
        exactBest = NaN;
      }
      if (nearer) {
        if (dBest - e < second) second = dBest - e;
        best = c;
        dBest = dc;
        u = dc + e;
        continue;
      }
      if (v < second) second = v;
    }
    upper[i] = u - drift[best]!;
    nearestOther[i] = second;
    if (best !== ai) {
      changed++;
      move(rows.X, i, sums, counts, ai, best);
      a[i] = best;
    }
  }
  return changed;
}

/** Hamerly's E-step; returns the number of rows that changed cluster. */
function hamerlyStep(st: BoundState): number {
  const { rows, C, a, upper, lower, sums, counts, half, moved } = st;
  const { maxMoved, secondMoved, argMax } = st;
  const { R, n, F, err } = rows;
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const ai = a[i]!;
    const u0 = upper[i]! + moved[ai]!;
    const l0 = lower[i]! - (ai === argMax ? secondMoved : maxMoved);
    upper[i] = u0;
    lower[i] = l0;
    const m = Math.max(half[ai]!, l0);
    if (u0 <= m) continue;
    const tightened = Math.sqrt(sqDist32(R, i * F, C, ai * F, F)) + err[i]!;
    upper[i] = tightened;
    if (tightened <= m) continue;
    const [best, second] = assignFully(st, i);
    lower[i] = second;
    if (best !== ai) {
      changed++;
      move(rows.X, i, sums, counts, ai, best);
      a[i] = best;
    }
  }
  return changed;
}

/** Moves row i of X from cluster `from` to cluster `to` in the running sums (exact values). */
function move(
  X: Matrix,
  i: number,
  sums: Float64Array,
  counts: Float64Array,
  from: number,
  to: number,
): void {
  const F = X.cols;
  counts[from]!--;
  counts[to]!++;
  for (let j = 0; j < F; j++) {
    const x = X.data[j * X.rows + i]!;
    sums[from * F + j]! -= x;
    sums[to * F + j]! += x;
  }
}

/** ½‖c − c'‖ for every pair, and s(c) = ½ min_{c'≠c} ‖c − c'‖ (Elkan 2003, step 1). */
function separations(C: Float64Array, k: number, F: number, half: Float64Array, between: Float64Array): void {
  half.fill(Infinity);
  for (let c = 0; c < k; c++) {
    between[c * k + c] = 0;
    for (let d = c + 1; d < k; d++) {
      let s = 0;
      for (let j = 0; j < F; j++) s += (C[c * F + j]! - C[d * F + j]!) ** 2;
      const h = 0.5 * Math.sqrt(s);
      between[c * k + d] = h;
      between[d * k + c] = h;
      if (h < half[c]!) half[c] = h;
      if (h < half[d]!) half[d] = h;
    }
  }
}

/**
 * Gives each empty cluster the row farthest from its centroid among clusters with more than one
 * row (scikit-learn relocates empty clusters to far points too). Returns the rows moved.
 */
function relocateEmpty(
  rows: RowCopy,
  C: Float64Array,
  a: Int32Array,
  sums: Float64Array,
  counts: Float64Array,
): number[] {
  const { R, n, F, X } = rows;
  const k = counts.length;
  const relocated: number[] = [];
  for (let c = 0; c < k; c++) {
    if (counts[c]! > 0) continue;
    let far = -1;
    let farD = -1;
    for (let i = 0; i < n; i++) {
      if (counts[a[i]!]! <= 1) continue;
      const d = sqDist32(R, i * F, C, a[i]! * F, F);
      if (d > farD) {
        farD = d;
        far = i;
      }
    }
    if (far < 0) break; // fewer distinct rows than clusters: nothing to move
    move(X, far, sums, counts, a[far]!, c);
    setToRow(C, c, X, far);
    a[far] = c;
    relocated.push(far);
  }
  return relocated;
}

// ---------------------------------------------------------------------------------------------
// Mini-batch

/**
 * Mini-batch k-means (Sculley 2010, Algorithm 1) from the given centroids: each step draws
 * `batchSize` rows uniformly with replacement, assigns them to the nearest centroid, and moves
 * centroid c to (v_c·c + Σ x) / (v_c + b_c), v_c the rows it has seen so far and b_c those of
 * this batch — the per-row update c ← (1 − 1/v)c + x/v applied to the whole batch at once.
 * Stops after `maxIter` passes' worth of steps, or when the exponentially weighted mean of the
 * batch inertia has not improved for 10 steps (scikit-learn's `max_no_improvement`), or when the
 * squared centroid shift of a step is at most `tolAbs`. Clusters that receive less than 1% of the
 * largest cluster's rows are moved to random rows of the batch once per pass, as scikit-learn's
 * `reassignment_ratio=0.01`. The steps use the float32 rows (the method is a stochastic
 * approximation anyway); the final labels and inertia are exact.
 */
export function miniBatchRows(
  rows: RowCopy,
  initial: Float64Array,
  rng: Rng,
  options: {
    maxIter: number;
    batchSize: number;
    tolAbs: number;
    onIteration?: (iteration: number, ewa: number) => void;
  },
): RunResult {
  const { R, n, F, X } = rows;
  const k = initial.length / F;
  const C = Float64Array.from(initial);
  const b = Math.min(options.batchSize, n);
  const steps = Math.max(1, Math.ceil((options.maxIter * n) / b));
  const perPass = Math.max(1, Math.floor(n / b));
  const seen = new Float64Array(k);
  const batch = new Int32Array(b);
  const batchSums = new Float64Array(k * F);
  const batchCounts = new Float64Array(k);
  const alpha = Math.min(1, (2 * b) / (n + 1));
  let ewa = NaN;
  let ewaMin = Infinity;
  let noImprovement = 0;
  let iterations = 0;
  let converged = false;
  for (let step = 0; step < steps; step++) {
    batchSums.fill(0);
    batchCounts.fill(0);
    let batchInertia = 0;
    for (let t = 0; t < b; t++) {
      const i = rng.int(n);
      batch[t] = i;
      const o = i * F;
      let c = 0;
      let d = Infinity;
      for (let q = 0; q < k; q++) {
        const dq = sqDist32(R, o, C, q * F, F);
        if (dq < d) {
          d = dq;
          c = q;
        }
      }
      batchInertia += d;
      batchCounts[c]!++;
      for (let j = 0; j < F; j++) batchSums[c * F + j]! += R[o + j]!;
    }
    let shift = 0;
    for (let c = 0; c < k; c++) {
      const bc = batchCounts[c]!;
      if (bc === 0) continue;
      const v = seen[c]! + bc;
      for (let j = 0; j < F; j++) {
        const old = C[c * F + j]!;
        const updated = (old * seen[c]! + batchSums[c * F + j]!) / v;
        shift += (updated - old) ** 2;
        C[c * F + j] = updated;
      }
      seen[c] = v;
    }
    iterations = step + 1;
    // Reassign starved clusters once per pass (not on the last step, so the result stays settled).
    if ((step + 1) % perPass === 0 && step + 1 < steps && k > 1) {
      let maxSeen = 0;
      for (let c = 0; c < k; c++) maxSeen = Math.max(maxSeen, seen[c]!);
      let minKept = Infinity;
      for (let c = 0; c < k; c++) if (seen[c]! >= 0.01 * maxSeen) minKept = Math.min(minKept, seen[c]!);
      for (let c = 0; c < k; c++) {
        if (seen[c]! >= 0.01 * maxSeen) continue;
        setToRow(C, c, X, batch[rng.int(b)]!);
        seen[c] = minKept;
      }
    }
    const mean = batchInertia / b;
    ewa = Number.isNaN(ewa) ? mean : ewa * (1 - alpha) + mean * alpha;
    options.onIteration?.(iterations, ewa);
    if (options.tolAbs > 0 && shift <= options.tolAbs) {
      converged = true;
      break;
    }
    if (ewa < ewaMin) {
      ewaMin = ewa;
      noImprovement = 0;
    } else if (++noImprovement >= 10) {
      converged = true;
      break;
    }
  }
  const model: KMeansModel = { kind: 'kmeans', k, features: F, centroids: C };
  const labels = predictKMeans(model, X);
  return { centroids: C, labels, inertia: kmeansInertia(model, X, labels), iterations, converged };
}

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * k-means by Lloyd's algorithm (triangle-inequality accelerated, exact) or mini-batch k-means,
 * each run seeded by greedy k-means++; the run with the lowest inertia of `nInit` is kept.
 * Mini-batch runs seed from a random sample of 3·batchSize rows (at least 3k), as scikit-learn's
 * `init_size`.
 */
export function fitKMeans(X: Matrix, options: KMeansOptions): KMeansFit {
  const n = X.rows;
  const F = X.cols;
  const k = options.k;
  checkK(k, n);
  const nInit = options.nInit ?? 1;
  if (!Number.isInteger(nInit) || nInit < 1)
    throw new RangeError(`nInit must be an integer ≥ 1, got ${nInit}`);
  const algorithm = options.algorithm ?? 'lloyd';
  const maxIter = options.maxIter ?? (algorithm === 'lloyd' ? 300 : 100);
  if (!Number.isInteger(maxIter) || maxIter < 1)
    throw new RangeError(`maxIter must be an integer ≥ 1, got ${maxIter}`);
  const tol = options.tol ?? 1e-4;
  if (!(tol >= 0)) throw new RangeError(`tol must be ≥ 0, got ${tol}`);
  const batchSize = options.batchSize ?? 1024;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  const rows = copyRows(X);
  const tolAbs = tol * meanVariance(X);
  const rng = options.rng;

  let best: RunResult | undefined;
  for (let run = 0; run < nInit; run++) {
    const onIteration = options.onIteration
      ? (iteration: number, figure: number) => options.onIteration!(run, iteration, figure)
      : undefined;
    let result: RunResult;
    if (algorithm === 'lloyd') {
      const init = kmeansPlusPlusRows(rows, k, rng);
      result = lloydRows(rows, init, { maxIter, tolAbs, ...(onIteration ? { onIteration } : {}) });
    } else {
      const sample = Math.min(n, Math.max(3 * batchSize, 3 * k));
      const init = kmeansPlusPlusRows(rows, k, rng, { subset: partialShuffle(n, sample, rng) });
      result = miniBatchRows(rows, init, rng, {
        maxIter,
        batchSize,
        // scikit-learn's MiniBatchKMeans has tol=0 (off) by default; a shift test per step of a
        // noisy estimate would stop too early, so only an explicit request turns it on.
        tolAbs: options.tol !== undefined ? tolAbs : 0,
        ...(onIteration ? { onIteration } : {}),
      });
    }
    if (!best || result.inertia < best.inertia) best = result;
  }
  const r = best!;
  return {
    model: { kind: 'kmeans', k, features: F, centroids: r.centroids },
    labels: r.labels,
    inertia: r.inertia,
    iterations: r.iterations,
    converged: r.converged,
  };
}

/** The first m entries of a uniform random permutation of 0..n−1 (Durstenfeld's shuffle, stopped early). */
function partialShuffle(n: number, m: number, rng: Rng): Uint32Array {
  const idx = Uint32Array.from({ length: n }, (_, i) => i);
  for (let t = 0; t < m; t++) {
    const j = t + rng.int(n - t);
    const tmp = idx[t]!;
    idx[t] = idx[j]!;
    idx[j] = tmp;
  }
  return idx.subarray(0, m);
}

/** Nearest centroid of every row (the lowest index on ties). */
export function predictKMeans(model: KMeansModel, X: Matrix): Int32Array {
  if (X.cols !== model.features)
    throw new RangeError(`X has ${X.cols} columns, the model ${model.features} features`);
  const n = X.rows;
  const F = X.cols;
  const k = model.k;
  const C = model.centroids;
  const Xd = X.data;
  // Column-major distances, a block of rows at a time: each feature column is read sequentially
  // and the block's k distance accumulators stay in cache.
  const B = 256;
  const D = new Float64Array(k * B);
  const labels = new Int32Array(n);
  for (let start = 0; start < n; start += B) {
    const m = Math.min(B, n - start);
    D.fill(0);
    for (let j = 0; j < F; j++) {
      const col = j * n + start;
      for (let c = 0; c < k; c++) {
        const cj = C[c * F + j]!;
        const o = c * B;
        for (let t = 0; t < m; t++) {
          const d = Xd[col + t]! - cj;
          D[o + t]! += d * d;
        }
      }
    }
    for (let t = 0; t < m; t++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (D[c * B + t]! < D[best * B + t]!) best = c;
      labels[start + t] = best;
    }
  }
  return labels;
}

/** Σᵢ ‖xᵢ − c_{labels[i]}‖². */
export function kmeansInertia(model: KMeansModel, X: Matrix, labels = predictKMeans(model, X)): number {
  const n = X.rows;
  const F = X.cols;
  let s = 0;
  for (let j = 0; j < F; j++) {
    const col = j * n;
    for (let i = 0; i < n; i++) {
      const d = X.data[col + i]! - model.centroids[labels[i]! * F + j]!;
      s += d * d;
    }
  }
  return s;
}

/**
 * Mean silhouette coefficient (Rousseeuw 1987): for each row, a = mean distance to the other rows
 * of its cluster, b = the smallest mean distance to the rows of another cluster, s = (b − a) /
 * max(a, b), and s = 0 for a row alone in its cluster (scikit-learn's convention). With more than
 * `sampleSize` rows, the score of a uniform sample without replacement (scikit-learn's
 * `silhouette_score(sample_size=...)`). NaN when fewer than 2 or more than n − 1 clusters occur.
 */
export function silhouetteScore(
  X: Matrix,
  labels: Int32Array,
  options: { sampleSize?: number; rng?: Rng } = {},
): number {
  const n = X.rows;
  const F = X.cols;
  if (labels.length !== n) throw new RangeError(`labels has ${labels.length} entries for ${n} rows`);
  const sampleSize = options.sampleSize ?? Infinity;
  let rows: Uint32Array;
  if (n > sampleSize) {
    if (!options.rng) throw new RangeError('silhouetteScore needs an rng to sample rows');
    rows = partialShuffle(n, sampleSize, options.rng).slice();
  } else {
    rows = Uint32Array.from({ length: n }, (_, i) => i);
  }
  const m = rows.length;
  const relabel = new Map<number, number>();
  const lab = new Int32Array(m);
  for (let t = 0; t < m; t++) {
    const l = labels[rows[t]!]!;
    let c = relabel.get(l);
    if (c === undefined) relabel.set(l, (c = relabel.size));
    lab[t] = c;
  }
  const K = relabel.size;
  if (K < 2 || K > m - 1) return NaN;
  const R = new Float64Array(m * F);
  for (let t = 0; t < m; t++) for (let j = 0; j < F; j++) R[t * F + j] = X.data[j * n + rows[t]!]!;
  const pairDist = (t: number, u: number): number => {
    let s = 0;
    for (let j = 0; j < F; j++) s += (R[t * F + j]! - R[u * F + j]!) ** 2;
    return Math.sqrt(s);
  };
  const size = new Float64Array(K);
  for (let t = 0; t < m; t++) size[lab[t]!]!++;
  // Row t's summed distance to each cluster; every pair is computed once and added to both rows.
  const S = new Float64Array(m * K);
  for (let t = 0; t < m; t++) {
    const lt = lab[t]!;
    for (let u = t + 1; u < m; u++) {
      const d = pairDist(t, u);
      S[t * K + lab[u]!]! += d;
      S[u * K + lt]! += d;
    }
  }
  let total = 0;
  for (let t = 0; t < m; t++) {
    const lt = lab[t]!;
    if (size[lt]! <= 1) continue;
    const a = S[t * K + lt]! / (size[lt]! - 1);
    let b = Infinity;
    for (let c = 0; c < K; c++) if (c !== lt) b = Math.min(b, S[t * K + c]! / size[c]!);
    const denom = Math.max(a, b);
    total += denom > 0 ? (b - a) / denom : 0;
  }
  return total / m;
}
