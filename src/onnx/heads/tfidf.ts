/**
 * The TF-IDF featurizer (`ml/tfidf.ts`) as ONNX nodes: a string column [N,1] in, the L2-normalised
 * TF-IDF rows double [N,V] out, to be concatenated with the other features of a pipeline.
 *
 *   Reshape [N] ─ StringNormalizer(LOWER) ─ com.microsoft.Tokenizer(tokenexp) ─ TfIdfVectorizer(TF)
 *     ─ Cast(double) ─ [1 + Log] ─ Mul(idf) ─ Div(√ReduceSumSquare, a zero row stays zero)
 *
 * Requirements the exporter must meet (this file cannot): the model imports the `com.microsoft`
 * opset (version 1) next to '' and ai.onnx.ml, and the runtime is ONNX Runtime (the Tokenizer is
 * one of its contrib operators, not standard ONNX). StringNormalizer is given the locale
 * `C.UTF-8`, which every glibc system has; its default `en_US.UTF-8` is missing on minimal hosts
 * and makes session creation fail. TfIdfVectorizer only counts (mode TF, exact in float); the idf
 * weights, the optional sublinear tf and the norm are applied in double, as `transformTfidf` does.
 */
import type { TfidfModel } from '../../ml/tfidf.js';
import { DataType } from '../proto.js';
import { attr, type GraphBuilder } from '../graph.js';

/** The domain of ONNX Runtime's contrib operators (Tokenizer). */
export const MS_DOMAIN = 'com.microsoft';

/** Python's `\w\w+` with Unicode classes, in RE2 syntax (what the Tokenizer compiles). */
export const TOKEN_REGEX = '[\\p{L}\\p{M}\\p{Nd}\\p{Pc}]{2,}';

/**
 * Writes the text block for the string input `text` ([N,1]) and returns its double [N,V] output:
 * TfIdfVectorizer in TF mode counts the terms (exact in float), then in double, as `ml/` computes:
 * optional 1 + ln(tf), times idf, divided by the row's L2 norm; with output 'counts' the counts
 * themselves. Bigrams (ngrams 2) are pairs of consecutive tokens; the Tokenizer pads short rows
 * with '#', which is not a token, so no padded pair matches a term.
 */
export function writeTfidf(g: GraphBuilder, text: string, model: TfidfModel): string {
  const V = model.vocabulary.length;
  if (V === 0 || model.idf.length !== V)
    throw new RangeError('the TF-IDF model has no vocabulary or idf of the wrong length');
  const flat = g.op('Reshape', [text, g.constant('flat', { type: 'int64', dims: [1], values: [-1] })]);
  const lower = g.op('StringNormalizer', [flat], {
    attributes: [attr.string('case_change_action', 'LOWER'), attr.string('locale', 'C.UTF-8')],
  });
  // Rows with fewer tokens are padded with a value that is not a token (it has no word character).
  const tokens = g.op('Tokenizer', [lower], {
    domain: MS_DOMAIN,
    attributes: [
      attr.int('mark', 0),
      attr.int('mincharnum', 1),
      attr.string('pad_value', '#'),
      attr.string('tokenexp', TOKEN_REGEX),
    ],
    type: { type: 'string', shape: ['N', 'T'] },
  });
  // The pool lists the unigrams, then the bigrams as pairs of strings; ngram_indexes maps each
  // pool n-gram to its column (the vocabulary's alphabetical position).
  const unigrams: number[] = [];
  const bigrams: number[] = [];
  model.vocabulary.forEach((t, j) => (t.includes(' ') ? bigrams : unigrams).push(j));
  const maxN = model.ngrams ?? 1;
  if (bigrams.length > 0 && maxN < 2) throw new RangeError('the vocabulary has word pairs but ngrams is 1');
  const pool = [
    ...unigrams.map((j) => model.vocabulary[j]!),
    ...bigrams.flatMap((j) => model.vocabulary[j]!.split(' ')),
  ];
  const counted = g.op('TfIdfVectorizer', [tokens], {
    attributes: [
      attr.string('mode', 'TF'),
      attr.int('min_gram_length', 1),
      attr.int('max_gram_length', maxN),
      attr.int('max_skip_count', 0),
      attr.ints('ngram_counts', maxN === 1 ? [0] : [0, unigrams.length]),
      attr.ints('ngram_indexes', [...unigrams, ...bigrams]),
      attr.strings('pool_strings', pool),
    ],
  });
  const tf = g.op('Cast', [counted], { attributes: [attr.int('to', DataType.double)] });
  if (model.output === 'counts') return tf;
  const zero = g.constant('zero', { type: 'double', dims: [1], values: [0] });
  const one = g.constant('one', { type: 'double', dims: [1], values: [1] });
  // 1 + ln(tf) where tf > 0 (ln 0 = −∞ is kept out by the Where).
  const scaled = model.sublinearTf
    ? g.op('Where', [g.op('Greater', [tf, zero]), g.op('Add', [one, g.op('Log', [tf])]), zero])
    : tf;
  const x = g.op('Mul', [scaled, g.constant('idf', { type: 'double', dims: [V], values: model.idf })]);
  const norm = g.op('Sqrt', [
    g.op('ReduceSumSquare', [x], { attributes: [attr.ints('axes', [1]), attr.int('keepdims', 1)] }),
  ]);
  // A document without known words has norm 0: divide by 1 instead, leaving the zero row.
  const safe = g.op('Where', [g.op('Equal', [norm, zero]), one, norm]);
  return g.op('Div', [x, safe]);
}
