/**
 * Parity: the exported graph, run by ONNX Runtime from raw column values, must predict what
 * ml/ predicts (transform, then predictLinear / predictProba) for the same rows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type ort from 'onnxruntime-node';
import type { LinearModel, Preprocessor } from '../../src/ml/types.js';
import { exportLinearPipeline } from '../../src/onnx/export.js';
import type { LinearPipelineSpec } from '../../src/onnx/export.js';
import {
  feedsOf,
  featureCountOf,
  mulberry32,
  randomClassifier,
  randomColumns,
  randomPreprocessor,
  randomRegression,
  reference,
  session,
} from './fixtures.js';
import type { PipelineShape, Random } from './fixtures.js';
import { metadataOf } from './wire.js';

const MIXED: PipelineShape = { numeric: 5, categorical: [3, 0, 7] };
const NUMERIC_ONLY: PipelineShape = { numeric: 4, categorical: [] };
const CATEGORICAL_ONLY: PipelineShape = { numeric: 0, categorical: [2, 5, 1] };

interface Case {
  readonly name: string;
  readonly seed: number;
  readonly shape: PipelineShape;
  readonly rows: number;
  /** Builds the model for F features; `undefined` classes means regression. */
  readonly model: (rand: Random, f: number) => LinearModel;
  readonly labels?: readonly (number | string)[];
}

const regression = (rand: Random, f: number) => randomRegression(rand, f);
const classifier =
  (classes: number, scale = 1) =>
  (rand: Random, f: number) =>
    randomClassifier(rand, f, classes, scale);

const CASES: readonly Case[] = [
  { name: 'regression, mixed columns', seed: 1, shape: MIXED, rows: 300, model: regression },
  { name: 'regression, numeric only', seed: 2, shape: NUMERIC_ONLY, rows: 300, model: regression },
  { name: 'regression, categorical only', seed: 3, shape: CATEGORICAL_ONLY, rows: 300, model: regression },
  { name: 'regression, 1 row', seed: 4, shape: MIXED, rows: 1, model: regression },
  { name: 'regression, 1000 rows', seed: 5, shape: MIXED, rows: 1000, model: regression },
  {
    name: 'binary, string labels, mixed',
    seed: 6,
    shape: MIXED,
    rows: 300,
    model: classifier(2),
    labels: ['no', 'yes'],
  },
  {
    name: 'binary, integer labels, numeric only',
    seed: 7,
    shape: NUMERIC_ONLY,
    rows: 300,
    model: classifier(2),
    labels: [0, 1],
  },
  {
    name: 'binary, default labels, categorical only',
    seed: 8,
    shape: CATEGORICAL_ONLY,
    rows: 300,
    model: classifier(2),
  },
  {
    name: 'binary, saturated scores',
    seed: 9,
    shape: MIXED,
    rows: 300,
    model: classifier(2, 40),
    labels: [-1, 1],
  },
  { name: 'binary, 1 row', seed: 10, shape: MIXED, rows: 1, model: classifier(2), labels: ['a', 'b'] },
  {
    name: '3 classes, string labels, mixed',
    seed: 11,
    shape: MIXED,
    rows: 300,
    model: classifier(3),
    labels: ['cat', 'dog', 'emu'],
  },
  {
    name: '3 classes, integer labels, categorical only',
    seed: 12,
    shape: CATEGORICAL_ONLY,
    rows: 300,
    model: classifier(3),
    labels: [10, 20, 30],
  },
  {
    name: '3 classes, default labels, numeric only',
    seed: 13,
    shape: NUMERIC_ONLY,
    rows: 300,
    model: classifier(3),
  },
  {
    name: '10 classes, integer labels, 1000 rows',
    seed: 14,
    shape: MIXED,
    rows: 1000,
    model: classifier(10),
    labels: [3, 1, 4, 15, 9, 2, 6, 5, -35, 8979323846],
  },
  {
    name: '10 classes, string labels, 1 row',
    seed: 15,
    shape: MIXED,
    rows: 1,
    model: classifier(10),
    labels: 'abcdefghij'.split(''),
  },
  {
    name: '3 classes, non-integer number labels become strings',
    seed: 16,
    shape: MIXED,
    rows: 200,
    model: classifier(3),
    labels: [0.5, 1, 2],
  },
  {
    name: '3 classes, mixed labels become strings',
    seed: 17,
    shape: NUMERIC_ONLY,
    rows: 200,
    model: classifier(3),
    labels: [1, 'two', 3],
  },
  {
    name: 'regression, one categorical column without categories (no features)',
    seed: 18,
    shape: { numeric: 0, categorical: [0] },
    rows: 50,
    model: regression,
  },
  {
    name: '3 classes, no features',
    seed: 19,
    shape: { numeric: 0, categorical: [0, 0] },
    rows: 50,
    model: classifier(3),
    labels: ['x', 'y', 'z'],
  },
];

