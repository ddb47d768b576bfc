/**
 * Histogram gradient-boosted decision trees: Friedman, "Greedy Function Approximation: A Gradient
 * Boosting Machine", Ann. Statist. 29(5), 2001, with the second-order leaf values and split gain
 * of Chen & Guestrin (XGBoost, KDD 2016) and the binned features, leaf-wise growth and histogram
 * subtraction of Ke et al. (LightGBM, NIPS 2017). Defaults are scikit-learn 1.2's
 * HistGradientBoosting{Classifier,Regressor}: 100 iterations, learning rate 0.1, 31 leaves, no
 * depth limit, 20 rows per leaf, λ = 0, 255 bins, early stopping on 10% of the rows when there
 * are more than 10,000 ('auto'), stopping after 10 iterations without an improvement of 1e-7.
 *
 * Losses (F is the raw score; Friedman 2001 §4.1, §4.5, §4.6):
 * - 'squared_error': ½(y − F)², g = F − y, h = 1, F₀ = mean(y);
 * - 'log_loss', 2 classes: log(1 + e^F) − yF, g = σ(F) − y, h = σ(F)(1 − σ(F)), F₀ = logit(ȳ);
 * - 'log_loss', C > 2 classes: one tree per class per iteration on the softmax cross-entropy,
 *   g_k = p_k − [y = k], h_k = p_k(1 − p_k), F₀,k = log(share of class k).
 * Leaf value −η·G/(H + λ) (Newton step, shrunk by the learning rate η).
 */
import { availableParallelism } from 'node:os';
import { createRng } from './rng.js';
import type { Rng } from './rng.js';
import { trainTestSplit } from './split.js';
import type { Matrix } from './types.js';
import { applyBins, fitBinMapper } from './tree/binning.js';
import type { BinnedMatrix } from './tree/binning.js';
import { predictEnsemble } from './tree/ensemble.js';
import type { TreeEnsemble } from './tree/ensemble.js';
import { TreeGrower } from './tree/grower.js';
import { toRowMajor } from './tree/histogram.js';
import type { LeafValueFn } from './tree/grower.js';
import { addGainImportance, leafOfBinnedRow } from './tree/tree.js';
import type { Tree } from './tree/tree.js';

export const GBDT_LOSSES = ['squared_error', 'log_loss'] as const;
export type GbdtLoss = (typeof GBDT_LOSSES)[number];

export interface GbdtProgress {
  /** Mean training loss after the iteration. */
  readonly loss: number;
  /** Mean loss on the validation rows, when early stopping is on. */
  readonly validationLoss?: number;
}

export interface GbdtOptions {
  readonly loss: GbdtLoss;
  /** Number of classes for 'log_loss' (labels 0..classes−1); default max(y) + 1. */
  readonly classes?: number;
  /** Boosting iterations at most (scikit-learn's max_iter); default 100. */
  readonly maxIter?: number;
  /** Shrinkage η; default 0.1. */
  readonly learningRate?: number;
  /** Leaves per tree at most; default 31; Infinity for none. */
  readonly maxLeafNodes?: number;
  /** Depth per tree at most (root = 0); default Infinity. */
  readonly maxDepth?: number;
  /** Rows per leaf at least; default 20. */
  readonly minSamplesLeaf?: number;
  /** L2 penalty λ on leaf values; default 0. */
  readonly l2?: number;
  /** Value bins per feature, 2..255; default 255. */
  readonly maxBins?: number;
  /** Share of the rows drawn (Bernoulli, without replacement) for each iteration; default 1. */
  readonly subsample?: number;
  /** Share of the features drawn for each iteration; default 1. */
  readonly colsampleByTree?: number;
  /** 'auto' (default): on when there are more than 10,000 rows. */
  readonly earlyStopping?: 'auto' | boolean;
  /** Share of the rows held out for early stopping when no `validation` is given; default 0.1. */
  readonly validationFraction?: number;
  /** Stop after this many iterations without improvement; default 10. */
  readonly nIterNoChange?: number;
  /** An improvement must exceed this; default 1e-7. */
  readonly tol?: number;
  /** Held-out rows for early stopping, instead of splitting off validationFraction. */
  readonly validation?: { readonly X: Matrix; readonly y: Int32Array | Float64Array };
  /** Per feature: holds ordinal category codes ('raw' preprocessing) to split natively as sets. */
  readonly categorical?: ArrayLike<boolean | number>;
  readonly seed?: number;
  /**
   * Threads for histogram building: 1, or 2 to share every large histogram with a helper worker
   * (default: 2 when the machine has two cores and the data has at least 2¹⁸ cells). The model
   * does not depend on it.
   */
  readonly threads?: number;
  readonly onProgress?: (iteration: number, progress: GbdtProgress) => void;
}

