/**
 * The ONNX head of the linear SVM (`ml/svm.ts`): decision values f = X·Wᵀ + b, Platt's
 * p_k = Sigmoid(a_k·f_k + b_k), then [1 − p, p] for two classes, or p / Σp for more (a row whose
 * sigmoids all underflowed to 0 becomes uniform), exactly as `predictSVMProba`, in double.
 */
import type { LinearSVMModel } from '../../ml/svm.js';
import type { ModelHead } from '../export.js';
import { attr, type GraphBuilder } from '../graph.js';

export function linearSVMHead(model: LinearSVMModel): ModelHead {
  const C = model.classes;
  return {
    kind: 'classification',
    classes: C,
    write(g: GraphBuilder, X: string, f: number): string {
      if (f !== model.features) throw new RangeError(`the model has ${model.features} features, X has ${f}`);
      const K = model.bias.length;
      if (K !== (C === 2 ? 1 : C) || model.weights.length !== K * f)
        throw new RangeError(`weights or bias of the wrong length for ${C} classes and ${f} features`);
      // ml/ keeps W as K × F; MatMul wants F × K.
      const Wt = new Float64Array(f * K);
      for (let k = 0; k < K; k++) for (let j = 0; j < f; j++) Wt[j * K + k] = model.weights[k * f + j]!;
      const vec = (hint: string, values: ArrayLike<number>) =>
        g.constant(hint, { type: 'double', dims: [values.length], values });
      const decision = g.op('Add', [
        g.op('MatMul', [X, g.constant('weights', { type: 'double', dims: [f, K], values: Wt })]),
        vec('bias', model.bias),
      ]);
      const z = g.op('Add', [
        g.op('Mul', [decision, vec('platt_a', model.plattA)]),
        vec('platt_b', model.plattB),
      ]);
      const p = g.op('Sigmoid', [z]);
      if (K === 1) {
        return g.op('Concat', [g.op('Sub', [vec('one', [1]), p]), p], { attributes: [attr.int('axis', 1)] });
      }
      const axis1 = g.constant('axes', { type: 'int64', dims: [1], values: [1] });
      const sum = g.op('ReduceSum', [p, axis1], { attributes: [attr.int('keepdims', 1)] });
      const isZero = g.op('Equal', [sum, vec('zero', [0])]);
      return g.op('Where', [isZero, vec('uniform', [1 / C]), g.op('Div', [p, sum])]);
    },
  };
}
