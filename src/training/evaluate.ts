import { argmaxRows } from '../ml/linear.js';
import {
  averagePrecision,
  calibrationCurve,
  precisionRecallCurve,
  rocCurve,
  thinIndices,
} from '../ml/curves.js';
import { permutationImportance } from '../ml/importance.js';
import {
  accuracy,
  balancedAccuracy,
  logLoss,
  mae,
  precisionRecallF1,
  r2,
  rmse,
  rocAuc,
  rocAucFromProba,
} from '../ml/metrics.js';
import { featureNames, type TextStep } from '../ml/preprocess.js';
import { createRng } from '../ml/rng.js';
import type { Matrix, Preprocessor } from '../ml/types.js';
import type { TaskKind } from './trainer.js';

/** Metrics a search or the automatic mode can rank models by, per task. */
export const SEARCH_METRICS = {
  classification: ['roc_auc', 'accuracy', 'balanced_accuracy', 'f1_macro', 'log_loss', 'average_precision'],
  regression: ['r2', 'rmse', 'mae'],
} as const;
export type SearchMetric =
  (typeof SEARCH_METRICS.classification)[number] | (typeof SEARCH_METRICS.regression)[number];
/** Metrics where smaller is better; searches maximise their negation. */
const LOWER_IS_BETTER: ReadonlySet<string> = new Set(['log_loss', 'rmse', 'mae']);

/**
 * The metric models are ranked by unless the request names one: ROC-AUC for classification
 * (positive-class probability for two classes, one-vs-rest macro average otherwise) — it uses the
 * probabilities, so it separates models on a small validation split where accuracy ties — and R²
 * for regression.
 */
export function defaultMetric(task: TaskKind): SearchMetric {
  return task === 'regression' ? 'r2' : 'roc_auc';
}

export function greaterIsBetter(metric: SearchMetric): boolean {
  return !LOWER_IS_BETTER.has(metric);
}

/**
 * A metric of predictions: class probabilities (N × C row-major) for classification, values for
 * regression. NaN where undefined (AUC of a fold with one class).
 */
export function metricValue(
  metric: SearchMetric,
  y: Int32Array | Float64Array,
  predicted: Float64Array,
  classes: number,
): number {
  switch (metric) {
    case 'r2':
      return r2(y, predicted);
    case 'rmse':
      return rmse(y, predicted);
    case 'mae':
      return mae(y, predicted);
    case 'roc_auc':
      return rocAucFromProba(y, predicted, classes);
    case 'log_loss':
      return logLoss(y, predicted, classes);
    case 'average_precision':
      return averagePrecisionFromProba(y as Int32Array, predicted, classes);
  }
  const yPred = argmaxRows(predicted, y.length, classes);
  switch (metric) {
    case 'accuracy':
      return accuracy(y, yPred);
    case 'balanced_accuracy':
      return balancedAccuracy(y, yPred, classes);
    case 'f1_macro':
      return precisionRecallF1(y, yPred, classes).macro.f1;
  }
}

/**
 * Average precision from class probabilities: of class 1 for two classes, else the unweighted mean
 * of the one-vs-rest values over the classes present (scikit-learn's `average='macro'` on
 * binarized labels).
 */
export function averagePrecisionFromProba(y: Int32Array, proba: Float64Array, C: number): number {
  const one = (c: number) => averagePrecision(isClass(y, c), column(proba, y.length, C, c));
  if (C === 2) return one(1);
  let sum = 0;
  let defined = 0;
  for (let c = 0; c < C; c++) {
    const ap = one(c);
    if (Number.isNaN(ap)) continue;
    sum += ap;
    defined++;
  }
  return defined > 0 ? sum / defined : NaN;
}

/** Points kept per stored curve. */
const MAX_CURVE_POINTS = 200;
/** One-vs-rest curves for at most this many classes (the most frequent in the test split). */
const MAX_CURVE_CLASSES = 20;
const CALIBRATION_BINS = 10;
const PERMUTATION_REPEATS = 5;
/** Permutation importance predicts about (features × repeats × rows) rows; this bounds the product. */
const PERMUTATION_PREDICTED_ROWS = 2_000_000;
const PERMUTATION_MIN_ROWS = 500;
const PERMUTATION_MAX_ROWS = 10_000;
/** Features listed in the stored importances, the largest first. */
const MAX_IMPORTANCES = 50;

export interface ReportInput {
  readonly task: TaskKind;
  /** The test rows: class indices or target values; absent for clustering. */
  readonly y: Int32Array | Float64Array | undefined;
  /** The model's output on the test rows (probabilities N × C, values, or cluster indices). */
  readonly predicted: Float64Array;
  readonly labels: readonly (string | number)[] | undefined;
  readonly X: Matrix;
  readonly predict: (X: Matrix) => Float64Array;
  readonly preprocessor: Preprocessor;
  /** Text columns, whose blocks follow the preprocessor's features. */
  readonly text?: readonly TextStep[];
  readonly seed: number;
}

/**
 * What is stored with a model version besides the flat test metrics: average precision, ROC and
 * precision-recall curves, a calibration curve (classification), and permutation importance on
 * the test split (classification and regression). Curves are one-vs-rest per class for more than
 * two classes and thinned to 200 points; numbers are rounded to 6 decimals to keep the JSON small.
 */
export function evaluationReport(input: ReportInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (input.task === 'classification' && input.y) {
    // A model that outputs NaN has no curve; its flat metrics already say what went wrong.
    if (input.predicted.every(Number.isFinite))
      Object.assign(out, classificationCurves(input.y as Int32Array, input.predicted, input.labels!));
    else out.curvesSkipped = 'the model predicted non-finite probabilities';
  }
  if (input.task !== 'clustering' && input.y) {
    out.permutationImportance = permutationReport(input);
  }
  return out;
}

