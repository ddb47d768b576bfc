/**
 * ONNX heads of the naive Bayes classifiers (`ml/naive-bayes.ts`): joint log-likelihoods, then
 * Softmax over the classes, in double, the same formulas as `ml/`:
 * - Gaussian: jll = k_c − Σⱼ h_cj·(xⱼ − θ_cj)², k_c = log P(c) − ½Σⱼ log(2πσ²_cj), h_cj = 1/(2σ²_cj),
 *   the differences broadcast over [N, C, F] (formed as differences: no cancellation for |x| ≫ σ);
 * - multinomial: jll = X·(log θ)ᵀ + log P(c), a missing (NaN) count replaced by 0 first.
 */
import type { GaussianNBModel, MultinomialNBModel } from '../../ml/naive-bayes.js';
import type { ModelHead } from '../export.js';
import { attr, type GraphBuilder } from '../graph.js';

function check(f: number, features: number): void {
  if (f !== features) throw new RangeError(`the model has ${features} features, X has ${f}`);
}

export function gaussianNBHead(model: GaussianNBModel): ModelHead {
  const C = model.classes;
  return {
    kind: 'classification',
    classes: C,
    write(g: GraphBuilder, X: string, f: number): string {
      check(f, model.features);
      const constant = new Float64Array(C);
      const h = new Float64Array(C * f);
      for (let c = 0; c < C; c++) {
        let k = model.logPrior[c]!;
        for (let j = 0; j < f; j++) {
          k -= 0.5 * Math.log(2 * Math.PI * model.variance[c * f + j]!);
          h[c * f + j] = 0.5 / model.variance[c * f + j]!;
        }
        constant[c] = k;
      }
      const axis1 = g.constant('axes', { type: 'int64', dims: [1], values: [1] });
      const axis2 = g.constant('axes', { type: 'int64', dims: [1], values: [2] });
      const mean = g.constant('mean', { type: 'double', dims: [C, f], values: model.mean });
      const diff = g.op('Sub', [g.op('Unsqueeze', [X, axis1]), mean]); // [N, C, F]
      const weighted = g.op('Mul', [
        g.op('Mul', [diff, diff]),
        g.constant('half_precision', { type: 'double', dims: [C, f], values: h }),
      ]);
      const quad = g.op('ReduceSum', [weighted, axis2], { attributes: [attr.int('keepdims', 0)] }); // [N, C]
      const jll = g.op('Sub', [
        g.constant('log_norm', { type: 'double', dims: [C], values: constant }),
        quad,
      ]);
      return g.op('Softmax', [jll], { attributes: [attr.int('axis', 1)] });
    },
  };
}

export function multinomialNBHead(model: MultinomialNBModel): ModelHead {
  const C = model.classes;
  return {
    kind: 'classification',
    classes: C,
    write(g: GraphBuilder, X: string, f: number): string {
      check(f, model.features);
      // ml/ keeps log θ as C × F; MatMul wants F × C.
      const W = new Float64Array(f * C);
      for (let c = 0; c < C; c++) for (let j = 0; j < f; j++) W[j * C + c] = model.logProb[c * f + j]!;
      const zero = g.constant('zero', { type: 'double', dims: [1], values: [0] });
      const counts = g.op('Where', [g.op('IsNaN', [X]), zero, X]);
      const jll = g.op('Add', [
        g.op('MatMul', [counts, g.constant('log_prob', { type: 'double', dims: [f, C], values: W })]),
        g.constant('log_prior', { type: 'double', dims: [C], values: model.logPrior }),
      ]);
      return g.op('Softmax', [jll], { attributes: [attr.int('axis', 1)] });
    },
  };
}
