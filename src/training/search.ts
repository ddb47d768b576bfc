import { invalid } from '../errors/index.js';
import { kFold, subsample, takeRows, takeValues, type Fold } from '../ml/cv.js';
import {
  bestTrial,
  createStrategy,
  gridSize,
  STRATEGIES,
  type Config,
  type Dimension,
  type Space,
  type StrategyName,
  type Trial,
  type Value,
} from '../ml/search.js';
import { trainTestSplit } from '../ml/split.js';
import type { Matrix } from '../ml/types.js';
import {
  defaultMetric,
  greaterIsBetter,
  metricValue,
  SEARCH_METRICS,
  type SearchMetric,
} from './evaluate.js';
import { createFoldPool, poolPays, searchWorkers } from './parallel.js';
import { resolveParams } from './params.js';
import type { Params, ParamSpec, TaskKind, Trainer } from './trainer.js';

/** A hyperparameter search, validated against the trainer's ParamSpecs before the job is queued. */
export interface SearchSpec {
  readonly strategy: StrategyName;
  readonly space: Space;
  /** Trials (full-fit equivalents: a halving trial on a third of the rows counts a third) and/or seconds. */
  readonly budget: { readonly trials?: number; readonly seconds?: number };
  /** k of k-fold cross-validation; 1: one validation split of the training rows. */
  readonly folds: number;
  readonly metric: SearchMetric;
}

export const MAX_TRIALS = 1000;
const MAX_FOLDS = 20;
const MAX_CHOICES = 1000;
/** Trials when the request gives no budget (grids run whole). */
const DEFAULT_TRIALS = 20;
/** k-fold cross-validation up to this many training rows, one validation split beyond. */
const CV_MAX_ROWS = 20_000;
const DEFAULT_FOLDS = 5;
/** Share of the training rows held out when searching on one validation split. */
export const VALIDATION_FRACTION = 0.2;
/** Share of a fit's rows held out for early stopping when a trainer asks for it (as the pipeline). */
const EARLY_STOPPING_FRACTION = 0.1;
/** Keep the training matrices of every fold in memory up to this many numbers (8 bytes each). */
const FOLD_CACHE_NUMBERS = 15_000_000;

/**
 * Checks the `search` of a training request: the strategy, every parameter of the space against
 * the trainer's ParamSpecs, the budget, folds and metric. Errors name the field
 * (`search/space/<param>`, `search/budget/trials`, ...).
 */
export function resolveSearch(
  trainer: Trainer,
  raw: unknown,
  context: { task: TaskKind; fixed: Readonly<Record<string, unknown>>; trainRows: number },
): SearchSpec {
  if (!isObject(raw)) throw invalid('search', 'must be an object');
  if (context.task === 'clustering')
    throw invalid('search', 'a search ranks models by a metric of the target; clustering has none');
  for (const key of Object.keys(raw)) {
    if (!['strategy', 'space', 'budget', 'folds', 'metric'].includes(key))
      throw invalid(`search/${key}`, 'unknown field; a search has strategy, space, budget, folds, metric');
  }
  const strategy = raw.strategy ?? 'tpe';
  if (typeof strategy !== 'string' || !(STRATEGIES as readonly string[]).includes(strategy))
    throw invalid('search/strategy', `must be one of ${STRATEGIES.join(', ')}`);

  if (!isObject(raw.space) || Object.keys(raw.space).length === 0)
    throw invalid('search/space', 'name at least one parameter: { "<param>": [values] | {min, max, log?} }');
  const space: Record<string, Dimension> = {};
  for (const [name, value] of Object.entries(raw.space)) {
    space[name] = resolveDimension(trainer, name, value, context.fixed);
  }

  const budgetRaw = raw.budget ?? {};
  if (!isObject(budgetRaw)) throw invalid('search/budget', 'must be an object: { trials?, seconds? }');
  for (const key of Object.keys(budgetRaw))
    if (key !== 'trials' && key !== 'seconds') throw invalid(`search/budget/${key}`, 'unknown field');
  const budget: { trials?: number; seconds?: number } = {};
  if (budgetRaw.trials !== undefined) {
    const t = budgetRaw.trials;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > MAX_TRIALS)
      throw invalid('search/budget/trials', `must be a whole number from 1 to ${MAX_TRIALS}`);
    budget.trials = t;
  }
  if (budgetRaw.seconds !== undefined) {
    const s = budgetRaw.seconds;
    if (typeof s !== 'number' || !(s > 0 && s <= 86_400))
      throw invalid('search/budget/seconds', 'must be a number of seconds in (0, 86400]');
    budget.seconds = s;
  }
  if (strategy === 'grid' && budget.trials === undefined && budget.seconds === undefined) {
    const size = gridSize(space);
    if (size > MAX_TRIALS)
      throw invalid(
        'search/space',
        `the grid has ${size} points; give budget.trials (at most ${MAX_TRIALS}) or fewer values`,
      );
  }

  const folds = raw.folds ?? (context.trainRows <= CV_MAX_ROWS ? DEFAULT_FOLDS : 1);
  if (typeof folds !== 'number' || !Number.isInteger(folds) || folds < 1 || folds > MAX_FOLDS)
    throw invalid('search/folds', `must be a whole number from 1 (one validation split) to ${MAX_FOLDS}`);
  if (folds > context.trainRows)
    throw invalid('search/folds', `${context.trainRows} training rows cannot make ${folds} folds`);

  const metrics: readonly string[] = SEARCH_METRICS[context.task];
  const metric = raw.metric ?? defaultMetric(context.task);
  if (typeof metric !== 'string' || !metrics.includes(metric))
    throw invalid('search/metric', `for ${context.task}, one of ${metrics.join(', ')}`);

  return { strategy: strategy as StrategyName, space, budget, folds, metric: metric as SearchMetric };
}

