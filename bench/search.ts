// Hyperparameter search strategies side by side: random search against successive halving and TPE
// at the same budget (full-fit equivalents), on shared datasets with their fixed splits, several
// seeds. The search sees the training rows only (5-fold CV); the best configuration is refitted on
// all of them and scored on the test rows. Writes a section of bench/RESULTS.md.
//
//   npm run build && node dist/bench/search.js [--datasets digits,breast_cancer] [--seeds 5] [--trials 12]
//   node dist/bench/search.js --compare-workers 2 [--datasets digits] [--seeds 2] [--trials 8]
//     (in-process against the fold pool: identical results, and the speed-up)
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CsvSchemaSniffer } from '../src/data/csv.js';
import { readCsvColumns } from '../src/data/read.js';
import { takeValues } from '../src/ml/cv.js';
import { fitPreprocessor, transform, type PreprocessOptions } from '../src/ml/preprocess.js';
import type { Space, StrategyName } from '../src/ml/search.js';
import type { Column, Matrix } from '../src/ml/types.js';
import { autoSpace } from '../src/training/automl.js';
import { metricValue, type SearchMetric } from '../src/training/evaluate.js';
import { resolveParams } from '../src/training/params.js';
import { searchWorkers } from '../src/training/parallel.js';
import { fitPredict, runSearch, type SearchData, type SearchOutcome } from '../src/training/search.js';
import type { TaskKind, Trainer } from '../src/training/trainer.js';
import { TRAINERS } from '../src/training/trainers/index.js';
import { replaceSection } from './results.js';

export const DATA = resolve('../shared/data');

export interface BenchSet {
  readonly name: string;
  readonly task: TaskKind;
  readonly classes: number;
  /** Training rows / test rows of the fixed split, preprocessed for a trainer (fitted on the training rows). */
  matrices(trainer: Trainer): { train: SearchData; Xtest: Matrix; yTest: Int32Array | Float64Array };
}

/** A shared dataset with its fixed split (../shared/data/splits), classes encoded 0..C-1. */
export async function loadSet(name: string): Promise<BenchSet> {
  const path = join(DATA, `${name}.csv`);
  const sniffer = new CsvSchemaSniffer();
  sniffer.write(readFileSync(path));
  const schema = await sniffer.end();
  const columns = await readCsvColumns(path, schema.columns, schema.rowCount);
  const split = JSON.parse(readFileSync(join(DATA, 'splits', `${name}.split.json`), 'utf8')) as {
    train: number[];
    test: number[];
  };
  const manifest = JSON.parse(readFileSync(join(DATA, 'manifest.json'), 'utf8')) as Record<
    string,
    { task: string }
  >;
  const task: TaskKind = manifest[name]!.task === 'regression' ? 'regression' : 'classification';
  const target = columns.find((c) => c.name === 'target')!.values as Float64Array;
  const features = columns.filter((c) => c.name !== 'target') as Column[];
  let y: Int32Array | Float64Array = target;
  let classes = 0;
  if (task === 'classification') {
    const labels = [...new Set(target)].sort((a, b) => a - b);
    const index = new Map(labels.map((v, c) => [v, c]));
    y = Int32Array.from(target, (v) => index.get(v)!);
    classes = labels.length;
  }
  const train = Uint32Array.from(split.train);
  const test = Uint32Array.from(split.test);
  const cache = new Map<string, ReturnType<BenchSet['matrices']>>();
  return {
    name,
    task,
    classes,
    matrices(trainer) {
      let m = cache.get(trainer.preprocessing);
      if (!m) {
        const pre = fitPreprocessor(features, train, { mode: trainer.preprocessing } as PreprocessOptions);
        m = {
          train: { X: transform(pre, features, train), y: takeValues(y, train), task, classes },
          Xtest: transform(pre, features, test),
          yTest: takeValues(y, test),
        };
        cache.set(trainer.preprocessing, m);
      }
      return m;
    },
  };
}

/** The trainer a search is shown on: the richest registered one for the task. */
function pickTrainer(task: TaskKind): Trainer {
  const order = ['gradient_boosting', 'mlp', 'random_forest', 'logistic_regression', 'linear_regression'];
  for (const name of order) {
    const t = TRAINERS[name];
    if (t && t.tasks.includes(task) && Object.keys(spaceFor(t)).length > 0) return t;
  }
  throw new Error(`no searchable trainer for ${task}`);
}

