/**
 * Parity of the naive Bayes ONNX heads: the exported pipeline, run by ONNX Runtime from raw
 * column values, must give `predictGaussianNB` / `predictMultinomialNB` after `transform`:
 * probabilities within 1e-5 and the same labels; the files must pass the reference checker.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type ort from 'onnxruntime-node';
import { argmaxRows } from '../../src/ml/linear.js';
import {
  fitGaussianNB,
  fitMultinomialNB,
  predictGaussianNB,
  predictMultinomialNB,
} from '../../src/ml/naive-bayes.js';
import { fitPreprocessor, transform } from '../../src/ml/preprocess.js';
import type { Column, Matrix, Preprocessor } from '../../src/ml/types.js';
import { exportPipeline, type ModelHead } from '../../src/onnx/export.js';
import { gaussianNBHead, multinomialNBHead } from '../../src/onnx/heads/naive-bayes.js';
import type { Params, Trainer } from '../../src/training/trainer.js';
import { gaussianNB, multinomialNB } from '../../src/training/trainers/naive-bayes.js';
import { feedsOf, mulberry32, randomColumns, randomPreprocessor, session, type Random } from './fixtures.js';

/** The trainer's default parameters, with overrides. */
function paramsOf(trainer: Trainer, overrides: Params = {}): Params {
  return {
    ...Object.fromEntries(Object.entries(trainer.params).map(([k, p]) => [k, p.default])),
    ...overrides,
  };
}

const CTX = { seed: 3, onProgress: () => {} } as const;

const CHECKER = fileURLToPath(new URL('../../../scripts/check-onnx.py', import.meta.url));

/** Labels from the first feature (with noise), so that the classes differ in distribution. */
function labelsFor(X: Matrix, C: number, rand: Random): Int32Array {
  return Int32Array.from({ length: X.rows }, (_, i) => {
    const v = X.data[i]! + rand();
    return Number.isNaN(v) ? 0 : Math.min(C - 1, Math.max(0, Math.floor(v + C / 2)));
  });
}

function assertProbabilities(
  out: ort.InferenceSession.OnnxValueMapType,
  want: Float64Array,
  n: number,
  C: number,
): void {
  const P = out['probabilities']!.data as Float32Array;
  assert.deepEqual(out['probabilities']!.dims, [n, C]);
  let maxDiff = 0;
  for (let q = 0; q < n * C; q++) maxDiff = Math.max(maxDiff, Math.abs(P[q]! - want[q]!));
  assert.ok(maxDiff <= 1e-5, `probabilities differ by up to ${maxDiff}`);
  assert.deepEqual(
    Array.from(out['label']!.data as BigInt64Array, Number),
    Array.from(argmaxRows(want, n, C)),
  );
}

function bytesOf(pre: Preprocessor, head: ModelHead): Uint8Array {
  return exportPipeline({ preprocessor: pre, head, graphName: 'nb', metadata: {} });
}

/** Non-negative counts with ~10% missing, and a categorical column (ordinal codes in 'raw' mode). */
function countColumns(rand: Random, n: number, F: number): Column[] {
  const columns: Column[] = Array.from({ length: F }, (_, j) => ({
    name: `count${j}`,
    kind: 'numeric' as const,
    values: Float64Array.from({ length: n }, () => (rand() < 0.1 ? NaN : Math.floor(rand() * (3 + 4 * j)))),
  }));
  columns.push({
    name: 'colour',
    kind: 'categorical',
    values: Array.from({ length: n }, () =>
      rand() < 0.1 ? null : ['red', 'green', 'blue', 'mauve'][Math.floor(rand() * 4)]!,
    ),
  });
  return columns;
}

