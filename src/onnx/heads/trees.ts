/**
 * ONNX heads of the tree models (gradient boosting and random forests): one ai.onnx.ml
 * TreeEnsembleRegressor (opset 3) over X, then the link function in double precision.
 *
 * X is cast to float and back to double before the trees: every value then is a float32 number,
 * the thresholds (float32 numbers written as doubles, nodes_values_as_tensor) compare exactly as
 * the float comparison `fround(x) ≤ t` of ml/tree/tree.ts, and ONNX Runtime, whose threshold type
 * follows the input type, sums the leaf values (target_weights_as_tensor) in double, as
 * `ensembleScores` does. The result is cast to float by the operator, as `ensembleScores` does.
 *
 * Splits:
 * - numeric: BRANCH_LEQ t, true → left, nodes_missing_value_tracks_true = missingLeft;
 * - categorical (code in a set → left): a chain of BRANCH_EQ nodes, one per code of the set,
 *   each true → the left child, false → the next link (the last: the right child); the first link
 *   tracks missing values when they go left. The links share the left child (ONNX Runtime accepts
 *   such graphs, as LightGBM's converter writes them). A set holding only the missing category is
 *   BRANCH_LEQ +∞ with the children swapped.
 */
import type { GbdtModel } from '../../ml/gbdt.js';
import type { ForestModel } from '../../ml/forest.js';
import type { TreeEnsemble } from '../../ml/tree/ensemble.js';
import { MISSING_BIN } from '../../ml/tree/binning.js';
import { SET_WORDS } from '../../ml/tree/tree.js';
import type { ModelHead } from '../export.js';
import { ML_DOMAIN, attr } from '../graph.js';
import type { GraphBuilder } from '../graph.js';
import { DataType } from '../proto.js';
import type { AttributeInit } from '../proto.js';

/** The head of a fitted gradient-boosting model. */
export function gbdtHead(model: GbdtModel): ModelHead {
  return ensembleHead(model.ensemble, model.loss === 'log_loss' ? model.classes : 0);
}

/** The head of a fitted random forest. */
export function forestHead(model: ForestModel): ModelHead {
  return ensembleHead(model.ensemble, model.task === 'classification' ? model.classes : 0);
}

/**
 * The head of any tree ensemble: `classes` > 0 makes a classifier whose probabilities are the
 * ensemble's link applied to its scores, 0 a regressor.
 */
export function ensembleHead(e: TreeEnsemble, classes: number): ModelHead {
  if (e.trees.length === 0) throw new RangeError('the ensemble has no trees');
  if (classes === 0) {
    if (e.outputs !== 1 || e.post !== 'none')
      throw new RangeError('a regression ensemble has one output and no link');
    return { kind: 'regression', write: (g, X, f) => scores(g, X, f, e) };
  }
  const expected = e.post === 'logistic' ? 1 : classes;
  if (e.outputs !== expected)
    throw new RangeError(
      `the ensemble has ${e.outputs} outputs, expected ${expected} for ${classes} classes`,
    );
  return {
    kind: 'classification',
    classes,
    write(g, X, f) {
      const z = scores(g, X, f, e);
      if (e.post === 'none') return z;
      if (e.post === 'softmax') return g.op('Softmax', [z], { attributes: [attr.int('axis', 1)] });
      const p1 = g.op('Sigmoid', [z]);
      const one = g.constant('one', { type: 'double', dims: [1], values: [1] });
      return g.op('Concat', [g.op('Sub', [one, p1]), p1], { attributes: [attr.int('axis', 1)] });
    },
  };
}

/** Cast(X → float → double), TreeEnsembleRegressor, Cast(→ double): scores double [N, outputs]. */
function scores(g: GraphBuilder, X: string, f: number, e: TreeEnsemble): string {
  const x32 = g.op('Cast', [X], { attributes: [attr.int('to', DataType.float)] });
  const x64 = g.op('Cast', [x32], { attributes: [attr.int('to', DataType.double)] });
  const y = g.op('TreeEnsembleRegressor', [x64], {
    domain: ML_DOMAIN,
    attributes: treeAttributes(e, f),
  });
  return g.op('Cast', [y], { attributes: [attr.int('to', DataType.double)] });
}

/**
 * Nodes an exported ensemble may have: about 38 bytes each in the file (5 million ≈ 190 MB), and
 * ONNX Runtime holds several times that while it loads the model.
 */
export const MAX_EXPORT_NODES = 5_000_000;

/** Total nodes of an ensemble. */
export function ensembleNodes(e: TreeEnsemble): number {
  let nodes = 0;
  for (const tree of e.trees) nodes += tree.feature.length;
  return nodes;
}

/** Refuses, with the way out, an ensemble too large to serve as one ONNX file. */
export function checkExportSize(e: TreeEnsemble): void {
  const nodes = ensembleNodes(e);
  if (nodes <= MAX_EXPORT_NODES) return;
  throw new RangeError(
    `the model has ${nodes.toLocaleString('en')} tree nodes (about ${Math.round((nodes * 38) / 2 ** 20)} MB as ONNX), ` +
      `more than the ${MAX_EXPORT_NODES.toLocaleString('en')} an exported model may have: grow smaller trees ` +
      '(minSamplesLeaf 5 or more, maxDepth or maxLeafNodes) or fewer of them',
  );
}

