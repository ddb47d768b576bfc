/**
 * Parity of the perceptron's ONNX head: the exported pipeline, run by ONNX Runtime from raw
 * column values, must give what ml/ gives (transform, then predictMlp): probabilities within
 * 1e-5, the same labels, regression values to float32 rounding. On random weights (every
 * activation and output, several depths) and on models trained on iris and breast_cancer.
 * The files must also pass the reference checker (scripts/check-onnx.py, python3-onnx).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { argmaxRows } from '../../src/ml/linear.js';
import { fitMlpClassifier, predictMlp, type Activation, type MlpModel } from '../../src/ml/mlp.js';
import { fitPreprocessor, transform } from '../../src/ml/preprocess.js';
import type { Column, NumericColumn, Preprocessor } from '../../src/ml/types.js';
import { exportPipeline } from '../../src/onnx/export.js';
import { mlpHead } from '../../src/onnx/heads/mlp.js';
import {
  feedsOf,
  featureCountOf,
  mulberry32,
  normal,
  randomColumns,
  randomPreprocessor,
  session,
  type Random,
} from './fixtures.js';

const DATA = resolve(process.cwd(), '../shared/data');
const PYTHON = '/usr/bin/python3';
// dist/test/onnx/heads-mlp.test.js → the repository root is three levels up.
const CHECKER = fileURLToPath(new URL('../../../scripts/check-onnx.py', import.meta.url));

/** A perceptron with Gaussian weights of standard deviation `scale`, not trained. */
function randomMlp(
  rand: Random,
  f: number,
  hidden: readonly number[],
  activation: Activation,
  classes: number,
  scale = 1,
): MlpModel {
  const output = classes === 0 ? 'identity' : classes === 2 ? 'sigmoid' : 'softmax';
  const units = [f, ...hidden, classes > 2 ? classes : 1];
  const layers = units.slice(1).map((outputs, l) => {
    const inputs = units[l]!;
    const s = scale / Math.sqrt(Math.max(1, inputs));
    return {
      inputs,
      outputs,
      weights: Float64Array.from({ length: inputs * outputs }, () => s * normal(rand)),
      bias: Float64Array.from({ length: outputs }, () => scale * normal(rand)),
    };
  });
  return { kind: 'mlp', activation, output, classes, layers };
}

function exportMlp(pre: Preprocessor, model: MlpModel, labels?: readonly (number | string)[]): Uint8Array {
  return exportPipeline({
    preprocessor: pre,
    head: mlpHead(model),
    graphName: 'mlp',
    metadata: { 'mass.model': 'test' },
    ...(labels ? { labels } : {}),
  });
}

/** Runs the graph on the columns and compares with predictMlp on the transformed rows. */
async function assertParity(
  bytes: Uint8Array,
  pre: Preprocessor,
  model: MlpModel,
  columns: readonly Column[],
  labels?: readonly (number | string)[],
): Promise<void> {
  const s = await session(bytes);
  try {
    const out = await s.run(feedsOf(columns));
    const X = transform(pre, columns);
    const want = predictMlp(model, X);
    const n = X.rows;
    if (model.classes === 0) {
      const got = out['value']!.data as Float32Array;
      assert.equal(got.length, n);
      for (let i = 0; i < n; i++) {
        const w = want[i]!;
        assert.ok(Math.abs(got[i]! - w) <= 1e-6 * Math.abs(w) + 1e-6, `row ${i}: value ${got[i]} vs ${w}`);
      }
      return;
    }
    const C = model.classes;
    const P = out['probabilities']!.data as Float32Array;
    assert.deepEqual(out['probabilities']!.dims, [n, C]);
    let maxDiff = 0;
    for (let k = 0; k < n * C; k++) maxDiff = Math.max(maxDiff, Math.abs(P[k]! - want[k]!));
    assert.ok(maxDiff <= 1e-5, `probabilities differ by up to ${maxDiff}`);
    const best = argmaxRows(want, n, C);
    const label = out['label']!;
    const expected = Array.from(best, (c) => labels?.[c] ?? c);
    if (label.type === 'int64') {
      assert.deepEqual(
        Array.from(label.data as BigInt64Array, Number),
        expected.map((l) => Number(l)),
      );
    } else {
      assert.deepEqual(label.data, expected.map(String));
    }
  } finally {
    await s.release();
  }
}

