/**
 * k-means clustering: minimise the inertia Σᵢ ‖xᵢ − c_{a(i)}‖² over k centroids c and the
 * assignment a.
 *
 * - Initialisation: greedy k-means++ (D. Arthur and S. Vassilvitskii, "k-means++: the advantages
 *   of careful seeding", SODA 2007, with the greedy choice among 2 + ⌊ln k⌋ candidates of their
 *   §6 and of scikit-learn's `_kmeans_plusplus`).
 * - Lloyd's iterations (S. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory
 *   28(2), 1982) accelerated by Hamerly's bounds (G. Hamerly, "Making k-means even faster", SIAM
 *   SDM 2010): one upper bound on the distance to the assigned centroid and one lower bound on the
 *   distance to every other centroid skip most distance computations once centroids settle. The
 *   result is Lloyd's: the same assignments and centroids, iteration by iteration.
 * - Mini-batch k-means (D. Sculley, "Web-scale k-means clustering", WWW 2010) for large data:
 *   per-centroid learning rate 1/count, early stopping on the smoothed batch inertia as
 *   scikit-learn's `MiniBatchKMeans`.
 * - Silhouette (P. Rousseeuw, J. Comput. Appl. Math. 20, 1987), on a random sample for large n.
 *
 * Internally rows are copied once into a row-major buffer: every step here reads one point's F
 * features at a time, which would be F cache misses per point in the column-major `Matrix`.
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
  /** Rows per mini-batch. Default 1024. */
  readonly batchSize?: number;
  /** Called after each Lloyd iteration (or each mini-batch pass) of each run. */
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
// Shared helpers

/** Copies a column-major matrix into row-major order; throws on NaN or ±∞. */
export function toRowMajor(X: Matrix): Float64Array {
  const n = X.rows;
  const F = X.cols;
  if (X.data.length !== n * F)
    throw new RangeError(`matrix data has ${X.data.length} values for ${n} × ${F}`);
  const out = new Float64Array(n * F);
  const Xd = X.data;
  for (let j = 0; j < F; j++) {
    const col = j * n;
    for (let i = 0; i < n; i++) {
      const v = Xd[col + i]!;
      if (!Number.isFinite(v)) throw new RangeError(`X has ${v} at row ${i}, column ${j}: impute first`);
      out[i * F + j] = v;
    }
  }
  return out;
}

/**
 * ‖a[ia..ia+F) − b[ib..ib+F)‖². Four partial sums: one accumulator would wait on the latency of
 * each addition (the loop is a dependency chain), four overlap them; about 1.5× faster at F = 30.
 */
function sqDist(a: Float64Array, ia: number, b: Float64Array, ib: number, F: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 4 <= F; j += 4) {
    const d0 = a[ia + j]! - b[ib + j]!;
    const d1 = a[ia + j + 1]! - b[ib + j + 1]!;
    const d2 = a[ia + j + 2]! - b[ib + j + 2]!;
    const d3 = a[ia + j + 3]! - b[ib + j + 3]!;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; j < F; j++) {
    const d = a[ia + j]! - b[ib + j]!;
    s0 += d * d;
  }
  return s0 + s1 + (s2 + s3);
}

/** Index of the nearest centroid of row i (the lowest index on ties) and its squared distance. */
function nearest(R: Float64Array, i: number, C: Float64Array, k: number, F: number): [number, number] {
  let best = 0;
  let bestD = Infinity;
  const o = i * F;
  for (let c = 0; c < k; c++) {
    const d = sqDist(R, o, C, c * F, F);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return [best, bestD];
}

/** Mean over the features of their population variance: the scale of scikit-learn's `tol`. */
function meanVariance(R: Float64Array, n: number, F: number): number {
  const mean = new Float64Array(F);
  for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) mean[j]! += R[i * F + j]!;
  for (let j = 0; j < F; j++) mean[j]! /= n;
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < F; j++) {
      const d = R[i * F + j]! - mean[j]!;
      s += d * d;
    }
  }
  return s / (n * F);
}

