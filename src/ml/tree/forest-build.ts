/**
 * Builds the trees of a random forest (Breiman, "Random Forests", Machine Learning 45, 2001), a
 * chunk of consecutive trees at a time, on binned features. Runs on the calling thread and in
 * forest-worker.ts alike; everything it reads is plain data (shared buffers), so a chunk's trees
 * and out-of-bag sums depend only on the seeds, never on which thread built them.
 *
 * Each tree: a bootstrap sample (n draws with replacement; a row drawn c times weighs c), grown
 * to purity (min_samples_leaf 1) with max_features features drawn per split, scored by Gini
 * impurity (classification) or variance (regression) through the grower's common gain.
 */
import { createRng } from '../rng.js';
import type { BinMapper, BinnedMatrix } from './binning.js';
import { TreeGrower } from './grower.js';
import type { LeafValueFn } from './grower.js';
import { leafOfBinnedRow } from './tree.js';
import type { Tree } from './tree.js';

export interface ForestBuildSpec {
  readonly task: 'classification' | 'regression';
  /** Classes (classification) or 1. */
  readonly classes: number;
  readonly trees: number;
  readonly treesPerChunk: number;
  /** Features drawn per split. */
  readonly maxFeatures: number;
  readonly maxDepth: number;
  readonly maxLeafNodes: number;
  readonly minSamplesLeaf: number;
  readonly bootstrap: boolean;
  /** Rows drawn per bootstrap sample. */
  readonly samples: number;
  /** One seed per tree. */
  readonly seeds: Uint32Array;
}

export interface ForestData {
  readonly binned: BinnedMatrix;
  /** Row-major copy of the bins: histograms when every feature is searched, small nodes always. */
  readonly rowBins: Uint8Array | null;
  readonly mapper: BinMapper;
  /** Class index or value of each row. */
  readonly y: Float64Array;
}

export interface ForestChunk {
  readonly chunk: number;
  readonly trees: Tree[];
  /** Per tree, the sum of its split gains per feature normalised to 1 (F values per tree). */
  readonly importance: Float64Array;
  /** Out-of-bag sums of the leaf values (n × outputs) and the number of trees each row was out of bag for. */
  readonly oobSum: Float64Array;
  readonly oobCount: Uint32Array;
}

/** Outputs per leaf: the class distribution, or the mean. */
export function forestOutputs(spec: ForestBuildSpec): number {
  return spec.task === 'classification' ? spec.classes : 1;
}

export class ForestBuilder {
  private readonly grower: TreeGrower;
  private readonly K: number;
  private readonly outputs: number;
  private readonly weight: Float64Array;
  private readonly grad: Float64Array;
  private readonly sample: Uint32Array;
  private readonly features: Int32Array;
  private readonly leafValue: LeafValueFn;
  private mean = 0;

  constructor(
    private readonly data: ForestData,
    private readonly spec: ForestBuildSpec,
  ) {
    const n = data.binned.rows;
    const F = data.binned.cols;
    const classification = spec.task === 'classification';
    // Two classes need one channel: Gini = 2p(1 − p) is the variance of the indicator of class 1.
    this.K = classification && spec.classes > 2 ? spec.classes : 1;
    this.outputs = forestOutputs(spec);
    this.weight = new Float64Array(n);
    this.grad = new Float64Array(n * this.K);
    this.sample = new Uint32Array(n);
    this.features = Int32Array.from({ length: F }, (_, j) => j);
    this.grower = new TreeGrower(
      data.binned,
      data.mapper,
      {
        channels: this.K,
        maxLeafNodes: spec.maxLeafNodes,
        maxDepth: spec.maxDepth,
        minSamplesLeaf: spec.minSamplesLeaf,
        minHessianLeaf: 0,
        l2: 0,
        minGainToSplit: 0,
        maxFeatures: spec.maxFeatures,
        minCategorySupport: 1,
        categorySmoothing: 0,
      },
      this.outputs,
      data.rowBins ? { bins: data.rowBins, threads: 1 } : undefined,
    );
    const K = this.K;
    const C = this.outputs;
    if (!classification) {
      this.leafValue = (G, g, H, _n, out, o) => {
        out[o] = this.mean + G[g]! / H;
      };
    } else if (K === 1) {
      this.leafValue = (G, g, H, _n, out, o) => {
        const p = G[g]! / H;
        out[o] = 1 - p;
        out[o + 1] = p;
      };
    } else {
      this.leafValue = (G, g, H, _n, out, o) => {
        for (let k = 0; k < C; k++) out[o + k] = G[g + k]! / H;
      };
    }
  }

