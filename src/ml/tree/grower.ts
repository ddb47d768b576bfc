/**
 * Grows one histogram tree on binned features (Ke et al., "LightGBM: A Highly Efficient Gradient
 * Boosting Decision Tree", NIPS 2017; Chen & Guestrin, "XGBoost", KDD 2016, §2.2 and §3).
 *
 * Every row carries K "gradient" channels g and a "hessian" h (a weight). A split of a node with
 * sums (G, H) into (G_L, H_L) and (G_R, H_R) gains
 *
 *     gain = Σ_k [ G_Lk² / (H_L + λ) + G_Rk² / (H_R + λ) − G_k² / (H + λ) ]
 *
 * which is, with the right channels, every criterion used here:
 * - gradient boosting (K = 1, g = ∂loss/∂F, h = ∂²loss/∂F²): the second-order gain of XGBoost's
 *   eq. (7) (without its ½ and γ, as scikit-learn's HistGradientBoosting);
 * - regression forest (K = 1, g = w·(y − ȳ), h = w): the weighted variance reduction;
 * - classification forest (g_k = w·[y = k], h = w): the decrease in Gini impurity N·(1 − Σ p_k²),
 *   up to a constant factor (K = 1 for two classes, where Gini = 2p(1 − p)).
 *
 * Growth is best-first (leaf-wise, LightGBM) with a max-heap on gain when the number of leaves is
 * bounded, depth-first otherwise. Rows live in one index array; each node owns a contiguous range
 * and a split partitions it stably, so both children stay sorted and memory access stays
 * sequential. When all features are searched, a child's histogram is built from the smaller
 * child's rows only and the larger one is parent − smaller (the subtraction trick, LightGBM §2.1).
 * With feature sampling per split (random forests, Breiman 2001), histograms are built for the
 * drawn features only. Small nodes skip the 256-slot histogram and accumulate only the bins they
 * touch. Buffers are allocated once per grower and reused for every tree: nothing is allocated
 * per node.
 */
import type { Rng } from '../rng.js';
import { BIN_SLOTS, MISSING_BIN } from './binning.js';
import type { BinMapper, BinnedMatrix } from './binning.js';
import { PACKED_SPAN, ROUND } from './histogram.js';
import type { GradientPacking } from './histogram.js';
import { HistogramPool } from './histogram-pool.js';
import { SET_WORDS, TreeBuilder } from './tree.js';
import type { Tree } from './tree.js';

/** Nodes with fewer rows than this accumulate only the bins they touch. */
const SMALL_NODE = 64;
/** Nodes with at most this many rows sort their rows by bin instead (deep trees' last levels); ≤ 32. */
const TINY_NODE = 24;
/** At most this many categories go left in a categorical split (scikit-learn's MAX_CAT_THRESHOLD). */
const MAX_CATEGORIES_LEFT = 32;

export interface GrowerOptions {
  /** Gradient channels K. */
  readonly channels: number;
  /** Leaves at most (best-first growth); Infinity for unbounded depth-first growth. */
  readonly maxLeafNodes: number;
  /** Depth at most (root = 0); Infinity for none. */
  readonly maxDepth: number;
  /** Rows per leaf at least. */
  readonly minSamplesLeaf: number;
  /** Hessian sum per leaf at least (scikit-learn's min_hessian_to_split, XGBoost's min_child_weight). */
  readonly minHessianLeaf: number;
  /** L2 penalty λ on leaf values. */
  readonly l2: number;
  /** A split must gain more than this. */
  readonly minGainToSplit: number;
  /** Features drawn per split; at least the number of active features means all, with the subtraction trick. */
  readonly maxFeatures: number;
  /** Native categorical splits (K = 1 only): categories need this many rows to be sorted into a set. */
  readonly minCategorySupport: number;
  /** Smoothing of the category order G / (H + smoothing) (LightGBM's cat_smooth). */
  readonly categorySmoothing: number;
}

/** The rows a grown tree was trained on, grouped by leaf: leaf L owns rows[begin[L]..end[L]). */
export interface GrownTree {
  readonly tree: Tree;
  readonly rows: Uint32Array;
  readonly begin: Int32Array;
  readonly end: Int32Array;
}

/** Writes the `outputs` values of a leaf from its sums: G (K channels at G[g..g+K)), H and row count. */
export type LeafValueFn = (
  G: Float64Array,
  g: number,
  H: number,
  n: number,
  out: Float64Array,
  o: number,
) => void;

/** A max-heap of node ids by gain, ties to the lower id, so growth order is deterministic. */
class GainHeap {
  private ids = new Int32Array(64);
  private size = 0;
  constructor(private readonly gain: () => Float64Array) {}
  get length(): number {
    return this.size;
  }
  clear(): void {
    this.size = 0;
  }
  private above(a: number, b: number): boolean {
    const g = this.gain();
    return g[a]! > g[b]! || (g[a] === g[b] && a < b);
  }
  push(id: number): void {
    if (this.size === this.ids.length) {
      const next = new Int32Array(this.ids.length * 2);
      next.set(this.ids);
      this.ids = next;
    }
    let k = this.size++;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!this.above(id, this.ids[parent]!)) break;
      this.ids[k] = this.ids[parent]!;
      k = parent;
    }
    this.ids[k] = id;
  }
  pop(): number {
    const top = this.ids[0]!;
    const last = this.ids[--this.size]!;
    let k = 0;
    for (;;) {
      const l = 2 * k + 1;
      if (l >= this.size) break;
      const r = l + 1;
      const child = r < this.size && this.above(this.ids[r]!, this.ids[l]!) ? r : l;
      if (!this.above(this.ids[child]!, last)) break;
      this.ids[k] = this.ids[child]!;
      k = child;
    }
    if (this.size > 0) this.ids[k] = last;
    return top;
  }
}