function specFor(
  pre: Preprocessor,
  model: LinearModel,
  labels?: readonly (number | string)[],
): LinearPipelineSpec {
  return {
    preprocessor: pre,
    model,
    graphName: 'test',
    metadata: { 'mass.model': 'test' },
    ...(labels ? { labels } : {}),
  };
}

/** Compares ONNX Runtime's outputs with ml/'s predictions for the same rows. */
function assertParity(
  out: ort.InferenceSession.OnnxValueMapType,
  ref: ReturnType<typeof reference>,
  labels: readonly (number | string)[] | undefined,
): void {
  if (ref.kind === 'regression') {
    const value = out['value']!;
    assert.equal(value.type, 'float32');
    assert.deepEqual(value.dims, [ref.value.length]);
    const got = value.data as Float32Array;
    for (let i = 0; i < ref.value.length; i++) {
      const want = ref.value[i]!;
      assert.ok(
        Math.abs(got[i]! - want) <= 1e-4 * Math.abs(want) + 1e-6,
        `row ${i}: value ${got[i]} vs ${want}`,
      );
    }
    return;
  }
  const probabilities = out['probabilities']!;
  const n = ref.label.length;
  assert.equal(probabilities.type, 'float32');
  assert.deepEqual(probabilities.dims, [n, ref.probabilities.length / n]);
  const P = probabilities.data as Float32Array;
  for (let k = 0; k < ref.probabilities.length; k++) {
    assert.ok(
      Math.abs(P[k]! - ref.probabilities[k]!) <= 1e-5,
      `probability ${k}: ${P[k]} vs ${ref.probabilities[k]}`,
    );
  }
  const label = out['label']!;
  assert.deepEqual(label.dims, [n]);
  const asInt = labels === undefined || labels.every((l) => typeof l === 'number' && Number.isSafeInteger(l));
  if (asInt) {
    assert.equal(label.type, 'int64');
    assert.deepEqual(
      Array.from(label.data as BigInt64Array),
      ref.label.map((l) => BigInt(l)),
    );
  } else {
    assert.equal(label.type, 'string');
    assert.deepEqual(label.data, ref.label.map(String));
  }
}

