/**
 * Exports a fitted preprocessing pipeline and a linear model as ONE ONNX graph, so that serving
 * runs the same computation as `ml/` (transform, then predictLinear / predictProba) from raw
 * column values. See README.md for the layout.
 */
import type {
  CategoricalStep,
  LinearModel,
  LogisticRegressionModel,
  NumericStep,
  Preprocessor,
} from '../ml/types.js';
import { categoricalWidth, type TextStep } from '../ml/preprocess.js';
import { GraphBuilder, ML_DOMAIN, attr } from './graph.js';
import { MS_DOMAIN, writeTfidf } from './heads/tfidf.js';
import { DataType, encodeModel } from './proto.js';
import type { TensorInit, ValueInfoInit } from './proto.js';

export const IR_VERSION = 8;
export const OPSET_VERSION = 17;
export const ML_OPSET_VERSION = 3;
export const PRODUCER_NAME = 'mass';
export const PRODUCER_VERSION = '0.1.0';

/** The symbolic batch dimension of every input and output. */
export const BATCH_DIM = 'N';

/** Metadata keys the exporter writes itself; `spec.metadata` may not use them. */
export const INPUTS_KEY = 'mass.inputs';
export const OUTPUTS_KEY = 'mass.outputs';
/**
 * Written when the graph needs more than standard ONNX: a JSON `{runtime, operators}`. Text
 * columns need ONNX Runtime's contrib operator com.microsoft.Tokenizer.
 */
export const REQUIRES_KEY = 'mass.requires';
/** The `mass.requires` value of a pipeline with text columns. */
export const TEXT_REQUIRES = { runtime: 'onnxruntime', operators: [`${MS_DOMAIN}.Tokenizer`] } as const;

export interface LinearPipelineSpec {
  readonly preprocessor: Preprocessor;
  readonly model: LinearModel;
  /** Class labels by class index (classification only); default 0..C-1 as int64. */
  readonly labels?: readonly (number | string)[];
  readonly graphName: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** ModelProto.model_version; default 1. */
  readonly modelVersion?: number;
  /** ModelProto.producer_version; default PRODUCER_VERSION. */
  readonly producerVersion?: string;
  readonly docString?: string;
}

/** One graph input per source column, as recorded in the `mass.inputs` metadata. */
export interface PipelineInput {
  readonly name: string;
  readonly type: 'numeric' | 'categorical' | 'text';
}

/** A graph output, as recorded in the `mass.outputs` metadata. */
export interface PipelineOutput {
  readonly name: 'value' | 'probabilities' | 'label' | 'cluster';
  readonly type: 'float32' | 'int64' | 'string';
  readonly shape: readonly (number | typeof BATCH_DIM)[];
}

interface Head {
  readonly outputs: readonly ValueInfoInit[];
  readonly described: readonly PipelineOutput[];
}

/**
 * The model part of a pipeline: writes nodes from the feature matrix X (double [N,F], in
 * `transform`'s column order) to its raw result, which the pipeline turns into the outputs.
 * - regression: a double [N,1] (or [N]) value;
 * - classification: double [N,C] class probabilities (rows summing to 1);
 * - clustering: an int64 [N] cluster index.
 * Heads of every algorithm live in `heads/`; each is a pure function of a fitted `ml/` model.
 */
export type ModelHead =
  | { readonly kind: 'regression'; write(g: GraphBuilder, X: string, f: number): string }
  | {
      readonly kind: 'classification';
      readonly classes: number;
      write(g: GraphBuilder, X: string, f: number): string;
    }
  | {
      readonly kind: 'clustering';
      readonly clusters: number;
      write(g: GraphBuilder, X: string, f: number): string;
    };

export interface PipelineSpec extends Omit<LinearPipelineSpec, 'model'> {
  readonly head: ModelHead;
  /**
   * Text columns: string [N,1] inputs after the categorical ones, their TF-IDF (or count) blocks
   * after the preprocessor's features, in this order (as `transformFeatures`).
   */
  readonly text?: readonly TextStep[];
}

/** Serialises a linear pipeline (preprocessing + linear or logistic regression). */
export function exportLinearPipeline(spec: LinearPipelineSpec): Uint8Array {
  const { model, ...rest } = spec;
  return exportPipeline({ ...rest, head: linearHead(model) });
}

