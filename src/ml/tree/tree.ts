/**
 * A fitted binary decision tree in flat arrays (one entry per node, root at 0), and its traversal
 * on raw features and on bins. The two traversals agree by construction (see binning.ts):
 *
 * - numeric split:      left ⇔ fround(x) ≤ threshold   ⇔ bin ≤ binThreshold;
 * - categorical split:  left ⇔ the code is in the node's category set (at most 255 codes);
 * - missing value (NaN): left ⇔ missingLeft.
 *
 * This is the rule ONNX Runtime's TreeEnsemble applies to float inputs (BRANCH_LEQ with
 * nodes_missing_value_tracks_true; a category set as a chain of BRANCH_EQ nodes), so the ONNX
 * head in onnx/heads/trees.ts reaches the same leaf for every row.
 */
import type { Matrix } from '../types.js';
import { MISSING_BIN } from './binning.js';
import type { BinnedMatrix } from './binning.js';

/** Words of a category bitset: 256 bits, one per bin (the missing bin included). */
export const SET_WORDS = 8;

export interface Tree {
  /** Split feature, −1 for a leaf. */
  readonly feature: Int32Array;
  /** Numeric splits: float32 threshold (x ≤ threshold goes left); +∞ sends every non-missing value left. */
  readonly threshold: Float32Array;
  /** Numeric splits: the same test on bins (bin ≤ binThreshold goes left). */
  readonly binThreshold: Uint8Array;
  /** Categorical splits: index of the node's set in `sets` (SET_WORDS words each), −1 otherwise. */
  readonly set: Int32Array;
  /** Bitsets of the categories that go left; bit MISSING_BIN mirrors missingLeft. */
  readonly sets: Uint32Array;
  readonly missingLeft: Uint8Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Outputs per leaf (1 for a boosted tree or a regression forest, C for a classification forest). */
  readonly outputs: number;
  /** Leaf values, `outputs` per node (zero for split nodes). */
  readonly value: Float64Array;
  /** Split gain of each split node (0 for leaves), for gain-based importance. */
  readonly gain: Float64Array;
  /** Training rows that reached each node. */
  readonly count: Uint32Array;
}

export function nodeCount(tree: Tree): number {
  return tree.feature.length;
}

/** Whether category code c (0..254) or the missing bin goes left at categorical node `node`. */
export function inSet(tree: Tree, node: number, c: number): boolean {
  const base = tree.set[node]! * SET_WORDS;
  return ((tree.sets[base + (c >>> 5)]! >>> (c & 31)) & 1) === 1;
}

/** The leaf that row i of X (raw features, column-major) reaches. */
export function leafOfRow(tree: Tree, X: Matrix, i: number): number {
  const { feature, threshold, left, right, missingLeft, set } = tree;
  const n = X.rows;
  const data = X.data;
  let node = 0;
  for (;;) {
    const j = feature[node]!;
    if (j < 0) return node;
    const x = data[j * n + i]!;
    let goLeft: boolean;
    if (x !== x) goLeft = missingLeft[node] === 1;
    else if (set[node]! >= 0)
      goLeft = Number.isInteger(x) && x >= 0 && x < MISSING_BIN && inSet(tree, node, x);
    else goLeft = Math.fround(x) <= threshold[node]!;
    node = goLeft ? left[node]! : right[node]!;
  }
}

/** The leaf that row i of a binned matrix reaches. */
export function leafOfBinnedRow(tree: Tree, B: BinnedMatrix, i: number): number {
  const { feature, binThreshold, left, right, missingLeft, set } = tree;
  const n = B.rows;
  const bins = B.bins;
  let node = 0;
  for (;;) {
    const j = feature[node]!;
    if (j < 0) return node;
    const b = bins[j * n + i]!;
    let goLeft: boolean;
    if (b === MISSING_BIN) goLeft = missingLeft[node] === 1;
    else if (set[node]! >= 0) goLeft = inSet(tree, node, b);
    else goLeft = b <= binThreshold[node]!;
    node = goLeft ? left[node]! : right[node]!;
  }
}

/** Maximum depth (root = 0). */
export function treeDepth(tree: Tree): number {
  let deepest = 0;
  const stack: number[] = [0, 0];
  while (stack.length > 0) {
    const depth = stack.pop()!;
    const node = stack.pop()!;
    if (depth > deepest) deepest = depth;
    if (tree.feature[node]! >= 0) stack.push(tree.left[node]!, depth + 1, tree.right[node]!, depth + 1);
  }
  return deepest;
}

