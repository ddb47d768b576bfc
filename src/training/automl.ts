import {
  createStrategy,
  type Config,
  type Dimension,
  type SearchStrategy,
  type Space,
} from '../ml/search.js';
import { greaterIsBetter, type SearchMetric } from './evaluate.js';
import { resolveParams } from './params.js';
import { Evaluator, type Evaluation, type SearchData } from './search.js';
import type { Params, ParamSpec, TaskKind, Trainer } from './trainer.js';

/** Default time budget of the automatic mode. */
export const DEFAULT_TIME_BUDGET_SECONDS = 60;
/** 5-fold cross-validation up to this many training rows; one validation split (20%) beyond. */
const AUTO_CV_MAX_ROWS = 1_000;
const AUTO_FOLDS = 5;
/** Algorithms searched after every default has been scored: the best few by their defaults. */
const SEARCHED_ALGORITHMS = 3;
/** Searched trials per algorithm at most: past this, more trials mostly fit the validation noise. */
const MAX_TRIALS_PER_ALGORITHM = 40;
/** Leaderboard rows kept with the model version, the best first. */
const LEADERBOARD_ROWS = 50;
/** Above this many training rows, the parameters of AUTO_LARGE_DATA are set on every trial. */
const LARGE_DATA_ROWS = 10_000;
/**
 * Parameters set by the automatic mode on large data, so that one fit stays within seconds: the
 * MLP stops early on a held-out tenth of its rows (gradient boosting's 'auto' already does so above
 * 10,000 rows). Filtered against the trainer's ParamSpecs as AUTO_SPACES are.
 */
const AUTO_LARGE_DATA: Readonly<Record<string, Config>> = {
  mlp: { earlyStopping: true },
};

/**
 * The order in which the automatic mode tries algorithms' defaults: cheap and robust first, so that
 * a short budget still ends with a sound model, and ties go to the simpler model. Algorithms not
 * listed come after these, by name.
 */
const PREFERRED_ORDER = [
  'logistic_regression',
  'linear_regression',
  'gradient_boosting',
  'random_forest',
  'mlp',
  'elastic_net',
  'sparse_logistic',
  'linear_svm',
  'gaussian_nb',
  'multinomial_nb',
];

type RawDimension =
  readonly Config[string][] | { readonly min: number; readonly max: number; readonly log?: boolean };

/**
 * Ranges worth searching per algorithm, by parameter name. Only the parameters the registered
 * trainer really has are used, clipped to its ParamSpec bounds, so a renamed parameter drops out
 * instead of failing; an algorithm without an entry is tried with its defaults only.
 */
const AUTO_SPACES: Readonly<Record<string, Readonly<Record<string, RawDimension>>>> = {
  logistic_regression: { l2: { min: 1e-4, max: 100, log: true } },
  linear_regression: { l2: { min: 1e-4, max: 1000, log: true } },
  elastic_net: {
    alpha: { min: 1e-5, max: 10, log: true },
    l1Ratio: { min: 0.05, max: 1 },
  },
  sparse_logistic: {
    C: { min: 1e-3, max: 100, log: true },
    l1Ratio: { min: 0, max: 1 },
  },
  gradient_boosting: {
    learningRate: { min: 0.02, max: 0.3, log: true },
    maxLeafNodes: { min: 7, max: 127, log: true },
    maxLeaves: { min: 7, max: 127, log: true },
    numLeaves: { min: 7, max: 127, log: true },
    maxDepth: { min: 3, max: 12 },
    minSamplesLeaf: { min: 2, max: 100, log: true },
    minChildSamples: { min: 2, max: 100, log: true },
    l2: { min: 1e-3, max: 10, log: true },
    l2Regularization: { min: 1e-3, max: 10, log: true },
    subsample: { min: 0.5, max: 1 },
    colsampleByTree: { min: 0.5, max: 1 },
    featureFraction: { min: 0.5, max: 1 },
  },
  random_forest: {
    // Whichever kind the trainer takes: the values its ParamSpec refuses are dropped.
    maxFeatures: ['sqrt', 'log2', 0.2, 0.33, 0.5, 0.75, 1],
    minSamplesLeaf: { min: 1, max: 20, log: true },
    maxDepth: { min: 4, max: 40, log: true },
  },
  mlp: {
    alpha: { min: 1e-6, max: 1e-1, log: true },
    learningRate: { min: 1e-4, max: 1e-2, log: true },
    hiddenLayers: [[64], [128], [256], [64, 64], [128, 64]],
    activation: ['relu', 'tanh'],
    dropout: { min: 0, max: 0.3 },
  },
  linear_svm: { C: { min: 1e-3, max: 100, log: true } },
  gaussian_nb: { varSmoothing: { min: 1e-12, max: 1e-1, log: true } },
  multinomial_nb: { alpha: { min: 1e-3, max: 10, log: true } },
};