/** Serialises preprocessing + any model head to an ONNX ModelProto (IR 8, opset 17, ai.onnx.ml 3). */
export function exportPipeline(spec: PipelineSpec): Uint8Array {
  const pre = spec.preprocessor;
  const text = spec.text ?? [];
  const f = featureWidth(pre) + text.reduce((sum, s) => sum + s.model.vocabulary.length, 0);
  const inputs = [
    ...graphInputs(pre),
    ...text.map((s): ValueInfoInit => ({ name: s.name, type: 'string', shape: [BATCH_DIM, 1] })),
  ];
  if (inputs.length === 0) throw new RangeError('the preprocessor has no columns: nothing to feed the graph');
  for (const key of [INPUTS_KEY, OUTPUTS_KEY, REQUIRES_KEY]) {
    if (Object.hasOwn(spec.metadata, key))
      throw new RangeError(`metadata key ${key} is written by the exporter`);
  }

  const g = new GraphBuilder();
  const X = features(g, pre, inputs, text);
  const h = spec.head;
  let head: Head;
  if (h.kind === 'regression') {
    if (spec.labels !== undefined) throw new RangeError('labels were given for a regression model');
    head = valueOutput(g, h.write(g, X, f));
  } else if (h.kind === 'classification') {
    const C = h.classes;
    if (!Number.isInteger(C) || C < 2)
      throw new RangeError(`a classifier needs at least 2 classes, got ${C}`);
    if (spec.labels !== undefined) checkLength('labels', spec.labels.length, C);
    head = classifierOutputs(g, h.write(g, X, f), C, spec.labels);
  } else {
    if (spec.labels !== undefined) throw new RangeError('labels were given for a clustering model');
    g.op('Identity', [h.write(g, X, f)], { output: 'cluster' });
    head = {
      outputs: [{ name: 'cluster', type: 'int64', shape: [BATCH_DIM] }],
      described: [{ name: 'cluster', type: 'int64', shape: [BATCH_DIM] }],
    };
  }
  g.checkNames(inputs);

  const described: PipelineInput[] = [
    ...pre.numeric.map((s) => ({ name: s.name, type: 'numeric' as const })),
    ...pre.categorical.map((s) => ({ name: s.name, type: 'categorical' as const })),
    ...text.map((s) => ({ name: s.name, type: 'text' as const })),
  ];
  return encodeModel({
    irVersion: IR_VERSION,
    opsetImports: [
      { domain: '', version: OPSET_VERSION },
      { domain: ML_DOMAIN, version: ML_OPSET_VERSION },
      ...(text.length > 0 ? [{ domain: MS_DOMAIN, version: 1 }] : []),
    ],
    producerName: PRODUCER_NAME,
    producerVersion: spec.producerVersion ?? PRODUCER_VERSION,
    modelVersion: spec.modelVersion ?? 1,
    ...(spec.docString !== undefined ? { docString: spec.docString } : {}),
    graph: {
      name: spec.graphName,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs,
      outputs: head.outputs,
      valueInfo: g.valueInfo,
    },
    metadataProps: [
      ...Object.entries(spec.metadata),
      [INPUTS_KEY, JSON.stringify(described)],
      [OUTPUTS_KEY, JSON.stringify(head.described)],
      ...(text.length > 0 ? [[REQUIRES_KEY, JSON.stringify(TEXT_REQUIRES)] as [string, string]] : []),
    ],
  });
}

/** Numeric columns are float [N,1] (NaN = missing), categorical ones string [N,1] ('' = missing). */
function graphInputs(pre: Preprocessor): ValueInfoInit[] {
  return [
    ...pre.numeric.map((s): ValueInfoInit => ({ name: s.name, type: 'float', shape: [BATCH_DIM, 1] })),
    ...pre.categorical.map((s): ValueInfoInit => ({ name: s.name, type: 'string', shape: [BATCH_DIM, 1] })),
  ];
}

/** Number of columns of `transform`'s matrix: one per numeric step, one-hot blocks, one per ordinal step. */
function featureWidth(pre: Preprocessor): number {
  return pre.numeric.length + pre.categorical.reduce((sum, s) => sum + categoricalWidth(s), 0);
}

/**
 * The feature matrix X, double [N,F], in `transform`'s column order. Everything after the
 * inputs runs in double precision, as `ml/` does, so probabilities match to float32 rounding
 * and the arg-max (the label) matches exactly.
 */
function features(
  g: GraphBuilder,
  pre: Preprocessor,
  inputs: readonly ValueInfoInit[],
  text: readonly TextStep[],
): string {
  const blocks: string[] = [];
  if (pre.numeric.length > 0) blocks.push(numericBlock(g, pre.numeric));
  // Consecutive steps of one encoding share a block, so a one-hot-only pipeline keeps its one block.
  const encoded = pre.categorical.filter((s) => categoricalWidth(s) > 0);
  for (let start = 0; start < encoded.length;) {
    const ordinal = encoded[start]!.encoding === 'ordinal';
    let end = start + 1;
    while (end < encoded.length && (encoded[end]!.encoding === 'ordinal') === ordinal) end++;
    const run = encoded.slice(start, end);
    blocks.push(ordinal ? ordinalBlock(g, run) : categoricalBlock(g, run));
    start = end;
  }
  for (const step of text) blocks.push(writeTfidf(g, step.name, step.model));
  if (blocks.length === 0) return emptyFeatures(g, inputs[0]!.name);
  return blocks.length === 1 ? blocks[0]! : g.op('Concat', blocks, { attributes: [attr.int('axis', 1)] });
}

