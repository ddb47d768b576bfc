/**
 * Parity of the k-means ONNX head: the exported pipeline, run by ONNX Runtime from raw column
 * values, must assign every row to the cluster `predictKMeans` gives after `transform`; the files
 * must pass the reference checker (scripts/check-onnx.py, python3-onnx; skipped loudly without it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fitKMeans, predictKMeans, type KMeansModel } from '../../src/ml/kmeans.js';
import { transform } from '../../src/ml/preprocess.js';
import { createRng } from '../../src/ml/rng.js';
import type { Preprocessor } from '../../src/ml/types.js';
import { exportPipeline } from '../../src/onnx/export.js';
import { kmeansHead } from '../../src/onnx/heads/kmeans.js';
import type { Params, Trainer } from '../../src/training/trainer.js';
import { kmeans } from '../../src/training/trainers/kmeans.js';
import {
  feedsOf,
  featureCountOf,
  mulberry32,
  randomColumns,
  randomPreprocessor,
  session,
} from './fixtures.js';

/** The trainer's default parameters, with overrides. */
function paramsOf(trainer: Trainer, overrides: Params = {}): Params {
  return {
    ...Object.fromEntries(Object.entries(trainer.params).map(([k, p]) => [k, p.default])),
    ...overrides,
  };
}

const CTX = { seed: 3, onProgress: () => {} } as const;

const CHECKER = fileURLToPath(new URL('../../../scripts/check-onnx.py', import.meta.url));

function exportKMeans(pre: Preprocessor, model: KMeansModel): Uint8Array {
  return exportPipeline({ preprocessor: pre, head: kmeansHead(model), graphName: 'kmeans', metadata: {} });
}

/** A model fitted on the transformed columns themselves, so rows sit near cluster boundaries too. */
function fitted(seed: number, k: number, shape: { numeric: number; categorical: number[] }, rows: number) {
  const rand = mulberry32(seed);
  const pre = randomPreprocessor(rand, shape);
  const columns = randomColumns(rand, pre, rows);
  const fit = fitKMeans(transform(pre, columns), { k, rng: createRng(seed) });
  return { pre, columns, model: fit.model };
}

describe('kmeansHead: parity with predictKMeans through onnxruntime-node', () => {
  for (const [name, seed, k, shape, rows] of [
    ['k = 8, mixed columns', 1, 8, { numeric: 5, categorical: [3, 0, 4] }, 500],
    ['k = 3, numeric only', 2, 3, { numeric: 4, categorical: [] }, 300],
    ['k = 1', 3, 1, { numeric: 2, categorical: [2] }, 50],
    ['k = 20, categorical only', 4, 20, { numeric: 0, categorical: [5, 6] }, 400],
  ] as const) {
    it(`${name} (seed ${seed}): the same cluster for every row`, async () => {
      const { pre, columns, model } = fitted(
        seed,
        k,
        { numeric: shape.numeric, categorical: [...shape.categorical] },
        rows,
      );
      const s = await session(exportKMeans(pre, model));
      try {
        const out = await s.run(feedsOf(columns));
        const cluster = out['cluster']!;
        assert.equal(cluster.type, 'int64');
        assert.deepEqual(cluster.dims, [rows]);
        const want = predictKMeans(model, transform(pre, columns));
        assert.deepEqual(Array.from(cluster.data as BigInt64Array, Number), Array.from(want));
      } finally {
        await s.release();
      }
    });
  }

  it('ties go to the lower cluster index, as predictKMeans', async () => {
    const pre: Preprocessor = { numeric: [{ name: 'x', fill: 0, center: 0, scale: 1 }], categorical: [] };
    const model: KMeansModel = {
      kind: 'kmeans',
      k: 3,
      features: 1,
      centroids: Float64Array.from([1, -1, 3]),
    };
    const s = await session(exportKMeans(pre, model));
    const out = await s.run(
      feedsOf([{ name: 'x', kind: 'numeric', values: Float64Array.from([0, 2, -5, NaN]) }]),
    );
    assert.deepEqual(Array.from(out['cluster']!.data as BigInt64Array, Number), [0, 0, 1, 0]);
    await s.release();
  });

  it('bad call: centroids of another width', () => {
    const rand = mulberry32(5);
    const pre = randomPreprocessor(rand, { numeric: 3, categorical: [] });
    const model: KMeansModel = { kind: 'kmeans', k: 2, features: 2, centroids: new Float64Array(4) };
    assert.throws(() => exportKMeans(pre, model), /2 features, X has 3/);
    assert.equal(featureCountOf(pre), 3);
  });

  it('the kmeans trainer: its head computes what its predict does; inertia and silhouette in info', async () => {
    const rand = mulberry32(8);
    const pre = randomPreprocessor(rand, { numeric: 4, categorical: [3] });
    const columns = randomColumns(rand, pre, 300);
    const X = transform(pre, columns);
    for (const algorithm of ['lloyd', 'minibatch']) {
      const fitted = kmeans.fit(X, undefined, paramsOf(kmeans, { k: 4, algorithm, batchSize: 64 }), {
        ...CTX,
        task: 'clustering',
        classes: 0,
      });
      assert.equal(fitted.info.algorithm, algorithm);
      assert.ok((fitted.info.inertia as number) > 0);
      assert.ok(Math.abs(fitted.info.silhouette as number) <= 1);
      const s = await session(
        exportPipeline({ preprocessor: pre, head: fitted.head, graphName: 'k', metadata: {} }),
      );
      const out = await s.run(feedsOf(columns));
      assert.deepEqual(
        Array.from(out['cluster']!.data as BigInt64Array, Number),
        Array.from(fitted.predict(X)),
      );
      await s.release();
    }
  });

  it('passes the reference checker (onnx.checker, full_check)', (t) => {
    if (spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status !== 0) {
      console.warn('!!! python3-onnx is missing: the k-means head checker test is SKIPPED');
      return t.skip('python3-onnx not installed');
    }
    const dir = mkdtempSync(join(tmpdir(), 'mass-kmeans-'));
    try {
      const { pre, model } = fitted(6, 4, { numeric: 3, categorical: [2] }, 100);
      const path = join(dir, 'kmeans.onnx');
      writeFileSync(path, exportKMeans(pre, model));
      const r = spawnSync('/usr/bin/python3', [CHECKER, '--canonical', path], { encoding: 'utf8' });
      assert.equal(r.status, 0, `checker failed:\n${r.stdout}${r.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
