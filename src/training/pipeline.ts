import type { TableColumn } from '../data/read.js';
import { classificationReport, regressionReport } from '../ml/metrics.js';
import { featureNames, fitPreprocessor, transform, type PreprocessOptions } from '../ml/preprocess.js';
import { trainTestSplit } from '../ml/split.js';
import type { Column, Preprocessor } from '../ml/types.js';
import { exportPipeline } from '../onnx/export.js';
import type { Signature, TensorSpec } from '../registry/service.js';
import type { TrainOutput, TrainProgress, TrainSpec } from './spec.js';
import type { TaskKind } from './trainer.js';
import { TRAINERS } from './trainers/index.js';

/** Share of the training rows held out for early stopping when a trainer asks for it. */
const VALIDATION_FRACTION = 0.1;
/** Feature importances kept with a model version, the largest first. */
const MAX_IMPORTANCES = 50;

/**
 * One training run, from columns in memory to an ONNX pipeline with its evaluation: drop rows
 * without a target, split (stratified for classification, seeded), fit the preprocessing on the
 * training rows only, fit the model (with a validation split of the training rows when the
 * trainer stops early), evaluate on the held-out rows, export the whole pipeline.
 */
export function trainPipeline(
  columns: readonly TableColumn[],
  spec: TrainSpec,
  progress: TrainProgress,
): TrainOutput {
  const started = performance.now();
  const trainer = TRAINERS[spec.algorithm];
  if (!trainer) throw new TrainingDataError(`unknown algorithm ${spec.algorithm}`);
  const targetName = spec.target?.name;
  const targetColumn = targetName === undefined ? undefined : columns.find((c) => c.name === targetName);
  if (targetName !== undefined && !targetColumn) throw new Error(`target column ${targetName} was not read`);
  const features = columns.filter((c) => c.name !== targetName) as Column[];

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
  let fitIdx = split.train;
  let valIdx: Uint32Array | undefined;
  if (trainer.wantsValidation?.(spec.params)) {
    // The validation rows come out of the training rows only: the test rows stay unseen.
    const inner = trainTestSplit(split.train.length, {
      testFraction: VALIDATION_FRACTION,
      seed: spec.seed + 1,
      ...(y instanceof Int32Array ? { stratify: Int32Array.from(split.train, (k) => y[k]!) } : {}),
    });
    fitIdx = Uint32Array.from(inner.train, (k) => split.train[k]!);
    valIdx = Uint32Array.from(inner.test, (k) => split.train[k]!);
  }
  const rowsOf = (idx: Uint32Array) => Uint32Array.from(idx, (k) => keep[k]!);
  const yOf = (idx: Uint32Array) =>
    y instanceof Int32Array
      ? Int32Array.from(idx, (k) => y[k]!)
      : y
        ? Float64Array.from(idx, (k) => y[k]!)
        : undefined;
  progress(0.08, `split ${split.train.length} training and ${split.test.length} test rows`);

  const mode = trainer.preprocessing;
  const pre = fitPreprocessor(features, rowsOf(split.train), { mode } as PreprocessOptions);
  const Xfit = transform(pre, features, rowsOf(fitIdx));
  const Xtest = transform(pre, features, rowsOf(split.test));
  const validation = valIdx ? { X: transform(pre, features, rowsOf(valIdx)), y: yOf(valIdx)! } : undefined;
  progress(0.12, `prepared ${Xfit.cols} features`);

  const fitted = trainer.fit(Xfit, yOf(fitIdx), spec.params, {
    task: spec.task,
    classes: labels?.length ?? 0,
    seed: spec.seed,
    ...(validation ? { validation } : {}),
    onProgress: (fraction, iteration, metrics) =>
      progress(0.12 + 0.78 * Math.max(0, Math.min(1, fraction)), `iteration ${iteration}`, {
        iteration,
        ...metrics,
      }),
  });
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
  const names = featureNames(pre);
  const importance = fitted.importance ? topImportances(names, fitted.importance) : undefined;

  const signature = makeSignature(spec, pre, labels);
  const onnx = exportPipeline({
    preprocessor: pre,
    head: fitted.head,
    ...(labels ? { labels } : {}),
    graphName: spec.model,
    metadata: {
      'mass.model': spec.model,
      'mass.algorithm': spec.algorithm,
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
    metrics: {
      ...metrics,
      ...(importance ? { importance } : {}),
      trainRows: fitIdx.length,
      validationRows: valIdx?.length ?? 0,
      testRows: split.test.length,
    },
    params: { ...spec.params, testFraction: spec.testFraction, seed: spec.seed, features: names },
    trainRows: fitIdx.length,
    testRows: split.test.length,
    durationMs: performance.now() - started,
  };
}

/** A problem with the data that retrying cannot fix. */
export class TrainingDataError extends Error {
  override readonly name = 'TrainingDataError';
}

function makeSignature(
  spec: TrainSpec,
  pre: Preprocessor,
  labels: (string | number)[] | undefined,
): Signature {
  const inputs: TensorSpec[] = [
    ...pre.numeric.map((s): TensorSpec => ({ name: s.name, datatype: 'FP32', shape: [-1, 1] })),
    ...pre.categorical.map((s): TensorSpec => ({ name: s.name, datatype: 'BYTES', shape: [-1, 1] })),
  ];
  const outputs = tensorOutputs(spec.task, labels);
  return {
    task: spec.task,
    ...(spec.target ? { target: spec.target.name } : {}),
    inputs: spec.features.map((f) => ({
      name: f.name,
      type: f.type === 'numeric' ? 'numeric' : f.type === 'boolean' ? 'boolean' : 'categorical',
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