/** The TreeEnsembleRegressor attributes of an ensemble over f features. */
export function treeAttributes(e: TreeEnsemble, f: number): AttributeInit[] {
  checkExportSize(e);
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const missingTrue: number[] = [];
  const targetTree: number[] = [];
  const targetNode: number[] = [];
  const targetId: number[] = [];
  const weights: number[] = [];
  const node = (
    t: number,
    id: number,
    feature: number,
    mode: string,
    value: number,
    yes: number,
    no: number,
    missing: number,
  ) => {
    treeIds.push(t);
    nodeIds.push(id);
    featureIds.push(feature);
    modes.push(mode);
    values.push(value);
    trueIds.push(yes);
    falseIds.push(no);
    missingTrue.push(missing);
  };
  e.trees.forEach((tree, t) => {
    const n = tree.feature.length;
    const target = e.treeTarget[t]!;
    if (target >= e.outputs) throw new RangeError(`tree ${t} adds to output ${target} of ${e.outputs}`);
    if (tree.outputs !== (target >= 0 ? 1 : e.outputs))
      throw new RangeError(`tree ${t} has ${tree.outputs} values per leaf`);
    let extra = n;
    for (let k = 0; k < n; k++) {
      const j = tree.feature[k]!;
      if (j < 0) {
        node(t, k, 0, 'LEAF', 0, 0, 0, 0);
        const emit = (output: number, weight: number) => {
          targetTree.push(t);
          targetNode.push(k);
          targetId.push(output);
          weights.push(weight);
        };
        if (tree.outputs === 1) emit(Math.max(target, 0), tree.value[k]!);
        else {
          // Zeros add nothing, but every leaf needs at least one entry.
          let written = 0;
          for (let c = 0; c < tree.outputs; c++) {
            const w = tree.value[k * tree.outputs + c]!;
            if (w !== 0) {
              emit(c, w);
              written++;
            }
          }
          if (written === 0) emit(0, 0);
        }
        continue;
      }
      if (j >= f) throw new RangeError(`tree ${t} splits on feature ${j} of ${f}`);
      const left = tree.left[k]!;
      const right = tree.right[k]!;
      const missingLeft = tree.missingLeft[k]!;
      const set = tree.set[k]!;
      if (set < 0) {
        node(t, k, j, 'BRANCH_LEQ', tree.threshold[k]!, left, right, missingLeft);
        continue;
      }
      const codes: number[] = [];
      for (let c = 0; c < MISSING_BIN; c++) {
        if ((tree.sets[set * SET_WORDS + (c >>> 5)]! >>> (c & 31)) & 1) codes.push(c);
      }
      if (codes.length === 0) {
        // Only missing values go left: x ≤ +∞ holds for every number, NaN fails it.
        node(t, k, j, 'BRANCH_LEQ', Infinity, right, left, 0);
        continue;
      }
      // ONNX Runtime (1.30) merges a BRANCH_EQ whose false child is a BRANCH_EQ on the same feature
      // into one set test when their true children's first leaf weights are equal, even if the
      // leaves differ (another target of a forest's leaf): when this chain ends in another
      // category set on the same feature, a pass-through node (x ≤ +∞, both ways to the same
      // child) keeps the two sets apart.
      const rightIsChain = tree.feature[right] === j && tree.set[right]! >= 0;
      const bridge = rightIsChain ? extra + codes.length - 1 : -1;
      codes.forEach((c, u) => {
        const id = u === 0 ? k : extra++;
        const next = u < codes.length - 1 ? extra : bridge >= 0 ? bridge : right;
        node(t, id, j, 'BRANCH_EQ', c, left, next, u === 0 ? missingLeft : 0);
      });
      if (bridge >= 0) node(t, extra++, j, 'BRANCH_LEQ', Infinity, right, right, 0);
    }
  });
  const double = (v: readonly number[]) => ({ type: 'double' as const, dims: [v.length], values: v });
  const base = Array.from(e.base);
  return [
    attr.string('aggregate_function', e.aggregate === 'average' ? 'AVERAGE' : 'SUM'),
    ...(base.some((b) => b !== 0) ? [attr.tensor('base_values_as_tensor', double(base))] : []),
    attr.int('n_targets', e.outputs),
    attr.ints('nodes_falsenodeids', falseIds),
    attr.ints('nodes_featureids', featureIds),
    attr.ints('nodes_missing_value_tracks_true', missingTrue),
    attr.strings('nodes_modes', modes),
    attr.ints('nodes_nodeids', nodeIds),
    attr.ints('nodes_treeids', treeIds),
    attr.ints('nodes_truenodeids', trueIds),
    attr.tensor('nodes_values_as_tensor', double(values)),
    attr.string('post_transform', 'NONE'),
    attr.ints('target_ids', targetId),
    attr.ints('target_nodeids', targetNode),
    attr.ints('target_treeids', targetTree),
    attr.tensor('target_weights_as_tensor', double(weights)),
  ];
}