/** The automatic mode's ranges; logistic regression also gets its iteration cap (early stopping by iterations). */
function spaceFor(trainer: Trainer): Space {
  const space = { ...autoSpace(trainer) };
  if (trainer.name === 'logistic_regression') {
    return {
      l2: { kind: 'range', min: 1e-4, max: 1e4, log: true, integer: false },
      maxIter: { kind: 'range', min: 3, max: 300, log: true, integer: true },
    };
  }
  return space;
}

interface Run {
  cv: number;
  test: number;
  other: number;
  configs: number;
  seconds: number;
}

function arg(name: string): string | undefined {
  const k = process.argv.indexOf(`--${name}`);
  return k > 0 ? process.argv[k + 1] : undefined;
}

/** The search's result without its timings: what must not change with the number of workers. */
function outcomeKey(out: SearchOutcome): string {
  return JSON.stringify({
    trials: out.trials.map((t) => [t.params, t.score, t.std, t.resource, t.status]),
    best: out.bestTrial,
    score: out.bestScore,
  });
}

/**
 * `--compare-workers`: every strategy and seed searched in-process and with the fold pool; the
 * results must be identical, and the section reports the time of each.
 */
async function compareWorkers(
  names: string[],
  seeds: number,
  trials: number,
  workers: number,
  strategies: StrategyName[],
): Promise<void> {
  const lines: string[] = [];
  for (const name of names) {
    const set = await loadSet(name);
    const trainer = pickTrainer(set.task);
    const space = spaceFor(trainer);
    const { train } = set.matrices(trainer);
    const metric: SearchMetric = set.task === 'regression' ? 'r2' : 'log_loss';
    const base = resolveParams(trainer, {});
    for (const strategy of strategies) {
      const time = [0, 0];
      let identical = 0;
      for (let seed = 0; seed < seeds; seed++) {
        const spec = { strategy, space, budget: { trials }, folds: 5, metric };
        // In-process first on even seeds, the pool first on odd ones: warm-up costs fall on both.
        const order = seed % 2 === 0 ? [0, 1] : [1, 0];
        const outs: SearchOutcome[] = [];
        for (const k of order) {
          const t0 = performance.now();
          outs[k] = runSearch(trainer, base, train, spec, seed, { workers: k === 0 ? 1 : workers });
          time[k]! += (performance.now() - t0) / 1000;
        }
        if (outcomeKey(outs[0]!) === outcomeKey(outs[1]!)) identical++;
        console.error(
          `${name} ${strategy} seed ${seed}: ${outcomeKey(outs[0]!) === outcomeKey(outs[1]!) ? 'identical' : 'DIFFERENT'}`,
        );
      }
      lines.push(
        `| ${name} | ${trainer.name} | ${strategy} | ${identical}/${seeds} | ${time[0]!.toFixed(1)} s | ${time[1]!.toFixed(1)} s | ${(time[0]! / time[1]!).toFixed(2)}× |`,
      );
      console.error(lines.at(-1));
    }
  }
  const load = loadavg()
    .map((x) => x.toFixed(1))
    .join(', ');
  const body = [
    `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}; Node ${process.version}; load average at the end ${load}. Command: \`node dist/bench/search.js --compare-workers ${workers} --datasets ${names.join(',')} --seeds ${seeds} --trials ${trials} --strategies ${strategies.join(',')}\`.`,
    '',
    `Each search (${trials} trials, 5-fold cross-validation) run in-process and with ${workers} worker threads scoring the folds of each trial (src/training/parallel.ts); "identical" counts the seeds whose trials, scores and pick are the same in both. Times are the sum over the seeds (in-process first on even seeds, the pool first on odd ones); each search starts its own workers, start-up included. With 5 folds on 2 workers a trial takes 3 rounds of fits instead of 5: at best 5/3 ≈ 1.67× on an idle 2-core machine, and about 1× when other work keeps the cores busy (see the load average).`,
    '',
    '| dataset | algorithm | strategy | identical | in-process | worker threads | speed-up |',
    '|---|---|---|---|---|---|---|',
    ...lines,
  ].join('\n');
  replaceSection('bench/RESULTS.md', 'Hyperparameter search: folds in worker threads', body);
  console.log(body);
}

