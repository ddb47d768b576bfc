import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRng } from '../../src/ml/rng.js';
import { autoCandidates, autoSpace, runAuto } from '../../src/training/automl.js';
import type { SearchData } from '../../src/training/search.js';
import type { Trainer } from '../../src/training/trainer.js';
import { TRAINERS } from '../../src/training/trainers/index.js';

/** A classifier whose probability of class 1 is sigmoid(sharpness · x₀); each progress report takes `step` ms. */
function fake(name: string, clock: { t: number }, step: number, sharpness: number, reports = 4): Trainer {
  return {
    name,
    summary: name,
    tasks: ['classification'],
    preprocessing: 'scaled',
    params: { sharpness: { type: 'number', default: sharpness, min: 0, max: 100, description: '' } },
    fit(_X, _y, params, c) {
      for (let k = 0; k < reports; k++) {
        clock.t += step;
        c.onProgress(k / reports, k, {});
      }
      const a = params.sharpness as number;
      return {
        predict(X) {
          const out = new Float64Array(X.rows * 2);
          for (let i = 0; i < X.rows; i++) {
            const p = 1 / (1 + Math.exp(-a * X.data[i]!));
            out[2 * i] = 1 - p;
            out[2 * i + 1] = p;
          }
          return out;
        },
        head: { kind: 'regression', write: () => '' },
        info: {},
      };
    },
  };
}

function data(n: number): SearchData {
  const rng = createRng(2);
  const X = new Float64Array(n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.next() < 0.5 ? 1 : 0;
    X[i] = (y[i] ? 1 : -1) + 2 * (rng.next() - 0.5) * 1.5;
  }
  return { X: { data: X, rows: n, cols: 1 }, y, task: 'classification', classes: 2 };
}

describe('autoCandidates and autoSpace', () => {
  test('the registered trainers of the task, cheap and known ones first', () => {
    const clock = { t: 0 };
    const names = autoCandidates(
      {
        zeta: fake('zeta', clock, 0, 1),
        random_forest: fake('random_forest', clock, 0, 1),
        logistic_regression: TRAINERS.logistic_regression!,
        linear_regression: TRAINERS.linear_regression!,
        alpha: fake('alpha', clock, 0, 1),
      },
      'classification',
    ).map((t) => t.name);
    assert.deepEqual(names, ['logistic_regression', 'random_forest', 'alpha', 'zeta']);
  });

  test("only the trainer's own parameters, clipped to its ParamSpec bounds", () => {
    assert.deepEqual(autoSpace(TRAINERS.logistic_regression!), {
      l2: { kind: 'range', min: 1e-4, max: 100, log: true, integer: false },
    });
    const gb: Trainer = {
      ...TRAINERS.logistic_regression!,
      name: 'gradient_boosting',
      params: {
        learningRate: { type: 'number', default: 0.1, min: 0.05, max: 1, description: '' },
        maxLeaves: { type: 'integer', default: 31, min: 2, max: 64, description: '' },
        maxDepth: { type: 'enum', default: 'none', values: ['none'], description: '' },
      },
    };
    assert.deepEqual(autoSpace(gb), {
      learningRate: { kind: 'range', min: 0.05, max: 0.3, log: true, integer: false },
      maxLeaves: { kind: 'range', min: 7, max: 64, log: true, integer: true },
    });
    assert.deepEqual(autoSpace({ ...gb, name: 'unknown' }), {}, 'no entry: defaults only');
  });
});

describe('runAuto', () => {
  test('defaults first, then a search of the best; the best by the metric wins; the budget holds', () => {
    const clock = { t: 0 };
    const d = data(400);
    const good = {
      ...fake('logistic_regression', clock, 50, 0.2),
      params: { l2: { type: 'number' as const, default: 0.2, min: 0, description: '' } },
    };
    // The sharpness is the l2 parameter here, so that AUTO_SPACES' l2 range is searched.
    const searchable: Trainer = {
      ...good,
      fit: (X, y, params, c) =>
        fake('x', clock, 50, params.l2 as number).fit(X, y, { sharpness: params.l2! }, c),
    };
    const weak = fake('weak', clock, 50, 0.01);
    const seen: number[] = [];
    const out = runAuto([searchable, weak], {
      metric: 'log_loss',
      timeBudgetSeconds: 10,
      seed: 0,
      dataFor: () => d,
      now: () => clock.t,
      onTrial: (_row, _best, done) => seen.push(done),
    });
    assert.equal(out.folds, 5, '400 rows: 5-fold cross-validation');
    assert.equal(out.best.trainer.name, 'logistic_regression');
    assert.ok((out.best.params.l2 as number) > 0.2, 'the search found a sharper model than the default');
    const weakRow = out.leaderboard.find((r) => r.algorithm === 'weak')!;
    assert.ok(weakRow.score! > out.leaderboard[0]!.score!, 'the weak default ranks below the winner');
    assert.ok(out.leaderboard.some((r) => r.stage === 'search'));
    assert.ok(clock.t <= 10_000, `the search ended at ${clock.t} ms of a 10 s budget`);
    assert.deepEqual(
      seen,
      Array.from({ length: out.trials }, (_, k) => k + 1),
    );
    // Leaderboard: best first by log loss (lower is better).
    const scores = out.leaderboard.filter((r) => r.score !== null).map((r) => r.score!);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => a - b),
    );
  });

  test('a trainer too slow for the budget is stopped and the next one still runs', () => {
    const clock = { t: 0 };
    const out = runAuto([fake('slow', clock, 1000, 1, 100), fake('quick', clock, 1, 1)], {
      metric: 'roc_auc',
      timeBudgetSeconds: 30,
      seed: 0,
      dataFor: () => data(2000),
      now: () => clock.t,
    });
    assert.equal(out.folds, 1, '2,000 rows: one validation split');
    const slow = out.leaderboard.find((r) => r.algorithm === 'slow')!;
    assert.equal(slow.status, 'stopped');
    assert.ok(slow.seconds <= 16, `stopped after half the budget (${slow.seconds} s)`);
    assert.equal(slow.score, null);
    assert.equal(out.best.trainer.name, 'quick');
  });

  test('bad call: no candidate, or none that fits', () => {
    assert.throws(
      () => runAuto([], { metric: 'roc_auc', timeBudgetSeconds: 1, seed: 0, dataFor: () => data(10) }),
      /no algorithm/,
    );
    const broken: Trainer = {
      ...fake('broken', { t: 0 }, 0, 1),
      fit: () => {
        throw new Error('boom');
      },
    };
    assert.throws(
      () => runAuto([broken], { metric: 'roc_auc', timeBudgetSeconds: 1, seed: 0, dataFor: () => data(50) }),
      /broken: boom/,
    );
  });
});