function checkK(k: number, n: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be an integer ≥ 1, got ${k}`);
  if (k > n) throw new RangeError(`k = ${k} clusters need at least ${k} rows, got ${n}`);
}

// ---------------------------------------------------------------------------------------------
// k-means++

/**
 * Greedy k-means++ seeding on row-major data R (n × F): the first centroid is a uniform row; each
 * next one is the best, by the resulting potential Σᵢ min_c ‖xᵢ − c‖², of `trials` rows drawn with
 * probability proportional to D(x)², the squared distance to the nearest centroid chosen so far.
 * `trials` defaults to 2 + ⌊ln k⌋ (Arthur & Vassilvitskii 2007, §6; scikit-learn). Returns k × F
 * row-major centroids.
 *
 * A candidate x' cannot come closer to row x than x's nearest centroid c when ‖x' − c‖ ≥ 2·D(x)
 * (triangle inequality), so that distance is not computed: the seeding is exact, and later
 * rounds, with small D(x), skip most rows (E. Raff, "Exact acceleration of k-means++ and
 * k-means‖", IJCAI 2021).
 */
export function kmeansPlusPlusRows(
  R: Float64Array,
  n: number,
  F: number,
  k: number,
  rng: Rng,
  trials = 2 + Math.floor(Math.log(k)),
): Float64Array {
  checkK(k, n);
  const C = new Float64Array(k * F);
  const first = rng.int(n);
  C.set(R.subarray(first * F, first * F + F), 0);
  const closest = new Float64Array(n); // D(x)²
  const owner = new Int32Array(n); // the centroid at D(x)
  for (let i = 0; i < n; i++) closest[i] = sqDist(R, i * F, C, 0, F);
  const cumulative = new Float64Array(n);
  const candidate = new Float64Array(n);
  const bestClosest = new Float64Array(n);
  const apart = new Float64Array(k); // ‖x' − c‖² for the chosen centroids c
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) cumulative[i] = acc += closest[i]!;
    let bestPot = Infinity;
    let bestRow = 0;
    for (let t = 0; t < trials; t++) {
      // Inverse-CDF sampling: the first row whose cumulative D² reaches u·potential (numpy's searchsorted 'left').
      const row = Math.min(lowerBound(cumulative, rng.next() * acc), n - 1);
      const o = row * F;
      for (let q = 0; q < c; q++) apart[q] = sqDist(R, o, C, q * F, F);
      let pot = 0;
      for (let i = 0; i < n; i++) {
        const di = closest[i]!;
        // ‖x' − c‖ ≥ 2·D(x) ⇔ ‖x' − c‖² ≥ 4·D(x)²: x' is no closer than c.
        const d = apart[owner[i]!]! >= 4 * di ? di : Math.min(di, sqDist(R, i * F, R, o, F));
        candidate[i] = d;
        pot += d;
      }
      if (pot < bestPot) {
        bestPot = pot;
        bestRow = row;
        bestClosest.set(candidate);
      }
    }
    C.set(R.subarray(bestRow * F, bestRow * F + F), c * F);
    for (let i = 0; i < n; i++) {
      if (bestClosest[i]! < closest[i]!) {
        closest[i] = bestClosest[i]!;
        owner[i] = c;
      }
    }
  }
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
  return kmeansPlusPlusRows(toRowMajor(X), X.rows, X.cols, k, rng, trials);
}

// ---------------------------------------------------------------------------------------------
// Lloyd with Hamerly's bounds

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
 * each iteration assigns every row to its nearest centroid, then moves each centroid to the mean
 * of its rows; it stops when no assignment changes or when the total squared centroid shift is at
 * most `tolAbs`, and the returned labels are those of the final centroids.
 *
 * The assignments are found with the triangle inequality instead of all n·k distances, keeping
 * an upper bound u(i) ≥ ‖xᵢ − c_{a(i)}‖ and lower bounds on the distances to the other centroids:
 * - Elkan (C. Elkan, "Using the triangle inequality to accelerate k-means", ICML 2003): one lower
 *   bound l(i, c) per centroid; the distance to c is computed only if u(i) > l(i, c) and
 *   u(i) > ½‖c_{a(i)} − c‖ (Lemma 1). Used while n·k bounds fit in 64 MiB.
 * - Hamerly (2010) beyond that: one bound l(i) ≤ min_{c≠a(i)} ‖xᵢ − c‖; row i is skipped if
 *   u(i) ≤ max(l(i), ½ min_{c≠a(i)} ‖c_{a(i)} − c‖).
 * After the centroids move by p(c), u(i) += p(a(i)) and each lower bound drops by the largest move
 * it covers. Both row i's skipping rules hold exactly, so the iterations are Lloyd's. Cluster sums
 * are updated incrementally as rows change cluster.
 */
export function lloydRows(
  R: Float64Array,
  n: number,
  F: number,
  initial: Float64Array,
  options: {
    maxIter: number;
    tolAbs: number;
    onIteration?: (iteration: number, shift: number) => void;
    /** Force one kind of bounds (tests); by default Elkan's when they fit. */
    bounds?: 'elkan' | 'hamerly';
  },
): RunResult {
  const k = initial.length / F;
  const elkan = (options.bounds ?? (n * k <= ELKAN_MAX_BOUNDS ? 'elkan' : 'hamerly')) === 'elkan';
  const L = elkan ? k : 1; // lower bounds per row
  const C = Float64Array.from(initial);
  const a = new Int32Array(n);
  // Elkan's bounds are stored relative to each centroid's total movement so far, drift(c):
  // u(i) = upper[i] + drift(a(i)) and l(i, c) = lower[i·k + c] − drift(c). Moving the centroids
  // then changes k numbers instead of n·(k + 1). Hamerly's are stored as they are.
  const upper = new Float64Array(n);
  const lower = new Float64Array(n * L);
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

  // First assignment: every distance.
  for (let i = 0; i < n; i++) {
    const o = i * F;
    let d1 = Infinity;
    let d2 = Infinity;
    let best = 0;
    for (let c = 0; c < k; c++) {
      const d = Math.sqrt(sqDist(R, o, C, c * F, F));
      if (elkan) lower[i * k + c] = d;
      if (d < d1) {
        d2 = d1;
        d1 = d;
        best = c;
      } else if (d < d2) d2 = d;
    }
    a[i] = best;
    upper[i] = d1;
    if (elkan) nearestOther[i] = d2;
    else lower[i] = d2;
    counts[best]!++;
    for (let j = 0; j < F; j++) sums[best * F + j]! += R[o + j]!;
  }

  let iterations = 0;
  let converged = false;
  let changed = n; // assignments changed by the last E-step (the first one counts as all)
  const dist = new Float64Array(k);
  for (;;) {
    // M-step: centroids to the means; an empty cluster takes the row farthest from its centroid,
    // whose bounds then say nothing (u = ∞ would do; 0 and 0 are exact: it sits on its centroid).
    const relocated = relocateEmpty(R, n, F, C, a, sums, counts);
    for (const i of relocated) {
      upper[i] = elkan ? -drift[a[i]!]! : 0;
      for (let c = 0; c < L; c++) lower[i * L + c] = elkan ? drift[c]! : 0;
      if (elkan) nearestOther[i] = 0;
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
    const state: BoundState = {
      R,
      n,
      F,
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
      maxMoved,
      secondMoved,
      argMax,
      dist,
    };
    changed = elkan ? elkanStep(state) : hamerlyStep(state);
    if (last) break;
  }

  // The labels now belong to the final centroids: the inertia needs one distance per row.
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += sqDist(R, i * F, C, a[i]! * F, F);
  return { centroids: C, labels: a, inertia, iterations, converged };
}

/** Everything one E-step reads and updates (see lloydRows). */
interface BoundState {
  readonly R: Float64Array;
  readonly n: number;
  readonly F: number;
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
  readonly maxMoved: number;
  readonly secondMoved: number;
  readonly argMax: number;
  readonly dist: Float64Array;
}

/** Elkan's E-step with the drift-relative bounds; returns the number of rows that changed cluster. */
function elkanStep(st: BoundState): number {
  const { R, n, F, k, C, a, upper, lower, drift, nearestOther, sums, counts, half, halfBetween } = st;
  const { maxMoved, secondMoved, argMax } = st;
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
    u = Math.sqrt(sqDist(R, o, C, ai * F, F));
    lower[lo + ai] = u + drift[ai]!;
    if (u <= half[ai]! || u <= other) {
      upper[i] = u - drift[ai]!;
      continue;
    }
    // One pass over the other centroids: the distance to c is needed only if both bounds
    // allow c to be nearer (Lemma 1); `second` collects min_{c≠best} of what is known.
    let best = ai;
    let second = Infinity;
    for (let c = 0; c < k; c++) {
      if (c === ai) continue;
      let v = lower[lo + c]! - drift[c]!;
      if (v >= u) {
        if (v < second) second = v;
        continue;
      }
      // ‖x − c‖ ≥ ‖c − c_best‖ − ‖x − c_best‖ = 2·½‖c − c_best‖ − u: a lower bound for free,
      // kept so that the row is not revisited for c next time.
      const viaBest = 2 * halfBetween[best * k + c]! - u;
      if (viaBest >= u) {
        if (viaBest > v) lower[lo + c] = (v = viaBest) + drift[c]!;
      } else {
        v = Math.sqrt(sqDist(R, o, C, c * F, F));
        lower[lo + c] = v + drift[c]!;
        // Lloyd's tie rule: the lowest index wins.
        if (v < u || (v === u && c < best)) {
          if (u < second) second = u;
          best = c;
          u = v;
          continue;
        }
      }
      if (v < second) second = v;
    }
    upper[i] = u - drift[best]!;
    nearestOther[i] = second;
    if (best !== ai) {
      changed++;
      move(R, o, F, sums, counts, ai, best);
      a[i] = best;
    }
  }
  return changed;
}

/** Hamerly's E-step; returns the number of rows that changed cluster. */
function hamerlyStep(st: BoundState): number {
  const { R, n, F, k, C, a, upper, lower, sums, counts, half, moved, dist } = st;
  const { maxMoved, secondMoved, argMax } = st;
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const ai = a[i]!;
    const u0 = upper[i]! + moved[ai]!;
    const l0 = lower[i]! - (ai === argMax ? secondMoved : maxMoved);
    upper[i] = u0;
    lower[i] = l0;
    const m = Math.max(half[ai]!, l0);
    if (u0 <= m) continue;
    const o = i * F;
    const tightened = Math.sqrt(sqDist(R, o, C, ai * F, F));
    upper[i] = tightened;
    if (tightened <= m) continue;
    for (let c = 0; c < k; c++) dist[c] = Math.sqrt(sqDist(R, o, C, c * F, F));
    let best = 0;
    let d1 = Infinity;
    let d2 = Infinity;
    for (let c = 0; c < k; c++) {
      const d = dist[c]!;
      if (d < d1) {
        d2 = d1;
        d1 = d;
        best = c;
      } else if (d < d2) d2 = d;
    }
    upper[i] = d1;
    lower[i] = d2;
    if (best !== ai) {
      changed++;
      move(R, o, F, sums, counts, ai, best);
      a[i] = best;
    }
  }
  return changed;
}

/** Moves the row at R[o..o+F) from cluster `from` to cluster `to` in the running sums. */
function move(
  R: Float64Array,
  o: number,
  F: number,
  sums: Float64Array,
  counts: Float64Array,
  from: number,
  to: number,
): void {
  counts[from]!--;
  counts[to]!++;
  for (let j = 0; j < F; j++) {
    const x = R[o + j]!;
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
      const h = 0.5 * Math.sqrt(sqDist(C, c * F, C, d * F, F));
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
  R: Float64Array,
  n: number,
  F: number,
  C: Float64Array,
  a: Int32Array,
  sums: Float64Array,
  counts: Float64Array,
): number[] {
  const k = counts.length;
  const relocated: number[] = [];
  for (let c = 0; c < k; c++) {
    if (counts[c]! > 0) continue;
    let far = -1;
    let farD = -1;
    for (let i = 0; i < n; i++) {
      if (counts[a[i]!]! <= 1) continue;
      const d = sqDist(R, i * F, C, a[i]! * F, F);
      if (d > farD) {
        farD = d;
        far = i;
      }
    }
    if (far < 0) break; // fewer distinct rows than clusters: nothing to move
    move(R, far * F, F, sums, counts, a[far]!, c);
    C.set(R.subarray(far * F, far * F + F), c * F);
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
 * `reassignment_ratio=0.01`.
 */
export function miniBatchRows(
  R: Float64Array,
  n: number,
  F: number,
  initial: Float64Array,
  rng: Rng,
  options: {
    maxIter: number;
    batchSize: number;
    tolAbs: number;
    onIteration?: (iteration: number, ewa: number) => void;
  },
): RunResult {
  const k = initial.length / F;
  const C = Float64Array.from(initial);
  const b = Math.min(options.batchSize, n);
  const steps = Math.max(1, Math.ceil((options.maxIter * n) / b));
  const perPass = Math.max(1, Math.floor(n / b));
  const seen = new Float64Array(k);
  const batch = new Int32Array(b);
  const assigned = new Int32Array(b);
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
      const [c, d] = nearest(R, i, C, k, F);
      assigned[t] = c;
      batchInertia += d;
      batchCounts[c]!++;
      const o = i * F;
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
      for (let c = 0; c < k; c++) {
        if (seen[c]! >= 0.01 * maxSeen) continue;
        const i = batch[rng.int(b)]!;
        C.set(R.subarray(i * F, i * F + F), c * F);
        seen[c] = Math.min(...seen.filter((s) => s >= 0.01 * maxSeen));
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
  const labels = new Int32Array(n);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const [c, d] = nearest(R, i, C, k, F);
    labels[i] = c;
    inertia += d;
  }
  return { centroids: C, labels, inertia, iterations, converged };
}

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * k-means by Lloyd's algorithm (Hamerly-accelerated, exact) or mini-batch k-means, each run
 * seeded by greedy k-means++; the run with the lowest inertia of `nInit` is kept. Mini-batch runs
 * seed from a random sample of 3·batchSize rows (at least 3k), as scikit-learn's `init_size`.
 */
export function fitKMeans(X: Matrix, options: KMeansOptions & { algorithm?: KMeansAlgorithm }): KMeansFit {
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
  const R = toRowMajor(X);
  const tolAbs = tol * meanVariance(R, n, F);
  const rng = options.rng;

  let best: RunResult | undefined;
  for (let run = 0; run < nInit; run++) {
    const onIteration = options.onIteration
      ? (iteration: number, figure: number) => options.onIteration!(run, iteration, figure)
      : undefined;
    let result: RunResult;
    if (algorithm === 'lloyd') {
      const init = kmeansPlusPlusRows(R, n, F, k, rng);
      result = lloydRows(R, n, F, init, { maxIter, tolAbs, ...(onIteration ? { onIteration } : {}) });
    } else {
      const sample = Math.min(n, Math.max(3 * batchSize, 3 * k));
      const init = kmeansPlusPlusRows(sampleRows(R, n, F, sample, rng), sample, F, k, rng);
      result = miniBatchRows(R, n, F, init, rng, {
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

/** `m` distinct rows drawn uniformly (partial Fisher–Yates), copied row-major. */
function sampleRows(R: Float64Array, n: number, F: number, m: number, rng: Rng): Float64Array {
  const order = partialShuffle(n, m, rng);
  const out = new Float64Array(m * F);
  for (let t = 0; t < m; t++) out.set(R.subarray(order[t]! * F, order[t]! * F + F), t * F);
  return out;
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
  const size = new Float64Array(K);
  for (let t = 0; t < m; t++) size[lab[t]!]!++;
  // Row t's summed distance to each cluster; every pair is computed once and added to both rows.
  const S = new Float64Array(m * K);
  for (let t = 0; t < m; t++) {
    const lt = lab[t]!;
    for (let u = t + 1; u < m; u++) {
      const d = Math.sqrt(sqDist(R, t * F, R, u * F, F));
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
