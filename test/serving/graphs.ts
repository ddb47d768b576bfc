// Small hand-made ONNX graphs for serving tests: a model that fails at run time, BOOL and FP64 tensors.
import type { GraphInit } from '../../src/onnx/proto.js';
import { onnxModel } from '../support/models.js';

const model = onnxModel;

/** x float [N,4] → y = reshape(x, [1,4]): answers one row, fails at run time for two or more. */
export function oneRowOnly(): Uint8Array {
  return model({
    name: 'one-row-only',
    nodes: [{ opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
    initializers: [{ name: 'shape', type: 'int64', dims: [2], values: [1, 4] }],
    inputs: [{ name: 'x', type: 'float', shape: ['N', 4] }],
    outputs: [{ name: 'y', type: 'float', shape: [1, 4] }],
  });
}

/** flag bool [N] → not bool [N]; value double [N,2] → twice double [N,2]. */
export function boolAndDouble(): Uint8Array {
  return model({
    name: 'bool-double',
    nodes: [
      { opType: 'Not', inputs: ['flag'], outputs: ['not'] },
      { opType: 'Add', inputs: ['value', 'value'], outputs: ['twice'] },
    ],
    initializers: [],
    inputs: [
      { name: 'flag', type: 'bool', shape: ['N'] },
      { name: 'value', type: 'double', shape: ['N', 2] },
    ],
    outputs: [
      { name: 'not', type: 'bool', shape: ['N'] },
      { name: 'twice', type: 'double', shape: ['N', 2] },
    ],
  });
}

/** x float [N,1] → y = x * k: distinct versions answer distinct values (routing tests). */
export function scale(k: number): Uint8Array {
  return model({
    name: `scale-${k}`,
    nodes: [{ opType: 'Mul', inputs: ['x', 'k'], outputs: ['y'] }],
    initializers: [{ name: 'k', type: 'float', dims: [1], values: [k] }],
    inputs: [{ name: 'x', type: 'float', shape: ['N', 1] }],
    outputs: [{ name: 'y', type: 'float', shape: ['N', 1] }],
  });
}

/** x float [N,1] → y float [N,1], after `steps` 512×512 matrix products per row: a model that takes a while. */
export function slow(steps = 150): Uint8Array {
  const w = new Float32Array(512 * 512).fill(1 / 512);
  const nodes: GraphInit['nodes'][number][] = [{ opType: 'MatMul', inputs: ['x', 'w1'], outputs: ['h0'] }];
  for (let i = 1; i <= steps; i++)
    nodes.push({ opType: 'MatMul', inputs: [`h${i - 1}`, 'w'], outputs: [`h${i}`] });
  nodes.push({
    opType: 'ReduceMean',
    inputs: [`h${steps}`],
    outputs: ['y'],
    attributes: [{ name: 'axes', type: 'ints', value: [1] }],
  });
  return model({
    name: 'slow',
    nodes,
    initializers: [
      { name: 'w1', type: 'float', dims: [1, 512], values: new Float32Array(512).fill(1) },
      { name: 'w', type: 'float', dims: [512, 512], values: w },
    ],
    inputs: [{ name: 'x', type: 'float', shape: ['N', 1] }],
    outputs: [{ name: 'y', type: 'float', shape: ['N', 1] }],
  });
}
