/**
 * Evaluation metrics, defined as in scikit-learn 1.2 (`sklearn.metrics`) so that figures can be
 * compared with it. Labels are class indices 0..C-1; probabilities are N × C row-major.
 * A metric that is undefined on the given data (AUC with one class, R² of a constant) is NaN from
 * the single-metric functions and left out of the reports, which must stay JSON.
 */
import { argmaxRows } from './linear.js';

type Labels = ArrayLike<number>;
type Values = ArrayLike<number>;

function checkLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  if (a.length !== b.length)
    throw new RangeError(`length mismatch: ${a.length} true values, ${b.length} predicted`);
}

function checkLabel(c: number, C: number): void {
  if (!Number.isInteger(c) || c < 0 || c >= C) throw new RangeError(`label ${c} is outside 0..${C - 1}`);
}

/** Share of rows whose predicted class is the true class. */
export function accuracy(yTrue: Labels, yPred: Labels): number {
  checkLength(yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return yTrue.length > 0 ? hits / yTrue.length : NaN;
}

/** C × C counts: row = true class, column = predicted class (scikit-learn's convention). */
export function confusionMatrix(yTrue: Labels, yPred: Labels, C: number): number[][] {
  checkLength(yTrue, yPred);
  const M = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    checkLabel(t, C);
    checkLabel(p, C);
    M[t]![p]!++;
  }
  return M;
}

/** Mean recall over the classes present in yTrue (Brodersen et al., ICPR 2010; scikit-learn's default). */
export function balancedAccuracy(yTrue: Labels, yPred: Labels, C: number): number {
  const M = confusionMatrix(yTrue, yPred, C);
  let sum = 0;
  let present = 0;
  for (let c = 0; c < C; c++) {
    const support = M[c]!.reduce((a, b) => a + b, 0);
    if (support === 0) continue;
    sum += M[c]![c]! / support;
    present++;
  }
  return present > 0 ? sum / present : NaN;
}