/**
 * ((isnan(x) || isinf(x) ? fill : x) - center) / scale over all numeric columns at once. 'raw'
 * steps (fill NaN, center 0, scale 1) are the identity on every value, NaN and ±Infinity
 * included (as `transform` keeps them), so they only need the Cast.
 */
function numericBlock(g: GraphBuilder, steps: readonly NumericStep[]): string {
  const raw = g.op(
    'Concat',
    steps.map((s) => s.name),
    { attributes: [attr.int('axis', 1)] },
  );
  const x = g.op('Cast', [raw], { attributes: [attr.int('to', DataType.double)] });
  if (steps.every((s) => Number.isNaN(s.fill) && s.center === 0 && s.scale === 1)) return x;
  const fill = g.constant('fill', vector(steps.map((s) => s.fill)));
  const center = g.constant('center', vector(steps.map((s) => s.center)));
  const scale = g.constant('scale', vector(steps.map((s) => s.scale)));
  const filled = g.op('Where', [g.op('Or', [g.op('IsNaN', [x]), g.op('IsInf', [x])]), fill, x]);
  return g.op('Div', [g.op('Sub', [filled, center]), scale]);
}

/**
 * One-hot blocks of the categorical columns with at least one category. OneHotEncoder maps
 * [N,1] to [N,1,K]; with zeros=1 an unseen value (and '' for missing) gives a row of zeros,
 * as `transform` does. Columns without categories contribute no features (their input stays
 * declared but unused), because OneHotEncoder rejects an empty category list.
 */
function categoricalBlock(g: GraphBuilder, steps: readonly CategoricalStep[]): string {
  const onehots = steps.map((s) => {
    const unique = new Set(s.categories);
    if (unique.size !== s.categories.length) throw new RangeError(`column ${s.name} lists a category twice`);
    return g.op('OneHotEncoder', [s.name], {
      domain: ML_DOMAIN,
      attributes: [attr.strings('cats_strings', s.categories), attr.int('zeros', 1)],
      type: { type: 'float', shape: [BATCH_DIM, 1, s.categories.length] },
    });
  });
  const joined =
    onehots.length === 1 ? onehots[0]! : g.op('Concat', onehots, { attributes: [attr.int('axis', 2)] });
  const axes = g.constant('axes', { type: 'int64', dims: [1], values: [1] });
  const squeezed = g.op('Squeeze', [joined, axes]);
  return g.op('Cast', [squeezed], { attributes: [attr.int('to', DataType.double)] });
}

/**
 * Ordinal codes of categorical columns, double [N,K] for K columns: ai.onnx.ml LabelEncoder maps
 * each known category to its index in `categories` (as a float: exact for any realistic count)
 * and anything else, '' for missing included, to default_float = NaN, as `transform` does.
 * A column without categories is all NaN (LabelEncoder needs at least one key).
 */
function ordinalBlock(g: GraphBuilder, steps: readonly CategoricalStep[]): string {
  const codes = steps.map((s) => {
    const unique = new Set(s.categories);
    if (unique.size !== s.categories.length) throw new RangeError(`column ${s.name} lists a category twice`);
    if (s.categories.length === 0) {
      const shape = g.op('Shape', [s.name]);
      return g.op('ConstantOfShape', [shape], {
        attributes: [attr.tensor('value', { type: 'float', dims: [1], values: [NaN] })],
      });
    }
    return g.op('LabelEncoder', [s.name], {
      domain: ML_DOMAIN,
      attributes: [
        attr.float('default_float', NaN),
        attr.strings('keys_strings', s.categories),
        attr.floats(
          'values_floats',
          s.categories.map((_, i) => i),
        ),
      ],
    });
  });
  const joined =
    codes.length === 1 ? codes[0]! : g.op('Concat', codes, { attributes: [attr.int('axis', 1)] });
  return g.op('Cast', [joined], { attributes: [attr.int('to', DataType.double)] });
}

/** A double [N,0] matrix when no column yields a feature: the batch size still comes from an input. */
function emptyFeatures(g: GraphBuilder, input: string): string {
  const batch = g.op('Shape', [input], { attributes: [attr.int('start', 0), attr.int('end', 1)] });
  const zero = g.constant('zero_width', { type: 'int64', dims: [1], values: [0] });
  const shape = g.op('Concat', [batch, zero], { attributes: [attr.int('axis', 0)] });
  return g.op('ConstantOfShape', [shape], {
    attributes: [attr.tensor('value', { type: 'double', dims: [1], values: [0] })],
  });
}

