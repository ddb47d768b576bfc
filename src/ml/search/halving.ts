import { createRng, type Rng } from '../rng.js';
import type { SearchStrategy, StrategyOptions, Trial } from '../search.js';
import { configKey, sampleConfig, type Config, type Space } from './space.js';

/** At most this many rungs above the first (resource 1/eta⁴ at the bottom for eta = 3: 1/81). */
const MAX_RUNGS = 4;
/** Configurations of the first rung of each bracket when the budget is open-ended, per eta^rungs. */
const OPEN_BRACKET_WIDTH = 2;

/**
 * Successive halving (Jamieson & Talwalkar, "Non-stochastic best arm identification and
 * hyperparameter optimization", AISTATS 2016), with the training rows as the resource, as
 * scikit-learn's `HalvingRandomSearchCV`:
 *
 *   rung i = 0..s fits nᵢ = ⌊n₀/ηⁱ⌋ configurations on a share rᵢ = η^(i−s) of the rows; the best
 *   nᵢ₊₁ by score go up a rung; the last rung fits on all rows.
 *
 * Each rung costs about n₀·η^(−s) full fits, so a bracket costs (s+1)·n₀·η^(−s): for a budget B,
 * n₀ = ⌊B·ηˢ/(s+1)⌋ random configurations are tried against B for random search. s is the largest
 * number of rungs that keeps rows above `minResource` and at least one configuration on the last
 * rung; with s = 0 this is random search. With an open-ended budget, brackets of n₀ = 2·ηˢ are
 * run one after another (Hyperband's outer loop, always with the most aggressive bracket).
 */
export function createHalvingSearch(space: Space, options: StrategyOptions): SearchStrategy {
  const eta = options.eta ?? 3;
  if (!(eta >= 2)) throw new RangeError(`eta must be ≥ 2, got ${eta}`);
  const minResource = Math.min(1, Math.max(options.minResource ?? 1 / 27, 1e-9));
  const rng = createRng(options.seed);
  let s = Math.min(MAX_RUNGS, Math.floor(Math.log(1 / minResource) / Math.log(eta) + 1e-9));
  let n0: number;
  if (Number.isFinite(options.budget)) {
    // The most rungs for which the last one still gets a configuration.
    for (;;) {
      n0 = Math.floor((options.budget * eta ** s) / (s + 1) + 1e-9);
      if (s === 0 || Math.floor(n0 / eta ** s) >= 1) break;
      s--;
    }
  } else {
    n0 = OPEN_BRACKET_WIDTH * eta ** s;
  }
  const rungSize = (i: number) => Math.max(1, Math.floor(n0 / eta ** i + 1e-9));
  const plannedPerBracket = Array.from({ length: s + 1 }, (_, i) => rungSize(i)).reduce((a, b) => a + b, 0);

  const seen = new Set<string>();
  let nextId = 0;
  let rung = 0;
  /** Configurations of the current rung, in the order they are handed out. */
  let queue: Config[] = drawConfigs(space, rng, rungSize(0), seen);
  let handedInRung = 0;
  const scores = new Map<number, { config: Config; score: number }>();
  let rungTrials: number[] = [];

  return {
    name: 'halving',
    planned: Number.isFinite(options.budget) ? plannedPerBracket : undefined,
    next(): Trial | undefined {
      if (handedInRung >= queue.length) {
        // The rung is done: promote the best, or start a new bracket.
        if (rungTrials.some((id) => !scores.has(id)))
          throw new Error('successive halving: report every trial of a rung before asking for more');
        if (rung < s) {
          const ranked = rungTrials
            .map((id) => ({ id, ...scores.get(id)! }))
            // Best first; a failed trial (NaN) last; ties keep the earlier trial.
            .sort((a, b) => rank(b.score) - rank(a.score) || a.id - b.id);
          rung++;
          queue = ranked.slice(0, rungSize(rung)).map((t) => t.config);
        } else {
          if (Number.isFinite(options.budget)) return undefined;
          rung = 0;
          queue = drawConfigs(space, rng, rungSize(0), seen);
          if (queue.length === 0) return undefined;
        }
        handedInRung = 0;
        rungTrials = [];
      }
      const config = queue[handedInRung++]!;
      const id = nextId++;
      rungTrials.push(id);
      return { id, config, resource: eta ** (rung - s), rung };
    },
    report(trialId, score) {
      // The k-th trial of a rung is the k-th configuration of its queue.
      const k = rungTrials.indexOf(trialId);
      if (k < 0) throw new RangeError(`trial ${trialId} is not of the current rung`);
      scores.set(trialId, { config: queue[k]!, score });
    },
  };
}

function rank(score: number): number {
  return Number.isNaN(score) ? -Infinity : score;
}

/** n new random configurations (fewer if a discrete space runs out). */
function drawConfigs(space: Space, rng: Rng, n: number, seen: Set<string>): Config[] {
  const out: Config[] = [];
  for (let attempt = 0; out.length < n && attempt < n * 100; attempt++) {
    const c = sampleConfig(space, rng);
    const key = configKey(c);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c);
  }
  return out;
}
