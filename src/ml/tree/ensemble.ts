/**
 * A tree ensemble as ONNX's TreeEnsembleRegressor sees it (ai.onnx.ml), shared by boosting and
 * forests, and its prediction in TypeScript done the way ONNX Runtime does it, so that the
 * exported model and `ml/` agree to the last bit of the float32 scores:
 *
 *     score_k = fround( Σ_trees leaf_k  (in tree order, in double)  [/ T for 'average']  + base_k )
 *
 * then `post` in double: 'logistic' → [1 − σ(score), σ(score)] (binary boosting, Friedman 2001
 * §4.5), 'softmax' → softmax over the K scores (multiclass boosting, Friedman 2001 §4.6),
 * 'none' → the scores themselves (regression; class probabilities of a forest).
 */
import type { Matrix } from '../types.js';
import { leafOfRow } from './tree.js';
import type { Tree } from './tree.js';

export interface TreeEnsemble {
  readonly trees: readonly Tree[];
  /**
   * The score each tree adds to: `treeTarget[t]` = k for a tree with one value per leaf
   * (boosting: its class), −1 for a tree whose leaves hold all `outputs` values (forests).
   */
  readonly treeTarget: Int32Array;
  readonly outputs: number;
  readonly aggregate: 'sum' | 'average';
  /** Added to each score after aggregation (boosting's initial prediction); zeros for forests. */
  readonly base: Float64Array;
  readonly post: 'none' | 'logistic' | 'softmax';
}

/** Scores N × outputs (row-major), float32 values as ONNX Runtime's TreeEnsembleRegressor outputs them. */
export function ensembleScores(e: TreeEnsemble, X: Matrix): Float64Array {
  const K = e.outputs;
  const n = X.rows;
  const sums = new Float64Array(n * K);
  for (let t = 0; t < e.trees.length; t++) {
    const tree = e.trees[t]!;
    const target = e.treeTarget[t]!;
    const value = tree.value;
    const outputs = tree.outputs;
    for (let i = 0; i < n; i++) {
      const leaf = leafOfRow(tree, X, i);
      if (target >= 0) sums[i * K + target]! += value[leaf * outputs]!;
      else for (let k = 0; k < K; k++) sums[i * K + k]! += value[leaf * outputs + k]!;
    }
  }
  const T = e.trees.length;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      const s = e.aggregate === 'average' && T > 0 ? sums[i * K + k]! / T : sums[i * K + k]!;
      sums[i * K + k] = Math.fround(s + e.base[k]!);
    }
  }
  return sums;
}

/**
 * What the model predicts: probabilities N × C (row-major) for 'logistic' (C = 2) and 'softmax',
 * the scores for 'none' (N values for regression, N × C probabilities for a forest).
 */
export function predictEnsemble(e: TreeEnsemble, X: Matrix): Float64Array {
  const scores = ensembleScores(e, X);
  if (e.post === 'none') return scores;
  const n = X.rows;
  if (e.post === 'logistic') {
    const P = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-scores[i]!));
      P[2 * i] = 1 - p;
      P[2 * i + 1] = p;
    }
    return P;
  }
  softmaxRows(scores, n, e.outputs);
  return scores;
}

/** Row-wise softmax in place, shifted by the row maximum for stability. */
export function softmaxRows(Z: Float64Array, n: number, K: number): void {
  for (let i = 0; i < n; i++) {
    const o = i * K;
    let max = -Infinity;
    for (let k = 0; k < K; k++) if (Z[o + k]! > max) max = Z[o + k]!;
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(Z[o + k]! - max);
      Z[o + k] = e;
      sum += e;
    }
    for (let k = 0; k < K; k++) Z[o + k]! /= sum;
  }
}