/** The head of a linear or logistic regression. Binary: exactly [1 - sigmoid(z), sigmoid(z)], as predictProba computes. */
export function linearHead(model: LinearModel): ModelHead {
  if (model.kind === 'linear_regression') {
    return {
      kind: 'regression',
      write(g, X, f) {
        checkLength('weights', model.weights.length, f);
        return affine(g, X, { type: 'double', dims: [f, 1], values: model.weights }, [model.bias]);
      },
    };
  }
  return {
    kind: 'classification',
    classes: model.classes,
    write: (g, X, f) => logisticProbabilities(g, X, model, f),
  };
}

function logisticProbabilities(
  g: GraphBuilder,
  X: string,
  model: LogisticRegressionModel,
  f: number,
): string {
  const C = model.classes;
  if (C === 2) {
    checkLength('weights', model.weights.length, f);
    checkLength('bias', model.bias.length, 1);
    const z = affine(g, X, { type: 'double', dims: [f, 1], values: model.weights }, model.bias);
    const p1 = g.op('Sigmoid', [z]);
    const one = g.constant('one', vector([1]));
    return g.op('Concat', [g.op('Sub', [one, p1]), p1], { attributes: [attr.int('axis', 1)] });
  }
  checkLength('weights', model.weights.length, C * f);
  checkLength('bias', model.bias.length, C);
  const z = affine(
    g,
    X,
    { type: 'double', dims: [f, C], values: transpose(model.weights, C, f) },
    model.bias,
  );
  return g.op('Softmax', [z], { attributes: [attr.int('axis', 1)] });
}

/** value = the head's [N,1] or [N] result as float [N]. */
function valueOutput(g: GraphBuilder, z: string): Head {
  const shape = g.constant('flat', { type: 'int64', dims: [1], values: [-1] });
  const y = g.op('Reshape', [z, shape]);
  g.op('Cast', [y], { attributes: [attr.int('to', DataType.float)], output: 'value' });
  return {
    outputs: [{ name: 'value', type: 'float', shape: [BATCH_DIM] }],
    described: [{ name: 'value', type: 'float32', shape: [BATCH_DIM] }],
  };
}

/**
 * probabilities = float [N,C]; label = labels[argmax] as int64 when every label is a safe
 * integer, else string.
 */
function classifierOutputs(
  g: GraphBuilder,
  P: string,
  C: number,
  labels: LinearPipelineSpec['labels'],
): Head {
  g.op('Cast', [P], { attributes: [attr.int('to', DataType.float)], output: 'probabilities' });
  // ArgMax keeps the first index on ties, as argmaxRows does.
  const argmaxOptions = { attributes: [attr.int('axis', 1), attr.int('keepdims', 0)] };
  const asInt = labels === undefined || labels.every((l) => typeof l === 'number' && Number.isSafeInteger(l));
  if (labels === undefined) {
    g.op('ArgMax', [P], { ...argmaxOptions, output: 'label' });
  } else {
    const table = g.constant(
      'labels',
      asInt
        ? { type: 'int64', dims: [C], values: labels as readonly number[] }
        : { type: 'string', dims: [C], values: labels.map(String) },
    );
    g.op('Gather', [table, g.op('ArgMax', [P], argmaxOptions)], {
      attributes: [attr.int('axis', 0)],
      output: 'label',
    });
  }
  const labelType = asInt ? 'int64' : 'string';
  return {
    outputs: [
      { name: 'probabilities', type: 'float', shape: [BATCH_DIM, C] },
      { name: 'label', type: labelType, shape: [BATCH_DIM] },
    ],
    described: [
      { name: 'probabilities', type: 'float32', shape: [BATCH_DIM, C] },
      { name: 'label', type: labelType, shape: [BATCH_DIM] },
    ],
  };
}

/** X·W + b in double. */
function affine(g: GraphBuilder, X: string, W: TensorInit, bias: ArrayLike<number>): string {
  const w = g.constant('weights', W);
  const b = g.constant('bias', vector(Array.from(bias)));
  return g.op('Add', [g.op('MatMul', [X, w]), b]);
}

/** ml/ stores multinomial weights class-major (C×F); MatMul wants F×C row-major. */
function transpose(weights: Float64Array, C: number, f: number): Float64Array {
  const out = new Float64Array(C * f);
  for (let c = 0; c < C; c++) for (let j = 0; j < f; j++) out[j * C + c] = weights[c * f + j]!;
  return out;
}

function vector(values: readonly number[]): TensorInit {
  return { type: 'double', dims: [values.length], values };
}

function checkLength(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new RangeError(`${what} has length ${actual}, expected ${expected}`);
}
