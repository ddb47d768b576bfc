import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../src/errors/index.js';
import { createRng } from '../../src/ml/rng.js';
import type { Matrix } from '../../src/ml/types.js';
import { Evaluator, resolveSearch, runSearch, type SearchData } from '../../src/training/search.js';
import type { Trainer } from '../../src/training/trainer.js';
import { TRAINERS } from '../../src/training/trainers/index.js';

const logistic = TRAINERS.logistic_regression!;
const ctx = { task: 'classification' as const, fixed: {}, trainRows: 400 };

/** Two features, the class is x₀ > 0 with 10% of the labels flipped. */
function data(n: number, seed = 1): SearchData {
  const rng = createRng(seed);
  const X = new Float64Array(2 * n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    X[i] = rng.next() * 2 - 1;
    X[n + i] = rng.next() * 2 - 1;
    y[i] = (X[i]! > 0 ? 1 : 0) ^ (rng.next() < 0.1 ? 1 : 0);
  }
  return { X: { data: X, rows: n, cols: 2 }, y, task: 'classification', classes: 2 };
}

function assertInvalid(fn: () => unknown, path: string, message?: RegExp) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof AppError, String(error));
    assert.equal(error.code, 'VALIDATION_FAILED');
    assert.equal(error.errors[0]!.path, path);
    if (message) assert.match(error.errors[0]!.message, message);
    return true;
  });
}

describe('resolveSearch', () => {
  test('defaults: tpe, 5 folds, ROC-AUC; ranges typed by the ParamSpec', () => {
    const s = resolveSearch(
      logistic,
      { space: { l2: { min: 0.001, max: 10, log: true }, maxIter: [100, 300] } },
      ctx,
    );
    assert.deepEqual(s, {
      strategy: 'tpe',
      space: {
        l2: { kind: 'range', min: 0.001, max: 10, log: true, integer: false },
        maxIter: { kind: 'choice', values: [100, 300] },
      },
      budget: {},
      folds: 5,
      metric: 'roc_auc',
    });
    assert.equal(resolveSearch(logistic, { space: { l2: [1] } }, { ...ctx, trainRows: 50_000 }).folds, 1);
    assert.deepEqual(
      resolveSearch(logistic, { space: { maxIter: { min: 10, max: 20 } } }, ctx).space.maxIter,
      { kind: 'range', min: 10, max: 20, log: false, integer: true },
    );
  });

  test('bad call: each mistake named by its path', () => {
    assertInvalid(
      () => resolveSearch(logistic, { space: { depth: [3] } }, ctx),
      'search/space/depth',
      /no parameter depth/,
    );
    assertInvalid(
      () => resolveSearch(logistic, { space: { l2: [1, -1] } }, ctx),
      'search/space/l2',
      /value 1: must be ≥ 0/,
    );
    assertInvalid(() => resolveSearch(logistic, { space: { l2: [] } }, ctx), 'search/space/l2');
    assertInvalid(
      () => resolveSearch(logistic, { space: { l2: { min: 0, max: 1, log: true } } }, ctx),
      'search/space/l2',
      /log/,
    );
    assertInvalid(
      () => resolveSearch(logistic, { space: { l2: { min: 2, max: 1 } } }, ctx),
      'search/space/l2',
      /below/,
    );
    assertInvalid(
      () => resolveSearch(logistic, { space: { maxIter: { min: 0, max: 9 } } }, ctx),
      'search/space/maxIter',
      /min/,
    );
    assertInvalid(() => resolveSearch(logistic, { space: { l2: 3 } }, ctx), 'search/space/l2');
    assertInvalid(
      () => resolveSearch(logistic, { space: { l2: [1] } }, { ...ctx, fixed: { l2: 2 } }),
      'search/space/l2',
      /params/,
    );
    assertInvalid(() => resolveSearch(logistic, { space: {} }, ctx), 'search/space');
    assertInvalid(
      () => resolveSearch(logistic, { strategy: 'magic', space: { l2: [1] } }, ctx),
      'search/strategy',
    );
    assertInvalid(
      () => resolveSearch(logistic, { space: { l2: [1] }, budget: { trials: 0 } }, ctx),
      'search/budget/trials',
    );
    assertInvalid(
      () => resolveSearch(logistic, { space: { l2: [1] }, budget: { seconds: -1 } }, ctx),
      'search/budget/seconds',
    );
    assertInvalid(() => resolveSearch(logistic, { space: { l2: [1] }, folds: 50 }, ctx), 'search/folds');
    assertInvalid(() => resolveSearch(logistic, { space: { l2: [1] }, metric: 'r2' }, ctx), 'search/metric');
    assertInvalid(() => resolveSearch(logistic, { space: { l2: [1] }, extra: 1 }, ctx), 'search/extra');
    assertInvalid(
      () => resolveSearch(logistic, { space: { l2: [1] } }, { ...ctx, task: 'clustering' }),
      'search',
    );
    const big = Array.from({ length: 100 }, (_, k) => k + 1);
    assertInvalid(
      () => resolveSearch(logistic, { strategy: 'grid', space: { l2: big, maxIter: big } }, ctx),
      'search/space',
      /10000 points/,
    );
  });
});

