import type { TableColumn } from '../data/read.js';
import { classificationReport, regressionReport } from '../ml/metrics.js';
import {
  featurizerNames,
  fitPreprocessor,
  fitTextSteps,
  transformFeatures,
  type Featurizer,
} from '../ml/preprocess.js';
import { trainTestSplit } from '../ml/split.js';
import type { CategoricalColumn, Column, Matrix } from '../ml/types.js';
import { exportPipeline } from '../onnx/export.js';
import type { Signature, TensorSpec } from '../registry/service.js';
import { autoCandidates, runAuto, type AutoOutcome } from './automl.js';
import { evaluationReport } from './evaluate.js';
import { runSearch, type SearchData, type SearchOutcome } from './search.js';
import { AUTO_ALGORITHM, type TrainOutput, type TrainProgress, type TrainSpec } from './spec.js';
import { DEFAULT_TEXT_OPTIONS, isNumericType, MAX_TEXT_CELLS } from './text.js';
import type { Params, TaskKind, Trainer } from './trainer.js';
import { TRAINERS } from './trainers/index.js';

/** Share of the training rows held out for early stopping when a trainer asks for it. */
const VALIDATION_FRACTION = 0.1;
/** Feature importances kept with a model version, the largest first. */
const MAX_IMPORTANCES = 50;

/** Progress shares of a run with a search or the automatic mode: the search ends at SEARCH_END. */
const SEARCH_START = 0.12;
const SEARCH_END = 0.75;

/**
 * One training run, from columns in memory to an ONNX pipeline with its evaluation: drop rows
 * without a target, split (stratified for classification, seeded), fit the preprocessing on the
 * training rows only, optionally search hyperparameters or algorithms on the training rows
 * (cross-validation or a validation split of them; the test rows stay unseen), fit the model
 * (with a validation split of the training rows when the trainer stops early), evaluate on the
 * held-out rows, export the whole pipeline.
 */
