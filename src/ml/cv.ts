import { createRng, shuffle } from './rng.js';
import { trainTestSplit } from './split.js';
import type { Matrix } from './types.js';

/** One fold of a cross-validation: the rows fitted on and the rows scored, both ascending. */
export interface Fold {
  readonly train: Uint32Array;
  readonly test: Uint32Array;
}

export interface KFoldOptions {
  /** Seed of the shuffle: the same seed, n and labels always give the same folds. */
  readonly seed: number;
  /** Class of each row (length n): every class is spread evenly over the folds. */
  readonly stratify?: Int32Array;
}

/**
 * k-fold cross-validation with shuffling: every row is scored exactly once, in one of k test folds
 * whose sizes differ by at most one (scikit-learn's `KFold(shuffle=True)` /
 * `StratifiedKFold(shuffle=True)` sizes; the draw itself differs).
 *
 * Stratified: the rows of each class, classes in ascending label order, are shuffled and dealt to
 * the folds in turn, the dealing carrying on from one class to the next. Each fold then holds
 * ⌊n_c/k⌋ or ⌈n_c/k⌉ rows of every class c, and the fold sizes still differ by at most one. A
 * class with fewer than k rows is missing from some test folds.
 */
export function kFold(n: number, k: number, options: KFoldOptions): Fold[] {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`k must be an integer ≥ 2, got ${k}`);
  if (!Number.isInteger(n) || n < k) throw new RangeError(`need at least k = ${k} rows, got ${n}`);
  const { stratify } = options;
  const rng = createRng(options.seed);
  const fold = new Uint32Array(n);
  if (stratify) {
    if (stratify.length !== n) throw new RangeError(`stratify has ${stratify.length} labels for ${n} rows`);
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      let rows = byClass.get(stratify[i]!);
      if (!rows) byClass.set(stratify[i]!, (rows = []));
      rows.push(i);
    }
    let turn = 0;
    for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
      for (const i of shuffle(byClass.get(label)!, rng)) fold[i] = turn++ % k;
    }
  } else {
    const order = shuffle(
      Uint32Array.from({ length: n }, (_, i) => i),
      rng,
    );
    order.forEach((i, r) => (fold[i] = r % k));
  }
  const sizes = new Uint32Array(k);
  for (let i = 0; i < n; i++) sizes[fold[i]!]!++;
  return Array.from({ length: k }, (_, f) => {
    const test = new Uint32Array(sizes[f]!);
    const train = new Uint32Array(n - sizes[f]!);
    let a = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      if (fold[i] === f) test[b++] = i;
      else train[a++] = i;
    }
    return { train, test };
  });
}

export interface ThreeWaySplit {
  readonly train: Uint32Array;
  readonly validation: Uint32Array;
  readonly test: Uint32Array;
}

/**
 * Train / validation / test: first the test rows (⌈testFraction·n⌉, as `trainTestSplit`), then
 * ⌈validationFraction·n_rest⌉ validation rows out of the rest, so that the test split is the same
 * whether or not a validation split is taken. Stratified when labels are given; seeded.
 */
export function trainValidationTestSplit(
  n: number,
  options: {
    readonly testFraction: number;
    readonly validationFraction: number;
    readonly seed: number;
    readonly stratify?: Int32Array;
  },
): ThreeWaySplit {
  const { stratify } = options;
  const outer = trainTestSplit(n, {
    testFraction: options.testFraction,
    seed: options.seed,
    ...(stratify ? { stratify } : {}),
  });
  const inner = trainTestSplit(outer.train.length, {
    testFraction: options.validationFraction,
    seed: options.seed + 1,
    ...(stratify ? { stratify: Int32Array.from(outer.train, (i) => stratify[i]!) } : {}),
  });
  return {
    train: Uint32Array.from(inner.train, (k) => outer.train[k]!),
    validation: Uint32Array.from(inner.test, (k) => outer.train[k]!),
    test: outer.test,
  };
}

/**
 * A seeded subsample of ⌈fraction·n⌉ of the given rows (all of them when fraction ≥ 1), stratified
 * when labels (one per row of `rows`) are given; ascending. Used to fit on a fraction of the rows,
 * e.g. the small rungs of successive halving.
 */
export function subsample(
  rows: Uint32Array,
  fraction: number,
  seed: number,
  labels?: Int32Array,
): Uint32Array {
  if (!(fraction > 0)) throw new RangeError(`fraction must be > 0, got ${fraction}`);
  if (fraction >= 1 || rows.length < 2) return rows;
  const picked = trainTestSplit(rows.length, {
    testFraction: fraction,
    seed,
    ...(labels ? { stratify: labels } : {}),
  }).test;
  return Uint32Array.from(picked, (k) => rows[k]!);
}

/** The given rows of X as a new column-major matrix. */
export function takeRows(X: Matrix, rows: ArrayLike<number>): Matrix {
  const n = rows.length;
  const data = new Float64Array(n * X.cols);
  for (let j = 0; j < X.cols; j++) {
    const from = j * X.rows;
    const to = j * n;
    for (let k = 0; k < n; k++) data[to + k] = X.data[from + rows[k]!]!;
  }
  return { data, rows: n, cols: X.cols };
}

/** The given entries of a label or target vector, same type. */
export function takeValues<T extends Int32Array | Float64Array>(y: T, rows: ArrayLike<number>): T {
  const out = new (y.constructor as { new (n: number): T })(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = y[rows[k]!]!;
  return out;
}