describe('runSearch', () => {
  test('random search: N trials, the best by CV score, merged over the fixed params', () => {
    const d = data(300);
    const out = runSearch(
      logistic,
      { l2: 1, maxIter: 50 },
      d,
      {
        strategy: 'random',
        space: { l2: { kind: 'range', min: 1e-3, max: 1e4, log: true, integer: false } },
        budget: { trials: 6 },
        folds: 3,
        metric: 'log_loss',
      },
      3,
    );
    assert.equal(out.trials.length, 6);
    assert.equal(out.greaterIsBetter, false);
    const best = out.trials.reduce((a, b) => (b.score! < a.score! ? b : a));
    assert.equal(out.bestTrial, best.trial);
    assert.equal(out.bestScore, best.score);
    assert.deepEqual(out.bestParams, { l2: best.params.l2, maxIter: 50 });
    assert.ok(out.trials.every((t) => t.status === 'ok' && t.resource === 1 && t.std! >= 0));
  });

  test('halving: rungs on fewer rows, the winner from the full-resource rung', () => {
    const d = data(3000);
    const seen: string[] = [];
    const out = runSearch(
      logistic,
      { l2: 1, maxIter: 100 },
      d,
      {
        strategy: 'halving',
        space: { l2: { kind: 'range', min: 1e-3, max: 1e4, log: true, integer: false } },
        budget: { trials: 6 },
        folds: 1,
        metric: 'accuracy',
      },
      1,
      { onTrial: (_r, _b, done, planned) => seen.push(`${done}/${planned}`) },
    );
    const resources = [...new Set(out.trials.map((t) => t.resource))].sort();
    assert.ok(resources.length >= 2 && resources.at(-1) === 1, `resources ${resources}`);
    assert.equal(out.trials.find((t) => t.trial === out.bestTrial)!.resource, 1);
    assert.equal(seen.at(-1), `${out.trials.length}/${out.trials.length}`);
  });

  test('a time budget stops the search and a fit that reports progress past it', () => {
    let clock = 0;
    // Every progress report of a fit takes a simulated second.
    const slow: Trainer = {
      ...logistic,
      fit(X, y, params, c) {
        for (let k = 0; k < 5; k++) {
          clock += 1000;
          c.onProgress(k / 5, k, {});
        }
        return logistic.fit(X, y, params, c);
      },
    };
    const out = runSearch(
      slow,
      { l2: 1, maxIter: 50 },
      data(200),
      {
        strategy: 'random',
        space: { l2: { kind: 'range', min: 0.01, max: 100, log: true, integer: false } },
        budget: { seconds: 12 },
        folds: 2,
        metric: 'accuracy',
      },
      0,
      { now: () => clock },
    );
    // One trial is 2 folds × 5 s; the second is stopped at 12 s.
    assert.deepEqual(
      out.trials.map((t) => t.status),
      ['ok', 'stopped'],
    );
    assert.equal(out.trials[1]!.score, null);
    assert.equal(out.bestTrial, 1);
    assert.ok(clock <= 13_000, `stopped at ${clock} ms`);
  });
});

describe('Evaluator', () => {
  test('stratified folds of the given rows; a failing fit is a failed trial with its reason', () => {
    const d = data(100);
    const ev = new Evaluator(d, 4, 0);
    assert.equal(ev.folds.length, 4);
    assert.equal(ev.fitRows, 75);
    const broken: Trainer = {
      ...logistic,
      fit() {
        throw new Error('singular matrix');
      },
    };
    const r = ev.evaluate(broken, { l2: 1, maxIter: 10 }, 'accuracy');
    assert.equal(r.status, 'failed');
    assert.equal(r.error, 'singular matrix');
    assert.ok(Number.isNaN(r.value));
    const ok = ev.evaluate(logistic, { l2: 1, maxIter: 100 }, 'accuracy');
    assert.ok(ok.value > 0.8 && ok.value <= 1, `CV accuracy ${ok.value}`);
  });

  test('an early-stopping trainer gets a validation split carved from each fold', () => {
    const sizes: number[] = [];
    const early: Trainer = {
      ...logistic,
      wantsValidation: () => true,
      fit(X: Matrix, y, params, c) {
        sizes.push(X.rows, c.validation!.X.rows);
        return logistic.fit(X, y, params, c);
      },
    };
    new Evaluator(data(100), 1, 0).evaluate(early, { l2: 1, maxIter: 10 }, 'accuracy');
    assert.deepEqual(sizes, [72, 8], '80 training rows of the split: 72 fitted, 8 for early stopping');
  });
});