export interface GbdtModel {
  readonly kind: 'gbdt';
  readonly loss: GbdtLoss;
  /** Classes (log_loss) or 1 (squared_error). */
  readonly classes: number;
  /** The trees as one ensemble, `treesPerIteration` per iteration, with the initial scores as base. */
  readonly ensemble: TreeEnsemble;
  readonly treesPerIteration: number;
  /** Iterations kept (the best one when early stopping ran; all otherwise). */
  readonly iterations: number;
  /** Iterations run before stopping. */
  readonly iterationsRun: number;
  readonly earlyStopped: boolean;
  /** Sum of split gains per feature, normalised to sum 1 (0 everywhere without a split). */
  readonly importance: Float64Array;
  /** Training loss after each iteration run, and validation loss (index 0: before any tree). */
  readonly trainLoss: Float64Array;
  readonly validationLoss?: Float64Array;
}

/** Fits gradient-boosted trees; y holds class indices (log_loss) or values (squared_error). */
export function fitGbdt(X: Matrix, y: Int32Array | Float64Array, options: GbdtOptions): GbdtModel {
  const n0 = X.rows;
  if (y.length !== n0) throw new RangeError(`y has ${y.length} values for ${n0} rows`);
  if (n0 < 1) throw new RangeError('cannot fit on zero rows');
  for (let i = 0; i < n0; i++) if (!Number.isFinite(y[i]!)) throw new RangeError(`y[${i}] is ${y[i]}`);
  const classification = options.loss === 'log_loss';
  let C = 1;
  if (classification) {
    let max = 0;
    for (let i = 0; i < n0; i++) {
      if (!Number.isInteger(y[i]!) || y[i]! < 0) throw new RangeError(`label ${y[i]} is not a class index`);
      if (y[i]! > max) max = y[i]!;
    }
    C = options.classes ?? max + 1;
    if (C < 2) throw new RangeError(`log_loss needs at least 2 classes, got ${C}`);
    if (max >= C) throw new RangeError(`label ${max} is outside 0..${C - 1}`);
  }
  const K = classification && C > 2 ? C : 1;
  const maxIter = options.maxIter ?? 100;
  const eta = options.learningRate ?? 0.1;
  const l2 = options.l2 ?? 0;
  const subsample = options.subsample ?? 1;
  const colsample = options.colsampleByTree ?? 1;
  const nIterNoChange = options.nIterNoChange ?? 10;
  const tol = options.tol ?? 1e-7;
  check('maxIter', maxIter, Number.isInteger(maxIter) && maxIter >= 1);
  check('learningRate', eta, eta > 0);
  check('l2', l2, l2 >= 0);
  check('subsample', subsample, subsample > 0 && subsample <= 1);
  check('colsampleByTree', colsample, colsample > 0 && colsample <= 1);
  const rng = createRng(options.seed ?? 0);

  // Rows to fit and rows to stop on.
  const early =
    options.earlyStopping === 'auto' || options.earlyStopping === undefined
      ? n0 > 10_000
      : options.earlyStopping;
  let fitRows: Uint32Array | undefined;
  let valRows: Uint32Array | undefined;
  if (early && !options.validation) {
    const split = trainTestSplit(n0, {
      testFraction: options.validationFraction ?? 0.1,
      seed: rng.nextUint32(),
      ...(classification ? { stratify: Int32Array.from(y) } : {}),
    });
    fitRows = split.train;
    valRows = split.test;
  }
  const n = fitRows ? fitRows.length : n0;
  const yFit = fitRows ? Float64Array.from(fitRows, (i) => y[i]!) : Float64Array.from(y);
  const mapper = fitBinMapper(
    X,
    {
      ...(options.maxBins !== undefined ? { maxBins: options.maxBins } : {}),
      categorical: options.categorical ?? [],
      rng,
    },
    fitRows,
  );
  const B = applyBins(mapper, X, fitRows);
  const threads = Math.min(2, options.threads ?? (B.rows * B.cols >= 1 << 18 ? availableParallelism() : 1));
  let Bv: BinnedMatrix | undefined;
  let yVal: Float64Array | undefined;
  if (early) {
    if (options.validation) {
      Bv = applyBins(mapper, options.validation.X);
      yVal = Float64Array.from(options.validation.y);
    } else {
      Bv = applyBins(mapper, X, valRows);
      yVal = Float64Array.from(valRows!, (i) => y[i]!);
    }
  }

  // Initial scores F₀.
  const base = new Float64Array(K);
  if (!classification) {
    let s = 0;
    for (let i = 0; i < n; i++) s += yFit[i]!;
    base[0] = s / n;
  } else {
    const counts = new Float64Array(C);
    for (let i = 0; i < n; i++) counts[yFit[i]!]!++;
    const eps = 2.220446049250313e-16;
    const share = (k: number) => Math.min(Math.max(counts[k]! / n, eps), 1 - eps);
    if (K === 1) base[0] = Math.log(share(1) / (1 - share(1)));
    else for (let k = 0; k < K; k++) base[k] = Math.log(share(k));
  }
  const Fs = new Float64Array(n * K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) Fs[i * K + k] = base[k]!;
  const nv = Bv ? Bv.rows : 0;
  const Fv = new Float64Array(nv * K);
  for (let i = 0; i < nv; i++) for (let k = 0; k < K; k++) Fv[i * K + k] = base[k]!;

  const grower = new TreeGrower(
    B,
    mapper,
    {
      channels: 1,
      maxLeafNodes: options.maxLeafNodes ?? 31,
      maxDepth: options.maxDepth ?? Infinity,
      minSamplesLeaf: options.minSamplesLeaf ?? 20,
      minHessianLeaf: 1e-3,
      l2,
      minGainToSplit: 0,
      maxFeatures: Infinity,
      minCategorySupport: 10,
      categorySmoothing: 10,
    },
    1,
    { bins: toRowMajor(B.bins, B.rows, B.cols, threads > 1), threads },
  );
  try {
    return boost();
  } finally {
    grower.close();
  }

  function boost(): GbdtModel {
    const leafValue: LeafValueFn = (G, g, H, _n, out, o) => {
      out[o] = (-eta * G[g]!) / (H + l2);
    };
    const grad = new Float64Array(n);
    const hess = classification ? new Float64Array(n) : null;
    const P = new Float64Array(classification ? n * K : 0);
    const everyRow = Uint32Array.from({ length: n }, (_, i) => i);
    const sampleBuffer = new Uint32Array(n);
    const allFeatures = Int32Array.from({ length: X.cols }, (_, j) => j);

    const trees: Tree[] = [];
    const trainLoss: number[] = [];
    const validationLoss: number[] = [];
    // The training loss is reported on at most 10,000 evenly spaced rows (as scikit-learn scores
    // a subsample): it is shown, not used, and the full pass would cost as much as a tree.
    const step = Math.max(1, Math.floor(n / 10_000));
    const scoredRows = Uint32Array.from({ length: Math.ceil(n / step) }, (_, k) => k * step);
    if (Bv) validationLoss.push(meanLoss(options.loss, K, Fv, yVal!));
    let earlyStopped = false;
    let iteration = 0;
    while (iteration < maxIter) {
      // Probabilities at the current scores, for every class at once (the K trees of an iteration share them).
      if (classification) probabilities(Fs, n, K, P);
      let sample: Uint32Array = everyRow;
      if (subsample < 1) sample = bernoulliSample(n, subsample, rng, sampleBuffer);
      const features = colsample < 1 ? drawFeatures(X.cols, colsample, rng) : allFeatures;
      for (let k = 0; k < K; k++) {
        // Gradients and hessians are rounded to float32, as scikit-learn stores them (G_H_DTYPE):
        // near-ties between candidate splits then break as they do there (the sums stay double).
        if (!classification) {
          for (let i = 0; i < n; i++) grad[i] = Math.fround(Fs[i]! - yFit[i]!);
        } else {
          for (let i = 0; i < n; i++) {
            const p = P[i * K + k]!;
            const target = K === 1 ? yFit[i]! : yFit[i] === k ? 1 : 0;
            grad[i] = Math.fround(p - target);
            hess![i] = Math.fround(p * (1 - p));
          }
        }
        const grown = grower.grow(sample, grad, hess, features, leafValue, rng);
        const tree = grown.tree;
        trees.push(tree);
        // Training scores: every sampled row sits in its leaf's range; the others are routed.
        if (sample === everyRow) {
          for (let node = 0; node < tree.feature.length; node++) {
            if (tree.feature[node]! >= 0) continue;
            const v = tree.value[node]!;
            for (let r = grown.begin[node]!; r < grown.end[node]!; r++) Fs[grown.rows[r]! * K + k]! += v;
          }
        } else {
          for (let i = 0; i < n; i++) Fs[i * K + k]! += tree.value[leafOfBinnedRow(tree, B, i)]!;
        }
        if (Bv) for (let i = 0; i < nv; i++) Fv[i * K + k]! += tree.value[leafOfBinnedRow(tree, Bv, i)]!;
      }
      iteration++;
      const loss = meanLoss(options.loss, K, Fs, yFit, scoredRows);
      trainLoss.push(loss);
      let vLoss: number | undefined;
      if (Bv) {
        vLoss = meanLoss(options.loss, K, Fv, yVal!);
        validationLoss.push(vLoss);
      }
      options.onProgress?.(iteration, vLoss === undefined ? { loss } : { loss, validationLoss: vLoss });
      if (Bv && shouldStop(validationLoss, nIterNoChange, tol)) {
        earlyStopped = true;
        break;
      }
    }

    // With early stopping, keep the iterations up to the lowest validation loss (at least one).
    let kept = iteration;
    if (Bv) {
      kept = 1;
      for (let t = 2; t <= iteration; t++) if (validationLoss[t]! < validationLoss[kept]!) kept = t;
    }
    const keptTrees = trees.slice(0, kept * K);
    const importance = new Float64Array(X.cols);
    for (const tree of keptTrees) addGainImportance(tree, importance);
    normalise(importance);
    const ensemble: TreeEnsemble = {
      trees: keptTrees,
      treeTarget: Int32Array.from(keptTrees, (_, t) => (K === 1 ? 0 : t % K)),
      outputs: K,
      aggregate: 'sum',
      base,
      post: !classification ? 'none' : K === 1 ? 'logistic' : 'softmax',
    };
    return {
      kind: 'gbdt',
      loss: options.loss,
      classes: classification ? C : 1,
      ensemble,
      treesPerIteration: K,
      iterations: kept,
      iterationsRun: iteration,
      earlyStopped,
      importance,
      trainLoss: Float64Array.from(trainLoss),
      ...(Bv ? { validationLoss: Float64Array.from(validationLoss) } : {}),
    };
  }
}