export function trainPipeline(
  columns: readonly TableColumn[],
  spec: TrainSpec,
  progress: TrainProgress,
): TrainOutput {
  const started = performance.now();
  const auto = spec.algorithm === AUTO_ALGORITHM;
  let trainer: Trainer | undefined = auto ? undefined : TRAINERS[spec.algorithm];
  if (!auto && !trainer) throw new TrainingDataError(`unknown algorithm ${spec.algorithm}`);
  const targetName = spec.target?.name;
  const targetColumn = targetName === undefined ? undefined : columns.find((c) => c.name === targetName);
  if (targetName !== undefined && !targetColumn) throw new Error(`target column ${targetName} was not read`);
  const notes: string[] = [...(spec.notes ?? [])];
  // A "categorical" column of numbers and ±Infinity spellings is a numeric column whose infinite
  // values kept the upload from typing it as numbers: it is read as numbers here.
  const asNumbers = new Set<string>();
  const features = columns
    .filter((c) => c.name !== targetName)
    .map((c): Column => {
      const type = spec.features.find((f) => f.name === c.name)?.type;
      if (c.kind !== 'categorical' || type !== 'categorical') return c;
      const read = numbersWithInfinity(c.values);
      if (!read) return c;
      asNumbers.add(c.name);
      notes.push(
        `${c.name}: numbers with ${read.infinite} infinite values (typed categorical on upload); read as a numeric column`,
      );
      return { name: c.name, kind: 'numeric', values: read.values };
    });
  // Text columns (free text, read as strings) become TF-IDF or term-count blocks.
  const textNames = new Set(spec.features.filter((f) => f.type === 'text').map((f) => f.name));
  const tabular = features.filter((c) => !textNames.has(c.name));
  const textColumns = features.filter(
    (c): c is CategoricalColumn => textNames.has(c.name) && c.kind === 'categorical',
  );

  // Rows with a missing target carry no label: they are left out of training and evaluation.
  const keep: number[] = [];
  const n = columns[0]?.values.length ?? 0;
  for (let i = 0; i < n; i++) {
    const v = targetColumn?.values[i];
    if (!targetColumn || (targetColumn.kind === 'numeric' ? !Number.isNaN(v as number) : v !== null))
      keep.push(i);
  }
  if (keep.length < 2)
    throw new TrainingDataError(`fewer than 2 rows${targetName ? ` with a value of ${targetName}` : ''}`);

  let labels: (string | number)[] | undefined;
  let y: Int32Array | Float64Array | undefined;
  if (spec.task === 'classification') {
    const encoded = encodeClasses(targetColumn!, keep);
    labels = encoded.labels;
    y = encoded.y;
    if (labels.length < 2) {
      throw new TrainingDataError(
        `the target ${targetName} has only one class (${String(labels[0])}); a classifier needs at least two`,
      );
    }
  } else if (spec.task === 'regression') {
    if (targetColumn?.kind !== 'numeric')
      throw new TrainingDataError(`the target ${targetName} is not numeric; regression needs numbers`);
    y = Float64Array.from(keep, (i) => targetColumn.values[i]!);
  }
  const stratify = y instanceof Int32Array ? { stratify: y } : {};

  const split = trainTestSplit(keep.length, {
    testFraction: spec.testFraction,
    seed: spec.seed,
    ...stratify,
  });
  const rowsOf = (idx: Uint32Array) => Uint32Array.from(idx, (k) => keep[k]!);
  const yOf = (idx: Uint32Array) =>
    y instanceof Int32Array
      ? Int32Array.from(idx, (k) => y[k]!)
      : y
        ? Float64Array.from(idx, (k) => y[k]!)
        : undefined;
  progress(0.08, `split ${split.train.length} training and ${split.test.length} test rows`);

  // Preprocessing is fitted on the training rows once per mode ('scaled', 'raw', 'counts') a
  // trainer asks for; the notes of the first fit describe the columns.
  const preprocessors = new Map<string, Featurizer>();
  const textOptions = spec.text ?? DEFAULT_TEXT_OPTIONS;
  // Dense text blocks are bounded: at most MAX_TEXT_CELLS cells per matrix of the training rows.
  const maxTerms = textColumns.length
    ? Math.max(1, Math.floor(MAX_TEXT_CELLS / Math.max(1, split.train.length) / textColumns.length))
    : Infinity;
  const preFor = (t: Trainer): Featurizer => {
    let fz = preprocessors.get(t.preprocessing);
    if (!fz) {
      const sink = preprocessors.size === 0 ? notes : undefined;
      const trainRows = rowsOf(split.train);
      const maxFeatures = Math.min(textOptions.maxFeatures, maxTerms);
      if (sink && maxFeatures < textOptions.maxFeatures && textColumns.length > 0)
        sink.push(
          `text: at most ${maxFeatures} terms per text column (not ${textOptions.maxFeatures}) to keep the features of ${split.train.length} rows in memory`,
        );
      fz = {
        pre: fitPreprocessor(tabular, trainRows, { mode: t.preprocessing, ...(sink ? { notes: sink } : {}) }),
        text: fitTextSteps(
          textColumns,
          trainRows,
          {
            maxFeatures,
            minDf: textOptions.minDf,
            maxDf: textOptions.maxDf,
            ngrams: textOptions.ngrams,
            sublinearTf: textOptions.sublinearTf,
            output: t.preprocessing === 'counts' ? 'counts' : 'tfidf',
          },
          sink,
        ),
      };
      preprocessors.set(t.preprocessing, fz);
    }
    return fz;
  };
  const classes = labels?.length ?? 0;
  // A search sees the training rows only, through the preprocessing fitted on them.
  const searchData = new Map<string, SearchData>();
  const searchDataFor = (t: Trainer): SearchData => {
    let data = searchData.get(t.preprocessing);
    if (!data) {
      data = {
        X: transformFeatures(preFor(t), features, rowsOf(split.train)),
        y: yOf(split.train)!,
        task: spec.task,
        classes,
      };
      searchData.set(t.preprocessing, data);
    }
    return data;
  };

  let params: Params = spec.params;
  let search: SearchOutcome | undefined;
  let autoOutcome: AutoOutcome | undefined;
  if (auto) {
    const budget = spec.timeBudgetSeconds!;
    autoOutcome = runAuto(autoCandidates(TRAINERS, spec.task), {
      metric: spec.autoMetric!,
      timeBudgetSeconds: budget,
      seed: spec.seed,
      dataFor: searchDataFor,
      onTrial: (row, best, done, fraction) =>
        progress(
          SEARCH_START + (SEARCH_END - SEARCH_START) * fraction,
          `trial ${done}: ${row.algorithm} ${formatScore(row.score)}; best ${best ? `${best.algorithm} ${formatScore(best.score)}` : '-'}`,
          { trial: done, ...(best && best.score !== null ? { best: best.score } : {}) },
        ),
    });
    trainer = autoOutcome.best.trainer;
    params = autoOutcome.best.params;
    progress(
      SEARCH_END,
      `picked ${trainer.name} (${spec.autoMetric} ${formatScore(autoOutcome.best.score)})`,
    );
    searchData.clear();
  } else if (spec.search) {
    const t = trainer!;
    const searchStarted = performance.now();
    // Without a planned number of trials (a time budget only), progress is the share of the time spent.
    const seconds = spec.search.budget.seconds ?? Infinity;
    search = runSearch(t, spec.params, searchDataFor(t), spec.search, spec.seed, {
      onTrial: (record, best, done, total) => {
        const fraction =
          total !== undefined ? done / total : (performance.now() - searchStarted) / 1000 / seconds;
        progress(
          SEARCH_START + (SEARCH_END - SEARCH_START) * Math.min(1, fraction),
          `trial ${done}${total !== undefined ? `/${total}` : ''}: ${spec.search!.metric} ${formatScore(record.score)}; best ${formatScore(best?.score ?? null)}`,
          {
            trial: done,
            ...(total !== undefined ? { trials: total } : {}),
            ...(record.score !== null ? { score: record.score } : {}),
            ...(best && best.score !== null ? { best: best.score } : {}),
          },
        );
      },
    });
    params = search.bestParams;
    progress(
      SEARCH_END,
      `best of ${search.trials.length} trials: ${spec.search.metric} ${formatScore(search.bestScore)}`,
    );
    searchData.clear();
  }
  const model = trainer!;
  const fitStart = search || autoOutcome ? SEARCH_END : 0.12;

  let fitIdx = split.train;
  let valIdx: Uint32Array | undefined;
  if (model.wantsValidation?.(params)) {
    // The validation rows come out of the training rows only: the test rows stay unseen.
    const inner = trainTestSplit(split.train.length, {
      testFraction: VALIDATION_FRACTION,
      seed: spec.seed + 1,
      ...(y instanceof Int32Array ? { stratify: Int32Array.from(split.train, (k) => y[k]!) } : {}),
    });
    fitIdx = Uint32Array.from(inner.train, (k) => split.train[k]!);
    valIdx = Uint32Array.from(inner.test, (k) => split.train[k]!);
  }

  const fz = preFor(model);
  const pre = fz.pre;
  const Xfit = transformFeatures(fz, features, rowsOf(fitIdx));
  const Xtest = transformFeatures(fz, features, rowsOf(split.test));
  const validation = valIdx
    ? { X: transformFeatures(fz, features, rowsOf(valIdx)), y: yOf(valIdx)! }
    : undefined;
  progress(fitStart, `prepared ${Xfit.cols} features`);

  const fitted = fitOrExplain(() =>
    model.fit(Xfit, yOf(fitIdx), params, {
      task: spec.task,
      classes,
      seed: spec.seed,
      categorical: [
        ...pre.numeric.map(() => false),
        ...pre.categorical.flatMap((s) =>
          s.encoding === 'ordinal' ? [true] : s.categories.map(() => false),
        ),
        ...fz.text.flatMap((s) => s.model.vocabulary.map(() => false)),
      ],
      ...(validation ? { validation } : {}),
      onProgress: (fraction, iteration, metrics) =>
        progress(fitStart + (0.9 - fitStart) * Math.max(0, Math.min(1, fraction)), `iteration ${iteration}`, {
          iteration,
          ...metrics,
        }),
    }),
  );
  progress(0.9, 'evaluating on the test split');

  const yTest = yOf(split.test);
  const predicted = fitted.predict(Xtest);
  let metrics: Record<string, unknown>;
  if (spec.task === 'classification') {
    const report = classificationReport(yTest as Int32Array, predicted, labels!.length);
    metrics = { ...report.metrics, confusionMatrix: report.confusionMatrix, labels };
  } else if (spec.task === 'regression') {
    metrics = { ...regressionReport(yTest as Float64Array, predicted).metrics };
  } else {
    metrics = { clusterSizes: clusterSizes(predicted) };
  }
  for (const [key, value] of Object.entries(fitted.info)) if (!(key in metrics)) metrics[key] = value;
  const names = featurizerNames(fz);
  const importance = fitted.importance ? topImportances(names, fitted.importance) : undefined;
  const { average_precision: averagePrecision, ...report } = evaluationReport({
    task: spec.task,
    y: yTest,
    predicted,
    labels,
    X: Xtest,
    predict: (Z: Matrix) => fitted.predict(Z),
    preprocessor: pre,
    text: fz.text,
    seed: spec.seed,
  });
  if (typeof averagePrecision === 'number') metrics.average_precision = averagePrecision;
  progress(0.95, 'evaluated');

  const signature = makeSignature(spec, fz, labels, asNumbers);
  if (notes.length > 0) metrics.notes = notes;
  const onnx = exportPipeline({
    preprocessor: pre,
    text: fz.text,
    head: fitted.head,
    ...(labels ? { labels } : {}),
    graphName: spec.model,
    metadata: {
      'mass.model': spec.model,
      'mass.algorithm': model.name,
      'mass.task': spec.task,
      ...(targetName !== undefined ? { 'mass.target': targetName } : {}),
      'mass.dataset_version': spec.datasetLabel,
      'mass.signature': JSON.stringify(signature),
      'mass.metrics': JSON.stringify(metrics),
    },
  });
  progress(0.98, 'exported to ONNX');
  return {
    onnx,
    signature,
    algorithm: model.name,
    metrics: {
      ...metrics,
      ...(importance ? { importance } : {}),
      ...report,
      ...(search ? { search: searchReport(search) } : {}),
      ...(autoOutcome ? { auto: autoReport(autoOutcome) } : {}),
      trainRows: fitIdx.length,
      validationRows: valIdx?.length ?? 0,
      testRows: split.test.length,
    },
    params: { ...params, testFraction: spec.testFraction, seed: spec.seed, features: names },
    trainRows: fitIdx.length,
    testRows: split.test.length,
    durationMs: performance.now() - started,
  };
}