describe('exportLinearPipeline: parity with ml/ through onnxruntime-node', () => {
  for (const c of CASES) {
    it(`${c.name} (seed ${c.seed})`, async () => {
      const rand = mulberry32(c.seed);
      const pre = randomPreprocessor(rand, c.shape);
      const model = c.model(rand, featureCountOf(pre));
      const columns = randomColumns(rand, pre, c.rows);
      const s = await session(exportLinearPipeline(specFor(pre, model, c.labels)));
      const out = await s.run(feedsOf(columns));
      assertParity(out, reference(pre, model, columns, c.labels), c.labels);
      await s.release();
    });
  }

  it('declares one input per source column, named as the column, and the outputs with their types', async () => {
    const rand = mulberry32(20);
    const pre = randomPreprocessor(rand, MIXED);
    const model = randomClassifier(rand, featureCountOf(pre), 3);
    const s = await session(exportLinearPipeline(specFor(pre, model, ['a', 'b', 'c'])));
    assert.deepEqual(
      s.inputMetadata.map((m) => (m.isTensor ? [m.name, m.type, m.shape] : [m.name])),
      [
        ...pre.numeric.map((step) => [step.name, 'float32', ['N', 1]]),
        ...pre.categorical.map((step) => [step.name, 'string', ['N', 1]]),
      ],
    );
    assert.deepEqual(
      s.outputMetadata.map((m) => (m.isTensor ? [m.name, m.type, m.shape] : [m.name])),
      [
        ['probabilities', 'float32', ['N', 3]],
        ['label', 'string', ['N']],
      ],
    );
    await s.release();
  });

  it('treats unseen and empty-string categories as all zeros and NaN as the fill value', async () => {
    // Hand-computed: a = NaN → fill 1 → (1 - 0.5) / 2 = 0.25; c one-hot over [x, y].
    const pre: Preprocessor = {
      numeric: [{ name: 'a', fill: 1, center: 0.5, scale: 2 }],
      categorical: [{ name: 'c', categories: ['x', 'y'] }],
    };
    const model: LinearModel = { kind: 'linear_regression', weights: new Float64Array([1, 2, 3]), bias: 0.5 };
    const s = await session(exportLinearPipeline(specFor(pre, model)));
    const out = await s.run(
      feedsOf([
        { name: 'a', kind: 'numeric', values: new Float64Array([NaN, 1, 3, 1]) },
        { name: 'c', kind: 'categorical', values: ['x', null, 'y', 'never seen'] },
      ]),
    );
    assert.deepEqual(Array.from(out['value']!.data as Float32Array), [2.75, 0.75, 4.75, 0.75]);
    await s.release();
  });

  it('keeps column names with spaces, punctuation and non-ASCII letters', async () => {
    const rand = mulberry32(21);
    const base = randomPreprocessor(rand, { numeric: 2, categorical: [3] });
    const pre: Preprocessor = {
      numeric: [
        { ...base.numeric[0]!, name: 'température (°C)' },
        { ...base.numeric[1]!, name: 'a/b:c' },
      ],
      categorical: [{ name: 'région du client', categories: ['île', 'nord', '東京'] }],
    };
    const model = randomClassifier(rand, featureCountOf(pre), 2);
    const columns = randomColumns(rand, pre, 100).map((col) =>
      col.kind === 'categorical'
        ? {
            ...col,
            values: col.values.map((v, i) => (v === null ? v : ['île', 'nord', '東京', 'sud'][i % 4]!)),
          }
        : col,
    );
    const s = await session(exportLinearPipeline(specFor(pre, model, [0, 1])));
    assert.deepEqual(s.inputNames, ['température (°C)', 'a/b:c', 'région du client']);
    assertParity(await s.run(feedsOf(columns)), reference(pre, model, columns, [0, 1]), [0, 1]);
    await s.release();
  });

  it('writes the metadata, mass.inputs and mass.outputs', () => {
    const pre: Preprocessor = {
      numeric: [{ name: 'age', fill: 40, center: 40, scale: 10 }],
      categorical: [{ name: 'region', categories: ['north', 'south'] }],
    };
    const model: LinearModel = {
      kind: 'logistic_regression',
      classes: 2,
      weights: new Float64Array([0.1, 0.2, 0.3]),
      bias: new Float64Array([0]),
    };
    const bytes = exportLinearPipeline({
      preprocessor: pre,
      model,
      labels: ['no', 'yes'],
      graphName: 'churn',
      metadata: { 'mass.model': 'churn', 'mass.version': '3' },
    });
    const meta = metadataOf(bytes);
    assert.deepEqual([...meta.keys()], ['mass.model', 'mass.version', 'mass.inputs', 'mass.outputs']);
    assert.deepEqual(JSON.parse(meta.get('mass.inputs')!), [
      { name: 'age', type: 'numeric' },
      { name: 'region', type: 'categorical' },
    ]);
    assert.deepEqual(JSON.parse(meta.get('mass.outputs')!), [
      { name: 'probabilities', type: 'float32', shape: ['N', 2] },
      { name: 'label', type: 'string', shape: ['N'] },
    ]);
  });

  it('exports a wide model quickly (it runs after every training)', () => {
    const rand = mulberry32(22);
    const pre = randomPreprocessor(rand, { numeric: 500, categorical: Array.from({ length: 50 }, () => 20) });
    const model = randomClassifier(rand, featureCountOf(pre), 10);
    const start = performance.now();
    const bytes = exportLinearPipeline(specFor(pre, model));
    const ms = performance.now() - start;
    // 1,500 features × 10 classes; typically a few milliseconds. The bound only catches a blow-up.
    assert.ok(ms < 500, `export took ${ms.toFixed(1)} ms`);
    assert.ok(bytes.length > 1500 * 10 * 8);
  });
});