function resolveDimension(
  trainer: Trainer,
  name: string,
  value: unknown,
  fixed: Readonly<Record<string, unknown>>,
): Dimension {
  const path = `search/space/${name}`;
  const spec: ParamSpec | undefined = Object.hasOwn(trainer.params, name) ? trainer.params[name] : undefined;
  if (!spec) {
    const known = Object.keys(trainer.params).join(', ') || 'none';
    throw invalid(path, `${trainer.name} has no parameter ${name}; it takes: ${known}`);
  }
  if (Object.hasOwn(fixed, name))
    throw invalid(path, `${name} is also fixed in params; keep it in one place`);
  // One value checked exactly as the trainer's params are, its message kept.
  const check = (v: unknown, where: string): Value => {
    try {
      return resolveParams(trainer, { [name]: v })[name]! as Value;
    } catch (error) {
      const issue = (error as { errors?: readonly { message: string }[] }).errors?.[0]?.message;
      throw invalid(path, `${where}${issue ?? String(error)}`);
    }
  };
  if (Array.isArray(value)) {
    if (value.length === 0 || value.length > MAX_CHOICES)
      throw invalid(path, `list 1 to ${MAX_CHOICES} values to choose from`);
    return { kind: 'choice', values: value.map((v, k) => check(v, `value ${k}: `)) };
  }
  if (isObject(value)) {
    if (spec.type !== 'number' && spec.type !== 'integer')
      throw invalid(
        path,
        `${name} is ${spec.type === 'enum' ? 'one of a list' : `a ${spec.type}`}: list the values`,
      );
    for (const key of Object.keys(value))
      if (!['min', 'max', 'log'].includes(key))
        throw invalid(path, `unknown field ${key}; a range has min, max, log`);
    const min = check(value.min, 'min: ') as number;
    const max = check(value.max, 'max: ') as number;
    if (!(min < max)) throw invalid(path, `min (${min}) must be below max (${max})`);
    const log = value.log ?? false;
    if (typeof log !== 'boolean') throw invalid(path, 'log must be true or false');
    if (log && min <= 0) throw invalid(path, 'a log range needs min > 0');
    return { kind: 'range', min, max, log, integer: spec.type === 'integer' };
  }
  throw invalid(path, 'give a list of values or a range { min, max, log? }');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The training rows a search or the automatic mode works on: the test rows are never here. */
export interface SearchData {
  readonly X: Matrix;
  readonly y: Int32Array | Float64Array;
  readonly task: TaskKind;
  /** Number of classes (classification), else 0. */
  readonly classes: number;
}

/** Runs the folds of one trial elsewhere (the worker-thread pool of parallel.ts). */
export interface FoldRunner {
  /** Whether this trainer's trials may run in the pool (registered, and not threaded itself). */
  accepts(trainer: Trainer, fitRows: number): boolean;
  /** Every task's result, in the order given; blocks until all are done. */
  runFolds(tasks: readonly FoldTask[]): FoldResult[];
}

/** One fold of one trial, as a small message: the data is already in the worker. */
export interface FoldTask {
  readonly trainer: string;
  readonly params: Params;
  readonly metric: SearchMetric;
  readonly fold: number;
  readonly resource: number;
  /** Milliseconds left before the deadline when sent (Infinity: none). */
  readonly left: number;
}

export interface FoldResult {
  readonly status: TrialStatus;
  readonly value: number;
  readonly fitSeconds: number;
  readonly error?: string;
}

/** How a trial went. */
export type TrialStatus = 'ok' | 'failed' | 'stopped';

export interface Evaluation {
  /** Mean over the folds in the metric's own units (RMSE positive); NaN when the trial failed. */
  readonly value: number;
  /** Standard deviation over the folds (0 for one validation split). */
  readonly std: number;
  /** Seconds of the whole evaluation (every fold). */
  readonly seconds: number;
  /** Seconds of the slowest single fit. */
  readonly fitSeconds: number;
  readonly status: TrialStatus;
  readonly error?: string;
}

/** Thrown from a trainer's progress callback to stop a fit at a deadline. */
export class TrialStopped extends Error {
  override readonly name = 'TrialStopped';
}

/**
 * Scores parameter sets by k-fold cross-validation (stratified for classification) or on one
 * validation split of the given rows; the folds are drawn once, so every trial sees the same ones.
 * A trial on a share r < 1 of the resource fits on a seeded, stratified r-subsample of each fold's
 * training rows (the same subsample for every trial of that share) and is scored on the whole fold.
 */
export class Evaluator {
  readonly folds: readonly Fold[];
  readonly k: number;
  private readonly cache = new Map<
    number,
    { Xfit: Matrix; yFit: Int32Array | Float64Array; Xval: Matrix; yVal: Int32Array | Float64Array }
  >();
  private readonly cacheable: boolean;
  private poolFailed = false;

  constructor(
    readonly data: SearchData,
    k: number,
    readonly seed: number,
    private readonly now: () => number = () => performance.now(),
    /** Worker threads to run the folds of a trial in (see parallel.ts); in-process without. */
    readonly pool?: FoldRunner,
  ) {
    const n = data.X.rows;
    const stratify = data.y instanceof Int32Array ? data.y : undefined;
    if (k >= 2) {
      this.folds = kFold(n, k, { seed, ...(stratify ? { stratify } : {}) });
    } else {
      const split = trainTestSplit(n, {
        testFraction: VALIDATION_FRACTION,
        seed,
        ...(stratify ? { stratify } : {}),
      });
      this.folds = [{ train: split.train, test: split.test }];
    }
    this.k = k;
    this.cacheable = n * data.X.cols * this.folds.length <= FOLD_CACHE_NUMBERS;
  }

  /** Rows a fit gets at full resource (the smallest fold's training part). */
  get fitRows(): number {
    return Math.min(...this.folds.map((f) => f.train.length));
  }

  /**
   * Cross-validated score of one parameter set. A fit still running at `deadline` (ms on `now`'s
   * clock) is stopped at its next progress report; the trial is then 'stopped'.
   */
  evaluate(
    trainer: Trainer,
    params: Params,
    metric: SearchMetric,
    resource = 1,
    deadline = Infinity,
  ): Evaluation {
    const started = this.now();
    const values: number[] = [];
    let fitSeconds = 0;
    const pool = !this.poolFailed && this.pool?.accepts(trainer, this.fitRows) ? this.pool : undefined;
    let results: FoldResult[] | undefined;
    if (pool) {
      // The folds run in the pool's worker threads; the same seeded fits, so the same scores.
      const left = deadline === Infinity ? Infinity : deadline - this.now();
      try {
        results = pool.runFolds(
          this.folds.map((_, fold) => ({ trainer: trainer.name, params, metric, fold, resource, left })),
        );
      } catch {
        // The workers could not start: in-process from now on.
        this.poolFailed = true;
      }
    }
    try {
      if (results) {
        for (const r of results) {
          if (r.status !== 'ok') {
            if (r.status === 'stopped') throw new TrialStopped(r.error ?? 'the time budget ran out');
            throw new Error(r.error ?? 'the fit failed');
          }
          fitSeconds = Math.max(fitSeconds, r.fitSeconds);
          values.push(r.value);
        }
      } else {
        for (let f = 0; f < this.folds.length; f++) {
          const r = this.evaluateFold(trainer, params, metric, f, resource, deadline);
          fitSeconds = Math.max(fitSeconds, r.fitSeconds);
          values.push(r.value);
          if (this.now() > deadline && f < this.folds.length - 1)
            throw new TrialStopped('the time budget ran out');
        }
      }
    } catch (error) {
      const stopped = error instanceof TrialStopped;
      return {
        value: NaN,
        std: NaN,
        seconds: (this.now() - started) / 1000,
        fitSeconds,
        status: stopped ? 'stopped' : 'failed',
        error: error instanceof Error ? error.message : String(error),
      };
    }
    const defined = values.filter((v) => !Number.isNaN(v));
    const mean = defined.reduce((a, b) => a + b, 0) / defined.length;
    const std = Math.sqrt(defined.reduce((a, b) => a + (b - mean) ** 2, 0) / defined.length);
    return {
      value: defined.length > 0 ? mean : NaN,
      std: defined.length > 0 ? std : NaN,
      seconds: (this.now() - started) / 1000,
      fitSeconds,
      status: defined.length > 0 ? 'ok' : 'failed',
      ...(defined.length > 0 ? {} : { error: `${metric} is undefined on every fold` }),
    };
  }

  /**
   * The metric of one fold (fit on its training rows, scored on its test rows) and the fit's
   * seconds. Throws `TrialStopped` past the deadline, or the trainer's error.
   */
  evaluateFold(
    trainer: Trainer,
    params: Params,
    metric: SearchMetric,
    f: number,
    resource = 1,
    deadline = Infinity,
  ): { value: number; fitSeconds: number } {
    const fold = this.foldData(f, resource);
    const t0 = this.now();
    const predicted = fitPredict(
      trainer,
      params,
      fold.Xfit,
      fold.yFit,
      this.data,
      this.seed,
      fold.Xval,
      () => {
        if (this.now() > deadline) throw new TrialStopped('the time budget ran out');
      },
    );
    return {
      value: metricValue(metric, fold.yVal, predicted, this.data.classes),
      fitSeconds: (this.now() - t0) / 1000,
    };
  }

  private foldData(f: number, resource: number) {
    const cached = resource >= 1 ? this.cache.get(f) : undefined;
    if (cached) return cached;
    const fold = this.folds[f]!;
    const { X, y } = this.data;
    const rows =
      resource >= 1
        ? fold.train
        : subsample(
            fold.train,
            resource,
            this.seed + 1000 * (f + 1),
            y instanceof Int32Array ? takeValues(y, fold.train) : undefined,
          );
    const out = {
      Xfit: takeRows(X, rows),
      yFit: takeValues(y, rows),
      Xval: takeRows(X, fold.test),
      yVal: takeValues(y, fold.test),
    };
    if (resource >= 1 && this.cacheable) this.cache.set(f, out);
    return out;
  }
}

/**
 * Fits a trainer on the given rows — with an early-stopping split of them when it asks for one,
 * as the pipeline does — and predicts other rows. `check` runs at every progress report of the fit.
 */
export function fitPredict(
  trainer: Trainer,
  params: Params,
  X: Matrix,
  y: Int32Array | Float64Array,
  data: Pick<SearchData, 'task' | 'classes'>,
  seed: number,
  Xpredict: Matrix,
  check: () => void = () => {},
): Float64Array {
  let Xfit = X;
  let yFit = y;
  let validation: { X: Matrix; y: Int32Array | Float64Array } | undefined;
  if (trainer.wantsValidation?.(params) && X.rows >= 10) {
    const inner = trainTestSplit(X.rows, {
      testFraction: EARLY_STOPPING_FRACTION,
      seed: seed + 1,
      ...(y instanceof Int32Array ? { stratify: y } : {}),
    });
    Xfit = takeRows(X, inner.train);
    yFit = takeValues(y, inner.train);
    validation = { X: takeRows(X, inner.test), y: takeValues(y, inner.test) };
  }
  check();
  const fitted = trainer.fit(Xfit, yFit, params, {
    task: data.task,
    classes: data.classes,
    seed,
    ...(validation ? { validation } : {}),
    onProgress: check,
  });
  return fitted.predict(Xpredict);
}

/** One row of the trials table stored with the model version. */
export interface TrialRecord {
  /** 1, 2, 3, ... */
  readonly trial: number;
  /** The searched parameters of this trial (the others are the request's params or defaults). */
  readonly params: Config;
  /** Cross-validated metric, in its own units; null when the trial failed or was stopped. */
  readonly score: number | null;
  readonly std: number | null;
  /** Share of the training rows each fit got (successive halving's rungs), 1 otherwise. */
  readonly resource: number;
  readonly rung: number;
  readonly seconds: number;
  readonly status: TrialStatus;
  readonly error?: string;
}

export interface SearchOutcome {
  readonly strategy: StrategyName;
  readonly metric: SearchMetric;
  readonly greaterIsBetter: boolean;
  /** k of the k-fold cross-validation, 1 for one validation split. */
  readonly folds: number;
  readonly budget: SearchSpec['budget'];
  readonly trials: readonly TrialRecord[];
  /** Every parameter of the best trial, defaults and fixed params included. */
  readonly bestParams: Params;
  /** The best trial's number and score, null if no trial at full resource finished (defaults are used). */
  readonly bestTrial: number | null;
  readonly bestScore: number | null;
  readonly seconds: number;
}

export interface SearchHooks {
  /** After every trial: the trial, the best so far, trials done and planned (undefined: open-ended). */
  readonly onTrial?: (
    record: TrialRecord,
    best: TrialRecord | undefined,
    done: number,
    planned: number | undefined,
  ) => void;
  readonly now?: () => number;
  /**
   * Worker threads scoring the folds of each trial (parallel.ts); default `searchWorkers()` (the
   * cores, at most 2), used when the data is large enough to pay and the trainer is not threaded
   * itself. 1: in-process. Given explicitly, the pool is used however small the data.
   */
  readonly workers?: number;
}

/**
 * Runs a search: the strategy proposes parameter sets, each is scored by the Evaluator, until the
 * strategy is done, the trial budget is spent or the time budget runs out. The best trial at full
 * resource wins; its parameters are merged over `base` (the request's params with defaults).
 */
export function runSearch(
  trainer: Trainer,
  base: Params,
  data: SearchData,
  spec: SearchSpec,
  seed: number,
  hooks: SearchHooks = {},
): SearchOutcome {
  const now = hooks.now ?? (() => performance.now());
  const workers = hooks.workers ?? searchWorkers();
  // The smallest fold's training rows (k ≥ 2; no pool for one validation split).
  const fitRows = data.X.rows - Math.ceil(data.X.rows / Math.max(1, spec.folds));
  const pool = poolPays(trainer, data, spec.folds, workers, fitRows, hooks.workers !== undefined)
    ? createFoldPool(data, spec.folds, seed, workers)
    : undefined;
  try {
    return searchWith(
      trainer,
      base,
      data,
      spec,
      seed,
      hooks,
      now,
      new Evaluator(data, spec.folds, seed, now, pool),
    );
  } finally {
    pool?.close();
  }
}

function searchWith(
  trainer: Trainer,
  base: Params,
  data: SearchData,
  spec: SearchSpec,
  seed: number,
  hooks: SearchHooks,
  now: () => number,
  evaluator: Evaluator,
): SearchOutcome {
  const started = now();
  const deadline = spec.budget.seconds !== undefined ? started + spec.budget.seconds * 1000 : Infinity;
  const trials =
    spec.budget.trials ??
    (spec.budget.seconds !== undefined ? MAX_TRIALS : spec.strategy === 'grid' ? MAX_TRIALS : DEFAULT_TRIALS);
  const minRows = Math.max(50, 10 * data.classes);
  const strategy = createStrategy(spec.strategy, spec.space, {
    seed,
    budget: spec.budget.trials === undefined && spec.budget.seconds !== undefined ? Infinity : trials,
    minResource: Math.min(1, minRows / Math.max(1, evaluator.fitRows)),
  });
  const sign = greaterIsBetter(spec.metric) ? 1 : -1;
  const records: TrialRecord[] = [];
  const scored: { resource: number; score: number; record: TrialRecord }[] = [];
  let trial: Trial | undefined;
  while (records.length < MAX_TRIALS && now() < deadline && (trial = strategy.next())) {
    const params = { ...base, ...trial.config };
    const result = evaluator.evaluate(trainer, params, spec.metric, trial.resource, deadline);
    const record: TrialRecord = {
      trial: records.length + 1,
      params: trial.config,
      score: result.status === 'ok' ? result.value : null,
      std: result.status === 'ok' ? result.std : null,
      resource: trial.resource,
      rung: trial.rung,
      seconds: result.seconds,
      status: result.status,
      ...(result.error !== undefined ? { error: result.error } : {}),
    };
    records.push(record);
    const score = result.status === 'ok' ? sign * result.value : NaN;
    strategy.report(trial.id, score);
    scored.push({ resource: trial.resource, score, record });
    hooks.onTrial?.(record, bestTrial(scored)?.record, records.length, strategy.planned);
  }
  const best = bestTrial(scored);
  return {
    strategy: spec.strategy,
    metric: spec.metric,
    greaterIsBetter: sign > 0,
    folds: spec.folds,
    budget: spec.budget,
    trials: records,
    bestParams: { ...base, ...(best?.record.params ?? {}) },
    bestTrial: best?.record.trial ?? null,
    bestScore: best?.record.score ?? null,
    seconds: (now() - started) / 1000,
  };
}
