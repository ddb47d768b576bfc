/**
 * Curves of a binary scorer, defined as in scikit-learn 1.2 (`roc_curve`, `precision_recall_curve`,
 * `average_precision_score`, `calibration.calibration_curve`) so that plots and figures can be
 * compared with it. A multiclass model gives one curve per class, one-vs-rest: the caller passes
 * "is class c" as `positive` and the probability column of c as `score`.
 */

/** Points of a curve in the order they are plotted, with the score threshold of each point. */
export interface RocCurve {
  /** False-positive rate fp/(fp+tn), non-decreasing from 0 to 1. */
  readonly fpr: number[];
  /** True-positive rate (recall) tp/(tp+fn), non-decreasing from 0 to 1. */
  readonly tpr: number[];
  /**
   * Decreasing; a row is predicted positive when its score ≥ threshold. The first point (0, 0)
   * has max(score) + 1, as scikit-learn 1.2 (JSON has no ∞).
   */
  readonly thresholds: number[];
}

export interface PrecisionRecallCurve {
  /** tp/(tp+fp); the last point is (recall 0, precision 1), as scikit-learn. */
  readonly precision: number[];
  /** tp/(tp+fn), non-increasing down to 0. */
  readonly recall: number[];
  /** Increasing; the last point's is max(score) + 1, like the first point of the ROC curve. */
  readonly thresholds: number[];
}

export interface CalibrationCurve {
  /** Per non-empty bin, the mean predicted probability. */
  readonly meanPredicted: number[];
  /** Per non-empty bin, the share of positives. */
  readonly fractionPositive: number[];
  /** Per non-empty bin, the number of rows. */
  readonly count: number[];
}

/**
 * Cumulative true and false positives at each distinct score, scores taken in decreasing order
 * (scikit-learn's `_binary_clf_curve`): tps[k], fps[k] count the rows with score ≥ thresholds[k].
 * Throws on a NaN score, which has no place in the order.
 */
export function binaryClfCurve(
  positive: ArrayLike<boolean | number>,
  score: ArrayLike<number>,
): { tps: number[]; fps: number[]; thresholds: number[] } {
  const n = score.length;
  if (positive.length !== n) throw new RangeError(`length mismatch: ${positive.length} labels, ${n} scores`);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(score[i]!)) throw new RangeError(`score ${i} is NaN`);
    order[i] = i;
  }
  // Compare rather than subtract, so that ±∞ scores sort too; ties keep index order.
  order.sort((a, b) => (score[a]! > score[b]! ? -1 : score[a]! < score[b]! ? 1 : a - b));
  const tps: number[] = [];
  const fps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (positive[i]) tp++;
    // A point is emitted at the last row of each run of tied scores.
    if (k === n - 1 || score[order[k + 1]!] !== score[i]) {
      tps.push(tp);
      fps.push(k + 1 - tp);
      thresholds.push(score[i]!);
    }
  }
  return { tps, fps, thresholds };
}

/**
 * The ROC curve with scikit-learn's `drop_intermediate=True`: points that lie on a straight
 * segment between their neighbours (second difference of both tp and fp zero) are dropped, since
 * they change nothing in the plot or the area. Undefined (undefined) if either class is empty.
 */
export function rocCurve(
  positive: ArrayLike<boolean | number>,
  score: ArrayLike<number>,
): RocCurve | undefined {
  const c = binaryClfCurve(positive, score);
  const last = c.tps.length - 1;
  const P = c.tps[last] ?? 0;
  const N = c.fps[last] ?? 0;
  if (P === 0 || N === 0) return undefined;
  const keep: number[] = [];
  for (let k = 0; k <= last; k++) {
    if (k === 0 || k === last) {
      keep.push(k);
      continue;
    }
    const d2tp = c.tps[k + 1]! - 2 * c.tps[k]! + c.tps[k - 1]!;
    const d2fp = c.fps[k + 1]! - 2 * c.fps[k]! + c.fps[k - 1]!;
    if (d2tp !== 0 || d2fp !== 0) keep.push(k);
  }
  const fpr = [0];
  const tpr = [0];
  const thresholds = [c.thresholds[0]! + 1];
  for (const k of keep) {
    fpr.push(c.fps[k]! / N);
    tpr.push(c.tps[k]! / P);
    thresholds.push(c.thresholds[k]!);
  }
  return { fpr, tpr, thresholds };
}

