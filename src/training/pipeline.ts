import type { TableColumn } from '../data/read.js';
import { fitLogisticDetailed, fitRidge, predictLinear, predictProba } from '../ml/linear.js';
import { classificationReport, regressionReport } from '../ml/metrics.js';
import { featureNames, fitPreprocessor, transform } from '../ml/preprocess.js';
import { trainTestSplit } from '../ml/split.js';
import type { Column, LinearModel } from '../ml/types.js';
import { exportLinearPipeline } from '../onnx/export.js';
import type { Signature } from '../registry/service.js';
import type { TrainOutput, TrainProgress, TrainSpec } from './spec.js';

/**
 * One training run, from columns in memory to an ONNX pipeline with its evaluation:
 * drop rows without a target, split (stratified for classification, seeded), fit the
 * preprocessing on the training rows only, fit the model, evaluate on the held-out rows, export.
 */
export function trainPipeline(
  columns: readonly TableColumn[],
  spec: TrainSpec,
  progress: TrainProgress,
): TrainOutput {
  const started = performance.now();
  const targetColumn = columns.find((c) => c.name === spec.target.name);
  if (!targetColumn) throw new Error(`target column ${spec.target.name} was not read`);
  const features = columns.filter((c) => c.name !== spec.target.name) as Column[];

  // Rows with a missing target carry no label: they are left out of training and evaluation.
  const keep: number[] = [];
  for (let i = 0; i < targetColumn.values.length; i++) {
    const v = targetColumn.values[i];
    if (targetColumn.kind === 'numeric' ? !Number.isNaN(v as number) : v !== null) keep.push(i);
  }
  if (keep.length < 2)
    throw new TrainingDataError(`the target ${spec.target.name} has fewer than 2 rows with a value`);

  let labels: (string | number)[] | undefined;
  let yClass: Int32Array | undefined;
  let yValue: Float64Array | undefined;
  if (spec.task === 'classification') {
    ({ labels, y: yClass } = encodeClasses(targetColumn, keep));
    if (labels.length < 2) {
      throw new TrainingDataError(
        `the target ${spec.target.name} has only one class (${String(labels[0])}); a classifier needs at least two`,
      );
    }
  } else {
    if (targetColumn.kind !== 'numeric')
      throw new TrainingDataError(`the target ${spec.target.name} is not numeric; regression needs numbers`);
    yValue = Float64Array.from(keep, (i) => targetColumn.values[i]!);
  }

  const split = trainTestSplit(keep.length, {
    testFraction: spec.testFraction,
    seed: spec.seed,
    ...(yClass ? { stratify: yClass } : {}),
  });
  const trainRows = Uint32Array.from(split.train, (k) => keep[k]!);
  const testRows = Uint32Array.from(split.test, (k) => keep[k]!);
  progress(0.1, `split ${trainRows.length} training and ${testRows.length} test rows`);

  const pre = fitPreprocessor(features, trainRows);
  const Xtrain = transform(pre, features, trainRows);
  const Xtest = transform(pre, features, testRows);
  progress(0.2, `preprocessed into ${Xtrain.cols} features`);

  let model: LinearModel;
  let metrics: Record<string, unknown>;
  let iterations = 0;
  if (spec.task === 'classification') {
    const C = labels!.length;
    const yTrain = Int32Array.from(split.train, (k) => yClass![k]!);
    const yTest = Int32Array.from(split.test, (k) => yClass![k]!);
    const fit = fitLogisticDetailed(Xtrain, yTrain, C, {
      l2: spec.params.l2,
      maxIter: spec.params.maxIter,
      onProgress: (iteration, loss) =>
        progress(0.2 + 0.7 * Math.min(1, iteration / spec.params.maxIter), `iteration ${iteration}`, {
          iteration,
          loss,
        }),
    });
    model = fit.model;
    iterations = fit.iterations;
    const P = predictProba(fit.model, Xtest);
    const report = classificationReport(yTest, P, C);
    metrics = {
      ...report.metrics,
      confusionMatrix: report.confusionMatrix,
      labels,
      iterations,
      converged: fit.converged,
    };
  } else {
    const yTrain = Float64Array.from(split.train, (k) => yValue![k]!);
    const yTest = Float64Array.from(split.test, (k) => yValue![k]!);
    model = fitRidge(Xtrain, yTrain, { l2: spec.params.l2 });
    metrics = { ...regressionReport(yTest, predictLinear(model, Xtest)).metrics };
  }
  progress(0.92, 'evaluated on the test split');

  const signature: Signature = {
    task: spec.task,
    target: spec.target.name,
    inputs: spec.features.map((f) => ({
      name: f.name,
      type: f.type === 'numeric' ? 'numeric' : f.type === 'boolean' ? 'boolean' : 'categorical',
    })),
    ...(labels ? { labels } : {}),
  };
  const onnx = exportLinearPipeline({
    preprocessor: pre,
    model,
    ...(labels ? { labels } : {}),
    graphName: spec.model,
    metadata: {
      'mass.model': spec.model,
      'mass.algorithm': spec.algorithm,
      'mass.task': spec.task,
      'mass.target': spec.target.name,
      'mass.dataset_version': spec.datasetLabel,
      'mass.signature': JSON.stringify(signature),
      'mass.metrics': JSON.stringify(metrics),
    },
  });
  progress(0.98, 'exported to ONNX');
  return {
    onnx,
    signature,
    metrics: { ...metrics, trainRows: trainRows.length, testRows: testRows.length },
    params: {
      ...spec.params,
      testFraction: spec.testFraction,
      seed: spec.seed,
      features: featureNames(pre),
      iterations,
    },
    trainRows: trainRows.length,
    testRows: testRows.length,
    durationMs: performance.now() - started,
  };
}

/** A problem with the data that retrying cannot fix. */
export class TrainingDataError extends Error {
  override readonly name = 'TrainingDataError';
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