function formatScore(score: number | null): string {
  return score === null ? 'failed' : score.toFixed(4);
}

/** The search as stored with the version: the trials table and the winner. */
function searchReport(s: SearchOutcome): Record<string, unknown> {
  return {
    strategy: s.strategy,
    metric: s.metric,
    greaterIsBetter: s.greaterIsBetter,
    folds: s.folds,
    budget: s.budget,
    seconds: s.seconds,
    bestTrial: s.bestTrial,
    bestScore: s.bestScore,
    bestParams: s.bestParams,
    trials: s.trials,
  };
}

/** The automatic mode as stored with the version: the leaderboard and the winner. */
function autoReport(a: AutoOutcome): Record<string, unknown> {
  return {
    metric: a.metric,
    folds: a.folds,
    timeBudgetSeconds: a.timeBudgetSeconds,
    seconds: a.seconds,
    trials: a.trials,
    best: { algorithm: a.best.trainer.name, params: a.best.params, score: a.best.score },
    top: a.top,
    rule: 'the first model tried within one standard error of the top validation score',
    leaderboard: a.leaderboard,
  };
}

const INFINITIES: ReadonlyMap<string, number> = new Map([
  ['inf', Infinity],
  ['+inf', Infinity],
  ['infinity', Infinity],
  ['+infinity', Infinity],
  ['-inf', -Infinity],
  ['-infinity', -Infinity],
]);

