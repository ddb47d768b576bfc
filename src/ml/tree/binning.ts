/**
 * Feature binning for histogram-based trees (Ke et al., "LightGBM", NIPS 2017, §2; scikit-learn's
 * `_BinMapper`): each feature is cut into at most 255 bins so that a row's features fit in bytes
 * and split finding scans bins instead of sorted values.
 *
 * Numeric features: with at most `maxBins` distinct values, one bin per value and thresholds at
 * the midpoints; otherwise thresholds at the midpoint quantiles of (a sample of) the values, as
 * scikit-learn 1.2. Everything is decided in float32: values are rounded with Math.fround first,
 * thresholds are float32, and a value's bin is the number of thresholds strictly below it, so
 *
 *     bin(x) ≤ b   ⇔   fround(x) ≤ thresholds[b]
 *
 * which is exactly the test ONNX Runtime's TreeEnsemble makes (BRANCH_LEQ on float inputs).
 * Categorical features (ordinal codes 0..K-1 from the 'raw' preprocessing) keep their code as
 * their bin. Missing values (NaN) always go to bin 255, `MISSING_BIN`.
 */
import type { Matrix } from '../types.js';
import type { Rng } from '../rng.js';

/** Bin of missing values, for every feature. Value bins are 0..nBins-1 ≤ 254. */
export const MISSING_BIN = 255;
/** Histogram slots per feature: 255 value bins and the missing bin. */
export const BIN_SLOTS = 256;
/** Value bins per feature at most (scikit-learn's max_bins). */
export const MAX_VALUE_BINS = 255;

export interface BinMapper {
  /** Per feature: float32 upper edges of the value bins (length nBins - 1); empty for categorical. */
  readonly thresholds: readonly Float32Array[];
  /** Per feature: number of value bins, 1..255. */
  readonly nBins: Int32Array;
  /** Per feature: 1 if bins are category codes. */
  readonly categorical: Uint8Array;
  /** Per feature: 1 if the fitted rows had a missing value. */
  readonly hasMissing: Uint8Array;
}

/** Binned features, column-major like `Matrix`: bin of (i, j) at `bins[j * rows + i]`. */
export interface BinnedMatrix {
  readonly bins: Uint8Array;
  readonly rows: number;
  readonly cols: number;
}

export interface BinningOptions {
  /** Value bins per feature, 2..255 (default 255). */
  readonly maxBins?: number;
  /** Per feature, whether it holds ordinal category codes; such a feature is binned by code when all its codes are below `maxBins`. */
  readonly categorical?: ArrayLike<boolean | number>;
  /** Quantiles are computed on at most this many rows (default 200,000, as scikit-learn). */
  readonly sampleSize?: number;
  /** Draws the quantile sample when there are more rows than `sampleSize`. */
  readonly rng?: Rng;
}

/** Fits bin thresholds on the given rows of X (all rows by default). */
export function fitBinMapper(X: Matrix, options: BinningOptions = {}, rows?: ArrayLike<number>): BinMapper {
  const maxBins = options.maxBins ?? MAX_VALUE_BINS;
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > MAX_VALUE_BINS)
    throw new RangeError(`maxBins must be an integer in 2..${MAX_VALUE_BINS}, got ${maxBins}`);
  const n = rows ? rows.length : X.rows;
  const rowAt = rows ? (k: number) => rows[k]! : (k: number) => k;
  // A sample of the rows, drawn once and shared by all features (scikit-learn subsamples too).
  const sampleSize = options.sampleSize ?? 200_000;
  let sample: Uint32Array;
  if (n > sampleSize) {
    if (!options.rng) throw new RangeError('fitBinMapper needs an rng to sample rows');
    sample = sampleWithoutReplacement(n, sampleSize, options.rng);
  } else {
    sample = Uint32Array.from({ length: n }, (_, k) => k);
  }
  const F = X.cols;
  const thresholds: Float32Array[] = [];
  const nBins = new Int32Array(F);
  const categorical = new Uint8Array(F);
  const hasMissing = new Uint8Array(F);
  const values = new Float64Array(sample.length);
  for (let j = 0; j < F; j++) {
    const base = j * X.rows;
    for (let k = 0; k < n; k++) {
      if (Number.isNaN(X.data[base + rowAt(k)]!)) {
        hasMissing[j] = 1;
        break;
      }
    }
    if (options.categorical?.[j] && codesFit(X, j, n, rowAt, maxBins)) {
      categorical[j] = 1;
      let maxCode = 0;
      for (let k = 0; k < n; k++) {
        const x = X.data[base + rowAt(k)]!;
        if (x > maxCode) maxCode = x;
      }
      nBins[j] = maxCode + 1;
      thresholds.push(new Float32Array(0));
      continue;
    }
    let m = 0;
    for (let s = 0; s < sample.length; s++) {
      const x = X.data[base + rowAt(sample[s]!)]!;
      if (!Number.isNaN(x)) values[m++] = x;
    }
    const t = numericThresholds(values.subarray(0, m), maxBins);
    thresholds.push(t);
    nBins[j] = t.length + 1;
  }
  return { thresholds, nBins, categorical, hasMissing };
}