export class TreeGrower {
  private readonly K: number;
  /** Slots per histogram bin: K gradient sums, the hessian sum, the row count. */
  private readonly S: number;
  private readonly F: number;
  private readonly N: number;
  private readonly featureHist: number;
  private readonly builder: TreeBuilder;
  private readonly order: Uint32Array;
  /** Row-major bins when given: a small node's rows then sit on one cache line each, all features included. */
  private readonly rowBins: Uint8Array | null;
  private readonly anyCategorical: boolean;
  /**
   * Where a histogram bin keeps its hessian sum: K, or K + 1 (the row count) when every hessian
   * is 1 and the pool skipped writing the equal sum (squared error).
   */
  private hSlot = 1;
  /** The current tree's gradient packing when the pool's histograms are packed (unit hessians). */
  private packing: GradientPacking | null = null;
  /** Row-major, possibly two-threaded histograms (K = 1 with row-major bins); null: column-major on this thread. */
  private readonly pool: HistogramPool | null;
  private readonly tmp: Uint32Array;
  private readonly tmpG: Float64Array;
  private readonly tmpH: Float64Array;
  private readonly side: Uint8Array;
  private readonly goLeft = new Uint8Array(BIN_SLOTS);
  private readonly og: Float64Array;
  private readonly oh: Float64Array;
  private readonly histPool: Float64Array[] = [];
  private readonly freeSlots: number[] = [];
  /** Histogram of one feature, for sampled features and small nodes. */
  private readonly scratch: Float64Array;
  private readonly touched = new Int32Array(BIN_SLOTS);
  private readonly tinyBin = new Int32Array(TINY_NODE);
  private readonly tinySorted = new Int32Array(TINY_NODE);
  private readonly tinyG = new Float64Array(TINY_NODE);
  private readonly tinyH = new Float64Array(TINY_NODE);
  private readonly catOrder = new Int32Array(BIN_SLOTS);
  private readonly catKey = new Float64Array(BIN_SLOTS);
  private readonly allBins = Int32Array.from({ length: BIN_SLOTS }, (_, b) => b);
  private readonly setBits = new Uint32Array(SET_WORDS);
  private readonly bestBits = new Uint32Array(SET_WORDS);
  private readonly scanG: Float64Array;
  private readonly bestG: Float64Array;
  private readonly totalG: Float64Array;
  private readonly heap: GainHeap;
  private readonly stack: number[] = [];
  private perm: Int32Array;

  // Per node (indexed like the builder's nodes), grown as needed.
  private cap = 0;
  private nodeBegin = new Int32Array(0);
  private nodeEnd = new Int32Array(0);
  private nodeDepth = new Int32Array(0);
  private nodeG = new Float64Array(0);
  private nodeH = new Float64Array(0);
  private nodeSlot = new Int32Array(0);
  private splitGain = new Float64Array(0);
  private splitFeature = new Int32Array(0);
  private splitBin = new Int32Array(0);
  private splitMissingLeft = new Uint8Array(0);
  private splitSet = new Int32Array(0);
  private splitSets = new Uint32Array(0);
  private splitSetCount = 0;
  private leftG = new Float64Array(0);
  private leftH = new Float64Array(0);
  private leftN = new Int32Array(0);

  // The current tree's inputs.
  private grad: Float64Array = new Float64Array(0);
  private hess: Float64Array | null = null;
  private features: Int32Array = new Int32Array(0);
  private rng: Rng | null = null;

  constructor(
    private readonly binned: BinnedMatrix,
    private readonly mapper: BinMapper,
    private readonly options: GrowerOptions,
    outputs: number,
    rowMajor?: { readonly bins: Uint8Array; readonly threads: number },
  ) {
    const K = options.channels;
    this.K = K;
    this.S = K + 2;
    this.F = binned.cols;
    this.N = binned.rows;
    this.featureHist = BIN_SLOTS * this.S;
    this.builder = new TreeBuilder(outputs);
    this.rowBins = rowMajor ? rowMajor.bins : null;
    this.anyCategorical = mapper.categorical.some((c) => c === 1);
    this.pool =
      rowMajor && K === 1 && options.maxFeatures >= binned.cols
        ? new HistogramPool(rowMajor.bins, this.F, mapper.nBins, this.N, rowMajor.threads, binned.bins)
        : null;
    this.order = this.pool ? this.pool.order : new Uint32Array(this.N);
    this.tmp = new Uint32Array(this.N);
    this.tmpG = new Float64Array(this.N * K);
    this.tmpH = new Float64Array(this.N);
    this.side = new Uint8Array(this.N);
    this.og = new Float64Array(this.N * K);
    this.oh = new Float64Array(this.N);
    this.scratch = new Float64Array(this.featureHist);
    this.scanG = new Float64Array(K);
    this.bestG = new Float64Array(K);
    this.totalG = new Float64Array(K);
    this.perm = new Int32Array(this.F);
    this.heap = new GainHeap(() => this.splitGain);
    this.ensureNodes(64);
  }

  /**
   * Grows a tree on `sample` (ascending row indices of the binned matrix; a row may not repeat:
   * use `hess` as weights for a bootstrap) with gradients `grad` (K per row, row-major) and
   * hessians `hess` (null: 1 per row), searching the features in `features`.
   */
  grow(
    sample: ArrayLike<number>,
    grad: Float64Array,
    hess: Float64Array | null,
    features: Int32Array,
    leafValue: LeafValueFn,
    rng: Rng,
  ): GrownTree {
    const m = sample.length;
    if (m === 0) throw new RangeError('cannot grow a tree on zero rows');
    const pool = this.pool;
    if (pool) {
      pool.setTree(features, grad, hess);
      pool.reset();
    }
    this.hSlot = pool && hess === null ? this.K + 1 : this.K;
    // Packed histograms: the tree is grown on the fixed-point gradients and hessians, whose sums are exact.
    this.packing = pool ? pool.packing : null;
    if (this.packing) {
      grad = pool!.exact;
      if (hess) hess = pool!.exactHess;
    }
    this.grad = grad;
    this.hess = hess;
    this.features = features;
    this.rng = rng;
    if (this.perm.length < features.length) this.perm = new Int32Array(features.length);
    const { K } = this;
    const opt = this.options;
    const order = this.order;
    for (let k = 0; k < m; k++) order[k] = sample[k]!;
    this.builder.reset();
    this.splitSetCount = 0;
    // Every histogram is free between trees.
    this.freeSlots.length = 0;
    for (let slot = this.histPool.length - 1; slot >= 0; slot--) this.freeSlots.push(slot);

    const root = this.newNode(0, m, 0);
    const G = this.nodeG;
    const rootG = root * K;
    let H = 0;
    if (pool && K === 1) {
      // The pool reads gradients by row: sum them directly, no gathering.
      let g = 0;
      for (let k = 0; k < m; k++) {
        const i = order[k]!;
        g += grad[i]!;
        H += hess ? hess[i]! : 1;
      }
      G[rootG] = g;
    } else {
      this.gatherGradients(0, m);
      for (let k = 0; k < m; k++) {
        for (let c = 0; c < K; c++) G[rootG + c]! += this.og[k * K + c]!;
        H += this.oh[k]!;
      }
    }
    this.nodeH[root] = H;
    const bounded = Number.isFinite(opt.maxLeafNodes);
    const allFeatures = opt.maxFeatures >= features.length;
    if (this.splittable(root)) {
      if (allFeatures && m >= SMALL_NODE) {
        this.nodeSlot[root] = this.acquireSlot();
        this.buildHistograms(this.nodeSlot[root]!, 0, m);
      }
      this.findSplit(root);
    }
    this.heap.clear();
    this.stack.length = 0;
    let leaves = 1;
    const frontier = (id: number) => {
      if (this.splitFeature[id]! < 0) {
        this.finishLeaf(id, leafValue);
        return;
      }
      if (bounded) this.heap.push(id);
      else this.stack.push(id);
    };
    frontier(root);
    while (bounded ? this.heap.length > 0 : this.stack.length > 0) {
      const id = bounded ? this.heap.pop() : this.stack.pop()!;
      if (leaves >= opt.maxLeafNodes) {
        this.finishLeaf(id, leafValue);
        continue;
      }
      // Children are created side by side: left, then right = left + 1.
      const left = this.split(id);
      const right = left + 1;
      leaves++;
      if (leaves >= opt.maxLeafNodes) {
        // The last split allowed: its children stay leaves, no histogram or search needed (scikit-learn too).
        const slot = this.nodeSlot[id]!;
        if (slot >= 0) this.freeSlot(slot);
        this.nodeSlot[id] = -1;
        this.finishLeaf(left, leafValue);
        this.finishLeaf(right, leafValue);
        continue;
      }
      this.prepareChildren(id, left, right, allFeatures);
      if (this.splittable(left)) this.findSplit(left);
      if (this.splittable(right)) this.findSplit(right);
      this.releaseSlot(left);
      this.releaseSlot(right);
      frontier(left);
      frontier(right);
    }
    const tree = this.builder.finish();
    const nodes = tree.feature.length;
    return {
      tree,
      rows: order.subarray(0, m),
      begin: this.nodeBegin.slice(0, nodes),
      end: this.nodeEnd.slice(0, nodes),
    };
  }