  /** Trees chunk·treesPerChunk … (chunk + 1)·treesPerChunk − 1, their importances and out-of-bag sums. */
  buildChunk(chunk: number): ForestChunk {
    const { spec, data } = this;
    const n = data.binned.rows;
    const F = data.binned.cols;
    const first = chunk * spec.treesPerChunk;
    const last = Math.min(spec.trees, first + spec.treesPerChunk);
    const trees: Tree[] = [];
    const importance = new Float64Array((last - first) * F);
    const oobSum = new Float64Array(spec.bootstrap ? n * this.outputs : 0);
    const oobCount = new Uint32Array(spec.bootstrap ? n : 0);
    for (let t = first; t < last; t++) {
      const tree = this.buildTree(spec.seeds[t]!);
      trees.push(tree);
      const o = (t - first) * F;
      let total = 0;
      for (let k = 0; k < tree.feature.length; k++) {
        const j = tree.feature[k]!;
        if (j >= 0) {
          importance[o + j]! += tree.gain[k]!;
          total += tree.gain[k]!;
        }
      }
      if (total > 0) for (let j = 0; j < F; j++) importance[o + j]! /= total;
      if (spec.bootstrap) this.addOutOfBag(tree, oobSum, oobCount);
    }
    return { chunk, trees, importance, oobSum, oobCount };
  }

  private buildTree(seed: number): Tree {
    const { spec, data, weight, grad, sample, K } = this;
    const n = data.binned.rows;
    const y = data.y;
    const rng = createRng(seed);
    weight.fill(0);
    if (spec.bootstrap) {
      for (let s = 0; s < spec.samples; s++) weight[rng.int(n)]!++;
    } else weight.fill(1);
    let m = 0;
    let W = 0;
    let S = 0;
    for (let i = 0; i < n; i++) {
      const w = weight[i]!;
      if (w === 0) continue;
      sample[m++] = i;
      W += w;
      S += w * y[i]!;
    }
    // Regression: centre y on the sample's mean so that the gain's squared sums stay small.
    this.mean = spec.task === 'regression' ? S / W : 0;
    if (spec.task === 'regression') {
      for (let i = 0; i < n; i++) grad[i] = weight[i]! * (y[i]! - this.mean);
    } else if (K === 1) {
      for (let i = 0; i < n; i++) grad[i] = y[i] === 1 ? weight[i]! : 0;
    } else {
      grad.fill(0);
      for (let i = 0; i < n; i++) grad[i * K + y[i]!] = weight[i]!;
    }
    return this.grower.grow(sample.subarray(0, m), grad, weight, this.features, this.leafValue, rng).tree;
  }

  private addOutOfBag(tree: Tree, oobSum: Float64Array, oobCount: Uint32Array): void {
    const { weight, outputs } = this;
    const B = this.data.binned;
    const value = tree.value;
    for (let i = 0; i < B.rows; i++) {
      if (weight[i] !== 0) continue;
      const leaf = leafOfBinnedRow(tree, B, i);
      for (let k = 0; k < outputs; k++) oobSum[i * outputs + k]! += value[leaf * outputs + k]!;
      oobCount[i]!++;
    }
  }

  close(): void {
    this.grower.close();
  }
}