/**
 * The values as numbers when every present one is a number or a spelling of ±Infinity and at
 * least one is infinite (missing: NaN); otherwise undefined.
 */
function numbersWithInfinity(
  values: readonly (string | null)[],
): { values: Float64Array; infinite: number } | undefined {
  const out = new Float64Array(values.length);
  let infinite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      out[i] = NaN;
      continue;
    }
    const s = v.trim();
    const inf = INFINITIES.get(s.toLowerCase());
    if (inf !== undefined) {
      out[i] = inf;
      infinite++;
      continue;
    }
    const x = s === '' ? NaN : Number(s);
    if (!Number.isFinite(x)) return undefined;
    out[i] = x;
  }
  return infinite > 0 ? { values: out, infinite } : undefined;
}

/** A problem with the data that retrying cannot fix. */
export class TrainingDataError extends Error {
  override readonly name = 'TrainingDataError';
}

/**
 * Runs a fit; the numeric core throws RangeError for data it cannot take (negative counts, ...),
 * which a retry would only repeat: such a job fails at once with the message.
 */
function fitOrExplain<T>(fit: () => T): T {
  try {
    return fit();
  } catch (error) {
    if (error instanceof RangeError) throw new TrainingDataError(error.message);
    throw error;
  }
}

function makeSignature(
  spec: TrainSpec,
  fz: Featurizer,
  labels: (string | number)[] | undefined,
  asNumbers: ReadonlySet<string>,
): Signature {
  const pre = fz.pre;
  const inputs: TensorSpec[] = [
    ...pre.numeric.map((s): TensorSpec => ({ name: s.name, datatype: 'FP32', shape: [-1, 1] })),
    ...pre.categorical.map((s): TensorSpec => ({ name: s.name, datatype: 'BYTES', shape: [-1, 1] })),
    ...fz.text.map((s): TensorSpec => ({ name: s.name, datatype: 'BYTES', shape: [-1, 1] })),
  ];
  const outputs = tensorOutputs(spec.task, labels);
  return {
    task: spec.task,
    ...(spec.target ? { target: spec.target.name } : {}),
    inputs: spec.features.map((f) => ({
      name: f.name,
      type:
        isNumericType(f.type) || asNumbers.has(f.name)
          ? 'numeric'
          : f.type === 'boolean'
            ? 'boolean'
            : 'categorical',
    })),
    ...(labels ? { labels } : {}),
    tensors: { inputs, outputs },
  };
}

