import type { CategoricalStep, Column, Matrix, NumericStep, PreprocessMode, Preprocessor } from './types.js';

export interface PreprocessOptions {
  /**
   * 'scaled' (default): mean imputation, standardization, one-hot encoding (linear models, MLP).
   * 'raw': numbers pass through with NaN for missing (no imputation, center 0, scale 1) and
   * categories become ordinal codes, NaN when missing or unseen (trees handle both natively).
   */
  readonly mode?: PreprocessMode;
  /** Categories seen fewer times than this in training are treated as unseen. */
  readonly minCategoryCount?: number;
  /** At most this many categories per column, the most frequent first. */
  readonly maxCategories?: number;
}

/**
 * Fits imputation (mean), standardization (population std, as scikit-learn's StandardScaler)
 * and one-hot encoding on the given rows only (the training split); in 'raw' mode only the
 * category lists are fitted (scikit-learn's OrdinalEncoder with unknown and missing → NaN).
 */
export function fitPreprocessor(
  columns: readonly Column[],
  rows: ArrayLike<number>,
  options: PreprocessOptions = {},
): Preprocessor {
  const minCount = options.minCategoryCount ?? 1;
  const maxCategories = options.maxCategories ?? 100;
  const raw = options.mode === 'raw';
  const numeric: NumericStep[] = [];
  const categorical: CategoricalStep[] = [];
  for (const column of columns) {
    if (column.kind === 'numeric') {
      if (raw) {
        numeric.push({ name: column.name, fill: NaN, center: 0, scale: 1 });
        continue;
      }
      // Welford's running mean and variance over the non-missing values.
      let n = 0;
      let mean = 0;
      let m2 = 0;
      for (let k = 0; k < rows.length; k++) {
        const x = column.values[rows[k]!]!;
        if (Number.isNaN(x)) continue;
        n++;
        const d = x - mean;
        mean += d / n;
        m2 += d * (x - mean);
      }
      const std = n > 0 ? Math.sqrt(m2 / n) : 0;
      numeric.push({ name: column.name, fill: mean, center: mean, scale: std > 1e-12 ? std : 1 });
    } else {
      const counts = new Map<string, number>();
      for (let k = 0; k < rows.length; k++) {
        const v = column.values[rows[k]!];
        if (v === null || v === undefined) continue;
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      const categories = [...counts.entries()]
        .filter(([, c]) => c >= minCount)
        // Most frequent first; ties broken by the value so that the result does not depend on row order.
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .slice(0, maxCategories)
        .map(([v]) => v)
        .sort();
      categorical.push(
        raw ? { name: column.name, categories, encoding: 'ordinal' } : { name: column.name, categories },
      );
    }
  }
  return raw ? { numeric, categorical, mode: 'raw' } : { numeric, categorical };
}

/** Number of matrix columns a categorical step produces: one per category (one-hot) or one (ordinal). */
export function categoricalWidth(step: CategoricalStep): number {
  return step.encoding === 'ordinal' ? 1 : step.categories.length;
}

/** Number of output features of a fitted preprocessor. */
export function featureCount(pre: Preprocessor): number {
  let f = pre.numeric.length;
  for (const step of pre.categorical) f += categoricalWidth(step);
  return f;
}

/** Names of the output features (`age`, `region=north`, ...), in matrix column order. */
export function featureNames(pre: Preprocessor): string[] {
  const names = pre.numeric.map((s) => s.name);
  for (const step of pre.categorical) {
    if (step.encoding === 'ordinal') names.push(step.name);
    else for (const c of step.categories) names.push(`${step.name}=${c}`);
  }
  return names;
}

/**
 * Applies a fitted preprocessor to the given rows of the columns (all rows when `rows` is omitted).
 * Columns are looked up by name, so their order does not matter.
 */
export function transform(pre: Preprocessor, columns: readonly Column[], rows?: ArrayLike<number>): Matrix {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const first = columns[0];
  const n = rows ? rows.length : first ? first.values.length : 0;
  const rowAt = rows ? (k: number) => rows[k]! : (k: number) => k;
  const f = featureCount(pre);
  const data = new Float64Array(n * f);
  let j = 0;
  for (const step of pre.numeric) {
    const column = byName.get(step.name);
    if (!column || column.kind !== 'numeric') throw new Error(`numeric column ${step.name} is missing`);
    const out = j * n;
    for (let k = 0; k < n; k++) {
      const x = column.values[rowAt(k)]!;
      data[out + k] = ((Number.isNaN(x) ? step.fill : x) - step.center) / step.scale;
    }
    j++;
  }
  for (const step of pre.categorical) {
    const column = byName.get(step.name);
    if (!column || column.kind !== 'categorical')
      throw new Error(`categorical column ${step.name} is missing`);
    const index = new Map(step.categories.map((c, i) => [c, i]));
    if (step.encoding === 'ordinal') {
      const out = j * n;
      for (let k = 0; k < n; k++) {
        const v = column.values[rowAt(k)];
        data[out + k] = (v === null || v === undefined ? undefined : index.get(v)) ?? NaN;
      }
      j++;
      continue;
    }
    for (let k = 0; k < n; k++) {
      const v = column.values[rowAt(k)];
      const i = v === null || v === undefined ? undefined : index.get(v);
      if (i !== undefined) data[(j + i) * n + k] = 1;
    }
    j += step.categories.length;
  }
  return { data, rows: n, cols: f };
}