/** True when column j holds only NaN or integer codes in 0..maxBins-1. */
function codesFit(X: Matrix, j: number, n: number, rowAt: (k: number) => number, maxBins: number): boolean {
  const base = j * X.rows;
  for (let k = 0; k < n; k++) {
    const x = X.data[base + rowAt(k)]!;
    if (Number.isNaN(x)) continue;
    if (!Number.isInteger(x) || x < 0 || x >= maxBins) return false;
  }
  return true;
}

/**
 * Thresholds of one numeric feature from its non-missing values (sorted in place), as
 * scikit-learn 1.2: midpoints between consecutive distinct values when there are at most maxBins
 * of them, else numpy's percentile(method='midpoint') at k/maxBins, k = 1..maxBins−1. Each
 * threshold is then rounded to float32 and kept only if it still separates two float32 values
 * (fround(lower) ≤ t < fround(upper)); duplicates are dropped.
 */
export function numericThresholds(values: Float64Array, maxBins: number): Float32Array {
  sortFloat64(values);
  const m = values.length;
  if (m === 0) return new Float32Array(0);
  // Distinct values (Infinity included; NaN was removed by the caller).
  let distinct = 1;
  for (let k = 1; k < m; k++) if (values[k] !== values[k - 1]) distinct++;
  const out: number[] = [];
  const push = (lo: number, hi: number) => {
    const lo32 = Math.fround(lo);
    const hi32 = Math.fround(hi);
    if (!(lo32 < hi32)) return;
    const mid = lo + (hi - lo) / 2;
    // With an infinite end (NaN or ±∞ midpoint) the lower value is the cut.
    let t = Number.isFinite(mid) ? Math.fround(mid) : lo32;
    if (t >= hi32) t = lo32;
    if (t < lo32) t = lo32;
    if (out.length === 0 || t > out[out.length - 1]!) out.push(t);
  };
  if (distinct <= maxBins) {
    for (let k = 1; k < m; k++) if (values[k] !== values[k - 1]) push(values[k - 1]!, values[k]!);
  } else {
    for (let q = 1; q < maxBins; q++) {
      // numpy 'midpoint': the mean of the two order statistics around rank q/maxBins·(m−1).
      const rank = (q / maxBins) * (m - 1);
      const lo = values[Math.floor(rank)]!;
      const hi = values[Math.ceil(rank)]!;
      // A repeated value is its own threshold: it goes left with everything below it.
      if (lo === hi) {
        const t = Math.fround(lo);
        if (out.length === 0 || t > out[out.length - 1]!) out.push(t);
      } else push(lo, hi);
    }
  }
  return Float32Array.from(out);
}

/** Bin of one value of feature j; see the module comment for the rule. */
export function binOf(mapper: BinMapper, j: number, x: number): number {
  if (Number.isNaN(x)) return MISSING_BIN;
  if (mapper.categorical[j]) {
    // Codes beyond the fitted range still get their own bin (no split sends them anywhere special).
    return Number.isInteger(x) && x >= 0 && x < MISSING_BIN ? x : MISSING_BIN;
  }
  return searchThresholds(mapper.thresholds[j]!, Math.fround(x));
}

/** Number of thresholds strictly below x (binary search). */
function searchThresholds(t: Float32Array, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Sorts doubles without NaN ascending, in place: an LSD radix sort on 16-bit digits of the IEEE
 * bit patterns, mapped so that unsigned order is numeric order (flip all bits of negatives, the
 * sign bit of the others; Knuth, TAOCP vol. 3, §5.2.5). Three times faster than
 * Float64Array.prototype.sort on the 10⁵-row columns binning sorts.
 */
export function sortFloat64(a: Float64Array): void {
  const n = a.length;
  // Four passes over 65,536 counters only pay off on long columns.
  if (n < 16_384) {
    a.sort();
    return;
  }
  const u = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) {
    const hi = u[2 * i + 1]!;
    if (hi & 0x80000000) {
      u[2 * i + 1] = ~hi >>> 0;
      u[2 * i] = ~u[2 * i]! >>> 0;
    } else u[2 * i + 1] = (hi | 0x80000000) >>> 0;
  }
  let src: Uint32Array = u;
  let dst: Uint32Array = new Uint32Array(2 * n);
  const count = new Uint32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(src[2 * i + word]! >>> shift) & 0xffff]!++;
    // A digit shared by every key leaves the order as it is.
    if (count[(src[word]! >>> shift) & 0xffff] === n) continue;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = count[d]!;
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const p = count[(src[2 * i + word]! >>> shift) & 0xffff]!++;
      dst[2 * p] = src[2 * i]!;
      dst[2 * p + 1] = src[2 * i + 1]!;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src !== u) u.set(src);
  for (let i = 0; i < n; i++) {
    const hi = u[2 * i + 1]!;
    if (hi & 0x80000000) u[2 * i + 1] = hi & 0x7fffffff;
    else {
      u[2 * i + 1] = ~hi >>> 0;
      u[2 * i] = ~u[2 * i]! >>> 0;
    }
  }
}

