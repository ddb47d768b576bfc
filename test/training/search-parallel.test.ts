import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRng } from '../../src/ml/rng.js';
import type { StrategyName } from '../../src/ml/search.js';
import { createFoldPool, poolPays, usesOwnThreads } from '../../src/training/parallel.js';
import { resolveParams } from '../../src/training/params.js';
import { Evaluator, runSearch, type SearchData } from '../../src/training/search.js';
import { TRAINERS } from '../../src/training/trainers/index.js';

/** n rows, 4 features, a noisy linear boundary (classification) or target (regression). */
function data(n: number, task: 'classification' | 'regression'): SearchData {
  const rng = createRng(7);
  const cols = 4;
  const X = new Float64Array(n * cols);
  const y = task === 'classification' ? new Int32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) {
      const v = rng.next() * 2 - 1;
      X[j * n + i] = v;
      s += (j + 1) * v;
    }
    s += rng.next() - 0.5;
    y[i] = task === 'classification' ? (s > 0 ? 1 : 0) : s;
  }
  return { X: { data: X, rows: n, cols }, y, task, classes: task === 'classification' ? 2 : 0 };
}

const strip = (out: ReturnType<typeof runSearch>) => ({
  trials: out.trials.map(({ seconds: _s, ...t }) => t),
  bestParams: out.bestParams,
  bestTrial: out.bestTrial,
  bestScore: out.bestScore,
});

describe('parallel folds', () => {
  const strategies: StrategyName[] = ['random', 'tpe', 'halving', 'grid'];
  for (const strategy of strategies) {
    test(`${strategy}: the same trials, scores and pick with 2 workers as in-process`, () => {
      const trainer = TRAINERS.logistic_regression!;
      const d = data(400, 'classification');
      const spec = {
        strategy,
        space:
          strategy === 'grid'
            ? { l2: { kind: 'choice' as const, values: [1e-3, 1e-1, 10, 1000] } }
            : { l2: { kind: 'range' as const, min: 1e-4, max: 1e3, log: true, integer: false } },
        budget: { trials: 6 },
        folds: 5,
        metric: 'log_loss' as const,
      };
      const base = resolveParams(trainer, {});
      const sequential = runSearch(trainer, base, d, spec, 3, { workers: 1 });
      const parallel = runSearch(trainer, base, d, spec, 3, { workers: 2 });
      assert.ok(sequential.trials.length >= 4);
      assert.deepEqual(strip(parallel), strip(sequential));
    });
  }

  test('an MLP regression search: identical with 2 workers', () => {
    const trainer = TRAINERS.mlp!;
    const d = data(300, 'regression');
    const spec = {
      strategy: 'random' as const,
      space: { alpha: { kind: 'range' as const, min: 1e-5, max: 1e-1, log: true, integer: false } },
      budget: { trials: 3 },
      folds: 3,
      metric: 'rmse' as const,
    };
    const base = resolveParams(trainer, { hiddenLayers: [8], maxEpochs: 20 });
    const sequential = runSearch(trainer, base, d, spec, 1, { workers: 1 });
    const parallel = runSearch(trainer, base, d, spec, 1, { workers: 2 });
    assert.deepEqual(strip(parallel), strip(sequential));
  });

  test('the pool holds one shared copy of the rows and scores folds as the Evaluator does', () => {
    const d = data(300, 'classification');
    const trainer = TRAINERS.logistic_regression!;
    const params = resolveParams(trainer, {});
    const pool = createFoldPool(d, 5, 11, 2);
    try {
      const tasks = [0, 1, 2, 3, 4].map((fold) => ({
        trainer: trainer.name,
        params,
        metric: 'roc_auc' as const,
        fold,
        resource: 1,
        left: Infinity,
      }));
      const got = pool.runFolds(tasks);
      const ev = new Evaluator(d, 5, 11);
      got.forEach((r, f) => {
        assert.equal(r.status, 'ok');
        assert.equal(r.value, ev.evaluateFold(trainer, params, 'roc_auc', f).value);
      });
      // A second batch on the same workers.
      assert.deepEqual(
        pool.runFolds(tasks.slice(0, 2)).map((r) => r.value),
        got.slice(0, 2).map((r) => r.value),
      );
    } finally {
      pool.close();
    }
  });

  test('a failing fit is reported as failed, with its message', () => {
    const d = data(200, 'classification');
    const pool = createFoldPool(d, 2, 1, 2);
    try {
      const [r] = pool.runFolds([
        { trainer: 'no_such', params: {}, metric: 'accuracy', fold: 0, resource: 1, left: Infinity },
      ]);
      assert.equal(r!.status, 'failed');
      assert.match(r!.error!, /no_such/);
    } finally {
      pool.close();
    }
  });

  test('threaded trainers, one split, one worker or unregistered trainers stay in-process', () => {
    const d = data(5000, 'classification');
    const rf = TRAINERS.random_forest!;
    const gb = TRAINERS.gradient_boosting!;
    const lr = TRAINERS.logistic_regression!;
    assert.equal(usesOwnThreads(rf, 4000, 4), false);
    assert.equal(usesOwnThreads(rf, 8000, 4), true);
    assert.equal(usesOwnThreads(gb, 100_000, 30), true);
    assert.equal(poolPays(rf, d, 5, 2, 16_000), false);
    assert.equal(poolPays(gb, d, 5, 2, 4000), true);
    assert.equal(poolPays(lr, d, 1, 2, 4000), false);
    assert.equal(poolPays(lr, d, 5, 1, 4000), false);
    assert.equal(poolPays({ ...lr }, d, 5, 2, 4000), false);
    assert.equal(poolPays(lr, data(50, 'classification'), 5, 2, 40), false);
    assert.equal(poolPays(lr, data(50, 'classification'), 5, 2, 40, true), true);
  });
});