function tensorOutputs(task: TaskKind, labels: (string | number)[] | undefined): TensorSpec[] {
  if (task === 'regression') return [{ name: 'value', datatype: 'FP32', shape: [-1] }];
  if (task === 'clustering') return [{ name: 'cluster', datatype: 'INT64', shape: [-1] }];
  const intLabels = labels!.every((l) => typeof l === 'number' && Number.isSafeInteger(l));
  return [
    { name: 'label', datatype: intLabels ? 'INT64' : 'BYTES', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, labels!.length] },
  ];
}

function topImportances(
  names: readonly string[],
  values: Float64Array,
): { feature: string; importance: number }[] {
  const total = values.reduce((a, b) => a + Math.abs(b), 0) || 1;
  return names
    .map((feature, j) => ({ feature, importance: Math.abs(values[j] ?? 0) / total }))
    .sort((a, b) => b.importance - a.importance)
    .slice(0, MAX_IMPORTANCES);
}

function clusterSizes(assigned: Float64Array): number[] {
  const sizes: number[] = [];
  for (const c of assigned) sizes[c] = (sizes[c] ?? 0) + 1;
  return Array.from(sizes, (s) => s ?? 0);
}

/**
 * Maps target values to class indices 0..C-1. Labels are sorted (numerically when the target is
 * numeric) so that the same data always gives the same class order.
 */
function encodeClasses(
  target: TableColumn,
  keep: readonly number[],
): { labels: (string | number)[]; y: Int32Array } {
  const y = new Int32Array(keep.length);
  if (target.kind === 'numeric') {
    const labels = [...new Set(keep.map((i) => target.values[i]!))].sort((a, b) => a - b);
    const index = new Map(labels.map((v, c) => [v, c]));
    keep.forEach((i, k) => (y[k] = index.get(target.values[i]!)!));
    return { labels, y };
  }
  const labels = [...new Set(keep.map((i) => target.values[i]!))].sort();
  const index = new Map(labels.map((v, c) => [v, c]));
  keep.forEach((i, k) => (y[k] = index.get(target.values[i]!)!));
  return { labels, y };
}