describe('exportLinearPipeline: bad calls', () => {
  const pre: Preprocessor = {
    numeric: [{ name: 'x', fill: 0, center: 0, scale: 1 }],
    categorical: [{ name: 'c', categories: ['a', 'b'] }],
  };
  const reg: LinearModel = { kind: 'linear_regression', weights: new Float64Array(3), bias: 0 };
  const bin: LinearModel = {
    kind: 'logistic_regression',
    classes: 2,
    weights: new Float64Array(3),
    bias: new Float64Array(1),
  };
  const multi: LinearModel = {
    kind: 'logistic_regression',
    classes: 3,
    weights: new Float64Array(9),
    bias: new Float64Array(3),
  };

  const bad: readonly [string, LinearPipelineSpec, RegExp][] = [
    [
      'bad call: weights of the wrong length',
      specFor(pre, { ...reg, weights: new Float64Array(2) }),
      /weights has length 2, expected 3/,
    ],
    [
      'bad call: multinomial weights of the wrong length',
      specFor(pre, { ...multi, weights: new Float64Array(3) }),
      /weights has length 3, expected 9/,
    ],
    [
      'bad call: bias of the wrong length',
      specFor(pre, { ...multi, bias: new Float64Array(2) }),
      /bias has length 2, expected 3/,
    ],
    ['bad call: fewer than 2 classes', specFor(pre, { ...bin, classes: 1 }), /at least 2 classes/],
    [
      'bad call: labels of the wrong length',
      specFor(pre, bin, ['a', 'b', 'c']),
      /labels has length 3, expected 2/,
    ],
    ['bad call: labels for a regression', specFor(pre, reg, [0, 1]), /labels were given for a regression/],
    [
      'bad call: no columns',
      specFor({ numeric: [], categorical: [] }, { ...reg, weights: new Float64Array(0) }),
      /no columns/,
    ],
    [
      'bad call: two columns with one name',
      specFor({ numeric: pre.numeric, categorical: [{ name: 'x', categories: ['a', 'b'] }] }, reg),
      /"x" appears twice/,
    ],
    [
      'bad call: a column named like an output',
      specFor(
        { numeric: [{ name: 'value', fill: 0, center: 0, scale: 1 }], categorical: pre.categorical },
        reg,
      ),
      /"value" uses a reserved name/,
    ],
    [
      'bad call: a category listed twice',
      specFor({ numeric: pre.numeric, categorical: [{ name: 'c', categories: ['a', 'a'] }] }, reg),
      /lists a category twice/,
    ],
    [
      'bad call: a reserved metadata key',
      { ...specFor(pre, reg), metadata: { 'mass.inputs': '[]' } },
      /mass.inputs is written by the exporter/,
    ],
  ];
  for (const [name, spec, message] of bad) {
    it(name, () => assert.throws(() => exportLinearPipeline(spec), message));
  }
});
