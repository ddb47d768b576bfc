/**
 * TF-IDF text features, as scikit-learn 1.2's `TfidfVectorizer()` with its defaults:
 * lowercase, tokens of two or more word characters (`token_pattern=r"(?u)\b\w\w+\b"`), raw term
 * counts, smooth idf(t) = ln((1 + n) / (1 + df(t))) + 1, then each row scaled to unit L2 norm
 * (Manning, Raghavan & Schütze, Introduction to Information Retrieval, 2008, §6.2–6.3; Salton &
 * Buckley, "Term-weighting approaches in automatic text retrieval", IP&M 24(5), 1988).
 * The vocabulary is sorted alphabetically (by UTF-16 code units), as scikit-learn sorts its
 * feature names; `minDf` / `maxDf` drop rare and ubiquitous terms and `maxFeatures` keeps the
 * most frequent terms over the corpus. Pure functions: documents in, numbers out.
 */
import type { Matrix } from './types.js';

/** Python's `\w` in a Unicode pattern: letters, marks, digits and connector punctuation (`_`). */
const TOKEN = /[\p{L}\p{M}\p{Nd}\p{Pc}]{2,}/gu;

/** Lower-cased tokens of two or more word characters, in order of appearance. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(TOKEN) ?? [];
}

export interface TfidfOptions {
  /**
   * Ignore terms in fewer documents than this: an integer count (≥ 1), or a fraction of the
   * documents when in (0, 1). Default 1.
   */
  readonly minDf?: number;
  /** Ignore terms in more documents than this: a count, or a fraction when ≤ 1. Default 1.0 (none). */
  readonly maxDf?: number;
  /** Keep at most this many terms, the most frequent over the corpus (ties by term). Default: all. */
  readonly maxFeatures?: number;
}

export interface TfidfModel {
  readonly kind: 'tfidf';
  /** Terms in column order (alphabetical). */
  readonly vocabulary: readonly string[];
  /** idf of each term, in the same order. */
  readonly idf: Float64Array;
}

/** Sparse rows (compressed sparse row): row i's columns are indices[indptr[i] .. indptr[i+1]), ascending. */
export interface SparseRows {
  readonly rows: number;
  readonly cols: number;
  readonly indptr: Uint32Array;
  readonly indices: Uint32Array;
  readonly values: Float64Array;
}

/** Learns the vocabulary and the idf weights from the training documents. */
export function fitTfidf(documents: readonly string[], options: TfidfOptions = {}): TfidfModel {
  const n = documents.length;
  if (n === 0) throw new RangeError('cannot fit a vocabulary on 0 documents');
  const docLimit = (value: number, name: string): number => {
    if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be > 0, got ${value}`);
    if (value <= 1 && !(name === 'minDf' && value === 1)) return value * n;
    if (!Number.isInteger(value))
      throw new RangeError(`${name} above 1 must be an integer count, got ${value}`);
    return value;
  };
  const minDf = docLimit(options.minDf ?? 1, 'minDf');
  const maxDf = docLimit(options.maxDf ?? 1.0, 'maxDf');
  if (
    options.maxFeatures !== undefined &&
    !(Number.isInteger(options.maxFeatures) && options.maxFeatures >= 1)
  )
    throw new RangeError(`maxFeatures must be an integer ≥ 1, got ${options.maxFeatures}`);

  const df = new Map<string, number>();
  const total = new Map<string, number>();
  for (const doc of documents) {
    const seen = new Set<string>();
    for (const t of tokenize(doc)) {
      total.set(t, (total.get(t) ?? 0) + 1);
      if (!seen.has(t)) {
        seen.add(t);
        df.set(t, (df.get(t) ?? 0) + 1);
      }
    }
  }
  let terms = [...df.keys()].filter((t) => {
    const d = df.get(t)!;
    return d >= minDf && d <= maxDf;
  });
  if (options.maxFeatures !== undefined && terms.length > options.maxFeatures) {
    terms = terms
      .sort((a, b) => total.get(b)! - total.get(a)! || compare(a, b))
      .slice(0, options.maxFeatures);
  }
  if (terms.length === 0) {
    throw new RangeError('empty vocabulary: no term is left after min/max document frequency (or no words)');
  }
  terms.sort(compare);
  const idf = Float64Array.from(terms, (t) => Math.log((1 + n) / (1 + df.get(t)!)) + 1);
  return { kind: 'tfidf', vocabulary: terms, idf };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * TF-IDF rows of the documents: count(t, d)·idf(t), each row divided by its L2 norm (a document
 * without known terms stays a zero row). Unknown terms are ignored.
 */
export function transformTfidf(model: TfidfModel, documents: readonly string[]): SparseRows {
  const index = new Map(model.vocabulary.map((t, j) => [t, j]));
  const indptr = new Uint32Array(documents.length + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < documents.length; i++) {
    const counts = new Map<number, number>();
    for (const t of tokenize(documents[i]!)) {
      const j = index.get(t);
      if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
    }
    const cols = [...counts.keys()].sort((a, b) => a - b);
    let norm = 0;
    const row = cols.map((j) => {
      const v = counts.get(j)! * model.idf[j]!;
      norm += v * v;
      return v;
    });
    norm = Math.sqrt(norm);
    for (let q = 0; q < cols.length; q++) {
      indices.push(cols[q]!);
      values.push(row[q]! / norm);
    }
    indptr[i + 1] = indices.length;
  }
  return {
    rows: documents.length,
    cols: model.vocabulary.length,
    indptr,
    indices: Uint32Array.from(indices),
    values: Float64Array.from(values),
  };
}

/** A dense column-major copy of sparse rows (for models that take a `Matrix`). */
export function sparseToMatrix(S: SparseRows): Matrix {
  const data = new Float64Array(S.rows * S.cols);
  for (let i = 0; i < S.rows; i++) {
    for (let q = S.indptr[i]!; q < S.indptr[i + 1]!; q++) data[S.indices[q]! * S.rows + i] = S.values[q]!;
  }
  return { data, rows: S.rows, cols: S.cols };
}
