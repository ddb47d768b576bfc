import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bestTrial,
  configKey,
  createStrategy,
  gridSize,
  gridValues,
  type Config,
  type SearchStrategy,
  type Space,
  type Trial,
} from '../../src/ml/search.js';

/** Runs a strategy to the end with a score function; returns the trials with their scores. */
function drive(strategy: SearchStrategy, score: (c: Config, t: Trial) => number) {
  const out: (Trial & { score: number })[] = [];
  for (let t = strategy.next(); t; t = strategy.next()) {
    const s = score(t.config, t);
    strategy.report(t.id, s);
    out.push({ ...t, score: s });
    if (out.length > 10_000) throw new Error('runaway strategy');
  }
  return out;
}

const range = (min: number, max: number, log = false, integer = false) =>
  ({ kind: 'range', min, max, log, integer }) as const;

describe('search spaces', () => {
  test('grid values: choices as given; ranges at 5 spread points, geometric on a log range', () => {
    assert.deepEqual(gridValues({ kind: 'choice', values: ['a', 'b'] }), ['a', 'b']);
    assert.deepEqual(gridValues(range(0, 1)), [0, 0.25, 0.5, 0.75, 1]);
    const log = gridValues(range(0.001, 10, true)) as number[];
    [0.001, 0.01, 0.1, 1, 10].forEach((v, k) => assert.ok(Math.abs(log[k]! / v - 1) < 1e-12));
    assert.deepEqual(gridValues(range(1, 3, false, true)), [1, 2, 3], 'whole numbers, no repeats');
  });
});

describe('grid', () => {
  const space: Space = {
    a: { kind: 'choice', values: [1, 2, 3] },
    b: { kind: 'choice', values: ['x', 'y'] },
  };

  test('every point once, the last dimension fastest', () => {
    const s = createStrategy('grid', space, { seed: 0, budget: 100 });
    assert.equal(s.planned, 6);
    const trials = drive(s, () => 0);
    assert.deepEqual(
      trials.map((t) => `${t.config.a}${t.config.b}`),
      ['1x', '1y', '2x', '2y', '3x', '3y'],
    );
    assert.ok(trials.every((t) => t.resource === 1));
  });

  test('a smaller budget: a seeded subset of distinct points, in grid order', () => {
    const trials = drive(createStrategy('grid', space, { seed: 5, budget: 4 }), () => 0);
    assert.equal(trials.length, 4);
    assert.equal(new Set(trials.map((t) => configKey(t.config))).size, 4);
    const again = drive(createStrategy('grid', space, { seed: 5, budget: 4 }), () => 0);
    assert.deepEqual(again, trials);
    assert.equal(gridSize(space), 6);
  });
});

describe('random', () => {
  test('seeded draws inside the ranges; log-uniform puts half the draws below the geometric mean', () => {
    const space: Space = { lr: range(1e-4, 1, true), depth: range(2, 9, false, true) };
    const trials = drive(createStrategy('random', space, { seed: 11, budget: 400 }), () => 0);
    assert.equal(trials.length, 400);
    let below = 0;
    for (const { config } of trials) {
      const lr = config.lr as number;
      const depth = config.depth as number;
      assert.ok(lr >= 1e-4 && lr <= 1);
      assert.ok(Number.isInteger(depth) && depth >= 2 && depth <= 9);
      if (lr < 1e-2) below++;
    }
    assert.ok(below > 160 && below < 240, `${below} of 400 below 0.01`);
    const depths = new Set(trials.map((t) => t.config.depth));
    assert.equal(depths.size, 8, 'every whole number is drawn, the ends included');
    assert.deepEqual(
      drive(createStrategy('random', space, { seed: 11, budget: 400 }), () => 0),
      trials,
    );
  });

  test('a space of choices only ends when every point has been tried', () => {
    const trials = drive(
      createStrategy('random', { a: { kind: 'choice', values: [1, 2, 3] } }, { seed: 0, budget: 10 }),
      () => 0,
    );
    assert.equal(trials.length, 3);
  });
});

