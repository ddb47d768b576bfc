import { createRng, shuffle } from '../rng.js';
import type { SearchStrategy, StrategyOptions, Trial } from '../search.js';
import { gridPoint, gridSize, type Space } from './space.js';

/**
 * Grid search: every point of the grid (choices as given, ranges at a few spread points), the last
 * dimension varying fastest. When the budget is smaller than the grid, a seeded random subset of
 * the points, in grid order, so that a truncated grid does not only vary the last dimensions.
 */
export function createGridSearch(space: Space, options: StrategyOptions): SearchStrategy {
  const size = gridSize(space);
  const planned = Math.min(size, Math.floor(options.budget));
  let points: number[];
  if (planned === size) {
    points = Array.from({ length: size }, (_, k) => k);
  } else {
    // Distinct grid indices: a partial shuffle when the grid is small enough to list, else rejection.
    const rng = createRng(options.seed);
    if (size <= 1_000_000) {
      points = Array.from(
        shuffle(
          Uint32Array.from({ length: size }, (_, k) => k),
          rng,
        ).subarray(0, planned),
      );
    } else {
      const seen = new Set<number>();
      while (seen.size < planned) seen.add(Math.floor(rng.next() * size));
      points = [...seen];
    }
    points.sort((a, b) => a - b);
  }
  let handed = 0;
  return {
    name: 'grid',
    planned,
    next(): Trial | undefined {
      if (handed >= planned) return undefined;
      const id = handed++;
      return { id, config: gridPoint(space, points[id]!), resource: 1, rung: 0 };
    },
    report() {},
  };
}