/** Probabilities N × C (log_loss) or values N (squared_error), exactly as the exported ONNX head computes them. */
export function predictGbdt(model: GbdtModel, X: Matrix): Float64Array {
  return predictEnsemble(model.ensemble, X);
}

/**
 * scikit-learn's rule (`_should_stop`): stop when none of the last n iterations improved on the
 * loss n + 1 iterations back by more than tol. `losses[0]` is the loss before the first tree.
 */
function shouldStop(losses: readonly number[], n: number, tol: number): boolean {
  const reference = losses.length - 1 - n;
  if (reference < 0) return false;
  const bar = losses[reference]! - tol;
  for (let t = reference + 1; t < losses.length; t++) if (losses[t]! < bar) return false;
  return true;
}

/** Mean loss at scores F (N × K) over `rows` (all by default): ½ squared error, binary or multinomial cross-entropy. */
function meanLoss(loss: GbdtLoss, K: number, F: Float64Array, y: Float64Array, rows?: Uint32Array): number {
  const n = rows ? rows.length : y.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let r = 0; r < n; r++) {
    const i = rows ? rows[r]! : r;
    if (loss === 'squared_error') {
      const d = y[i]! - F[i]!;
      s += 0.5 * d * d;
    } else if (K === 1) {
      // log(1 + e^F) − yF, with softplus written to avoid overflow.
      const f = F[i]!;
      s += (f > 0 ? f + Math.log1p(Math.exp(-f)) : Math.log1p(Math.exp(f))) - y[i]! * f;
    } else {
      const o = i * K;
      let max = -Infinity;
      for (let k = 0; k < K; k++) if (F[o + k]! > max) max = F[o + k]!;
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.exp(F[o + k]! - max);
      s += max + Math.log(sum) - F[o + y[i]!]!;
    }
  }
  return s / n;
}

