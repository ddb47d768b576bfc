import { createRng, shuffle } from './rng.js';

export interface SplitOptions {
  /** Share of the rows that go to the test set, in (0, 1); the test set gets ⌈testFraction·n⌉ rows. */
  readonly testFraction: number;
  /** Seed of the shuffle (see `createRng`): the same seed, n and labels always give the same split. */
  readonly seed: number;
  /** Class label of each row (length n): keep class proportions in both sets. */
  readonly stratify?: Int32Array;
}

export interface Split {
  /** Row indices of the training set, ascending. */
  readonly train: Uint32Array;
  /** Row indices of the test set, ascending. */
  readonly test: Uint32Array;
}

/**
 * Splits row indices 0..n-1 into a training and a test set.
 *
 * The test size is ⌈testFraction·n⌉, as scikit-learn's `train_test_split`. With `stratify`, each
 * class k of size n_k gets t_k test rows with t_k ≈ n_test·n_k/n, rounded by the largest-remainder
 * (Hamilton) method so that the t_k add up to n_test exactly, and capped at n_k − 1 so that every
 * class keeps at least one training row (a class with a single row goes to the training set).
 * The rows of each class are then drawn by a seeded Fisher–Yates shuffle.
 */
export function trainTestSplit(n: number, options: SplitOptions): Split {
  const { testFraction, seed, stratify } = options;
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`need at least 2 rows to split, got ${n}`);
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new RangeError(`testFraction must be in (0, 1), got ${testFraction}`);
  }
  // The 1e-9 keeps float noise (0.1·30 = 3.0000000000000004) from adding a row.
  const nTest = Math.min(Math.max(Math.ceil(testFraction * n - 1e-9), 1), n - 1);
  const rng = createRng(seed);
  const inTest = new Uint8Array(n);

  if (!stratify) {
    const order = shuffle(
      Uint32Array.from({ length: n }, (_, i) => i),
      rng,
    );
    for (let k = 0; k < nTest; k++) inTest[order[k]!] = 1;
    return collect(inTest, nTest);
  }

  if (stratify.length !== n) throw new RangeError(`stratify has ${stratify.length} labels for ${n} rows`);
  // Rows of each class, classes in ascending label order: the draws then follow from the seed alone.
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const label = stratify[i]!;
    let rows = byClass.get(label);
    if (!rows) byClass.set(label, (rows = []));
    rows.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b).map((label) => byClass.get(label)!);
  const capacity = classes.reduce((sum, rows) => sum + rows.length - 1, 0);
  if (nTest > capacity) {
    throw new RangeError(
      `cannot put ${nTest} of ${n} rows in the test set and keep a training row of each of the ${classes.length} classes`,
    );
  }

  // Largest-remainder apportionment of nTest over the classes, each capped at n_k − 1.
  const quota = classes.map((rows) => (nTest * rows.length) / n);
  const take = classes.map((rows, k) => Math.min(Math.floor(quota[k]!), rows.length - 1));
  let left = nTest - take.reduce((a, b) => a + b, 0);
  // Largest remainder first; ties to the larger class, then the smaller label, so the order is total.
  const order = classes
    .map((_, k) => k)
    .sort(
      (a, b) =>
        quota[b]! - take[b]! - (quota[a]! - take[a]!) || classes[b]!.length - classes[a]!.length || a - b,
    );
  // Caps can leave seats over after one pass; the capacity check above guarantees the loop ends.
  while (left > 0) {
    for (const k of order) {
      if (left === 0) break;
      if (take[k]! < classes[k]!.length - 1) {
        take[k]!++;
        left--;
      }
    }
  }

  classes.forEach((rows, k) => {
    shuffle(rows, rng);
    for (let r = 0; r < take[k]!; r++) inTest[rows[r]!] = 1;
  });
  return collect(inTest, nTest);
}

/** Ascending train and test index lists from a membership mask. */
function collect(inTest: Uint8Array, nTest: number): Split {
  const train = new Uint32Array(inTest.length - nTest);
  const test = new Uint32Array(nTest);
  let a = 0;
  let b = 0;
  for (let i = 0; i < inTest.length; i++) {
    if (inTest[i]) test[b++] = i;
    else train[a++] = i;
  }
  return { train, test };
}
