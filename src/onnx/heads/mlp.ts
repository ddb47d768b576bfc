/**
 * The ONNX head of a multilayer perceptron (`ml/mlp.ts`): per layer MatMul + Add, then the hidden
 * activation (Relu, Tanh or Sigmoid); at the end Softmax (C > 2 classes), [1 − σ(z), σ(z)]
 * (2 classes) or the value itself (regression). Everything in double, as `predictMlp` computes,
 * so probabilities agree to float32 rounding and the arg-max (the label) agrees exactly.
 */
import type { MlpModel } from '../../ml/mlp.js';
import type { ModelHead } from '../export.js';
import { attr, type GraphBuilder } from '../graph.js';

const ACTIVATION_OPS = { relu: 'Relu', tanh: 'Tanh', sigmoid: 'Sigmoid' } as const;

export function mlpHead(model: MlpModel): ModelHead {
  const write = (g: GraphBuilder, X: string, f: number): string => {
    const scores = layers(g, X, f, model);
    if (model.output === 'identity') return scores;
    if (model.output === 'softmax') return g.op('Softmax', [scores], { attributes: [attr.int('axis', 1)] });
    // Two classes: one logit z, P = [1 − σ(z), σ(z)], exactly as predictMlp writes them.
    const p1 = g.op('Sigmoid', [scores]);
    const one = g.constant('one', { type: 'double', dims: [1], values: [1] });
    return g.op('Concat', [g.op('Sub', [one, p1]), p1], { attributes: [attr.int('axis', 1)] });
  };
  if (model.output === 'identity') return { kind: 'regression', write };
  return { kind: 'classification', classes: model.classes, write };
}

/** h ← f(h·W + b) for every layer, f the hidden activation except after the last one. */
function layers(g: GraphBuilder, X: string, f: number, model: MlpModel): string {
  const expectedOutputs = model.output === 'softmax' ? model.classes : 1;
  if (model.layers.length === 0) throw new RangeError('the perceptron has no layers');
  let h = X;
  let width = f;
  model.layers.forEach((layer, l) => {
    if (layer.inputs !== width)
      throw new RangeError(`layer ${l} has ${layer.inputs} inputs, but ${width} values reach it`);
    if (layer.weights.length !== layer.inputs * layer.outputs || layer.bias.length !== layer.outputs)
      throw new RangeError(`layer ${l}: weights or bias of the wrong length`);
    // ml/ stores W as inputs × outputs, row-major: MatMul's layout, no transpose needed.
    const W = g.constant(`W${l}`, {
      type: 'double',
      dims: [layer.inputs, layer.outputs],
      values: layer.weights,
    });
    const b = g.constant(`b${l}`, { type: 'double', dims: [layer.outputs], values: layer.bias });
    h = g.op('Add', [g.op('MatMul', [h, W]), b]);
    if (l < model.layers.length - 1) h = g.op(ACTIVATION_OPS[model.activation], [h]);
    width = layer.outputs;
  });
  if (width !== expectedOutputs)
    throw new RangeError(`the output layer has ${width} units, expected ${expectedOutputs}`);
  return h;
}
