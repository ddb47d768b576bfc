import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { autoCandidates, autoFixed } from '../../src/training/automl.js';
import { TRAINERS } from '../../src/training/trainers/index.js';

describe('the automatic mode on every registered trainer', () => {
  test('classification tries every sensible trainer, and never k-means', () => {
    const names = autoCandidates(TRAINERS, 'classification').map((t) => t.name);
    for (const name of [
      'logistic_regression',
      'gradient_boosting',
      'random_forest',
      'mlp',
      'sparse_logistic',
      'linear_svm',
      'gaussian_nb',
    ])
      assert.ok(names.includes(name), name);
    assert.ok(!names.includes('kmeans'));
    assert.equal(names[0], 'logistic_regression');
  });

  test('regression tries the linear models, elastic net, trees and the MLP', () => {
    const names = autoCandidates(TRAINERS, 'regression').map((t) => t.name);
    for (const name of ['linear_regression', 'elastic_net', 'gradient_boosting', 'random_forest', 'mlp'])
      assert.ok(names.includes(name), name);
    assert.ok(!names.includes('kmeans') && !names.includes('gaussian_nb'));
  });

  test('above 10,000 rows the MLP stops early; below, defaults untouched', () => {
    assert.deepEqual(autoFixed(TRAINERS.mlp!, 160_000), { earlyStopping: true });
    assert.deepEqual(autoFixed(TRAINERS.mlp!, 1_000), {});
    assert.deepEqual(autoFixed(TRAINERS.logistic_regression!, 160_000), {});
  });
});