export interface AveragedScores {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export interface PrecisionRecallF1 {
  /** Per class c = 0..C-1; 0 where undefined (0/0), as scikit-learn's `zero_division=0`. */
  readonly precision: readonly number[];
  readonly recall: readonly number[];
  readonly f1: readonly number[];
  /** Number of true rows of each class. */
  readonly support: readonly number[];
  /** Unweighted mean over the classes that occur in yTrue or yPred. */
  readonly macro: AveragedScores;
  /** Mean weighted by support. */
  readonly weighted: AveragedScores;
}

/**
 * Precision tp/(tp+fp), recall tp/(tp+fn) and F1 = 2PR/(P+R) per class, with their macro and
 * support-weighted means; the macro F1 is the mean of the per-class F1 values, not the F1 of
 * the mean precision and recall (scikit-learn's `f1_score(average='macro')`).
 */
export function precisionRecallF1(yTrue: Labels, yPred: Labels, C: number): PrecisionRecallF1 {
  const M = confusionMatrix(yTrue, yPred, C);
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  const support: number[] = [];
  const macro = { precision: 0, recall: 0, f1: 0 };
  const weighted = { precision: 0, recall: 0, f1: 0 };
  let labels = 0;
  let total = 0;
  for (let c = 0; c < C; c++) {
    const tp = M[c]![c]!;
    let predicted = 0;
    for (let t = 0; t < C; t++) predicted += M[t]![c]!;
    const actual = M[c]!.reduce((a, b) => a + b, 0);
    const p = predicted > 0 ? tp / predicted : 0;
    const r = actual > 0 ? tp / actual : 0;
    const f = p + r > 0 ? (2 * p * r) / (p + r) : 0;
    precision.push(p);
    recall.push(r);
    f1.push(f);
    support.push(actual);
    if (predicted > 0 || actual > 0) {
      labels++;
      macro.precision += p;
      macro.recall += r;
      macro.f1 += f;
    }
    weighted.precision += actual * p;
    weighted.recall += actual * r;
    weighted.f1 += actual * f;
    total += actual;
  }
  const mean = (s: AveragedScores, d: number): AveragedScores =>
    d > 0
      ? { precision: s.precision / d, recall: s.recall / d, f1: s.f1 / d }
      : { precision: NaN, recall: NaN, f1: NaN };
  return { precision, recall, f1, support, macro: mean(macro, labels), weighted: mean(weighted, total) };
}

/**
 * Area under the ROC curve for a binary task, by the Mann–Whitney U statistic: AUC =
 * (R₊ − n₊(n₊+1)/2) / (n₊·n₋) with R₊ the rank sum of the positives, tied scores sharing their
 * average rank (which counts a tied positive–negative pair as ½, the trapezoid of the ROC curve;
 * Hanley & McNeil, Radiology 143, 1982). `positive` says which rows are positives. NaN if either
 * class is empty.
 */
export function rocAuc(positive: ArrayLike<boolean | number>, score: Values): number {
  checkLength(positive, score);
  const n = score.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(score[i]!)) throw new RangeError(`score ${i} is NaN`);
    order[i] = i;
  }
  // Compare rather than subtract, so that ±∞ scores sort too.
  order.sort((a, b) => (score[a]! < score[b]! ? -1 : score[a]! > score[b]! ? 1 : 0));
  let nPos = 0;
  let rankSum = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && score[order[end]!] === score[order[start]!]) end++;
    // Ranks start + 1 .. end (1-based) share their mean.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) {
      if (positive[order[k]!]) {
        nPos++;
        rankSum += rank;
      }
    }
    start = end;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * ROC AUC from class probabilities (N × C row-major): the positive-class column for C = 2,
 * otherwise the unweighted mean of the one-vs-rest AUCs (scikit-learn's `multi_class='ovr',
 * average='macro'`) over the classes whose one-vs-rest AUC is defined.
 */
export function rocAucFromProba(yTrue: Labels, proba: Values, C: number): number {
  const n = yTrue.length;
  if (proba.length !== n * C)
    throw new RangeError(`proba has ${proba.length} values for ${n} rows × ${C} classes`);
  const column = (c: number): Float64Array => {
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) s[i] = proba[i * C + c]!;
    return s;
  };
  const isClass = (c: number): Uint8Array => {
    const s = new Uint8Array(n);
    for (let i = 0; i < n; i++) s[i] = yTrue[i] === c ? 1 : 0;
    return s;
  };
  if (C === 2) return rocAuc(isClass(1), column(1));
  let sum = 0;
  let defined = 0;
  for (let c = 0; c < C; c++) {
    const auc = rocAuc(isClass(c), column(c));
    if (Number.isNaN(auc)) continue;
    sum += auc;
    defined++;
  }
  return defined > 0 ? sum / defined : NaN;
}

/**
 * Mean cross-entropy −(1/N)·Σᵢ log pᵢ,yᵢ. As scikit-learn 1.2, probabilities are clipped to
 * [eps, 1 − eps] and each row renormalised, so that a confident mistake costs log(1/eps) rather than ∞.
 */
export function logLoss(yTrue: Labels, proba: Values, C: number, eps = 1e-15): number {
  const n = yTrue.length;
  if (proba.length !== n * C)
    throw new RangeError(`proba has ${proba.length} values for ${n} rows × ${C} classes`);
  if (n === 0) return NaN;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const t = yTrue[i]!;
    checkLabel(t, C);
    let rowSum = 0;
    for (let c = 0; c < C; c++) rowSum += Math.min(Math.max(proba[i * C + c]!, eps), 1 - eps);
    const p = Math.min(Math.max(proba[i * C + t]!, eps), 1 - eps) / rowSum;
    loss -= Math.log(p);
  }
  return loss / n;
}

/** Root mean squared error √((1/N)·Σ(yᵢ − ŷᵢ)²). */
export function rmse(yTrue: Values, yPred: Values): number {
  checkLength(yTrue, yPred);
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const d = yTrue[i]! - yPred[i]!;
    s += d * d;
  }
  return Math.sqrt(s / yTrue.length);
}

/** Mean absolute error (1/N)·Σ|yᵢ − ŷᵢ|. */
export function mae(yTrue: Values, yPred: Values): number {
  checkLength(yTrue, yPred);
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) s += Math.abs(yTrue[i]! - yPred[i]!);
  return s / yTrue.length;
}

/**
 * Coefficient of determination R² = 1 − SS_res / SS_tot. For constant yTrue (SS_tot = 0) it is 1
 * if the predictions are exact and 0 otherwise, as scikit-learn's `force_finite=True`.
 */
export function r2(yTrue: Values, yPred: Values): number {
  checkLength(yTrue, yPred);
  const n = yTrue.length;
  if (n === 0) return NaN;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i]!;
  mean /= n;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < n; i++) {
    const r = yTrue[i]! - yPred[i]!;
    const t = yTrue[i]! - mean;
    ssRes += r * r;
    ssTot += t * t;
  }
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}

/**
 * Mean absolute percentage error (1/N)·Σ|yᵢ − ŷᵢ| / max(|yᵢ|, ε), as a fraction (0.1 = 10%), with ε
 * the float64 machine epsilon as in scikit-learn: a zero target gives a huge but finite term.
 */
export function mape(yTrue: Values, yPred: Values): number {
  checkLength(yTrue, yPred);
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) {
    s += Math.abs(yTrue[i]! - yPred[i]!) / Math.max(Math.abs(yTrue[i]!), Number.EPSILON);
  }
  return s / yTrue.length;
}

export interface ClassificationReport {
  /**
   * accuracy, balanced_accuracy, {precision,recall,f1}_{macro,weighted}, roc_auc, log_loss, and
   * for two classes precision, recall and f1 of class 1. Undefined metrics are omitted.
   */
  readonly metrics: Record<string, number>;
  /** Row = true class, column = predicted class. */
  readonly confusionMatrix: number[][];
}

/** Every classification metric from the true classes and the predicted probabilities (N × C row-major). */
export function classificationReport(
  yTrue: Int32Array,
  proba: Float64Array,
  C: number,
): ClassificationReport {
  const n = yTrue.length;
  if (proba.length !== n * C)
    throw new RangeError(`proba has ${proba.length} values for ${n} rows × ${C} classes`);
  const yPred = argmaxRows(proba, n, C);
  const prf = precisionRecallF1(yTrue, yPred, C);
  const metrics: Record<string, number> = {
    accuracy: accuracy(yTrue, yPred),
    balanced_accuracy: balancedAccuracy(yTrue, yPred, C),
    precision_macro: prf.macro.precision,
    recall_macro: prf.macro.recall,
    f1_macro: prf.macro.f1,
    precision_weighted: prf.weighted.precision,
    recall_weighted: prf.weighted.recall,
    f1_weighted: prf.weighted.f1,
    roc_auc: rocAucFromProba(yTrue, proba, C),
    log_loss: logLoss(yTrue, proba, C),
  };
  if (C === 2) {
    metrics.precision = prf.precision[1]!;
    metrics.recall = prf.recall[1]!;
    metrics.f1 = prf.f1[1]!;
  }
  return { metrics: finiteOnly(metrics), confusionMatrix: confusionMatrix(yTrue, yPred, C) };
}

export interface RegressionReport {
  /** rmse, mae, r2, mape. Undefined metrics are omitted. */
  readonly metrics: Record<string, number>;
}

/** Every regression metric from the true and predicted values. */
export function regressionReport(yTrue: Values, yPred: Values): RegressionReport {
  checkLength(yTrue, yPred);
  return {
    metrics: finiteOnly({
      rmse: rmse(yTrue, yPred),
      mae: mae(yTrue, yPred),
      r2: r2(yTrue, yPred),
      mape: mape(yTrue, yPred),
    }),
  };
}

/** JSON has no NaN or ∞: drop such entries rather than have them turn into null. */
function finiteOnly(metrics: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(metrics)) if (Number.isFinite(value)) out[key] = value;
  return out;
}
