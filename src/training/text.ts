import { invalid } from '../errors/index.js';

/**
 * Column types that reach training as numbers: 'numeric', and the DuckDB import's 'integer' and
 * 'datetime' (epoch seconds). A set of strings, so that this compiles whichever types the data
 * layer declares.
 */
const NUMERIC_TYPES: ReadonlySet<string> = new Set(['numeric', 'integer', 'datetime']);

/** True for a column type that training reads as numbers. */
export function isNumericType(type: string): boolean {
  return NUMERIC_TYPES.has(type);
}

/**
 * Options of the text featurizer, given as `params.text` of a training request (for every
 * algorithm): the defaults are scikit-learn's TfidfVectorizer with a capped vocabulary and
 * min_df 2 (a word seen in one training row cannot generalise).
 */
export interface TextOptionsSpec {
  /** Keep the most frequent terms, at most this many per text column. Default 5,000. */
  readonly maxFeatures: number;
  /** Ignore terms in fewer training rows than this (a count ≥ 1, or a fraction in (0, 1)). Default 2. */
  readonly minDf: number;
  /** Ignore terms in more training rows than this (a count, or a fraction ≤ 1). Default 1.0 (none). */
  readonly maxDf: number;
  /** 1: words; 2: words and pairs of consecutive words. Default 1. */
  readonly ngrams: 1 | 2;
  /** tf → 1 + ln(tf). Default false. */
  readonly sublinearTf: boolean;
}

export const DEFAULT_TEXT_OPTIONS: TextOptionsSpec = {
  maxFeatures: 5000,
  minDf: 2,
  maxDf: 1.0,
  ngrams: 1,
  sublinearTf: false,
};

/** At most this many dense text feature cells (rows × terms) per matrix: 40,000,000 doubles = 320 MB. */
export const MAX_TEXT_CELLS = 40_000_000;

/** Checks `params.text` of a request, filling in the defaults; errors name `params/text/<field>`. */
export function resolveTextOptions(raw: unknown): TextOptionsSpec {
  if (raw === undefined) return DEFAULT_TEXT_OPTIONS;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw invalid('params/text', 'must be an object: { maxFeatures, minDf, maxDf, ngrams, sublinearTf }');
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!Object.hasOwn(DEFAULT_TEXT_OPTIONS, key))
      throw invalid(
        `params/text/${key}`,
        'unknown option; text takes maxFeatures, minDf, maxDf, ngrams, sublinearTf',
      );
  }
  const out = { ...DEFAULT_TEXT_OPTIONS };
  const count = (key: 'minDf' | 'maxDf', value: unknown): number => {
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value))
      throw invalid(`params/text/${key}`, 'must be a number > 0');
    if (value > 1 && !Number.isInteger(value))
      throw invalid(`params/text/${key}`, 'above 1 it is a count of rows: a whole number');
    return value;
  };
  if (r.maxFeatures !== undefined) {
    const v = r.maxFeatures;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 100_000)
      throw invalid('params/text/maxFeatures', 'must be a whole number from 1 to 100000');
    out.maxFeatures = v;
  }
  if (r.minDf !== undefined) out.minDf = count('minDf', r.minDf);
  if (r.maxDf !== undefined) out.maxDf = count('maxDf', r.maxDf);
  if (r.ngrams !== undefined) {
    if (r.ngrams !== 1 && r.ngrams !== 2) throw invalid('params/text/ngrams', 'must be 1 or 2');
    out.ngrams = r.ngrams;
  }
  if (r.sublinearTf !== undefined) {
    if (typeof r.sublinearTf !== 'boolean') throw invalid('params/text/sublinearTf', 'must be true or false');
    out.sublinearTf = r.sublinearTf;
  }
  return out;
}