  private ensureNodes(n: number): void {
    if (n <= this.cap) return;
    let c = Math.max(64, this.cap);
    while (c < n) c *= 2;
    const K = this.K;
    const widen = <T extends Int32Array | Float64Array | Uint8Array | Uint32Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.nodeBegin = widen(this.nodeBegin, c);
    this.nodeEnd = widen(this.nodeEnd, c);
    this.nodeDepth = widen(this.nodeDepth, c);
    this.nodeG = widen(this.nodeG, c * K);
    this.nodeH = widen(this.nodeH, c);
    this.nodeSlot = widen(this.nodeSlot, c);
    this.splitGain = widen(this.splitGain, c);
    this.splitFeature = widen(this.splitFeature, c);
    this.splitBin = widen(this.splitBin, c);
    this.splitMissingLeft = widen(this.splitMissingLeft, c);
    this.splitSet = widen(this.splitSet, c);
    this.leftG = widen(this.leftG, c * K);
    this.leftH = widen(this.leftH, c);
    this.leftN = widen(this.leftN, c);
    this.cap = c;
  }

  private newNode(begin: number, end: number, depth: number): number {
    const id = this.builder.add(end - begin);
    this.ensureNodes(id + 1);
    this.nodeBegin[id] = begin;
    this.nodeEnd[id] = end;
    this.nodeDepth[id] = depth;
    this.nodeG.fill(0, id * this.K, (id + 1) * this.K);
    this.nodeH[id] = 0;
    this.nodeSlot[id] = -1;
    this.splitGain[id] = 0;
    this.splitFeature[id] = -1;
    this.splitSet[id] = -1;
    return id;
  }

  private splittable(id: number): boolean {
    const opt = this.options;
    const n = this.nodeEnd[id]! - this.nodeBegin[id]!;
    return (
      this.nodeDepth[id]! < opt.maxDepth &&
      n >= 2 * opt.minSamplesLeaf &&
      n >= 2 &&
      this.nodeH[id]! >= 2 * opt.minHessianLeaf
    );
  }

  /** Stops the helper thread, if any. The grower can still grow trees, on this thread only. */
  close(): void {
    this.pool?.close();
  }

  private hist(slot: number): Float64Array {
    return this.pool ? this.pool.histogram(slot) : this.histPool[slot]!;
  }

  private freeSlot(slot: number): void {
    if (this.pool) this.pool.release(slot);
    else this.freeSlots.push(slot);
  }

  private acquireSlot(): number {
    if (this.pool) return this.pool.acquire();
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    this.histPool.push(new Float64Array(this.F * this.featureHist));
    return this.histPool.length - 1;
  }

  /** Returns a node's histogram to the pool unless the node has a split to make (its children need it). */
  private releaseSlot(id: number): void {
    const slot = this.nodeSlot[id]!;
    if (slot < 0 || this.splitFeature[id]! >= 0) return;
    this.freeSlot(slot);
    this.nodeSlot[id] = -1;
  }

  /** Copies the gradients and hessians of rows order[begin..end) into og / oh at the same positions. */
  private gatherGradients(begin: number, end: number): void {
    const { K, og, oh, order, grad, hess } = this;
    if (K === 1) {
      for (let k = begin; k < end; k++) og[k] = grad[order[k]!]!;
    } else {
      for (let k = begin; k < end; k++) {
        const i = order[k]! * K;
        for (let c = 0; c < K; c++) og[k * K + c] = grad[i + c]!;
      }
    }
    if (hess) for (let k = begin; k < end; k++) oh[k] = hess[order[k]!]!;
    else oh.fill(1, begin, end);
  }

  /** Histograms of every active feature over rows order[begin..end), written into a pooled slot. */
  private buildHistograms(slot: number, begin: number, end: number): void {
    if (this.pool) {
      this.pool.build(slot, begin, end);
      return;
    }
    const hist = this.histPool[slot]!;
    const features = this.features;
    for (let t = 0; t < features.length; t++) {
      const f = features[t]!;
      this.accumulate(hist, f * this.featureHist, f, begin, end);
    }
  }

  /** Clears the slots feature f can use: its value bins and the missing bin. */
  private clear(hist: Float64Array, offset: number, f: number): void {
    const S = this.S;
    hist.fill(0, offset, offset + this.mapper.nBins[f]! * S);
    hist.fill(0, offset + MISSING_BIN * S, offset + BIN_SLOTS * S);
  }