/** Number of leaves. */
export function leafCount(tree: Tree): number {
  let leaves = 0;
  for (let k = 0; k < tree.feature.length; k++) if (tree.feature[k]! < 0) leaves++;
  return leaves;
}

/**
 * Adds each split's gain to its feature (gain importance, the "total gain" of Friedman 2001 §8.1
 * and of LightGBM / XGBoost; for a forest it is the mean decrease in impurity of Breiman 2001).
 */
export function addGainImportance(tree: Tree, importance: Float64Array): void {
  for (let k = 0; k < tree.feature.length; k++) {
    const j = tree.feature[k]!;
    if (j >= 0) importance[j]! += tree.gain[k]!;
  }
}

/** Growable node storage used while a tree is grown; `finish` trims it to a Tree. */
export class TreeBuilder {
  private size = 0;
  private capacity: number;
  private setCount = 0;
  feature: Int32Array;
  threshold: Float32Array;
  binThreshold: Uint8Array;
  set: Int32Array;
  sets: Uint32Array;
  missingLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  gain: Float64Array;
  count: Uint32Array;

  constructor(
    readonly outputs: number,
    capacity = 64,
  ) {
    this.capacity = capacity;
    this.feature = new Int32Array(capacity);
    this.threshold = new Float32Array(capacity);
    this.binThreshold = new Uint8Array(capacity);
    this.set = new Int32Array(capacity);
    this.sets = new Uint32Array(4 * SET_WORDS);
    this.missingLeft = new Uint8Array(capacity);
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.value = new Float64Array(capacity * outputs);
    this.gain = new Float64Array(capacity);
    this.count = new Uint32Array(capacity);
  }

  get nodes(): number {
    return this.size;
  }

  /** Starts over, keeping the buffers. */
  reset(): void {
    this.size = 0;
    this.setCount = 0;
  }

  /** Appends a leaf-to-be and returns its index. */
  add(count: number): number {
    if (this.size === this.capacity) this.grow();
    const k = this.size++;
    this.feature[k] = -1;
    this.threshold[k] = 0;
    this.binThreshold[k] = 0;
    this.set[k] = -1;
    this.missingLeft[k] = 0;
    this.left[k] = -1;
    this.right[k] = -1;
    this.value.fill(0, k * this.outputs, (k + 1) * this.outputs);
    this.gain[k] = 0;
    this.count[k] = count;
    return k;
  }

  /** Stores a category bitset and returns its index. */
  addSet(bits: Uint32Array): number {
    if ((this.setCount + 1) * SET_WORDS > this.sets.length) {
      const next = new Uint32Array(this.sets.length * 2);
      next.set(this.sets);
      this.sets = next;
    }
    this.sets.set(bits.subarray(0, SET_WORDS), this.setCount * SET_WORDS);
    return this.setCount++;
  }

  private grow(): void {
    const c = this.capacity * 2;
    const widen = <T extends Int32Array | Uint32Array | Float32Array | Uint8Array | Float64Array>(
      a: T,
      size: number,
    ): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.feature = widen(this.feature, c);
    this.threshold = widen(this.threshold, c);
    this.binThreshold = widen(this.binThreshold, c);
    this.set = widen(this.set, c);
    this.missingLeft = widen(this.missingLeft, c);
    this.left = widen(this.left, c);
    this.right = widen(this.right, c);
    this.value = widen(this.value, c * this.outputs);
    this.gain = widen(this.gain, c);
    this.count = widen(this.count, c);
    this.capacity = c;
  }

  /** A compact copy of the nodes built so far. */
  finish(): Tree {
    const n = this.size;
    return {
      feature: this.feature.slice(0, n),
      threshold: this.threshold.slice(0, n),
      binThreshold: this.binThreshold.slice(0, n),
      set: this.set.slice(0, n),
      sets: this.sets.slice(0, this.setCount * SET_WORDS),
      missingLeft: this.missingLeft.slice(0, n),
      left: this.left.slice(0, n),
      right: this.right.slice(0, n),
      outputs: this.outputs,
      value: this.value.slice(0, n * this.outputs),
      gain: this.gain.slice(0, n),
      count: this.count.slice(0, n),
    };
  }
}
