/**
 * Random forests (Breiman, "Random Forests", Machine Learning 45, 2001) on binned features:
 * bootstrap samples, max_features features drawn per split, trees grown deep, predictions
 * averaged (class distributions for classification, as scikit-learn's predict_proba; means for
 * regression), and the out-of-bag estimate of the test score (Breiman 2001, §3.1). Defaults are
 * scikit-learn 1.2's RandomForest{Classifier,Regressor}: 100 trees, max_features 'sqrt' for
 * classifiers and all features for regressors, min_samples_leaf 1, bootstrap.
 *
 * Trees are built on both cores: the calling thread and helper workers take chunks of trees from
 * a shared counter; the bins and targets are SharedArrayBuffers read by every thread, so memory
 * holds one copy of the data plus one set of per-tree buffers per thread. Chunks have a fixed
 * size and are merged in order, so the forest does not depend on the number of threads.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { createRng } from './rng.js';
import type { Matrix } from './types.js';
import { applyBins, fitBinMapper } from './tree/binning.js';
import type { BinMapper } from './tree/binning.js';
import { predictEnsemble } from './tree/ensemble.js';
import type { TreeEnsemble } from './tree/ensemble.js';
import { ForestBuilder, forestOutputs } from './tree/forest-build.js';
import type { ForestBuildSpec, ForestChunk } from './tree/forest-build.js';
import { toRowMajor } from './tree/histogram.js';
import type { Tree } from './tree/tree.js';

export const MAX_FEATURES_RULES = ['sqrt', 'log2', 'all'] as const;
export type MaxFeaturesRule = (typeof MAX_FEATURES_RULES)[number];

export interface ForestOptions {
  readonly task: 'classification' | 'regression';
  /** Classes for classification (labels 0..classes−1); default max(y) + 1. */
  readonly classes?: number;
  /** Number of trees; default 100. */
  readonly trees?: number;
  /** Features drawn per split: a rule or a share in (0, 1]; default 'sqrt' (classification) or 'all' (regression). */
  readonly maxFeatures?: MaxFeaturesRule | number;
  readonly maxDepth?: number;
  readonly maxLeafNodes?: number;
  /** Rows per leaf at least; default 1. */
  readonly minSamplesLeaf?: number;
  /** Draw a bootstrap sample per tree; default true. */
  readonly bootstrap?: boolean;
  /** Bootstrap size as a share of the rows, in (0, 1]; default 1. */
  readonly maxSamples?: number;
  /** Value bins per feature, 2..255; default 255. */
  readonly maxBins?: number;
  /** Per feature: holds ordinal category codes ('raw' preprocessing), split natively as sets. */
  readonly categorical?: ArrayLike<boolean | number>;
  readonly seed?: number;
  /** Threads building trees; default: every core when the data is large enough to pay for the workers. */
  readonly threads?: number;
  /** Called on the calling thread as chunks of trees finish. */
  readonly onProgress?: (treesDone: number, trees: number) => void;
}

export interface ForestModel {
  readonly kind: 'forest';
  readonly task: 'classification' | 'regression';
  /** Classes, or 1 for regression. */
  readonly classes: number;
  readonly ensemble: TreeEnsemble;
  /** Mean decrease in impurity per feature (each tree's normalised to 1, averaged), summing to 1. */
  readonly importance: Float64Array;
  /** Out-of-bag accuracy (classification) or R² (regression); absent without bootstrap or when no row was out of bag. */
  readonly oobScore?: number;
  /** Features searched per split. */
  readonly maxFeatures: number;
  readonly threads: number;
}

/** Indices into the shared control block of a forest fit. */
export const FOREST_CTRL = { next: 0, done: 1, failed: 2, cancel: 3 } as const;

export interface ForestWorkerData {
  readonly control: SharedArrayBuffer;
  readonly bins: SharedArrayBuffer;
  readonly rowBins: SharedArrayBuffer | null;
  readonly rows: number;
  readonly cols: number;
  readonly mapper: BinMapper;
  readonly y: SharedArrayBuffer;
  readonly spec: ForestBuildSpec;
  readonly port: MessagePort;
}

/** Number of features a rule or share gives out of F (scikit-learn's max_features). */
export function resolveMaxFeatures(rule: MaxFeaturesRule | number, F: number): number {
  if (rule === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(F)));
  if (rule === 'log2') return Math.max(1, Math.floor(Math.log2(F)));
  if (rule === 'all') return F;
  if (!(rule > 0 && rule <= 1)) throw new RangeError(`maxFeatures must be in (0, 1], got ${rule}`);
  return Math.max(1, Math.floor(rule * F));
}

