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
  /**
   * Longest n-gram of consecutive tokens: 1 (words, the default) or 2 (words and pairs of words,
   * scikit-learn's `ngram_range=(1, 2)`; a pair is written `"w1 w2"`).
   */
  readonly ngrams?: 1 | 2;
  /** Replace a count tf by 1 + ln(tf) (scikit-learn's `sublinear_tf`). Default false. */
  readonly sublinearTf?: boolean;
  /**
   * 'tfidf' (default): tf·idf, each row scaled to unit L2 norm. 'counts': the raw term counts
   * (scikit-learn's `CountVectorizer`), for multinomial naive Bayes; idf and norm are not applied.
   */
  readonly output?: TextOutput;
}

export const TEXT_OUTPUTS = ['tfidf', 'counts'] as const;
export type TextOutput = (typeof TEXT_OUTPUTS)[number];

export interface TfidfModel {
  readonly kind: 'tfidf';
  /** Terms in column order (alphabetical). */
  readonly vocabulary: readonly string[];
  /** idf of each term, in the same order. */
  readonly idf: Float64Array;
  /** Longest n-gram (absent: 1). */
  readonly ngrams?: 1 | 2;
  /** tf → 1 + ln(tf) (absent: false). */
  readonly sublinearTf?: boolean;
  /** absent: 'tfidf'. */
  readonly output?: TextOutput;
}

/** The terms of a document: its tokens, then (ngrams 2) each pair of consecutive tokens joined by a space. */
export function terms(text: string, ngrams: 1 | 2 = 1): string[] {
  const tokens = tokenize(text);
  if (ngrams === 1) return tokens;
  const out = tokens.slice();
  for (let k = 0; k + 1 < tokens.length; k++) out.push(`${tokens[k]} ${tokens[k + 1]}`);
  return out;
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
  const ngrams = options.ngrams ?? 1;
  if (ngrams !== 1 && ngrams !== 2) throw new RangeError(`ngrams must be 1 or 2, got ${String(ngrams)}`);
  const output = options.output ?? 'tfidf';
  if (!TEXT_OUTPUTS.includes(output)) throw new RangeError(`output must be tfidf or counts, got ${output}`);

  const df = new Map<string, number>();
  const total = new Map<string, number>();
  for (const doc of documents) {
    const seen = new Set<string>();
    for (const t of terms(doc, ngrams)) {
      total.set(t, (total.get(t) ?? 0) + 1);
      if (!seen.has(t)) {
        seen.add(t);
        df.set(t, (df.get(t) ?? 0) + 1);
      }
    }
  }
  let kept = [...df.keys()].filter((t) => {
    const d = df.get(t)!;
    return d >= minDf && d <= maxDf;
  });
  if (options.maxFeatures !== undefined && kept.length > options.maxFeatures) {
    kept = kept.sort((a, b) => total.get(b)! - total.get(a)! || compare(a, b)).slice(0, options.maxFeatures);
  }
  if (kept.length === 0) {
    throw new RangeError('empty vocabulary: no term is left after min/max document frequency (or no words)');
  }
  kept.sort(compare);
  const idf = Float64Array.from(kept, (t) => Math.log((1 + n) / (1 + df.get(t)!)) + 1);
  return {
    kind: 'tfidf',
    vocabulary: kept,
    idf,
    ...(ngrams !== 1 ? { ngrams } : {}),
    ...(options.sublinearTf ? { sublinearTf: true } : {}),
    ...(output !== 'tfidf' ? { output } : {}),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * TF-IDF rows of the documents: tf(t, d)·idf(t), each row divided by its L2 norm (a document
 * without known terms stays a zero row), tf the count or 1 + ln(count) (sublinear). With output
 * 'counts', the raw counts. Unknown terms are ignored; a missing document (null) is empty.
 */
export function transformTfidf(model: TfidfModel, documents: readonly (string | null)[]): SparseRows {
  const counts = model.output === 'counts';
  const index = new Map(model.vocabulary.map((t, j) => [t, j]));
  const indptr = new Uint32Array(documents.length + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < documents.length; i++) {
    const tf = new Map<number, number>();
    for (const t of terms(documents[i] ?? '', model.ngrams ?? 1)) {
      const j = index.get(t);
      if (j !== undefined) tf.set(j, (tf.get(j) ?? 0) + 1);
    }
    const cols = [...tf.keys()].sort((a, b) => a - b);
    if (counts) {
      for (const j of cols) {
        indices.push(j);
        values.push(tf.get(j)!);
      }
      indptr[i + 1] = indices.length;
      continue;
    }
    let norm = 0;
    const row = cols.map((j) => {
      const c = tf.get(j)!;
      const v = (model.sublinearTf ? 1 + Math.log(c) : c) * model.idf[j]!;
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
