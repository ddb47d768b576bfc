import type { Rng } from '../rng.js';

/** A value a hyperparameter can take: what a trainer's ParamSpec allows. */
export type Value = number | string | boolean | readonly number[];

/**
 * One searched hyperparameter: a list of values to choose from, or a numeric range (uniform, or
 * log-uniform when `log`; whole numbers when `integer`).
 */
export type Dimension =
  | { readonly kind: 'choice'; readonly values: readonly Value[] }
  | {
      readonly kind: 'range';
      readonly min: number;
      readonly max: number;
      readonly log: boolean;
      readonly integer: boolean;
    };

export type Space = Readonly<Record<string, Dimension>>;
/** One point of a space: a value for every dimension. */
export type Config = Readonly<Record<string, Value>>;

/** Values per range dimension when a grid is asked of a range. */
export const GRID_POINTS_PER_RANGE = 5;

/** Checks a space's dimensions; throws RangeError naming the dimension. */
export function checkSpace(space: Space): void {
  for (const [name, d] of Object.entries(space)) {
    if (d.kind === 'choice') {
      if (d.values.length === 0) throw new RangeError(`${name}: no values to choose from`);
    } else {
      if (!(Number.isFinite(d.min) && Number.isFinite(d.max) && d.min <= d.max))
        throw new RangeError(`${name}: need finite min ≤ max, got ${d.min}..${d.max}`);
      if (d.log && d.min <= 0) throw new RangeError(`${name}: a log range needs min > 0`);
      if (d.integer && Math.ceil(d.min) > Math.floor(d.max))
        throw new RangeError(`${name}: no whole number in ${d.min}..${d.max}`);
    }
  }
}

/** Dimension names in a fixed order, so that a seed gives the same draws whatever the key order. */
export function dimensionNames(space: Space): string[] {
  return Object.keys(space).sort();
}

/**
 * Position of a range value in [0, 1] on the dimension's own scale (logarithmic for `log`): the
 * coordinates in which random search samples uniformly and TPE places its kernels.
 */
export function toUnit(d: Extract<Dimension, { kind: 'range' }>, x: number): number {
  if (d.max === d.min) return 0.5;
  return d.log ? Math.log(x / d.min) / Math.log(d.max / d.min) : (x - d.min) / (d.max - d.min);
}

/** Inverse of `toUnit`, rounded for integer dimensions and kept inside [min, max]. */
export function fromUnit(d: Extract<Dimension, { kind: 'range' }>, u: number): number {
  const t = Math.min(1, Math.max(0, u));
  let x = d.log ? d.min * Math.pow(d.max / d.min, t) : d.min + t * (d.max - d.min);
  if (d.integer) x = Math.round(x);
  return Math.min(d.max, Math.max(d.min, x));
}

/** A uniform draw from one dimension (log-uniform for a log range). */
export function sampleDimension(d: Dimension, rng: Rng): Value {
  if (d.kind === 'choice') return d.values[rng.int(d.values.length)]!;
  if (d.integer) {
    // Each whole number owns the stretch of the (log) scale that rounds to it.
    const lo = Math.ceil(d.min);
    const hi = Math.floor(d.max);
    if (!d.log) return lo + rng.int(hi - lo + 1);
    const a = Math.log(lo - 0.5 > 0 ? lo - 0.5 : lo);
    const b = Math.log(hi + 0.5);
    return Math.min(hi, Math.max(lo, Math.round(Math.exp(a + rng.next() * (b - a)))));
  }
  return fromUnit(d, rng.next());
}

/** A uniform draw from the whole space. */
export function sampleConfig(space: Space, rng: Rng): Config {
  const out: Record<string, Value> = {};
  for (const name of dimensionNames(space)) out[name] = sampleDimension(space[name]!, rng);
  return out;
}

/** The values a grid takes along one dimension: the choices, or points spread over a range. */
export function gridValues(d: Dimension, pointsPerRange = GRID_POINTS_PER_RANGE): Value[] {
  if (d.kind === 'choice') return [...d.values];
  const out: number[] = [];
  for (let k = 0; k < pointsPerRange; k++) {
    const x = fromUnit(d, pointsPerRange === 1 ? 0.5 : k / (pointsPerRange - 1));
    if (!out.includes(x)) out.push(x);
  }
  return out;
}

/** Number of points of the full grid. */
export function gridSize(space: Space): number {
  return dimensionNames(space).reduce((size, name) => size * gridValues(space[name]!).length, 1);
}

/** The k-th point of the grid, the last dimension varying fastest (mixed-radix counting). */
export function gridPoint(space: Space, k: number): Config {
  const names = dimensionNames(space);
  const out: Record<string, Value> = {};
  let rest = k;
  for (let d = names.length - 1; d >= 0; d--) {
    const values = gridValues(space[names[d]!]!);
    out[names[d]!] = values[rest % values.length]!;
    rest = Math.floor(rest / values.length);
  }
  return out;
}

/** A stable text key of a configuration, for spotting repeats. */
export function configKey(config: Config): string {
  return JSON.stringify(
    Object.keys(config)
      .sort()
      .map((k) => [k, config[k]]),
  );
}