/** Fits a random forest; y holds class indices (classification) or values (regression). */
export function fitForest(X: Matrix, y: Int32Array | Float64Array, options: ForestOptions): ForestModel {
  const n = X.rows;
  const F = X.cols;
  if (y.length !== n) throw new RangeError(`y has ${y.length} values for ${n} rows`);
  if (n < 1) throw new RangeError('cannot fit on zero rows');
  const classification = options.task === 'classification';
  let C = 1;
  for (let i = 0; i < n; i++) if (!Number.isFinite(y[i]!)) throw new RangeError(`y[${i}] is ${y[i]}`);
  if (classification) {
    let max = 0;
    for (let i = 0; i < n; i++) {
      if (!Number.isInteger(y[i]!) || y[i]! < 0) throw new RangeError(`label ${y[i]} is not a class index`);
      if (y[i]! > max) max = y[i]!;
    }
    C = options.classes ?? max + 1;
    if (C < 2) throw new RangeError(`classification needs at least 2 classes, got ${C}`);
    if (max >= C) throw new RangeError(`label ${max} is outside 0..${C - 1}`);
  }
  const trees = options.trees ?? 100;
  if (!Number.isInteger(trees) || trees < 1)
    throw new RangeError(`trees must be a positive integer, got ${trees}`);
  const maxFeatures = resolveMaxFeatures(options.maxFeatures ?? (classification ? 'sqrt' : 'all'), F);
  const maxSamples = options.maxSamples ?? 1;
  if (!(maxSamples > 0 && maxSamples <= 1))
    throw new RangeError(`maxSamples must be in (0, 1], got ${maxSamples}`);
  const rng = createRng(options.seed ?? 0);
  const seeds = new Uint32Array(trees);
  for (let t = 0; t < trees; t++) seeds[t] = rng.nextUint32();
  // A fixed chunk size (not a per-thread share) keeps the result independent of the thread count.
  const treesPerChunk = Math.max(1, Math.ceil(trees / 16));
  const chunks = Math.ceil(trees / treesPerChunk);
  const wanted = options.threads ?? (n * F >= 20_000 ? availableParallelism() : 1);
  const threads = Math.max(1, Math.min(wanted, chunks));
  const shared = threads > 1;

  const mapper = fitBinMapper(X, {
    ...(options.maxBins !== undefined ? { maxBins: options.maxBins } : {}),
    categorical: options.categorical ?? [],
    rng,
  });
  const binned = applyBins(mapper, X, undefined, { shared });
  const rowBins = toRowMajor(binned.bins, n, F, shared);
  const yShared = shared ? new Float64Array(new SharedArrayBuffer(8 * n)) : new Float64Array(n);
  yShared.set(y);
  const spec: ForestBuildSpec = {
    task: options.task,
    classes: C,
    trees,
    treesPerChunk,
    maxFeatures,
    maxDepth: options.maxDepth ?? Infinity,
    maxLeafNodes: options.maxLeafNodes ?? Infinity,
    minSamplesLeaf: options.minSamplesLeaf ?? 1,
    bootstrap: options.bootstrap ?? true,
    samples: Math.max(1, Math.round(maxSamples * n)),
    seeds,
  };

  const results: (ForestChunk | undefined)[] = new Array<ForestChunk | undefined>(chunks);
  const control = new Int32Array(shared ? new SharedArrayBuffer(16) : new ArrayBuffer(16));
  const ports: MessagePort[] = [];
  const workers: Worker[] = [];
  for (let w = 1; w < threads; w++) {
    const { port1, port2 } = new MessageChannel();
    const data: ForestWorkerData = {
      control: control.buffer as SharedArrayBuffer,
      bins: binned.bins.buffer as SharedArrayBuffer,
      rowBins: rowBins.buffer as SharedArrayBuffer,
      rows: n,
      cols: F,
      mapper,
      y: yShared.buffer as SharedArrayBuffer,
      spec,
      port: port2,
    };
    const worker = new Worker(new URL('./tree/forest-worker.js', import.meta.url), {
      workerData: data,
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    workers.push(worker);
    ports.push(port1);
  }
  let finished = 0;
  const progress = () => options.onProgress?.(Math.min(trees, finished * treesPerChunk), trees);
  const drain = () => {
    for (const port of ports) {
      for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
        const message = m.message as ForestChunk | { error: string };
        if ('error' in message) throw new Error(`a forest worker failed: ${message.error}`);
        results[message.chunk] = message;
        finished++;
        progress();
      }
    }
  };
  const builder = new ForestBuilder({ binned, rowBins, mapper, y: yShared }, spec);
  try {
    for (;;) {
      const chunk = Atomics.add(control, FOREST_CTRL.next, 1);
      if (chunk >= chunks) break;
      results[chunk] = builder.buildChunk(chunk);
      finished++;
      if (shared) Atomics.add(control, FOREST_CTRL.done, 1);
      progress();
      drain();
    }
    // Wait for the helpers' last chunks.
    while (finished < chunks) {
      if (Atomics.load(control, FOREST_CTRL.failed) === 1) {
        drain();
        throw new Error('a forest worker failed');
      }
      const done = Atomics.load(control, FOREST_CTRL.done);
      drain();
      if (finished < chunks) Atomics.wait(control, FOREST_CTRL.done, done, 200);
    }
  } catch (error) {
    if (shared) Atomics.store(control, FOREST_CTRL.cancel, 1);
    for (const worker of workers) void worker.terminate();
    throw error;
  } finally {
    builder.close();
    for (const port of ports) port.close();
  }

  // Merge the chunks in order.
  const outputs = forestOutputs(spec);
  const allTrees: Tree[] = [];
  const importance = new Float64Array(F);
  const oobSum = new Float64Array(spec.bootstrap ? n * outputs : 0);
  const oobCount = new Uint32Array(spec.bootstrap ? n : 0);
  for (const chunk of results) {
    if (!chunk) throw new Error('a chunk of trees is missing');
    allTrees.push(...chunk.trees);
    for (let k = 0; k < chunk.importance.length; k++) importance[k % F]! += chunk.importance[k]!;
    for (let k = 0; k < oobSum.length; k++) oobSum[k]! += chunk.oobSum[k]!;
    for (let i = 0; i < oobCount.length; i++) oobCount[i]! += chunk.oobCount[i]!;
  }
  let total = 0;
  for (let j = 0; j < F; j++) total += importance[j]!;
  if (total > 0) for (let j = 0; j < F; j++) importance[j]! /= total;
  const oobScore = spec.bootstrap ? outOfBagScore(classification, y, oobSum, oobCount, outputs) : undefined;
  const ensemble: TreeEnsemble = {
    trees: allTrees,
    treeTarget: new Int32Array(allTrees.length).fill(-1),
    outputs,
    aggregate: 'average',
    base: new Float64Array(outputs),
    post: 'none',
  };
  return {
    kind: 'forest',
    task: options.task,
    classes: classification ? C : 1,
    ensemble,
    importance,
    ...(oobScore !== undefined && Number.isFinite(oobScore) ? { oobScore } : {}),
    maxFeatures,
    threads,
  };
}

/** Class probabilities N × C, or values N, exactly as the exported ONNX head computes them. */
export function predictForest(model: ForestModel, X: Matrix): Float64Array {
  return predictEnsemble(model.ensemble, X);
}

/** Accuracy or R² of the out-of-bag predictions, over the rows that were out of bag at least once. */
function outOfBagScore(
  classification: boolean,
  y: ArrayLike<number>,
  sum: Float64Array,
  count: Uint32Array,
  outputs: number,
): number {
  let rows = 0;
  if (classification) {
    let hits = 0;
    for (let i = 0; i < count.length; i++) {
      if (count[i] === 0) continue;
      rows++;
      let best = 0;
      for (let k = 1; k < outputs; k++) if (sum[i * outputs + k]! > sum[i * outputs + best]!) best = k;
      if (best === y[i]) hits++;
    }
    return rows > 0 ? hits / rows : NaN;
  }
  let mean = 0;
  for (let i = 0; i < count.length; i++) {
    if (count[i] === 0) continue;
    rows++;
    mean += y[i]!;
  }
  if (rows === 0) return NaN;
  mean /= rows;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < count.length; i++) {
    if (count[i] === 0) continue;
    const d = y[i]! - sum[i]! / count[i]!;
    const t = y[i]! - mean;
    ssRes += d * d;
    ssTot += t * t;
  }
  return ssTot > 0 ? 1 - ssRes / ssTot : ssRes === 0 ? 1 : 0;
}