/** The searchable part of AUTO_SPACES for one trainer: its own parameters, within their bounds. */
export function autoSpace(trainer: Trainer): Space {
  const wanted = AUTO_SPACES[trainer.name] ?? {};
  const out: Record<string, Dimension> = {};
  for (const [name, raw] of Object.entries(wanted)) {
    const spec: ParamSpec | undefined = trainer.params[name];
    if (!spec) continue;
    const dim = fitToSpec(trainer, name, spec, raw);
    if (dim) out[name] = dim;
  }
  return out;
}

function fitToSpec(
  trainer: Trainer,
  name: string,
  spec: ParamSpec,
  raw: RawDimension,
): Dimension | undefined {
  const valid = (v: unknown) => {
    try {
      resolveParams(trainer, { [name]: v });
      return true;
    } catch {
      return false;
    }
  };
  if (Array.isArray(raw)) {
    const values = (raw as readonly Config[string][]).filter(valid);
    return values.length > 1 ? { kind: 'choice', values } : undefined;
  }
  const range = raw as { min: number; max: number; log?: boolean };
  if (spec.type !== 'number' && spec.type !== 'integer') return undefined;
  const min = Math.max(range.min, spec.min ?? -Infinity);
  const max = Math.min(range.max, spec.max ?? Infinity);
  const integer = spec.type === 'integer';
  if (!(min < max) || (integer && Math.ceil(min) >= Math.floor(max))) return undefined;
  const log = (range.log ?? false) && min > 0;
  return integer
    ? { kind: 'range', min: Math.ceil(min), max: Math.floor(max), log, integer }
    : { kind: 'range', min, max, log, integer };
}

/** The parameters the automatic mode sets on a trainer for `rows` training rows (see AUTO_LARGE_DATA). */
export function autoFixed(trainer: Trainer, rows: number): Config {
  if (rows <= LARGE_DATA_ROWS) return {};
  const out: Record<string, Config[string]> = {};
  for (const [name, value] of Object.entries(AUTO_LARGE_DATA[trainer.name] ?? {})) {
    if (!trainer.params[name]) continue;
    try {
      resolveParams(trainer, { [name]: value });
      out[name] = value;
    } catch {
      // A value the trainer refuses is dropped, as in AUTO_SPACES.
    }
  }
  return out;
}