/**
 * Bins the given rows of X (all by default). With `shared`, the bytes live in a
 * SharedArrayBuffer so that worker threads read them without a copy.
 */
export function applyBins(
  mapper: BinMapper,
  X: Matrix,
  rows?: ArrayLike<number>,
  options: { readonly shared?: boolean } = {},
): BinnedMatrix {
  const n = rows ? rows.length : X.rows;
  const F = X.cols;
  if (mapper.nBins.length !== F)
    throw new RangeError(`the bin mapper has ${mapper.nBins.length} features, X has ${F}`);
  const bins = options.shared ? new Uint8Array(new SharedArrayBuffer(n * F)) : new Uint8Array(n * F);
  // One column as float32 (the store rounds, as Math.fround) and, through the same bytes, as bits.
  const column = new Float32Array(n);
  const bits = new Uint32Array(column.buffer);
  const below = new Uint8Array(BUCKETS);
  const upTo = new Uint8Array(BUCKETS);
  for (let j = 0; j < F; j++) {
    const base = j * X.rows;
    const out = j * n;
    if (mapper.categorical[j]) {
      for (let k = 0; k < n; k++) bins[out + k] = binOf(mapper, j, X.data[base + (rows ? rows[k]! : k)]!);
      continue;
    }
    const t = mapper.thresholds[j]!;
    bucketTable(t, below, upTo);
    if (rows) for (let k = 0; k < n; k++) column[k] = X.data[base + rows[k]!]!;
    else column.set(X.data.subarray(base, base + n));
    for (let k = 0; k < n; k++) {
      const x = column[k]!;
      if (x !== x) {
        bins[out + k] = MISSING_BIN;
        continue;
      }
      // −0 and +0 are one number but two bit patterns: look +0 up for both.
      const key = x === 0 ? 0x80000000 : orderedKey(bits[k]!);
      const u = key >>> 16;
      let b = below[u]!;
      const last = upTo[u]!;
      // Thresholds sharing x's bucket (rare): count those below x.
      while (b < last && t[b]! < x) b++;
      bins[out + k] = b;
    }
  }
  return { bins, rows: n, cols: F };
}

/** Buckets of the 16 high bits of a float32's ordered key. */
const BUCKETS = 65536;

/** The float32 bit pattern mapped so that unsigned order is numeric order (as in sortFloat64). */
function orderedKey(u: number): number {
  return (u & 0x80000000 ? ~u : u | 0x80000000) >>> 0;
}

/**
 * For each bucket of keys, the number of thresholds in earlier buckets (`below`) and in earlier
 * buckets or this one (`upTo`): a value's bin is `below` plus the thresholds of its own bucket
 * below it, so most values are binned by one table look-up instead of an 8-step search.
 */
function bucketTable(t: Float32Array, below: Uint8Array, upTo: Uint8Array): void {
  const scratch = new Float32Array(1);
  const word = new Uint32Array(scratch.buffer);
  let b = 0;
  let u = 0;
  for (let k = 0; k <= t.length; k++) {
    // Bucket of threshold k (past the last: beyond every bucket).
    let bucket = BUCKETS;
    if (k < t.length) {
      scratch[0] = t[k]!;
      bucket = (t[k] === 0 ? 0x80000000 : orderedKey(word[0]!)) >>> 16;
    }
    for (; u < bucket; u++) {
      below[u] = b;
      upTo[u] = b;
    }
    if (k < t.length) {
      // Bucket `bucket` starts with b thresholds below it; count all of its own.
      if (u === bucket) {
        below[u] = b;
        upTo[u] = b;
        u++;
      }
      b++;
      upTo[bucket] = b;
    }
  }
}

/** k distinct indices of 0..n-1 in ascending order, by a partial Fisher–Yates shuffle. */
export function sampleWithoutReplacement(n: number, k: number, rng: Rng): Uint32Array {
  const pool = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const tmp = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = tmp;
  }
  return pool.subarray(0, k).sort();
}
