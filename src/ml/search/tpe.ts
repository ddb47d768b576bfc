import { createRng, type Rng } from '../rng.js';
import type { SearchStrategy, StrategyOptions, Trial } from '../search.js';
import {
  configKey,
  dimensionNames,
  fromUnit,
  sampleConfig,
  toUnit,
  type Config,
  type Dimension,
  type Space,
  type Value,
} from './space.js';

/** Share of the scored trials that form the "good" density l(x) (hyperopt's γ). */
const GAMMA = 0.25;
/** Candidates drawn from l(x) per proposal; the one with the largest l(x)/g(x) is tried (hyperopt: 24). */
const CANDIDATES = 24;

/**
 * The tree-structured Parzen estimator (Bergstra, Bardenet, Bengio & Kégl, "Algorithms for
 * hyper-parameter optimization", NIPS 2011), as hyperopt implements it, dimension by dimension:
 *
 * - after a few random trials, the scored trials are split into the best γ = 25% and the rest;
 * - each dimension gets two densities, l(x) from the good trials and g(x) from the others: for a
 *   range, a mixture of Gaussians on the (log-)scaled [0, 1] axis, one per trial with a width
 *   reaching its farther neighbour (clipped to [1/min(100, n+1), 1]) plus a prior of width 1 at
 *   the centre, truncated to the range; for a choice, the counts plus one pseudo-count spread over
 *   the values;
 * - 24 candidates are drawn from l, and the one maximising Σ_d log l_d(x_d) − log g_d(x_d) — the
 *   expected improvement under the TPE model — is tried next.
 *
 * The first max(3, min(10, ⌈budget/3⌉)) trials are random. All trials use the whole resource.
 */
export function createTpeSearch(space: Space, options: StrategyOptions): SearchStrategy {
  const rng = createRng(options.seed);
  const names = dimensionNames(space);
  const budget = options.budget;
  const startup = Number.isFinite(budget) ? Math.max(3, Math.min(10, Math.ceil(budget / 3))) : 10;
  const handedOut: Config[] = [];
  const scored: { config: Config; score: number }[] = [];
  const seen = new Set<string>();

  const fresh = (propose: () => Config): Config | undefined => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const c = propose();
      const key = configKey(c);
      if (!seen.has(key)) {
        seen.add(key);
        return c;
      }
    }
    return undefined;
  };

  return {
    name: 'tpe',
    planned: Number.isFinite(budget) ? Math.floor(budget) : undefined,
    next(): Trial | undefined {
      if (handedOut.length >= Math.floor(budget)) return undefined;
      const config =
        scored.length < startup
          ? fresh(() => sampleConfig(space, rng))
          : (fresh(() => propose(space, names, scored, rng)) ?? fresh(() => sampleConfig(space, rng)));
      if (!config) return undefined;
      handedOut.push(config);
      return { id: handedOut.length - 1, config, resource: 1, rung: 0 };
    },
    report(trialId, score) {
      const config = handedOut[trialId];
      if (!config) throw new RangeError(`no trial ${trialId} was handed out`);
      scored.push({ config, score });
    },
  };
}

/** The candidate of l(x) with the best l/g. */
function propose(
  space: Space,
  names: readonly string[],
  scored: readonly { config: Config; score: number }[],
  rng: Rng,
): Config {
  // Best first; failed trials (NaN) count among the bad ones.
  const ranked = [...scored].sort(
    (a, b) => (Number.isNaN(b.score) ? -Infinity : b.score) - (Number.isNaN(a.score) ? -Infinity : a.score),
  );
  const nGood = Math.max(1, Math.ceil(GAMMA * ranked.length));
  const good = ranked.slice(0, nGood).map((t) => t.config);
  const bad = ranked.slice(nGood).map((t) => t.config);
  const models = names.map((name) => {
    const d = space[name]!;
    return {
      name,
      l: densityOf(
        d,
        good.map((c) => c[name]!),
      ),
      g: densityOf(
        d,
        bad.map((c) => c[name]!),
      ),
    };
  });
  let best: Config | undefined;
  let bestScore = -Infinity;
  for (let k = 0; k < CANDIDATES; k++) {
    const candidate: Record<string, Value> = {};
    let score = 0;
    for (const m of models) {
      const v = m.l.sample(rng);
      candidate[m.name] = v;
      score += Math.log(m.l.density(v)) - Math.log(m.g.density(v));
    }
    if (score > bestScore || !best) {
      best = candidate;
      bestScore = score;
    }
  }
  return best!;
}

interface Density {
  sample(rng: Rng): Value;
  density(v: Value): number;
}

function densityOf(d: Dimension, observed: readonly Value[]): Density {
  if (d.kind === 'choice') {
    // Counts with one pseudo-count spread evenly over the K values.
    const K = d.values.length;
    const keys = d.values.map((v) => JSON.stringify(v));
    const weights = keys.map((key) => 1 / K + observed.filter((o) => JSON.stringify(o) === key).length);
    const total = weights.reduce((a, b) => a + b, 0);
    return {
      sample(rng) {
        let u = rng.next() * total;
        for (let k = 0; k < K; k++) {
          u -= weights[k]!;
          if (u < 0) return d.values[k]!;
        }
        return d.values[K - 1]!;
      },
      density(v) {
        const k = keys.indexOf(JSON.stringify(v));
        return k < 0 ? 1e-12 : weights[k]! / total;
      },
    };
  }
  if (d.min === d.max) return { sample: () => d.min, density: () => 1 };
  // Kernels on the unit axis: the observations and a wide prior at the centre.
  const points = observed.map((v) => toUnit(d, v as number));
  const mus = [...points, 0.5].sort((a, b) => a - b);
  const maxSigma = 1;
  const minSigma = 1 / Math.min(100, mus.length + 1);
  const priorAt = mus.indexOf(0.5);
  const sigmas = mus.map((mu, k) => {
    if (k === priorAt) return maxSigma;
    const left = k > 0 ? mu - mus[k - 1]! : 0;
    const right = k < mus.length - 1 ? mus[k + 1]! - mu : 0;
    return Math.min(maxSigma, Math.max(minSigma, Math.max(left, right)));
  });
  // Mass of each kernel inside [0, 1], to renormalise the truncated Gaussians.
  const mass = mus.map((mu, k) => normalCdf((1 - mu) / sigmas[k]!) - normalCdf((0 - mu) / sigmas[k]!));
  const K = mus.length;
  const unitDensity = (u: number) => {
    let p = 0;
    for (let k = 0; k < K; k++) {
      const z = (u - mus[k]!) / sigmas[k]!;
      p += Math.exp(-0.5 * z * z) / (sigmas[k]! * Math.sqrt(2 * Math.PI) * Math.max(mass[k]!, 1e-12));
    }
    return p / K;
  };
  return {
    sample(rng) {
      const k = rng.int(K);
      let u = mus[k]!;
      for (let attempt = 0; attempt < 20; attempt++) {
        u = mus[k]! + sigmas[k]! * gaussian(rng);
        if (u >= 0 && u <= 1) break;
      }
      return fromUnit(d, u);
    },
    density: (v) => Math.max(unitDensity(toUnit(d, v as number)), 1e-12),
  };
}

/** A standard normal draw (Box–Muller). */
function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Φ(z) through erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5·10⁻⁷). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