async function main(): Promise<void> {
  const compare = arg('compare-workers');
  if (compare !== undefined) {
    await compareWorkers(
      (arg('datasets') ?? 'digits').split(','),
      Number(arg('seeds') ?? 2),
      Number(arg('trials') ?? 8),
      Number(compare) || searchWorkers(),
      (arg('strategies') ?? 'random,halving,tpe').split(',') as StrategyName[],
    );
    return;
  }
  const names = (arg('datasets') ?? 'digits,breast_cancer,diabetes').split(',');
  const seeds = Number(arg('seeds') ?? 5);
  const trials = Number(arg('trials') ?? 12);
  const strategies: StrategyName[] = ['random', 'halving', 'tpe'];
  const summary: string[] = [];
  for (const name of names) {
    const set = await loadSet(name);
    const trainer = pickTrainer(set.task);
    const space = spaceFor(trainer);
    const { train, Xtest, yTest } = set.matrices(trainer);
    // Log loss separates hyperparameters where accuracy and ROC-AUC are saturated on these sets.
    const metric: SearchMetric = set.task === 'regression' ? 'r2' : 'log_loss';
    const other: SearchMetric = set.task === 'regression' ? 'rmse' : 'accuracy';
    const folds = train.X.rows <= 20_000 ? 5 : 1;
    const base = resolveParams(trainer, {});
    const runs = new Map<StrategyName, Run[]>(strategies.map((s) => [s, []]));
    for (let seed = 0; seed < seeds; seed++) {
      for (const strategy of strategies) {
        const t0 = performance.now();
        const out = runSearch(
          trainer,
          base,
          train,
          { strategy, space, budget: { trials }, folds, metric },
          seed,
        );
        const predicted = fitPredict(trainer, out.bestParams, train.X, train.y, train, seed, Xtest);
        const run: Run = {
          cv: out.bestScore ?? NaN,
          test: metricValue(metric, yTest, predicted, set.classes),
          other: metricValue(other, yTest, predicted, set.classes),
          configs: new Set(out.trials.map((t) => JSON.stringify(t.params))).size,
          seconds: (performance.now() - t0) / 1000,
        };
        runs.get(strategy)!.push(run);
        console.error(
          `${name} seed ${seed} ${strategy}: cv ${run.cv.toFixed(4)} test ${run.test.toFixed(4)} ${other} ${run.other.toFixed(4)} (${run.configs} configs, ${run.seconds.toFixed(1)} s)`,
        );
      }
    }
    const better = (a: number, b: number) => (metric === 'log_loss' ? a < b : a > b);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const random = runs.get('random')!;
    for (const strategy of strategies) {
      const r = runs.get(strategy)!;
      const wins = r.filter((x, k) => better(x.test, random[k]!.test)).length;
      const ties = r.filter((x, k) => x.test === random[k]!.test).length;
      summary.push(
        `| ${name} | ${trainer.name} | ${strategy} | ${mean(r.map((x) => x.configs)).toFixed(1)} | ${mean(r.map((x) => x.cv)).toFixed(4)} | ${mean(r.map((x) => x.test)).toFixed(4)} | ${mean(r.map((x) => x.other)).toFixed(4)} | ${strategy === 'random' ? '–' : `${wins}/${seeds}${ties ? ` (${ties} tied)` : ''}`} | ${mean(r.map((x) => x.seconds)).toFixed(1)} s |`,
      );
    }
  }
  const body = [
    `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}; Node ${process.version}. Command: \`node dist/bench/search.js --seeds ${seeds} --trials ${trials}\`.`,
    '',
    `Same budget for every strategy: ${trials} full-fit equivalents (a successive-halving trial on a third of the rows counts a third). ` +
      'The search sees the training rows of the fixed split only (5-fold cross-validation; one 20% validation split above 20,000 training rows); the best configuration is refitted on all of them and scored on the test rows. ' +
      `Means over ${seeds} seeds; "better than random" counts the seeds where the test metric beats random search with the same seed. ` +
      'Classification is searched and scored by log loss (lower is better), regression by R².',
    '',
    '| dataset | algorithm | strategy | configurations tried | best CV score | test score | test accuracy / RMSE | better than random | time |',
    '|---|---|---|---|---|---|---|---|---|',
    ...summary,
  ].join('\n');
  replaceSection('bench/RESULTS.md', 'Hyperparameter search: random, successive halving, TPE', body);
  console.log(body);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
