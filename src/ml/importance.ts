import { takeRows } from './cv.js';
import { shuffle, type Rng } from './rng.js';
import type { Matrix } from './types.js';

export interface PermutationImportanceOptions {
  /** Shuffles per feature group; the importance is their mean. */
  readonly repeats: number;
  readonly rng: Rng;
  /**
   * Columns shuffled together, one importance each: the one-hot block of a categorical input is
   * one group, so that a shuffled row still has a single category. Default: one group per column.
   */
  readonly groups?: readonly (readonly number[])[];
  /** Score on a random subset of this many rows when X has more (bounds the time on large sets). */
  readonly maxRows?: number;
}

export interface PermutationImportance {
  /** Score on the unshuffled rows. */
  readonly baseline: number;
  /** Per group: mean of baseline − score with the group shuffled. */
  readonly mean: Float64Array;
  /** Per group: population standard deviation of those drops over the repeats (numpy's std). */
  readonly std: Float64Array;
  /** Rows scored (after subsampling). */
  readonly rows: number;
}

/**
 * Permutation importance (Breiman, "Random forests", Machine Learning 45, 2001, §10; scikit-learn's
 * `inspection.permutation_importance`): how much the score drops when a feature's values are
 * shuffled across rows, which breaks its link with the target while keeping its distribution. Works
 * for any model; `score` is "higher is better" (negate losses). The same row permutation is applied
 * to every column of a group.
 */
export function permutationImportance(
  X: Matrix,
  score: (X: Matrix, rows: Uint32Array) => number,
  options: PermutationImportanceOptions,
): PermutationImportance {
  const { repeats, rng } = options;
  if (!Number.isInteger(repeats) || repeats < 1)
    throw new RangeError(`repeats must be a positive integer, got ${repeats}`);
  const groups = options.groups ?? Array.from({ length: X.cols }, (_, j) => [j]);
  for (const g of groups)
    for (const j of g)
      if (!Number.isInteger(j) || j < 0 || j >= X.cols)
        throw new RangeError(`group column ${j} is outside 0..${X.cols - 1}`);

  const rows = sampleRows(X.rows, options.maxRows ?? X.rows, rng);
  const Z = rows.length === X.rows ? copyMatrix(X) : takeRows(X, rows);
  const n = Z.rows;
  const baseline = score(Z, rows);
  const mean = new Float64Array(groups.length);
  const std = new Float64Array(groups.length);
  const saved = new Float64Array(n);
  const perm = new Uint32Array(n);
  const drops = new Float64Array(repeats);
  groups.forEach((group, g) => {
    for (let r = 0; r < repeats; r++) {
      for (let i = 0; i < n; i++) perm[i] = i;
      shuffle(perm, rng);
      for (const j of group) {
        const col = Z.data.subarray(j * n, (j + 1) * n);
        saved.set(col);
        for (let i = 0; i < n; i++) col[i] = saved[perm[i]!]!;
      }
      drops[r] = baseline - score(Z, rows);
      // Restore the group's columns from the permutation's inverse: col[i] = saved[perm[i]].
      for (const j of group) {
        const col = Z.data.subarray(j * n, (j + 1) * n);
        saved.set(col);
        for (let i = 0; i < n; i++) col[perm[i]!] = saved[i]!;
      }
    }
    let m = 0;
    for (let r = 0; r < repeats; r++) m += drops[r]!;
    m /= repeats;
    let v = 0;
    for (let r = 0; r < repeats; r++) v += (drops[r]! - m) ** 2;
    mean[g] = m;
    std[g] = Math.sqrt(v / repeats);
  });
  return { baseline, mean, std, rows: n };
}

/** All of 0..n-1, or `k` of them drawn without replacement (partial Fisher–Yates), ascending. */
function sampleRows(n: number, k: number, rng: Rng): Uint32Array {
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  if (k >= n) return all;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = all[i]!;
    all[i] = all[j]!;
    all[j] = t;
  }
  return all.slice(0, k).sort();
}

function copyMatrix(X: Matrix): Matrix {
  return { data: X.data.slice(), rows: X.rows, cols: X.cols };
}
