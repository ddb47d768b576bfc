/**
 * Parity of the linear SVM ONNX head: the exported pipeline, run by ONNX Runtime from raw column
 * values, must give `predictSVMProba` after `transform` (Platt-scaled one-vs-rest probabilities):
 * within 1e-5 and the same labels; the files must pass the reference checker.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { argmaxRows } from '../../src/ml/linear.js';
import { transform } from '../../src/ml/preprocess.js';
import { createRng } from '../../src/ml/rng.js';
import { fitLinearSVM, predictSVMProba, type LinearSVMModel } from '../../src/ml/svm.js';
import type { Matrix, Preprocessor } from '../../src/ml/types.js';
import { exportPipeline } from '../../src/onnx/export.js';
import { linearSVMHead } from '../../src/onnx/heads/svm.js';
import type { Params, Trainer } from '../../src/training/trainer.js';
import { elasticNet, sparseLogistic } from '../../src/training/trainers/sparse-linear.js';
import { linearSVM } from '../../src/training/trainers/svm.js';
import { feedsOf, mulberry32, randomColumns, randomPreprocessor, session } from './fixtures.js';

/** The trainer's default parameters, with overrides. */
function paramsOf(trainer: Trainer, overrides: Params = {}): Params {
  return {
    ...Object.fromEntries(Object.entries(trainer.params).map(([k, p]) => [k, p.default])),
    ...overrides,
  };
}

const CTX = { seed: 3, onProgress: () => {} } as const;

const CHECKER = fileURLToPath(new URL('../../../scripts/check-onnx.py', import.meta.url));

function bytesOf(
  pre: Preprocessor,
  model: LinearSVMModel,
  labels?: readonly (string | number)[],
): Uint8Array {
  return exportPipeline({
    preprocessor: pre,
    head: linearSVMHead(model),
    graphName: 'svm',
    metadata: {},
    ...(labels ? { labels } : {}),
  });
}

function labelsFor(X: Matrix, C: number): Int32Array {
  return Int32Array.from({ length: X.rows }, (_, i) =>
    Math.min(C - 1, Math.max(0, Math.floor(X.data[i]! - X.data[X.rows + i]! + C / 2))),
  );
}

describe('linearSVMHead: parity with predictSVMProba through onnxruntime-node', () => {
  for (const [seed, C, labels] of [
    [1, 2, ['no', 'yes']],
    [2, 3, undefined],
    [3, 7, [1, 2, 3, 4, 5, 6, 7]],
  ] as const) {
    it(`${C} classes (seed ${seed})`, async () => {
      const rand = mulberry32(seed);
      const pre = randomPreprocessor(rand, { numeric: 5, categorical: [3, 0, 4] });
      const columns = randomColumns(rand, pre, 400);
      const X = transform(pre, columns);
      const { model } = fitLinearSVM(X, labelsFor(X, C), C, { rng: createRng(seed) });
      const s = await session(bytesOf(pre, model, labels));
      try {
        const out = await s.run(feedsOf(columns));
        const want = predictSVMProba(model, X);
        const P = out['probabilities']!.data as Float32Array;
        let maxDiff = 0;
        for (let q = 0; q < want.length; q++) maxDiff = Math.max(maxDiff, Math.abs(P[q]! - want[q]!));
        assert.ok(maxDiff <= 1e-5, `probabilities differ by up to ${maxDiff}`);
        const best = Array.from(argmaxRows(want, X.rows, C), (c) => (labels ? labels[c]! : c));
        const got = out['label']!;
        if (got.type === 'string') assert.deepEqual(got.data, best.map(String));
        else assert.deepEqual(Array.from(got.data as BigInt64Array, Number), best);
      } finally {
        await s.release();
      }
    });
  }

  it('a row whose sigmoids all underflow is uniform, as in ml/', async () => {
    const pre: Preprocessor = { numeric: [{ name: 'x', fill: 0, center: 0, scale: 1 }], categorical: [] };
    const model: LinearSVMModel = {
      kind: 'linear_svm',
      classes: 3,
      features: 1,
      weights: Float64Array.from([1, 1, 1]),
      bias: new Float64Array(3),
      plattA: Float64Array.from([1, 1, 1]),
      plattB: new Float64Array(3),
    };
    const s = await session(bytesOf(pre, model));
    const out = await s.run(feedsOf([{ name: 'x', kind: 'numeric', values: Float64Array.from([-1e6, 0]) }]));
    const want = predictSVMProba(model, { data: Float64Array.from([-1e6, 0]), rows: 2, cols: 1 });
    assert.deepEqual(Array.from(want), [1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3]);
    const P = Array.from(out['probabilities']!.data as Float32Array);
    P.forEach((p) => assert.ok(Math.abs(p - 1 / 3) < 1e-7));
    await s.release();
  });

  it('the linear_svm, sparse_logistic and elastic_net trainers: their heads compute what their predict does', async () => {
    const rand = mulberry32(10);
    const pre = randomPreprocessor(rand, { numeric: 4, categorical: [3] });
    const columns = randomColumns(rand, pre, 300);
    const X = transform(pre, columns);
    for (const [trainer, C] of [
      [linearSVM, 2],
      [linearSVM, 4],
      [sparseLogistic, 2],
      [sparseLogistic, 3],
      [elasticNet, 0],
    ] as const) {
      const y =
        C === 0
          ? Float64Array.from({ length: 300 }, (_, i) => 3 * X.data[i]! - X.data[300 + i]!)
          : labelsFor(X, C);
      const fitted = trainer.fit(X, y, paramsOf(trainer, trainer === elasticNet ? { alpha: 0.1 } : {}), {
        ...CTX,
        task: C === 0 ? 'regression' : 'classification',
        classes: C,
      });
      const want = fitted.predict(X);
      const s = await session(
        exportPipeline({ preprocessor: pre, head: fitted.head, graphName: 'm', metadata: {} }),
      );
      const out = await s.run(feedsOf(columns));
      const got = (C === 0 ? out['value']! : out['probabilities']!).data as Float32Array;
      let maxDiff = 0;
      for (let q = 0; q < want.length; q++)
        maxDiff = Math.max(
          maxDiff,
          Math.abs(got[q]! - want[q]!) / (C === 0 ? Math.max(1, Math.abs(want[q]!)) : 1),
        );
      assert.ok(maxDiff <= 1e-5, `${trainer.name}, ${C} classes: differs by up to ${maxDiff}`);
      await s.release();
    }
  });

  it('passes the reference checker (onnx.checker, full_check)', (t) => {
    if (spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status !== 0) {
      console.warn('!!! python3-onnx is missing: the SVM head checker test is SKIPPED');
      return t.skip('python3-onnx not installed');
    }
    const dir = mkdtempSync(join(tmpdir(), 'mass-svm-'));
    try {
      const rand = mulberry32(9);
      const pre = randomPreprocessor(rand, { numeric: 3, categorical: [2] });
      const X = transform(pre, randomColumns(rand, pre, 100));
      const paths = [2, 4].map((C) => {
        const path = join(dir, `svm${C}.onnx`);
        writeFileSync(path, bytesOf(pre, fitLinearSVM(X, labelsFor(X, C), C, { rng: createRng(0) }).model));
        return path;
      });
      const r = spawnSync('/usr/bin/python3', [CHECKER, '--canonical', ...paths], { encoding: 'utf8' });
      assert.equal(r.status, 0, `checker failed:\n${r.stdout}${r.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
