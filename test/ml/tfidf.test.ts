import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fitTfidf, sparseToMatrix, tokenize, transformTfidf } from '../../src/ml/tfidf.js';

// Reference: scikit-learn 1.2 TfidfVectorizer() on these four documents.
const DOCS = [
  'The quick brown fox.',
  'The lazy dog; the DOG sleeps',
  'A fox and a dog',
  'über café 42 x_y a1',
];

describe('tokenize', () => {
  test('lower-cases and keeps runs of two or more word characters (letters, digits, _)', () => {
    assert.deepEqual(tokenize('The DOG; a x_y 42 7 café-Über!'), ['the', 'dog', 'x_y', '42', 'café', 'über']);
    assert.deepEqual(tokenize(''), []);
  });
});

describe('TF-IDF as scikit-learn’s TfidfVectorizer()', () => {
  const model = fitTfidf(DOCS);

  test('vocabulary in alphabetical order, smooth idf', () => {
    assert.deepEqual(model.vocabulary, [
      '42',
      'a1',
      'and',
      'brown',
      'café',
      'dog',
      'fox',
      'lazy',
      'quick',
      'sleeps',
      'the',
      'x_y',
      'über',
    ]);
    // idf = ln((1 + 4) / (1 + df)) + 1: df 1 → 1.9162907, df 2 → 1.5108256.
    const want = (df: number) => Math.log(5 / (1 + df)) + 1;
    model.vocabulary.forEach((t, j) =>
      assert.ok(Math.abs(model.idf[j]! - want(['dog', 'fox', 'the'].includes(t) ? 2 : 1)) < 1e-15, t),
    );
    assert.ok(Math.abs(model.idf[5]! - 1.5108256237659907) < 1e-15);
  });

  test('rows are count·idf scaled to unit length; unknown words are ignored', () => {
    const row = sparseToMatrix(transformTfidf(model, [DOCS[1]!, 'nothing known here', 'DOG dog']));
    const dense = Array.from({ length: row.cols }, (_, j) => row.data[j * 3]!);
    const want = [
      0, 0, 0, 0, 0, 0.5971468695888943, 0, 0.37870254308650203, 0, 0.37870254308650203, 0.5971468695888943,
      0, 0,
    ];
    dense.forEach((v, j) => assert.ok(Math.abs(v - want[j]!) < 1e-15, `column ${j}`));
    for (let j = 0; j < row.cols; j++) assert.equal(row.data[j * 3 + 1], 0);
    assert.equal(row.data[5 * 3 + 2], 1);
  });

  test('the sparse rows list their columns in ascending order', () => {
    const S = transformTfidf(model, DOCS);
    assert.equal(S.indptr[4], S.indices.length);
    for (let i = 0; i < 4; i++) {
      for (let q = S.indptr[i]! + 1; q < S.indptr[i + 1]!; q++) assert.ok(S.indices[q - 1]! < S.indices[q]!);
    }
  });

  test('minDf, maxDf and maxFeatures as scikit-learn', () => {
    assert.deepEqual(fitTfidf(DOCS, { minDf: 2 }).vocabulary, ['dog', 'fox', 'the']);
    assert.deepEqual(fitTfidf(DOCS, { maxFeatures: 3 }).vocabulary, ['dog', 'fox', 'the']);
    assert.equal(fitTfidf(DOCS, { maxDf: 0.5 }).vocabulary.length, 13);
    assert.deepEqual(fitTfidf(DOCS, { maxDf: 0.25 }).vocabulary.includes('dog'), false);
    assert.deepEqual(fitTfidf(DOCS, { minDf: 0.5 }).vocabulary, ['dog', 'fox', 'the']);
  });

  test('bad call: nothing left in the vocabulary', () =>
    assert.throws(() => fitTfidf(['a b c', '!!']), /empty vocabulary/));
  test('bad call: a fractional count', () =>
    assert.throws(() => fitTfidf(DOCS, { minDf: 2.5 }), /integer count/));
});