/** σ(F) for one score per row, softmax for K per row. */
function probabilities(F: Float64Array, n: number, K: number, P: Float64Array): void {
  if (K === 1) {
    for (let i = 0; i < n; i++) P[i] = 1 / (1 + Math.exp(-F[i]!));
    return;
  }
  for (let i = 0; i < n; i++) {
    const o = i * K;
    let max = -Infinity;
    for (let k = 0; k < K; k++) if (F[o + k]! > max) max = F[o + k]!;
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(F[o + k]! - max);
      P[o + k] = e;
      sum += e;
    }
    for (let k = 0; k < K; k++) P[o + k]! /= sum;
  }
}

/** Each row kept with probability q, in ascending order (stochastic gradient boosting, Friedman 2002). */
function bernoulliSample(n: number, q: number, rng: Rng, buffer: Uint32Array): Uint32Array {
  let m = 0;
  for (let i = 0; i < n; i++) if (rng.next() < q) buffer[m++] = i;
  if (m === 0) buffer[m++] = rng.int(n);
  return buffer.subarray(0, m);
}

/** ⌈share·F⌉ features (at least one) drawn without replacement, ascending. */
export function drawFeatures(F: number, share: number, rng: Rng): Int32Array {
  const k = Math.max(1, Math.min(F, Math.round(share * F)));
  const pool = Int32Array.from({ length: F }, (_, j) => j);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(F - i);
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  return pool.subarray(0, k).sort();
}

function normalise(v: Float64Array): void {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += v[j]!;
  if (s > 0) for (let j = 0; j < v.length; j++) v[j]! /= s;
}

function check(name: string, value: number, ok: boolean): void {
  if (!ok) throw new RangeError(`${name} is out of range: ${value}`);
}
