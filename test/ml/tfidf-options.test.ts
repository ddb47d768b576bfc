// The text featurizer's options against scikit-learn 1.2.1 on the same documents:
// TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2) and
// CountVectorizer(max_features=6) (values printed by scikit-learn, rounded to 15 decimals).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fitTfidf, sparseToMatrix, terms, transformTfidf } from '../../src/ml/tfidf.js';

const DOCS = [
  'The quick brown fox.',
  'The lazy dog; the DOG sleeps',
  'A fox and a dog',
  'über café 42 x_y a1',
  'the dog and the fox, the fox!',
];

function rows(m: ReturnType<typeof sparseToMatrix>): number[][] {
  return Array.from({ length: m.rows }, (_, i) =>
    Array.from({ length: m.cols }, (_, j) => m.data[j * m.rows + i]!),
  );
}

describe('text featurizer options as scikit-learn', () => {
  test('terms: tokens, then pairs of consecutive tokens', () => {
    assert.deepEqual(terms('A b, the DOG sat', 2), ['the', 'dog', 'sat', 'the dog', 'dog sat']);
  });

  test('ngrams 2 + sublinear tf + min_df 2 = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)', () => {
    const model = fitTfidf(DOCS, { ngrams: 2, sublinearTf: true, minDf: 2 });
    assert.deepEqual(model.vocabulary, ['and', 'dog', 'fox', 'the', 'the dog']);
    const want = [
      [0.0, 0.0, 0.707106781186548, 0.707106781186548, 0.0],
      [0.0, 0.631667201737624, 0.0, 0.631667201737624, 0.449436416523982],
      [0.64846262568727, 0.538282557346405, 0.538282557346405, 0.0, 0.0],
      [0.0, 0.0, 0.0, 0.0, 0.0],
      [0.360396568757983, 0.299161708023361, 0.506524802471251, 0.627824436756766, 0.360396568757983],
    ];
    rows(sparseToMatrix(transformTfidf(model, DOCS))).forEach((r, i) =>
      r.forEach((v, j) => assert.ok(Math.abs(v - want[i]![j]!) < 1e-12, `row ${i}, ${model.vocabulary[j]}`)),
    );
  });

  test("output 'counts' + maxFeatures 6 = CountVectorizer(max_features=6); null is an empty document", () => {
    const model = fitTfidf(DOCS, { output: 'counts', maxFeatures: 6 });
    assert.deepEqual(model.vocabulary, ['42', 'a1', 'and', 'dog', 'fox', 'the']);
    assert.deepEqual(rows(sparseToMatrix(transformTfidf(model, [...DOCS, null]))), [
      [0, 0, 0, 0, 1, 1],
      [0, 0, 0, 2, 0, 2],
      [0, 0, 1, 1, 1, 0],
      [1, 1, 0, 0, 0, 0],
      [0, 0, 1, 1, 2, 3],
      [0, 0, 0, 0, 0, 0],
    ]);
  });

  test('bad options are RangeErrors', () => {
    assert.throws(() => fitTfidf(DOCS, { ngrams: 3 as 2 }), /ngrams must be 1 or 2/);
    assert.throws(() => fitTfidf(DOCS, { minDf: 100 }), /empty vocabulary/);
  });
});