function classificationCurves(
  y: Int32Array,
  proba: Float64Array,
  labels: readonly (string | number)[],
): Record<string, unknown> {
  const C = labels.length;
  const n = y.length;
  const support = new Array<number>(C).fill(0);
  for (const c of y) support[c]!++;
  // Two classes: the curves of the positive class (label index 1), as scikit-learn plots them.
  const classes =
    C === 2
      ? [1]
      : Array.from({ length: C }, (_, c) => c)
          .filter((c) => support[c]! > 0)
          .sort((a, b) => support[b]! - support[a]! || a - b)
          .slice(0, MAX_CURVE_CLASSES)
          .sort((a, b) => a - b);
  const roc: unknown[] = [];
  const pr: unknown[] = [];
  const calibration: unknown[] = [];
  for (const c of classes) {
    const positive = isClass(y, c);
    const score = column(proba, n, C, c);
    const label = labels[c]!;
    const r = rocCurve(positive, score);
    if (r) {
      const keep = thinIndices(r.fpr.length, MAX_CURVE_POINTS);
      roc.push({
        label,
        auc: round(rocAuc(positive, score)),
        fpr: keep.map((k) => round(r.fpr[k]!)),
        tpr: keep.map((k) => round(r.tpr[k]!)),
        thresholds: keep.map((k) => round(r.thresholds[k]!)),
      });
    }
    const p = precisionRecallCurve(positive, score);
    if (p) {
      const keep = thinIndices(p.recall.length, MAX_CURVE_POINTS);
      pr.push({
        label,
        averagePrecision: round(averagePrecision(positive, score)),
        precision: keep.map((k) => round(p.precision[k]!)),
        recall: keep.map((k) => round(p.recall[k]!)),
        thresholds: keep.map((k) => round(p.thresholds[k]!)),
      });
    }
    const cal = calibrationCurve(
      positive,
      score.map((s) => Math.min(1, Math.max(0, s))),
      CALIBRATION_BINS,
    );
    calibration.push({
      label,
      bins: CALIBRATION_BINS,
      meanPredicted: cal.meanPredicted.map(round),
      fractionPositive: cal.fractionPositive.map(round),
      count: cal.count,
    });
  }
  const out: Record<string, unknown> = { curves: { roc, precisionRecall: pr }, calibration };
  const ap = averagePrecisionFromProba(y, proba, C);
  if (Number.isFinite(ap)) out.average_precision = ap;
  return out;
}

/** Permutation importance of each input column (a one-hot block counts as one) on the test rows. */
function permutationReport(input: ReportInput): Record<string, unknown> {
  const y = input.y!;
  const classes = input.labels?.length ?? 0;
  const metric: SearchMetric = input.task === 'classification' ? 'accuracy' : 'r2';
  const groups = inputGroups(input.preprocessor, input.text);
  const maxRows = Math.min(
    PERMUTATION_MAX_ROWS,
    Math.max(
      PERMUTATION_MIN_ROWS,
      Math.floor(PERMUTATION_PREDICTED_ROWS / Math.max(1, groups.length * PERMUTATION_REPEATS)),
    ),
  );
  const result = permutationImportance(
    input.X,
    (Z, rows) => {
      const yRows =
        y instanceof Int32Array ? Int32Array.from(rows, (i) => y[i]!) : Float64Array.from(rows, (i) => y[i]!);
      return metricValue(metric, yRows, input.predict(Z), classes);
    },
    {
      repeats: PERMUTATION_REPEATS,
      rng: createRng(input.seed),
      groups: groups.map((g) => g.columns),
      maxRows,
    },
  );
  const features = groups
    .map((g, k) => ({ feature: g.name, importance: round(result.mean[k]!), std: round(result.std[k]!) }))
    .sort((a, b) => b.importance - a.importance)
    .slice(0, MAX_IMPORTANCES);
  return {
    metric,
    baseline: round(result.baseline),
    repeats: PERMUTATION_REPEATS,
    rows: result.rows,
    seed: input.seed,
    features,
  };
}

/**
 * The matrix columns of each input column: one per numeric column, and the block of each
 * categorical column (one-hot: one column per category; ordinal codes: one column).
 */
export function inputGroups(
  pre: Preprocessor,
  text: readonly TextStep[] = [],
): { name: string; columns: number[] }[] {
  const groups: { name: string; columns: number[] }[] = [];
  let j = 0;
  for (const step of pre.numeric) groups.push({ name: step.name, columns: [j++] });
  for (const step of pre.categorical) {
    const ordinal = (step as { readonly encoding?: string }).encoding === 'ordinal';
    const width = ordinal ? 1 : step.categories.length;
    if (width > 0) groups.push({ name: step.name, columns: Array.from({ length: width }, (_, k) => j + k) });
    j += width;
  }
  if (j !== featureNames(pre).length) throw new Error('preprocessor layout changed: update inputGroups');
  for (const step of text) {
    const width = step.model.vocabulary.length;
    groups.push({ name: step.name, columns: Array.from({ length: width }, (_, k) => j + k) });
    j += width;
  }
  return groups;
}

function isClass(y: ArrayLike<number>, c: number): Uint8Array {
  const out = new Uint8Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i] === c ? 1 : 0;
  return out;
}

function column(proba: Float64Array, n: number, C: number, c: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = proba[i * C + c]!;
  return out;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