/**
 * Precision and recall at every distinct threshold, in increasing threshold order (recall
 * decreasing), ending with the point (recall 0, precision 1) as scikit-learn. Undefined if there
 * is no positive row (recall is then 0/0).
 */
export function precisionRecallCurve(
  positive: ArrayLike<boolean | number>,
  score: ArrayLike<number>,
): PrecisionRecallCurve | undefined {
  const c = binaryClfCurve(positive, score);
  const last = c.tps.length - 1;
  const P = c.tps[last] ?? 0;
  if (P === 0) return undefined;
  const precision: number[] = [];
  const recall: number[] = [];
  const thresholds: number[] = [];
  for (let k = last; k >= 0; k--) {
    // tp + fp ≥ 1 at every emitted point: each point covers at least one row.
    precision.push(c.tps[k]! / (c.tps[k]! + c.fps[k]!));
    recall.push(c.tps[k]! / P);
    thresholds.push(c.thresholds[k]!);
  }
  precision.push(1);
  recall.push(0);
  thresholds.push(c.thresholds[0]! + 1);
  return { precision, recall, thresholds };
}

/**
 * Average precision AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the thresholds in decreasing order, R₀ = 0: the
 * step-wise area under the precision-recall curve without interpolation (scikit-learn's
 * `average_precision_score`). NaN if there is no positive row.
 */
export function averagePrecision(positive: ArrayLike<boolean | number>, score: ArrayLike<number>): number {
  const c = binaryClfCurve(positive, score);
  const P = c.tps[c.tps.length - 1] ?? 0;
  if (P === 0) return NaN;
  let ap = 0;
  let previousRecall = 0;
  for (let k = 0; k < c.tps.length; k++) {
    const recall = c.tps[k]! / P;
    ap += (recall - previousRecall) * (c.tps[k]! / (c.tps[k]! + c.fps[k]!));
    previousRecall = recall;
  }
  return ap;
}

/**
 * Reliability diagram with `bins` equal-width bins over [0, 1] (scikit-learn's
 * `calibration_curve(strategy='uniform')`): bin b holds the probabilities in (b/bins, (b+1)/bins],
 * the first bin also 0. Empty bins are left out. Probabilities must lie in [0, 1].
 */
export function calibrationCurve(
  positive: ArrayLike<boolean | number>,
  probability: ArrayLike<number>,
  bins = 10,
): CalibrationCurve {
  const n = probability.length;
  if (positive.length !== n)
    throw new RangeError(`length mismatch: ${positive.length} labels, ${n} probabilities`);
  if (!Number.isInteger(bins) || bins < 1)
    throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const sum = new Float64Array(bins);
  const hits = new Float64Array(bins);
  const count = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const p = probability[i]!;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${i} is ${p}, outside [0, 1]`);
    // numpy.searchsorted(edges[1:-1], p, side='left'): the first inner edge ≥ p.
    let b = Math.ceil(p * bins) - 1;
    if (b < 0) b = 0;
    else if (b >= bins) b = bins - 1;
    // Float noise at an edge (0.3·10 = 3.0000000000000004) must not move p to the next bin.
    if (b > 0 && p <= b / bins) b--;
    else if (b < bins - 1 && p > (b + 1) / bins) b++;
    sum[b]! += p;
    count[b]!++;
    if (positive[i]) hits[b]!++;
  }
  const out: CalibrationCurve = { meanPredicted: [], fractionPositive: [], count: [] };
  for (let b = 0; b < bins; b++) {
    if (count[b] === 0) continue;
    out.meanPredicted.push(sum[b]! / count[b]!);
    out.fractionPositive.push(hits[b]! / count[b]!);
    out.count.push(count[b]!);
  }
  return out;
}

/**
 * Indices of at most `maxPoints` points spread evenly over 0..length-1, the first and the last
 * always included: thins a curve for storage without moving its ends.
 */
export function thinIndices(length: number, maxPoints: number): number[] {
  if (maxPoints < 2) throw new RangeError(`maxPoints must be at least 2, got ${maxPoints}`);
  if (length <= maxPoints) return Array.from({ length }, (_, k) => k);
  const out: number[] = [];
  for (let k = 0; k < maxPoints; k++) out.push(Math.round((k * (length - 1)) / (maxPoints - 1)));
  return out;
}