describe('naive Bayes heads: parity through onnxruntime-node', () => {
  for (const [seed, C] of [
    [1, 2],
    [2, 3],
    [3, 10],
  ] as const) {
    it(`Gaussian, ${C} classes, mixed columns (seed ${seed})`, async () => {
      const rand = mulberry32(seed);
      const pre = randomPreprocessor(rand, { numeric: 5, categorical: [3, 0, 4] });
      const columns = randomColumns(rand, pre, 500);
      const X = transform(pre, columns);
      const model = fitGaussianNB(X, labelsFor(X, C, rand), C);
      const s = await session(bytesOf(pre, gaussianNBHead(model)));
      try {
        assertProbabilities(await s.run(feedsOf(columns)), predictGaussianNB(model, X), X.rows, C);
      } finally {
        await s.release();
      }
    });
  }

  for (const [seed, C] of [
    [4, 2],
    [5, 4],
  ] as const) {
    it(`multinomial, ${C} classes, raw counts with missing values (seed ${seed})`, async () => {
      const rand = mulberry32(seed);
      const fitColumns = countColumns(rand, 400, 6);
      const pre = fitPreprocessor(
        fitColumns,
        Uint32Array.from({ length: 400 }, (_, i) => i),
        { mode: 'raw' },
      );
      const X = transform(pre, fitColumns);
      const model = fitMultinomialNB(X, labelsFor(X, C, rand), C);
      // Float32 inputs, as the graph receives them (the counts are integers: exact).
      const columns = countColumns(rand, 300, 6);
      const s = await session(bytesOf(pre, multinomialNBHead(model)));
      try {
        assertProbabilities(
          await s.run(feedsOf(columns)),
          predictMultinomialNB(model, transform(pre, columns)),
          300,
          C,
        );
      } finally {
        await s.release();
      }
    });
  }

  it('the gaussian_nb and multinomial_nb trainers: their heads compute what their predict does', async () => {
    const rand = mulberry32(9);
    const counts = countColumns(rand, 300, 4);
    const all = Uint32Array.from({ length: 300 }, (_, i) => i);
    for (const [trainer, pre] of [
      [gaussianNB, fitPreprocessor(counts, all)],
      [multinomialNB, fitPreprocessor(counts, all, { mode: 'counts' })],
    ] as const) {
      assert.equal(trainer.preprocessing, trainer === multinomialNB ? 'counts' : 'scaled');
      const X = transform(pre, counts);
      const fitted = trainer.fit(X, labelsFor(X, 3, rand), paramsOf(trainer), {
        ...CTX,
        task: 'classification',
        classes: 3,
      });
      assert.equal(fitted.importance?.length, X.cols);
      const s = await session(bytesOf(pre, fitted.head));
      try {
        assertProbabilities(await s.run(feedsOf(counts)), fitted.predict(X), 300, 3);
      } finally {
        await s.release();
      }
    }
  });

  it('bad call: multinomial_nb refuses negative features (standardized ones, say) before fitting', () => {
    const X: Matrix = { data: Float64Array.from([0.5, -1.2, 3]), rows: 3, cols: 1 };
    assert.throws(
      () =>
        multinomialNB.fit(X, Int32Array.from([0, 1, 1]), paramsOf(multinomialNB), {
          ...CTX,
          task: 'classification',
          classes: 2,
        }),
      /multinomial_nb needs non-negative counts, but feature 0 has -1.2 \(row 1\)/,
    );
  });

  it('passes the reference checker (onnx.checker, full_check)', (t) => {
    if (spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status !== 0) {
      console.warn('!!! python3-onnx is missing: the naive Bayes head checker test is SKIPPED');
      return t.skip('python3-onnx not installed');
    }
    const dir = mkdtempSync(join(tmpdir(), 'mass-nb-'));
    try {
      const rand = mulberry32(7);
      const pre = randomPreprocessor(rand, { numeric: 3, categorical: [2] });
      const X = transform(pre, randomColumns(rand, pre, 100));
      const y = labelsFor(X, 3, rand);
      const counts = countColumns(rand, 100, 3);
      const raw = fitPreprocessor(
        counts,
        Uint32Array.from({ length: 100 }, (_, i) => i),
        { mode: 'raw' },
      );
      const Xc = transform(raw, counts);
      const paths = [
        ['gaussian.onnx', bytesOf(pre, gaussianNBHead(fitGaussianNB(X, y, 3)))],
        [
          'multinomial.onnx',
          bytesOf(raw, multinomialNBHead(fitMultinomialNB(Xc, labelsFor(Xc, 2, rand), 2))),
        ],
      ].map(([name, bytes]) => {
        const path = join(dir, name as string);
        writeFileSync(path, bytes as Uint8Array);
        return path;
      });
      const r = spawnSync('/usr/bin/python3', [CHECKER, '--canonical', ...paths], { encoding: 'utf8' });
      assert.equal(r.status, 0, `checker failed:\n${r.stdout}${r.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