describe('halving', () => {
  test('budget 10, min resource 1/9: rungs of 30, 10 and 3 configurations on 1/9, 1/3 and all rows', () => {
    const s = createStrategy('halving', { x: range(0, 1) }, { seed: 2, budget: 10, minResource: 1 / 9 });
    assert.equal(s.planned, 43);
    const trials = drive(s, (c) => -(((c.x as number) - 0.3) ** 2));
    const rungs = [0, 1, 2].map((r) => trials.filter((t) => t.rung === r));
    assert.deepEqual(
      rungs.map((r) => r.length),
      [30, 10, 3],
    );
    assert.deepEqual(
      rungs.map((r) => r[0]!.resource),
      [1 / 9, 1 / 3, 1],
    );
    const cost = trials.reduce((a, t) => a + t.resource, 0);
    assert.ok(cost <= 10 + 1e-9, `cost ${cost} within the budget of 10 full fits`);
    // Each rung goes on with the best of the one below.
    for (const r of [1, 2]) {
      const below = [...rungs[r - 1]!].sort((a, b) => b.score - a.score).slice(0, rungs[r]!.length);
      assert.deepEqual(rungs[r]!.map((t) => t.config.x).sort(), below.map((t) => t.config.x).sort());
    }
    const best = bestTrial(trials)!;
    assert.equal(best.resource, 1);
    assert.ok(Math.abs((best.config.x as number) - 0.3) < 0.05, `best x ${best.config.x}`);
  });

  test('a failed trial (NaN) is never promoted; a small budget falls back to fewer rungs', () => {
    const s = createStrategy('halving', { x: range(0, 1) }, { seed: 3, budget: 3, minResource: 1 / 9 });
    const trials = drive(s, (c, t) => (t.rung === 0 && (c.x as number) > 0.5 ? NaN : (c.x as number)));
    const top = trials.filter((t) => t.resource === 1);
    assert.ok(top.length >= 1);
    assert.ok(top.every((t) => (t.config.x as number) <= 0.5));
    const one = drive(
      createStrategy('halving', { x: range(0, 1) }, { seed: 3, budget: 1, minResource: 1 / 9 }),
      () => 0,
    );
    assert.equal(one.length, 1, 'budget 1: a single full fit');
    assert.equal(one[0]!.resource, 1);
  });

  test('an open-ended budget runs bracket after bracket', () => {
    const s = createStrategy(
      'halving',
      { x: range(0, 1) },
      { seed: 4, budget: Infinity, minResource: 1 / 3 },
    );
    assert.equal(s.planned, undefined);
    let t: Trial | undefined;
    let n = 0;
    while (n < 40 && (t = s.next())) {
      s.report(t.id, Math.random());
      n++;
    }
    assert.equal(n, 40);
  });

  test('bad call: asking for the next rung before the last one is reported', () => {
    const s = createStrategy('halving', { x: range(0, 1) }, { seed: 2, budget: 10, minResource: 1 / 9 });
    for (let k = 0; k < 30; k++) s.next();
    assert.throws(() => s.next(), /report every trial/);
  });
});

describe('tpe', () => {
  test('beats random search on a narrow 2-d optimum, on average over seeds, at the same budget', () => {
    const space: Space = { a: range(1e-4, 10, true), b: range(0, 1) };
    // Optimum at a = 0.01, b = 0.7; a on a log scale.
    const f = (c: Config) => -((Math.log10(c.a as number) + 2) ** 2) - 4 * ((c.b as number) - 0.7) ** 2;
    let tpe = 0;
    let random = 0;
    for (let seed = 0; seed < 10; seed++) {
      tpe += bestTrial(drive(createStrategy('tpe', space, { seed, budget: 40 }), f))!.score;
      random += bestTrial(drive(createStrategy('random', space, { seed, budget: 40 }), f))!.score;
    }
    assert.ok(tpe > random, `tpe ${tpe / 10} vs random ${random / 10}`);
  });

  test('seeded, every configuration once, choices included', () => {
    const space: Space = { k: { kind: 'choice', values: ['a', 'b', 'c'] }, x: range(0, 1) };
    const f = (c: Config) => (c.k === 'b' ? 1 : 0) - Math.abs((c.x as number) - 0.5);
    const a = drive(createStrategy('tpe', space, { seed: 1, budget: 30 }), f);
    assert.deepEqual(drive(createStrategy('tpe', space, { seed: 1, budget: 30 }), f), a);
    assert.equal(a.length, 30);
    assert.equal(new Set(a.map((t) => configKey(t.config))).size, 30);
    const late = a.slice(15).filter((t) => t.config.k === 'b').length;
    assert.ok(late >= 8, `after the start, TPE mostly proposes the better choice (${late}/15)`);
  });
});

describe('bad calls', () => {
  test('a budget below one evaluation, an empty choice, an inverted or non-positive log range', () => {
    const x = range(0, 1);
    assert.throws(() => createStrategy('random', { x }, { seed: 0, budget: 0 }), RangeError);
    assert.throws(
      () => createStrategy('grid', { x: { kind: 'choice', values: [] } }, { seed: 0, budget: 5 }),
      /no values/,
    );
    assert.throws(() => createStrategy('tpe', { x: range(2, 1) }, { seed: 0, budget: 5 }), /min ≤ max/);
    assert.throws(() => createStrategy('random', { x: range(0, 1, true) }, { seed: 0, budget: 5 }), /log/);
  });

  test('bestTrial ignores partial-resource and failed trials', () => {
    assert.deepEqual(
      bestTrial([
        { resource: 1 / 3, score: 9 },
        { resource: 1, score: NaN },
        { resource: 1, score: 1 },
        { resource: 1, score: 1 },
      ]),
      { resource: 1, score: 1 },
    );
    assert.equal(bestTrial([{ resource: 1, score: NaN }]), undefined);
  });
});
