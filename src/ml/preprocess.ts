import { fitTfidf, transformTfidf, type TfidfModel, type TfidfOptions } from './tfidf.js';
import type {
  CategoricalColumn,
  CategoricalStep,
  Column,
  Matrix,
  NumericStep,
  PreprocessMode,
  Preprocessor,
} from './types.js';

/**
 * How features are prepared: the two modes of `Preprocessor` and 'counts', which fits a plain
 * (mode-less) preprocessor whose numbers pass through with missing → 0 and whose categories are
 * one-hot, for models of non-negative counts (multinomial naive Bayes); text is then term counts.
 */
export type FeatureMode = PreprocessMode | 'counts';

/** A categorical column with at least this many distinct training values, most of them unique, is an identifier. */
export const ID_LIKE_DISTINCT = 1000;

export interface PreprocessOptions {
  /**
   * 'scaled' (default): mean imputation, standardization, one-hot encoding (linear models, MLP).
   * 'raw': numbers pass through with NaN for missing (no imputation, center 0, scale 1) and
   * categories become ordinal codes, NaN when missing or unseen (trees handle both natively).
   * 'counts': numbers pass through with 0 for missing, categories one-hot.
   * ±Infinity counts as missing, except in 'raw' mode, where it passes through (ordered).
   */
  readonly mode?: FeatureMode;
  /** Categories seen fewer times than this in training are treated as unseen. */
  readonly minCategoryCount?: number;
  /** At most this many categories per column, the most frequent first. */
  readonly maxCategories?: number;
  /**
   * A categorical column with at least ID_LIKE_DISTINCT distinct values in the training rows,
   * more than half of its values unique, is taken as an identifier: it gets no categories (no
   * features; its input stays declared). Default true.
   */
  readonly dropIdLike?: boolean;
  /** Receives one sentence per column worth telling the user about (constant, empty, dropped, infinite). */
  readonly notes?: string[];
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
  const countsMode = options.mode === 'counts';
  const notes = options.notes;
  const numeric: NumericStep[] = [];
  const categorical: CategoricalStep[] = [];
  for (const column of columns) {
    if (column.kind === 'numeric') {
      // Welford's running mean and variance over the finite values (±Infinity counts as missing).
      let n = 0;
      let infinite = 0;
      let mean = 0;
      let m2 = 0;
      for (let k = 0; k < rows.length; k++) {
        const x = column.values[rows[k]!]!;
        if (!Number.isFinite(x)) {
          if (!Number.isNaN(x)) infinite++;
          continue;
        }
        n++;
        const d = x - mean;
        mean += d / n;
        m2 += d * (x - mean);
      }
      const std = n > 0 ? Math.sqrt(m2 / n) : 0;
      if (notes) {
        if (infinite > 0)
          notes.push(
            `${column.name}: ${infinite} infinite values in the training rows, ${raw ? 'kept (trees order them past every value)' : 'treated as missing'}`,
          );
        if (n === 0) notes.push(`${column.name}: no value in the training rows; it contributes nothing`);
        else if (std === 0)
          notes.push(`${column.name}: constant in the training rows; it contributes nothing`);
      }
      if (raw) numeric.push({ name: column.name, fill: NaN, center: 0, scale: 1 });
      else if (countsMode) numeric.push({ name: column.name, fill: 0, center: 0, scale: 1 });
      else numeric.push({ name: column.name, fill: mean, center: mean, scale: std > 1e-12 ? std : 1 });
    } else {
      const counts = new Map<string, number>();
      let present = 0;
      for (let k = 0; k < rows.length; k++) {
        const v = column.values[rows[k]!];
        if (v === null || v === undefined) continue;
        present++;
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      if (options.dropIdLike !== false && counts.size >= ID_LIKE_DISTINCT && counts.size > 0.5 * present) {
        notes?.push(
          `${column.name}: ${counts.size} distinct values in ${present} training rows, an identifier rather than a category; dropped (it contributes nothing)`,
        );
        categorical.push(
          raw
            ? { name: column.name, categories: [], encoding: 'ordinal' }
            : { name: column.name, categories: [] },
        );
        continue;
      }
      if (notes) {
        if (present === 0)
          notes.push(`${column.name}: no value in the training rows; it contributes nothing`);
        else if (counts.size === 1)
          notes.push(`${column.name}: constant in the training rows; it contributes nothing`);
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
 * Applies a fitted preprocessor (±Infinity is missing, like NaN, but passes through in 'raw' mode) to the given rows of the columns (all rows when `rows` is omitted).
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
      // ±Infinity is missing, except in 'raw' mode (fill NaN), where trees order it past every value.
      const missing = Number.isNaN(x) || (!Number.isFinite(x) && !Number.isNaN(step.fill));
      data[out + k] = ((missing ? step.fill : x) - step.center) / step.scale;
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

/** The text featurizer of one text column: TF-IDF or term counts over its fitted vocabulary. */
export interface TextStep {
  readonly name: string;
  readonly model: TfidfModel;
}

/** Everything fitted on the training rows that turns source columns into the feature matrix. */
export interface Featurizer {
  readonly pre: Preprocessor;
  /** Text columns, their blocks after the preprocessor's columns, in this order. */
  readonly text: readonly TextStep[];
}

/**
 * Fits the text featurizer of each text column (strings, null for missing) on the given rows. A
 * column that leaves no term (too few documents share a word for `minDf`) gets no step and a note.
 */
export function fitTextSteps(
  columns: readonly CategoricalColumn[],
  rows: ArrayLike<number>,
  options: TfidfOptions = {},
  notes?: string[],
): TextStep[] {
  const steps: TextStep[] = [];
  for (const column of columns) {
    const docs = Array.from({ length: rows.length }, (_, k) => column.values[rows[k]!] ?? '');
    try {
      steps.push({ name: column.name, model: fitTfidf(docs, options) });
    } catch (error) {
      if (!(error instanceof RangeError) || !/empty vocabulary/.test(error.message)) throw error;
      notes?.push(
        `${column.name}: no word occurs in at least ${options.minDf ?? 1} training rows; the text column contributes nothing`,
      );
    }
  }
  return steps;
}

/** Number of features of a featurizer. */
export function featurizerWidth(f: Featurizer): number {
  return featureCount(f.pre) + f.text.reduce((sum, s) => sum + s.model.vocabulary.length, 0);
}

/** Feature names: the preprocessor's, then `column:term` for each text term. */
export function featurizerNames(f: Featurizer): string[] {
  return [...featureNames(f.pre), ...f.text.flatMap((s) => s.model.vocabulary.map((t) => `${s.name}:${t}`))];
}

/**
 * The feature matrix of the given rows (all when omitted): `transform`'s columns, then each text
 * step's dense block. Text columns are categorical (string) columns looked up by name.
 */
export function transformFeatures(
  f: Featurizer,
  columns: readonly Column[],
  rows?: ArrayLike<number>,
): Matrix {
  const base = transform(f.pre, columns, rows);
  if (f.text.length === 0) return base;
  const n = base.rows;
  const data = new Float64Array(n * featurizerWidth(f));
  data.set(base.data);
  let offset = base.data.length;
  const byName = new Map(columns.map((c) => [c.name, c]));
  for (const step of f.text) {
    const column = byName.get(step.name);
    if (!column || column.kind !== 'categorical') throw new Error(`text column ${step.name} is missing`);
    const docs = rows
      ? Array.from({ length: n }, (_, k) => column.values[rows[k]!] ?? null)
      : column.values.slice(0, n);
    // Scattered straight into the column-major block: no dense copy of it.
    const S = transformTfidf(step.model, docs);
    for (let i = 0; i < n; i++) {
      for (let q = S.indptr[i]!; q < S.indptr[i + 1]!; q++)
        data[offset + S.indices[q]! * n + i] = S.values[q]!;
    }
    offset += n * S.cols;
  }
  return { data, rows: n, cols: featurizerWidth(f) };
}
