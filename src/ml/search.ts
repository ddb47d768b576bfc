/**
 * Hyperparameter search strategies: pure ask-and-tell objects over a search space. A strategy hands
 * out trials (a configuration and the share of the resource — training rows — to fit it on) and is
 * told each trial's score, higher being better; it never fits anything nor reads a clock, so the
 * same seed and scores give the same trials. Running trials, cross-validation and time budgets
 * belong to the caller (`training/search.ts`).
 *
 * Strategies (one file each in `search/`):
 * - `grid`: every point of the grid, or a seeded subset of it when the budget is smaller;
 * - `random`: independent uniform draws (Bergstra & Bengio, JMLR 13, 2012);
 * - `halving`: successive halving on the number of training rows (Jamieson & Talwalkar,
 *   AISTATS 2016), brackets repeated as in Hyperband (Li et al., JMLR 18, 2018) when the budget is
 *   open-ended;
 * - `tpe`: the tree-structured Parzen estimator (Bergstra, Bardenet, Bengio & Kégl, NIPS 2011).
 */
import { createGridSearch } from './search/grid.js';
import { createHalvingSearch } from './search/halving.js';
import { createRandomSearch } from './search/random.js';
import type { Config, Space } from './search/space.js';
import { checkSpace } from './search/space.js';
import { createTpeSearch } from './search/tpe.js';

export type { Config, Dimension, Space, Value } from './search/space.js';
export { configKey, gridSize, gridValues, sampleConfig } from './search/space.js';

export const STRATEGIES = ['grid', 'random', 'halving', 'tpe'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

export interface Trial {
  /** 0, 1, 2, ... in the order the trials are handed out. */
  readonly id: number;
  readonly config: Config;
  /**
   * Share of the resource (the training rows) to fit on, in (0, 1]. Scores are comparable only
   * between trials of the same resource; only a trial at 1 may be picked as the best.
   */
  readonly resource: number;
  /** Successive halving's rung, 0 for the smallest resource; 0 for the other strategies. */
  readonly rung: number;
}

export interface SearchStrategy {
  readonly name: StrategyName;
  /** Trials the strategy plans to hand out, or undefined when it goes on until stopped. */
  readonly planned: number | undefined;
  /**
   * The next trial, or undefined when the search is over. Call it only after every trial handed
   * out so far has been reported: successive halving promotes a rung once all of it is scored.
   */
  next(): Trial | undefined;
  /** The score of a trial (higher is better); NaN for a trial that failed or was stopped. */
  report(trialId: number, score: number): void;
}

export interface StrategyOptions {
  readonly seed: number;
  /**
   * Budget in full-resource evaluations: a trial at resource r costs r, so successive halving can
   * try more configurations than random search for the same budget. Infinity: until stopped.
   */
  readonly budget: number;
  /** Successive halving: the smallest share of the rows a trial may be fitted on (default 1/27). */
  readonly minResource?: number;
  /** Successive halving: keep the best 1/eta of each rung (default 3). */
  readonly eta?: number;
}

/** Creates a strategy by name; throws RangeError on a bad space or budget. */
export function createStrategy(name: StrategyName, space: Space, options: StrategyOptions): SearchStrategy {
  checkSpace(space);
  if (!(options.budget >= 1)) throw new RangeError(`budget must be ≥ 1 evaluation, got ${options.budget}`);
  switch (name) {
    case 'grid':
      return createGridSearch(space, options);
    case 'random':
      return createRandomSearch(space, options);
    case 'halving':
      return createHalvingSearch(space, options);
    case 'tpe':
      return createTpeSearch(space, options);
  }
}

/**
 * The best trial at full resource: the highest score, the earliest on ties (NaN never wins).
 * Undefined if none has a score.
 */
export function bestTrial<T extends { readonly resource: number; readonly score: number }>(
  trials: readonly T[],
): T | undefined {
  let best: T | undefined;
  for (const t of trials) {
    if (t.resource < 1 || Number.isNaN(t.score)) continue;
    if (!best || t.score > best.score) best = t;
  }
  return best;
}