  /** Clears and fills the histogram of feature f at hist[offset..] from rows order[begin..end). */
  private accumulate(hist: Float64Array, offset: number, f: number, begin: number, end: number): void {
    this.clear(hist, offset, f);
    const { bins } = this.binned;
    const base = f * this.N;
    const { order, og, oh, K } = this;
    if (K === 1) {
      // The hot loop of the whole library: one byte, two doubles and a counter per row.
      for (let k = begin; k < end; k++) {
        const o = offset + bins[base + order[k]!]! * 3;
        hist[o]! += og[k]!;
        hist[o + 1]! += oh[k]!;
        hist[o + 2]!++;
      }
      return;
    }
    const S = this.S;
    for (let k = begin; k < end; k++) {
      const o = offset + bins[base + order[k]!]! * S;
      for (let c = 0; c < K; c++) hist[o + c]! += og[k * K + c]!;
      hist[o + K]! += oh[k]!;
      hist[o + K + 1]!++;
    }
  }

  /**
   * Histograms of a new split's children: if the parent had one, the smaller child's is built from
   * its rows and the larger one's is the parent's minus it (in the parent's buffer). Small
   * children need none: their splits are searched from the bins they touch.
   */
  private prepareChildren(parent: number, left: number, right: number, allFeatures: boolean): void {
    const parentSlot = this.nodeSlot[parent]!;
    this.nodeSlot[parent] = -1;
    if (!allFeatures) return;
    const wantLeft = this.splittable(left) && this.nodeEnd[left]! - this.nodeBegin[left]! >= SMALL_NODE;
    const wantRight = this.splittable(right) && this.nodeEnd[right]! - this.nodeBegin[right]! >= SMALL_NODE;
    if (!wantLeft && !wantRight) {
      if (parentSlot >= 0) this.freeSlot(parentSlot);
      return;
    }
    const nLeft = this.nodeEnd[left]! - this.nodeBegin[left]!;
    const nRight = this.nodeEnd[right]! - this.nodeBegin[right]!;
    const small = nLeft <= nRight ? left : right;
    const large = small === left ? right : left;
    const smallSlot = this.acquireSlot();
    this.buildHistograms(smallSlot, this.nodeBegin[small]!, this.nodeEnd[small]!);
    this.nodeSlot[small] = smallSlot;
    if (parentSlot >= 0 && this.pool) {
      this.pool.subtract(parentSlot, smallSlot);
      this.nodeSlot[large] = parentSlot;
    } else if (parentSlot >= 0) {
      const parentHist = this.histPool[parentSlot]!;
      const smallHist = this.histPool[smallSlot]!;
      const features = this.features;
      const S = this.S;
      for (let t = 0; t < features.length; t++) {
        const f = features[t]!;
        const from = f * this.featureHist;
        const to = from + this.mapper.nBins[f]! * S;
        for (let o = from; o < to; o++) parentHist[o]! -= smallHist[o]!;
        for (let o = from + MISSING_BIN * S; o < from + BIN_SLOTS * S; o++) parentHist[o]! -= smallHist[o]!;
      }
      this.nodeSlot[large] = parentSlot;
    } else {
      const largeSlot = this.acquireSlot();
      this.buildHistograms(largeSlot, this.nodeBegin[large]!, this.nodeEnd[large]!);
      this.nodeSlot[large] = largeSlot;
    }
  }

  /** Finds the best split of a node and records it (splitFeature stays −1 when nothing gains). */
  private findSplit(id: number): void {
    const { K, options: opt, features } = this;
    const begin = this.nodeBegin[id]!;
    const end = this.nodeEnd[id]!;
    const total = this.totalG;
    for (let c = 0; c < K; c++) total[c] = this.nodeG[id * K + c]!;
    const H = this.nodeH[id]!;
    const n = end - begin;
    let parentScore = 0;
    for (let c = 0; c < K; c++) parentScore += (total[c]! * total[c]!) / (H + opt.l2);
    // `best.gain` holds the children's score: a split must beat the parent's by minGainToSplit,
    // and by more than rounding noise (a pure or constant node "gains" only that).
    this.best.gain = parentScore + Math.max(opt.minGainToSplit, 1e-12 * Math.abs(parentScore));
    this.best.feature = -1;
    const slot = this.nodeSlot[id]!;
    // With a pool the gradients are not carried in node order: gather them for a search from rows.
    if (this.pool && slot < 0) this.gatherGradients(begin, end);
    if (n === 2 && K === 1 && this.rowBins && !this.anyCategorical && opt.maxFeatures >= features.length) {
      // (a histogram of the node, if any, came without gathering the gradients: gather them)
      if (this.pool && slot >= 0) this.gatherGradients(begin, end);
      this.splitTwo(begin, H);
    } else if (opt.maxFeatures >= features.length) {
      const packing = this.packing;
      for (let t = 0; t < features.length; t++) {
        const f = features[t]!;
        if (slot >= 0 && packing) this.scanPackedFeature(this.hist(slot), f, packing, H, n);
        else if (slot >= 0) this.scanFeature(this.hist(slot), f * this.featureHist, f, null, 0, H, n);
        else this.scanRows(f, begin, end, H, n);
      }
    } else {
      // Draw features without replacement until maxFeatures non-constant ones were searched (Breiman 2001;
      // scikit-learn keeps drawing past constant features, and so do we).
      const perm = this.perm;
      const count = features.length;
      for (let t = 0; t < count; t++) perm[t] = features[t]!;
      const rng = this.rng!;
      let searched = 0;
      for (let t = 0; t < count && searched < opt.maxFeatures; t++) {
        const pick = t + rng.int(count - t);
        const f = perm[pick]!;
        perm[pick] = perm[t]!;
        perm[t] = f;
        const constant = this.scanRows(f, begin, end, H, n);
        if (!constant) searched++;
      }
    }
    const best = this.best;
    if (best.feature < 0) return;
    this.splitFeature[id] = best.feature;
    this.splitGain[id] = best.gain - parentScore;
    this.splitBin[id] = best.bin;
    this.splitMissingLeft[id] = best.missingLeft ? 1 : 0;
    for (let c = 0; c < K; c++) this.leftG[id * K + c] = this.bestG[c]!;
    this.leftH[id] = best.HL;
    this.leftN[id] = best.nL;
    if (best.categorical) {
      const need = (this.splitSetCount + 1) * SET_WORDS;
      if (need > this.splitSets.length) {
        const next = new Uint32Array(Math.max(need, this.splitSets.length * 2));
        next.set(this.splitSets);
        this.splitSets = next;
      }
      this.splitSets.set(this.bestBits, this.splitSetCount * SET_WORDS);
      this.splitSet[id] = this.splitSetCount++;
    } else this.splitSet[id] = -1;
  }

  private readonly best = {
    gain: 0,
    feature: -1,
    bin: 0,
    missingLeft: false,
    categorical: false,
    HL: 0,
    nL: 0,
  };