interface RandomCase {
  readonly name: string;
  readonly seed: number;
  readonly hidden: readonly number[];
  readonly activation: Activation;
  /** 0 for a regression. */
  readonly classes: number;
  readonly scale?: number;
  readonly labels?: readonly (number | string)[];
}

const RANDOM_CASES: readonly RandomCase[] = [
  { name: 'regression, relu [16]', seed: 1, hidden: [16], activation: 'relu', classes: 0 },
  { name: 'regression, tanh [8, 5]', seed: 2, hidden: [8, 5], activation: 'tanh', classes: 0 },
  { name: 'regression, no hidden layer', seed: 3, hidden: [], activation: 'relu', classes: 0 },
  {
    name: 'binary, relu [12], string labels',
    seed: 4,
    hidden: [12],
    activation: 'relu',
    classes: 2,
    labels: ['no', 'yes'],
  },
  { name: 'binary, sigmoid [6, 6, 4]', seed: 5, hidden: [6, 6, 4], activation: 'sigmoid', classes: 2 },
  { name: 'binary, tanh [10], saturated', seed: 6, hidden: [10], activation: 'tanh', classes: 2, scale: 30 },
  {
    name: '3 classes, relu [20, 7]',
    seed: 7,
    hidden: [20, 7],
    activation: 'relu',
    classes: 3,
    labels: [10, 20, 30],
  },
  { name: '3 classes, sigmoid [9]', seed: 8, hidden: [9], activation: 'sigmoid', classes: 3 },
  { name: '10 classes, tanh [32, 16]', seed: 9, hidden: [32, 16], activation: 'tanh', classes: 10 },
  {
    name: '10 classes, relu [5], saturated',
    seed: 10,
    hidden: [5],
    activation: 'relu',
    classes: 10,
    scale: 25,
  },
];

describe('mlpHead: parity with predictMlp through onnxruntime-node', () => {
  for (const c of RANDOM_CASES) {
    it(`random weights: ${c.name} (seed ${c.seed})`, async () => {
      const rand = mulberry32(c.seed);
      const pre = randomPreprocessor(rand, { numeric: 5, categorical: [3, 0, 4] });
      const model = randomMlp(rand, featureCountOf(pre), c.hidden, c.activation, c.classes, c.scale);
      const columns = randomColumns(rand, pre, 400);
      await assertParity(exportMlp(pre, model, c.labels), pre, model, columns, c.labels);
    });
  }

  it('random weights: one row, and no features at all', async () => {
    const rand = mulberry32(11);
    const pre = randomPreprocessor(rand, { numeric: 3, categorical: [] });
    const model = randomMlp(rand, 3, [4], 'relu', 3);
    await assertParity(exportMlp(pre, model), pre, model, randomColumns(rand, pre, 1));
    const empty: Preprocessor = { numeric: [], categorical: [{ name: 'c', categories: [] }] };
    const constant = randomMlp(rand, 0, [4], 'tanh', 2);
    await assertParity(exportMlp(empty, constant), empty, constant, randomColumns(rand, empty, 7));
  });

  for (const [name, classes] of [
    ['iris', 3],
    ['breast_cancer', 2],
  ] as const) {
    it(`trained on ${name}: the test rows give the same probabilities and labels`, async (t) => {
      const d = load(name);
      if (!d) {
        t.skip(`SKIPPED: ${name}.csv or its split is missing under ${DATA}`);
        console.warn(`!!! ${name} is missing under ${DATA}: its ONNX parity test is SKIPPED`);
        return;
      }
      const pre = fitPreprocessor(d.columns, d.train);
      const y = Int32Array.from(d.train, (i) => d.target[i]!);
      const fit = fitMlpClassifier(transform(pre, d.columns, d.train), y, classes, { maxEpochs: 60 });
      const testColumns = d.columns.map((c): NumericColumn => ({
        ...c,
        values: Float64Array.from(d.test, (i) => Math.fround(c.values[i]!)),
      }));
      await assertParity(exportMlp(pre, fit.model), pre, fit.model, testColumns);
    });
  }
});

