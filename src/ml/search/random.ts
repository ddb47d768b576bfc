import { createRng } from '../rng.js';
import type { SearchStrategy, StrategyOptions, Trial } from '../search.js';
import { configKey, gridSize, sampleConfig, type Space } from './space.js';

/** Tries to find a configuration not seen yet before concluding that a discrete space is used up. */
const MAX_REDRAWS = 100;

/**
 * Random search: independent uniform draws (log-uniform on log ranges), each configuration at
 * most once. Over a space of choices only, it ends when every point has been tried.
 */
export function createRandomSearch(space: Space, options: StrategyOptions): SearchStrategy {
  const rng = createRng(options.seed);
  const finite = Object.values(space).every((d) => d.kind === 'choice');
  const limit = Math.min(options.budget, finite ? gridSize(space) : Infinity);
  const seen = new Set<string>();
  let handed = 0;
  return {
    name: 'random',
    planned: Number.isFinite(limit) ? Math.floor(limit) : undefined,
    next(): Trial | undefined {
      if (handed >= Math.floor(limit)) return undefined;
      for (let attempt = 0; attempt < MAX_REDRAWS; attempt++) {
        const config = sampleConfig(space, rng);
        const key = configKey(config);
        if (seen.has(key)) continue;
        seen.add(key);
        return { id: handed++, config, resource: 1, rung: 0 };
      }
      return undefined;
    },
    report() {},
  };
}