  /**
   * A node of two rows, as deep trees have by the thousand: every feature whose bins differ
   * makes the same partition (the smaller bin left; a missing value is the larger bin), hence the
   * same gain, and the first such feature wins as in the general search.
   */
  private splitTwo(begin: number, H: number): void {
    const { order, rowBins, F, features, og, oh, best } = this;
    const { l2, minHessianLeaf } = this.options;
    const i0 = order[begin]! * F;
    const i1 = order[begin + 1]! * F;
    for (let t = 0; t < features.length; t++) {
      const f = features[t]!;
      const b0 = rowBins![i0 + f]!;
      const b1 = rowBins![i1 + f]!;
      if (b0 === b1) continue;
      const lo = b0 < b1 ? 0 : 1;
      const gl = og[begin + lo]!;
      const hl = oh[begin + lo]!;
      const gr = og[begin + 1 - lo]!;
      const hr = H - hl;
      if (hl < minHessianLeaf || hr < minHessianLeaf) return;
      const score = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2);
      if (score <= best.gain) return;
      const high = Math.max(b0, b1);
      // As scanNumeric: without missing rows the split is at the lower bin, unseen missing values go left
      // (equal sides); with the larger "bin" missing, all values go left and missing values right.
      this.takeTiny(score, f, high === MISSING_BIN ? 254 : Math.min(b0, b1), high !== MISSING_BIN, gl, hl, 1);
      return;
    }
  }

  /** Split search of feature f from the node's rows (no histogram of the node). Returns true if f is constant here. */
  private scanRows(f: number, begin: number, end: number, H: number, n: number): boolean {
    if (this.K === 1 && n <= TINY_NODE && !this.mapper.categorical[f])
      return this.scanTiny(f, begin, end, H, n);
    return this.scanFromRows(f, begin, end, H, n);
  }

  /**
   * Split search of a numeric feature in a node of a few rows: the rows sorted by bin (insertion
   * sort), then one pass evaluating each boundary between bins, with missing values (the last
   * bin) sent either way as in `scanNumeric`. At the last levels of a deep tree this replaces
   * thousands of histogram slots per node by a handful of rows.
   */
  private scanTiny(f: number, begin: number, end: number, H: number, n: number): boolean {
    const { order, og, oh, tinyBin: keys, tinyG: tg, tinyH: th, rowBins, F } = this;
    const bins = rowBins ?? this.binned.bins;
    // Row-major: byte f of each row (its line is shared by all features); column-major: column f.
    const stride = rowBins ? F : 1;
    const base = rowBins ? f : f * this.N;
    const m = end - begin;
    // Sort keys bin·32 + k (k < TINY_NODE ≤ 32): one integer per row to move, ties in row order.
    for (let k = 0; k < m; k++) {
      const key = (bins[base + order[begin + k]! * stride]! << 5) | k;
      let p = k - 1;
      while (p >= 0 && keys[p]! > key) {
        keys[p + 1] = keys[p]!;
        p--;
      }
      keys[p + 1] = key;
    }
    const tb = this.tinySorted;
    for (let k = 0; k < m; k++) {
      const key = keys[k]!;
      tb[k] = key >> 5;
      tg[k] = og[begin + (key & 31)]!;
      th[k] = oh[begin + (key & 31)]!;
    }
    if (tb[0] === tb[m - 1]) return true;
    let values = m;
    let Gm = 0;
    let Hm = 0;
    while (values > 0 && tb[values - 1] === MISSING_BIN) {
      values--;
      Gm += tg[values]!;
      Hm += th[values]!;
    }
    const nm = m - values;
    let gl = 0;
    let hl = 0;
    let nl = 0;
    for (let k = 0; k < values; k++) {
      gl += tg[k]!;
      hl += th[k]!;
      nl++;
      if (k + 1 < values && tb[k + 1] === tb[k]) continue;
      const valuesRight = k + 1 < values;
      if (!valuesRight && nm === 0) break;
      this.tryCuts(f, tb[k]!, valuesRight, H, n, gl, hl, nl, nm, Gm, Hm);
    }
    return false;
  }

  private takeTiny(
    score: number,
    f: number,
    bin: number,
    missingLeft: boolean,
    GL: number,
    HL: number,
    nL: number,
  ): void {
    const best = this.best;
    best.gain = score;
    best.feature = f;
    best.bin = bin;
    best.missingLeft = missingLeft;
    best.categorical = false;
    best.HL = HL;
    best.nL = nL;
    this.bestG[0] = GL;
  }

  /**
   * Split search of feature f from the node's rows: accumulates only the bins the rows touch
   * (their slots in `scratch` are cleared afterwards) and visits them in ascending order, found
   * from a 256-bit mask rather than by sorting. Cheaper than a full histogram scan whenever a node
   * touches fewer bins than the feature has, which is what deep trees' nodes do.
   */
  private scanFromRows(f: number, begin: number, end: number, H: number, n: number): boolean {
    const { order, og, oh, K, S, scratch, touched, setBits, rowBins, F } = this;
    const bins = rowBins ?? this.binned.bins;
    const stride = rowBins ? F : 1;
    const base = rowBins ? f : f * this.N;
    let t = 0;
    if (K === 1) {
      for (let k = begin; k < end; k++) {
        const o = bins[base + order[k]! * stride]! * 3;
        if (scratch[o + 2] === 0) touched[t++] = o / 3;
        scratch[o]! += og[k]!;
        scratch[o + 1]! += oh[k]!;
        scratch[o + 2]!++;
      }
    } else {
      for (let k = begin; k < end; k++) {
        const b = bins[base + order[k]! * stride]!;
        const o = b * S;
        if (scratch[o + K + 1] === 0) touched[t++] = b;
        for (let c = 0; c < K; c++) scratch[o + c]! += og[k * K + c]!;
        scratch[o + K]! += oh[k]!;
        scratch[o + K + 1]!++;
      }
    }
    // Ascending order through a bit mask: O(t + 8) instead of a sort.
    setBits.fill(0);
    for (let a = 0; a < t; a++) setBits[touched[a]! >>> 5]! |= 1 << (touched[a]! & 31);
    let u = 0;
    for (let w = 0; w < SET_WORDS; w++) {
      let word = setBits[w]!;
      while (word !== 0) {
        const low = word & -word;
        touched[u++] = (w << 5) + 31 - Math.clz32(low);
        word ^= low;
      }
    }
    // The missing bin (255) comes last; scanFeature reads it from its own slot.
    const values = t > 0 && touched[t - 1] === MISSING_BIN ? t - 1 : t;
    const constant = this.scanFeature(scratch, 0, f, touched, values, H, n);
    for (let a = 0; a < t; a++) scratch.fill(0, touched[a]! * S, touched[a]! * S + S);
    return constant;
  }

  /**
   * Scans the histogram of feature f (at hist[offset..]) for the best split and updates `best`.
   * `list` holds the value bins to visit in ascending order (null: all of 0..nBins−1, skipping
   * empty ones). Returns true when the node's rows all share one bin of f (nothing to split).
   */
  private scanFeature(
    hist: Float64Array,
    offset: number,
    f: number,
    list: Int32Array | null,
    listLength: number,
    H: number,
    n: number,
  ): boolean {
    const { K, S } = this;
    const len = list ? listLength : this.mapper.nBins[f]!;
    const bins = list ?? this.allBins;
    const mo = offset + MISSING_BIN * S;
    const nMissing = hist[mo + K + 1]!;
    let nonEmpty = nMissing > 0 ? 1 : 0;
    for (let t = 0; t < len && nonEmpty < 2; t++) if (hist[offset + bins[t]! * S + K + 1]! > 0) nonEmpty++;
    if (nonEmpty < 2) return true;
    if (this.mapper.categorical[f] && K === 1) this.scanCategorical(hist, offset, f, bins, len, H, n);
    else this.scanNumeric(hist, offset, f, bins, len, H, n);
    return false;
  }

  /**
   * Numeric split search: left = value bins ≤ b, for each b in turn; rows with a missing value go
   * to whichever side gains more (XGBoost's sparsity-aware split finding, Algorithm 3), or, when the
   * node has none, to the side with more rows (scikit-learn). Also tries "all values left,
   * missing right".
   */
  private scanNumeric(
    hist: Float64Array,
    offset: number,
    f: number,
    bins: Int32Array,
    len: number,
    H: number,
    n: number,
  ): void {
    const { K, S, totalG, scanG, best } = this;
    if (K === 1 && bins === this.allBins) {
      this.scanNumeric1(hist, offset, f, len, H, n);
      return;
    }
    const { minSamplesLeaf, minHessianLeaf, l2 } = this.options;
    const mo = offset + MISSING_BIN * S;
    const Hm = hist[mo + this.hSlot]!;
    const nm = hist[mo + K + 1]!;
    scanG.fill(0);
    let HL = 0;
    let nL = 0;
    // The last non-empty value bin: a split there leaves no value on the right.
    let last = len - 1;
    while (last >= 0 && hist[offset + bins[last]! * S + K + 1]! === 0) last--;
    for (let t = 0; t <= last; t++) {
      const b = bins[t]!;
      const o = offset + b * S;
      const cnt = hist[o + K + 1]!;
      if (cnt === 0) continue;
      for (let c = 0; c < K; c++) scanG[c]! += hist[o + c]!;
      HL += hist[o + this.hSlot]!;
      nL += cnt;
      const valuesRight = t < last;
      if (!valuesRight && nm === 0) break;
      // Missing right: (values ≤ b) | (values > b, missing).
      let nl = nL;
      let hl = HL;
      if (
        nl >= minSamplesLeaf &&
        n - nl >= minSamplesLeaf &&
        hl >= minHessianLeaf &&
        H - hl >= minHessianLeaf
      ) {
        let score = 0;
        for (let c = 0; c < K; c++) {
          const gl = scanG[c]!;
          const gr = totalG[c]! - gl;
          score += (gl * gl) / (hl + l2) + (gr * gr) / (H - hl + l2);
        }
        if (score > best.gain) {
          // Without missing rows here, unseen missing values follow the larger side.
          this.take(score, f, valuesRight ? b : 254, nm === 0 && nl >= n - nl, hl, nl, null, 0);
        }
      }
      if (nm === 0 || !valuesRight) continue;
      // Missing left: (values ≤ b, missing) | (values > b).
      nl = nL + nm;
      hl = HL + Hm;
      if (
        nl >= minSamplesLeaf &&
        n - nl >= minSamplesLeaf &&
        hl >= minHessianLeaf &&
        H - hl >= minHessianLeaf
      ) {
        let score = 0;
        for (let c = 0; c < K; c++) {
          const gl = scanG[c]! + hist[mo + c]!;
          const gr = totalG[c]! - gl;
          score += (gl * gl) / (hl + l2) + (gr * gr) / (H - hl + l2);
        }
        if (score > best.gain) this.take(score, f, b, true, hl, nl, hist, mo);
      }
    }
  }

  /**
   * `scanNumeric` for one channel over a full histogram (stride 3, bins 0..len−1), with scalars
   * instead of the channel arrays: split finding visits every bin of every feature of every
   * node, and this is its common case (boosting).
   */
  private scanNumeric1(
    hist: Float64Array,
    offset: number,
    f: number,
    len: number,
    H: number,
    n: number,
  ): void {
    const hSlot = this.hSlot;
    const mo = offset + MISSING_BIN * 3;
    const Gm = hist[mo]!;
    const Hm = hist[mo + hSlot]!;
    const nm = hist[mo + 2]!;
    let last = len - 1;
    while (last >= 0 && hist[offset + last * 3 + 2]! === 0) last--;
    let GL = 0;
    let HL = 0;
    let nL = 0;
    for (let b = 0, o = offset; b <= last; b++, o += 3) {
      const cnt = hist[o + 2]!;
      if (cnt === 0) continue;
      GL += hist[o]!;
      HL += hist[o + hSlot]!;
      nL += cnt;
      const valuesRight = b < last;
      if (!valuesRight && nm === 0) break;
      this.tryCuts(f, b, valuesRight, H, n, GL, HL, nL, nm, Gm, Hm);
    }
  }

  /**
   * Split search of feature f in a packed histogram (see `packGradients`): each bin's count and
   * gradient sum are decoded from its first double, its hessian sum from the second (two slots)
   * or is its count (one slot). Numeric features are scanned as in `scanNumeric1`; a categorical
   * feature's histogram is unpacked into `scratch` for the general search.
   */
  private scanPackedFeature(
    hist: Float64Array,
    f: number,
    packing: GradientPacking,
    H: number,
    n: number,
  ): void {
    const { unit, invUnit, step, hessianStep, slots } = packing;
    const offset = f * PACKED_SPAN * slots;
    const len = this.mapper.nBins[f]!;
    if (this.mapper.categorical[f]) {
      const scratch = this.scratch;
      for (let b = 0; b < BIN_SLOTS; b++) {
        if (b === len) b = MISSING_BIN;
        const o = offset + b * slots;
        const v = hist[o]!;
        if (v === 0) continue;
        const count = v * invUnit + ROUND - ROUND;
        scratch[b * 3] = (v - count * unit) * step;
        scratch[b * 3 + 1] = slots === 2 ? hist[o + 1]! * hessianStep : count;
        scratch[b * 3 + 2] = count;
      }
      // (hSlot is 1 with hessians, 2 without: both read a hessian sum written above.)
      this.scanFeature(scratch, 0, f, null, 0, H, n);
      scratch.fill(0, 0, BIN_SLOTS * 3);
      return;
    }
    // A bin's count and gradient sum from its first double, its hessian sum from the second.
    const mo = offset + MISSING_BIN * slots;
    const nm = hist[mo]! * invUnit + ROUND - ROUND;
    const Gm = (hist[mo]! - nm * unit) * step;
    const Hm = slots === 2 ? hist[mo + 1]! * hessianStep : nm;
    // An empty bin sums to exactly 0; a bin with rows to more than unit / 2.
    let last = len - 1;
    while (last >= 0 && hist[offset + last * slots] === 0) last--;
    let first = 0;
    while (first <= last && hist[offset + first * slots] === 0) first++;
    // One bin of values and no missing ones, or none at all: nothing to split.
    if (first >= last && nm === 0) return;
    let GL = 0;
    let HL = 0;
    let nL = 0;
    for (let b = first, o = offset + first * slots; b <= last; b++, o += slots) {
      const v = hist[o]!;
      if (v === 0) continue;
      const count = v * invUnit + ROUND - ROUND;
      GL += (v - count * unit) * step;
      HL += slots === 2 ? hist[o + 1]! * hessianStep : count;
      nL += count;
      const valuesRight = b < last;
      if (!valuesRight && nm === 0) break;
      this.tryCuts(f, b, valuesRight, H, n, GL, HL, nL, nm, Gm, Hm);
    }
  }

  /**
   * The candidate splits after bin b of feature f, whose bins up to b sum to GL, HL, nL: missing
   * rows (nm, Gm, Hm) right, and when there are some and values remain right, missing rows left.
   * Records the better ones in `best`; every numeric scan ends each bin here.
   */
  private tryCuts(
    f: number,
    b: number,
    valuesRight: boolean,
    H: number,
    n: number,
    GL: number,
    HL: number,
    nL: number,
    nm: number,
    Gm: number,
    Hm: number,
  ): void {
    const { minSamplesLeaf, minHessianLeaf, l2 } = this.options;
    const G = this.totalG[0]!;
    const best = this.best;
    if (
      nL >= minSamplesLeaf &&
      n - nL >= minSamplesLeaf &&
      HL >= minHessianLeaf &&
      H - HL >= minHessianLeaf
    ) {
      const GR = G - GL;
      const score = (GL * GL) / (HL + l2) + (GR * GR) / (H - HL + l2);
      // Without missing rows here, unseen missing values follow the larger side.
      if (score > best.gain)
        this.takeTiny(score, f, valuesRight ? b : 254, nm === 0 && nL >= n - nL, GL, HL, nL);
    }
    if (nm === 0 || !valuesRight) return;
    const nl = nL + nm;
    const hl = HL + Hm;
    if (
      nl >= minSamplesLeaf &&
      n - nl >= minSamplesLeaf &&
      hl >= minHessianLeaf &&
      H - hl >= minHessianLeaf
    ) {
      const gl = GL + Gm;
      const gr = G - gl;
      const score = (gl * gl) / (hl + l2) + (gr * gr) / (H - hl + l2);
      if (score > best.gain) this.takeTiny(score, f, b, true, gl, hl, nl);
    }
  }

  /** Records a better numeric split; the left sums are scanG, plus the missing bin at hist[mo..] when given. */
  private take(
    score: number,
    f: number,
    bin: number,
    missingLeft: boolean,
    HL: number,
    nL: number,
    hist: Float64Array | null,
    mo: number,
  ): void {
    const best = this.best;
    best.gain = score;
    best.feature = f;
    best.bin = bin;
    best.missingLeft = missingLeft;
    best.categorical = false;
    best.HL = HL;
    best.nL = nL;
    for (let c = 0; c < this.K; c++) this.bestG[c] = this.scanG[c]! + (hist ? hist[mo + c]! : 0);
  }

  /**
   * Categorical split search (Fisher 1958 for one channel; LightGBM's many-vs-many categorical
   * splits, scikit-learn 1.2's `_find_best_bin_to_split_category`): categories with enough rows,
   * the missing values as one more category, sorted by G / (H + smoothing); the left set is a
   * prefix of that order (either direction) of at most 32 categories.
   */
  private scanCategorical(
    hist: Float64Array,
    offset: number,
    f: number,
    bins: Int32Array,
    len: number,
    H: number,
    n: number,
  ): void {
    const { S, totalG, best, catOrder, catKey } = this;
    const { minSamplesLeaf, minHessianLeaf, l2, minCategorySupport, categorySmoothing } = this.options;
    const support = Math.max(1, minCategorySupport);
    let used = 0;
    // The value bins, then the missing bin as one more category.
    for (let t = 0; t <= len; t++) {
      const b = t < len ? bins[t]! : MISSING_BIN;
      const o = offset + b * S;
      if (hist[o + 2]! >= support) {
        catOrder[used++] = b;
        catKey[b] = hist[o]! / (hist[o + this.hSlot]! + categorySmoothing);
      }
    }
    if (used < 2) return;
    // Insertion sort by key, ties by bin: used ≤ 256.
    for (let a = 1; a < used; a++) {
      const v = catOrder[a]!;
      let b = a - 1;
      while (
        b >= 0 &&
        (catKey[catOrder[b]!]! > catKey[v]! || (catKey[catOrder[b]!] === catKey[v] && catOrder[b]! > v))
      ) {
        catOrder[b + 1] = catOrder[b]!;
        b--;
      }
      catOrder[b + 1] = v;
    }
    const maxLeft = Math.min(MAX_CATEGORIES_LEFT, (used + 1) >> 1);
    const G = totalG[0]!;
    for (let direction = 0; direction < 2; direction++) {
      let gl = 0;
      let hl = 0;
      let nl = 0;
      for (let t = 0; t < maxLeft; t++) {
        const b = catOrder[direction === 0 ? t : used - 1 - t]!;
        const o = offset + b * S;
        gl += hist[o]!;
        hl += hist[o + this.hSlot]!;
        nl += hist[o + 2]!;
        if (nl < minSamplesLeaf || n - nl < minSamplesLeaf || hl < minHessianLeaf || H - hl < minHessianLeaf)
          continue;
        const gr = G - gl;
        const score = (gl * gl) / (hl + l2) + (gr * gr) / (H - hl + l2);
        if (score <= best.gain) continue;
        best.gain = score;
        best.feature = f;
        best.bin = 0;
        best.categorical = true;
        best.HL = hl;
        best.nL = nl;
        this.bestG[0] = gl;
        const bits = this.bestBits;
        bits.fill(0);
        for (let u = 0; u <= t; u++) {
          const c = catOrder[direction === 0 ? u : used - 1 - u]!;
          bits[c >>> 5]! |= 1 << (c & 31);
        }
        best.missingLeft = ((bits[MISSING_BIN >>> 5]! >>> (MISSING_BIN & 31)) & 1) === 1;
      }
    }
  }

  /** Partitions the node's rows by its split and creates the two children; returns the left one's id. */
  private split(id: number): number {
    const { K, binned, builder, order, tmp } = this;
    const f = this.splitFeature[id]!;
    const begin = this.nodeBegin[id]!;
    const end = this.nodeEnd[id]!;
    const bins = binned.bins;
    const base = f * this.N;
    const missingLeft = this.splitMissingLeft[id] === 1;
    const setIndex = this.splitSet[id]!;
    // Where each bin goes, as a 256-entry table: the partition then reads one byte per row. Small
    // nodes (most nodes of a deep tree) only fill the entries their rows use.
    const goLeft = this.goLeft;
    if (end - begin < 64) {
      const threshold = this.splitBin[id]!;
      const sets = this.splitSets;
      const s = setIndex * SET_WORDS;
      const missing = missingLeft ? 1 : 0;
      for (let k = begin; k < end; k++) {
        const b = bins[base + order[k]!]!;
        if (setIndex >= 0) goLeft[b] = (sets[s + (b >>> 5)]! >>> (b & 31)) & 1;
        else goLeft[b] = b === MISSING_BIN ? missing : b <= threshold ? 1 : 0;
      }
    } else if (setIndex >= 0) {
      const sets = this.splitSets;
      const s = setIndex * SET_WORDS;
      for (let b = 0; b < BIN_SLOTS; b++) goLeft[b] = (sets[s + (b >>> 5)]! >>> (b & 31)) & 1;
    } else {
      const threshold = this.splitBin[id]!;
      for (let b = 0; b < BIN_SLOTS; b++) goLeft[b] = b <= threshold ? 1 : 0;
      goLeft[MISSING_BIN] = missingLeft ? 1 : 0;
    }
    // A stable partition of the rows and, without a histogram pool, of their gradients too (kept
    // in node order, so that no node gathers them again; the pool reads them by row).
    const { og, oh, tmpG, tmpH, side } = this;
    let wl = begin;
    let wr = 0;
    if (!this.pool) for (let k = begin; k < end; k++) side[k] = goLeft[bins[base + order[k]!]!]!;
    if (this.pool) {
      // Rows only (the pool reads gradients by row), on two threads for large nodes.
      wl = begin + this.pool.partition(f, goLeft, begin, end);
    } else if (K === 1) {
      for (let k = begin; k < end; k++) {
        if (side[k] === 1) {
          order[wl] = order[k]!;
          og[wl] = og[k]!;
          oh[wl++] = oh[k]!;
        } else {
          tmp[wr] = order[k]!;
          tmpG[wr] = og[k]!;
          tmpH[wr++] = oh[k]!;
        }
      }
    } else {
      for (let k = begin; k < end; k++) {
        if (side[k] === 1) {
          order[wl] = order[k]!;
          for (let c = 0; c < K; c++) og[wl * K + c] = og[k * K + c]!;
          oh[wl++] = oh[k]!;
        } else {
          tmp[wr] = order[k]!;
          for (let c = 0; c < K; c++) tmpG[wr * K + c] = og[k * K + c]!;
          tmpH[wr++] = oh[k]!;
        }
      }
    }
    if (!this.pool) {
      // Copy the right side back; a loop for small nodes avoids a subarray object per split.
      if (wr < 64) for (let r = 0; r < wr; r++) order[wl + r] = tmp[r]!;
      else order.set(tmp.subarray(0, wr), wl);
      if (wr < 64) {
        for (let r = 0; r < wr * K; r++) og[wl * K + r] = tmpG[r]!;
        for (let r = 0; r < wr; r++) oh[wl + r] = tmpH[r]!;
      } else {
        og.set(tmpG.subarray(0, wr * K), wl * K);
        oh.set(tmpH.subarray(0, wr), wl);
      }
    }
    const depth = this.nodeDepth[id]! + 1;
    const left = this.newNode(begin, wl, depth);
    const right = this.newNode(wl, end, depth);
    // Left sums from the search, right = parent − left.
    for (let c = 0; c < K; c++) {
      const gl = this.leftG[id * K + c]!;
      this.nodeG[left * K + c] = gl;
      this.nodeG[right * K + c] = this.nodeG[id * K + c]! - gl;
    }
    this.nodeH[left] = this.leftH[id]!;
    this.nodeH[right] = this.nodeH[id]! - this.leftH[id]!;
    // Record the split in the tree.
    builder.feature[id] = f;
    builder.missingLeft[id] = missingLeft ? 1 : 0;
    builder.gain[id] = this.splitGain[id]!;
    builder.left[id] = left;
    builder.right[id] = right;
    if (setIndex >= 0) {
      this.setBits.set(this.splitSets.subarray(setIndex * SET_WORDS, (setIndex + 1) * SET_WORDS));
      builder.set[id] = builder.addSet(this.setBits);
      builder.threshold[id] = 0;
    } else {
      const bin = this.splitBin[id]!;
      builder.binThreshold[id] = bin;
      if (this.mapper.categorical[f]) {
        // Codes searched as ordered values (K > 1): code ≤ bin, exact for integers in float32.
        builder.threshold[id] = bin < MISSING_BIN - 1 ? bin : Infinity;
      } else {
        const t = this.mapper.thresholds[f]!;
        builder.threshold[id] = bin < t.length ? t[bin]! : Infinity;
      }
    }
    return left;
  }

  private finishLeaf(id: number, leafValue: LeafValueFn): void {
    const slot = this.nodeSlot[id]!;
    if (slot >= 0) {
      this.freeSlot(slot);
      this.nodeSlot[id] = -1;
    }
    const b = this.builder;
    leafValue(
      this.nodeG,
      id * this.K,
      this.nodeH[id]!,
      this.nodeEnd[id]! - this.nodeBegin[id]!,
      b.value,
      id * b.outputs,
    );
  }
}