describe('mlpHead: bad calls', () => {
  it('bad call: a first layer whose width is not the feature count', () => {
    const rand = mulberry32(12);
    const pre = randomPreprocessor(rand, { numeric: 3, categorical: [] });
    assert.throws(() => exportMlp(pre, randomMlp(rand, 4, [2], 'relu', 3)), /layer 0 has 4 inputs, but 3/);
  });

  it('bad call: an output layer that does not match the classes', () => {
    const rand = mulberry32(13);
    const pre = randomPreprocessor(rand, { numeric: 2, categorical: [] });
    const model = randomMlp(rand, 2, [3], 'relu', 3);
    assert.throws(() => exportMlp(pre, { ...model, classes: 4 }), /output layer has 3 units, expected 4/);
  });
});

describe('mlpHead: scripts/check-onnx.py', () => {
  it('accepts every exported perceptron (full_check, canonical bytes)', (t) => {
    const missing = onnxMissing();
    if (missing !== undefined) {
      console.warn(`!!! python3-onnx is missing: the MLP checker test is SKIPPED (${missing})`);
      t.skip(`python3-onnx not installed (${missing}); apt-get install python3-onnx`);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'mass-mlp-onnx-'));
    try {
      const paths = RANDOM_CASES.map((c) => {
        const rand = mulberry32(c.seed);
        const pre = randomPreprocessor(rand, { numeric: 4, categorical: [2, 3] });
        const model = randomMlp(rand, featureCountOf(pre), c.hidden, c.activation, c.classes, c.scale);
        const path = join(dir, `case${c.seed}.onnx`);
        writeFileSync(path, exportMlp(pre, model, c.labels));
        return path;
      });
      const r = spawnSync(PYTHON, [CHECKER, '--canonical', ...paths], { encoding: 'utf8' });
      assert.equal(r.status, 0, `checker failed:\n${r.stdout}${r.stderr}`);
      assert.deepEqual(
        r.stdout.trim().split('\n'),
        paths.map((p) => `OK ${p}`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function onnxMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
  if (r.error) return r.error.message;
  return r.status === 0 ? undefined : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
}

interface Dataset {
  readonly columns: NumericColumn[];
  readonly target: Float64Array;
  readonly train: Uint32Array;
  readonly test: Uint32Array;
}

/** `<name>.csv` (numbers only, `target` last) and its split from the shared data; null if absent. */
function load(name: string): Dataset | null {
  const csv = join(DATA, `${name}.csv`);
  const splitFile = join(DATA, 'splits', `${name}.split.json`);
  if (!existsSync(csv) || !existsSync(splitFile)) return null;
  const lines = readFileSync(csv, 'utf8').trimEnd().split(/\r?\n/);
  const header = lines[0]!.split(',');
  const n = lines.length - 1;
  const values = header.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) lines[i + 1]!.split(',').forEach((cell, j) => (values[j]![i] = Number(cell)));
  const split = JSON.parse(readFileSync(splitFile, 'utf8')) as { train: number[]; test: number[] };
  return {
    columns: header.slice(0, -1).map((h, j) => ({ name: h, kind: 'numeric', values: values[j]! })),
    target: values.at(-1)!,
    train: Uint32Array.from(split.train),
    test: Uint32Array.from(split.test),
  };
}