/** The registered trainers that do the task, in the order the automatic mode tries them. */
export function autoCandidates(trainers: Readonly<Record<string, Trainer>>, task: TaskKind): Trainer[] {
  const rank = (name: string) => {
    const k = PREFERRED_ORDER.indexOf(name);
    return k < 0 ? PREFERRED_ORDER.length : k;
  };
  return Object.values(trainers)
    .filter((t) => t.tasks.includes(task))
    .sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** One row of the leaderboard stored with the model version. */
export interface LeaderboardRow {
  readonly algorithm: string;
  /** 'default': the algorithm's defaults; 'search': a point of its AUTO_SPACES range. */
  readonly stage: 'default' | 'search';
  /** The parameters that differ from the trainer's defaults. */
  readonly params: Config;
  /** Validation metric in its own units; null when the fit failed or was stopped. */
  readonly score: number | null;
  readonly std: number | null;
  readonly seconds: number;
  readonly status: Evaluation['status'];
  readonly error?: string;
  /** Set on the model that was kept. */
  readonly picked?: true;
}

export interface AutoOutcome {
  readonly metric: SearchMetric;
  /** k of the k-fold cross-validation on the training rows, 1 for one validation split. */
  readonly folds: number;
  readonly timeBudgetSeconds: number;
  readonly seconds: number;
  readonly trials: number;
  /** The model kept: by the one-standard-error rule, see runAuto. */
  readonly best: { readonly trainer: Trainer; readonly params: Params; readonly score: number };
  /** The highest validation score and the standard error of its folds' mean. */
  readonly top: {
    readonly algorithm: string;
    readonly params: Config;
    readonly score: number;
    readonly standardError: number;
  };
  /** The best rows first (failed ones last), at most LEADERBOARD_ROWS. */
  readonly leaderboard: readonly LeaderboardRow[];
}

export interface AutoOptions {
  readonly metric: SearchMetric;
  readonly timeBudgetSeconds: number;
  readonly seed: number;
  /** The training rows as each trainer wants them ('scaled' or 'raw' preprocessing), built on demand. */
  readonly dataFor: (trainer: Trainer) => SearchData;
  readonly onTrial?: (
    row: LeaderboardRow,
    best: LeaderboardRow | undefined,
    done: number,
    fraction: number,
  ) => void;
  readonly now?: () => number;
}

/**
 * The automatic mode: within the time budget, scores every candidate algorithm's defaults on the
 * training rows (5-fold cross-validation up to 1,000 rows, else one stratified 20% validation
 * split; each default may use at most half of the time left unless it is the last), then spends the rest of the time on a TPE search of the best three algorithms' ranges,
 * in turn. The best by the validation metric wins, by the one-standard-error rule: the first
 * model tried whose score is within one standard error (over the folds) of the highest. Time is kept for the final refit: the search
 * stops when the best model's refit would no longer fit in the budget, and a fit still running at
 * that point is stopped at its next progress report.
 *
 * With a time budget the trials depend on the machine's speed, so two runs may pick differently;
 * the split, folds and every fit are seeded.
 */
export function runAuto(candidates: readonly Trainer[], options: AutoOptions): AutoOutcome {
  if (candidates.length === 0) throw new Error('no algorithm is registered for this task');
  const now = options.now ?? (() => performance.now());
  const started = now();
  const budgetMs = options.timeBudgetSeconds * 1000;
  const deadline = started + budgetMs;
  const sign = greaterIsBetter(options.metric) ? 1 : -1;
  const evaluators = new Map<SearchData, Evaluator>();
  let folds = 1;
  const evaluatorFor = (trainer: Trainer): Evaluator => {
    const data = options.dataFor(trainer);
    let ev = evaluators.get(data);
    if (!ev) {
      folds = data.X.rows <= AUTO_CV_MAX_ROWS ? AUTO_FOLDS : 1;
      ev = new Evaluator(data, folds, options.seed, now);
      evaluators.set(data, ev);
    }
    return ev;
  };

  const rows: {
    row: LeaderboardRow;
    trainer: Trainer;
    params: Params;
    score: number;
    refitSeconds: number;
  }[] = [];
  let best: (typeof rows)[number] | undefined;
  /** Time kept back for the final refit of the best model so far. */
  const reserveMs = () => (best ? best.refitSeconds * 1000 : 0);

  const run = (
    trainer: Trainer,
    stage: LeaderboardRow['stage'],
    config: Config,
    stopAt = deadline - reserveMs(),
  ): number => {
    const evaluator = evaluatorFor(trainer);
    const full = { ...autoFixed(trainer, evaluator.data.X.rows), ...config };
    const params = resolveParams(trainer, full);
    const result = evaluator.evaluate(trainer, params, options.metric, 1, stopAt);
    const row: LeaderboardRow = {
      algorithm: trainer.name,
      stage,
      params: full,
      score: result.status === 'ok' ? result.value : null,
      std: result.status === 'ok' ? result.std : null,
      seconds: result.seconds,
      status: result.status,
      ...(result.error !== undefined ? { error: result.error } : {}),
    };
    const score = result.status === 'ok' ? sign * result.value : NaN;
    // The refit is on all training rows: scale the slowest fold's fit by the rows it will have.
    const refitSeconds = result.fitSeconds * (evaluator.data.X.rows / Math.max(1, evaluator.fitRows)) * 1.2;
    const entry = { row, trainer, params, score, refitSeconds };
    rows.push(entry);
    if (!Number.isNaN(score) && (!best || score > best.score)) best = entry;
    const fraction = Math.min(1, (now() - started) / budgetMs);
    options.onTrial?.(row, best?.row, rows.length, fraction);
    return score;
  };
  const timeLeft = () => now() < deadline - reserveMs();

  // 1. Every candidate's defaults, cheap ones first. One that is still fitting when half of the
  //    time left has gone is stopped, so that a slow algorithm cannot crowd out the others.
  candidates.forEach((trainer, k) => {
    if (!timeLeft() && best) return;
    const end = deadline - reserveMs();
    const last = k === candidates.length - 1;
    run(trainer, 'default', {}, last ? end : now() + (end - now()) / 2);
  });

  // 2. A TPE search per algorithm over its range, the best algorithms by their defaults, in turn.
  const byDefault = new Map<string, number>();
  for (const r of rows) if (!Number.isNaN(r.score)) byDefault.set(r.trainer.name, r.score);
  const searched = candidates
    .filter((t) => byDefault.has(t.name) && Object.keys(autoSpace(t)).length > 0)
    .sort((a, b) => byDefault.get(b.name)! - byDefault.get(a.name)!)
    .slice(0, SEARCHED_ALGORITHMS)
    .map((trainer, k) => ({
      trainer,
      strategy: createStrategy('tpe', autoSpace(trainer), {
        seed: options.seed + 101 * (k + 1),
        budget: MAX_TRIALS_PER_ALGORITHM,
      }) as SearchStrategy,
      done: false,
    }));
  while (timeLeft() && searched.some((s) => !s.done)) {
    for (const s of searched) {
      if (s.done || !timeLeft()) continue;
      const trial = s.strategy.next();
      if (!trial) {
        s.done = true;
        continue;
      }
      s.strategy.report(trial.id, run(s.trainer, 'search', trial.config));
    }
  }

  if (!best) {
    const first = rows.find((r) => r.row.error)?.row;
    throw new Error(
      `no algorithm could be fitted within ${options.timeBudgetSeconds} s${first ? `: ${first.algorithm}: ${first.error}` : ''}`,
    );
  }
  // One-standard-error rule (Hastie, Tibshirani & Friedman, ESL §7.10): the first model tried —
  // defaults before searched points, simple algorithms first — whose score is within one standard
  // error of the best, so that a near-flat validation landscape does not pick noise.
  const top = best;
  const se = folds > 1 && top.row.std !== null ? top.row.std / Math.sqrt(folds) : 0;
  const picked = rows.find((r) => !Number.isNaN(r.score) && r.score >= top.score - se) ?? top;
  const ranked = [...rows].sort(
    (a, b) => (Number.isNaN(b.score) ? -Infinity : b.score) - (Number.isNaN(a.score) ? -Infinity : a.score),
  );
  return {
    metric: options.metric,
    folds,
    timeBudgetSeconds: options.timeBudgetSeconds,
    seconds: (now() - started) / 1000,
    trials: rows.length,
    best: { trainer: picked.trainer, params: picked.params, score: picked.row.score! },
    top: { algorithm: top.row.algorithm, params: top.row.params, score: top.row.score!, standardError: se },
    leaderboard: ranked
      .slice(0, LEADERBOARD_ROWS)
      .map((r) => (r === picked ? { ...r.row, picked: true } : r.row)),
  };
}
