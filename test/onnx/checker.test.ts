/**
 * The reference checker (onnx.checker.check_model, full_check=True) accepts every exported graph,
 * and the hand-written bytes equal the reference protobuf serialization (--canonical).
 * Needs Debian's python3-onnx; without it the test is reported as SKIPPED, never as passed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { LinearModel, Preprocessor } from '../../src/ml/types.js';
import { exportLinearPipeline } from '../../src/onnx/export.js';
import { encodeModel } from '../../src/onnx/proto.js';
import {
  featureCountOf,
  mulberry32,
  randomClassifier,
  randomPreprocessor,
  randomRegression,
} from './fixtures.js';

const PYTHON = '/usr/bin/python3';
// dist/test/onnx/checker.test.js → the repository root is three levels up.
const SCRIPT = fileURLToPath(new URL('../../../scripts/check-onnx.py', import.meta.url));

function onnxMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
  if (r.error) return r.error.message;
  return r.status === 0 ? undefined : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
}

function models(): Record<string, Uint8Array> {
  const rand = mulberry32(99);
  const mixed = randomPreprocessor(rand, { numeric: 3, categorical: [4, 0, 2] });
  const f = featureCountOf(mixed);
  const numericOnly = randomPreprocessor(rand, { numeric: 2, categorical: [] });
  const categoricalOnly = randomPreprocessor(rand, { numeric: 0, categorical: [3] });
  const noFeatures: Preprocessor = { numeric: [], categorical: [{ name: 'c', categories: [] }] };
  const spec = (preprocessor: Preprocessor, model: LinearModel, labels?: readonly (number | string)[]) =>
    exportLinearPipeline({
      preprocessor,
      model,
      graphName: 'g',
      metadata: { k: 'v' },
      ...(labels ? { labels } : {}),
    });
  return {
    'regression.onnx': spec(mixed, randomRegression(rand, f)),
    'binary-strings.onnx': spec(mixed, randomClassifier(rand, f, 2), ['no', 'yes']),
    'binary-numeric-only.onnx': spec(numericOnly, randomClassifier(rand, 2, 2), [0, 1]),
    'multiclass-int.onnx': spec(mixed, randomClassifier(rand, f, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    'multiclass-default.onnx': spec(categoricalOnly, randomClassifier(rand, 3, 3)),
    'no-features.onnx': spec(noFeatures, {
      kind: 'linear_regression',
      weights: new Float64Array(0),
      bias: 1,
    }),
  };
}

describe('scripts/check-onnx.py', () => {
  const missing = onnxMissing();
  if (missing !== undefined)
    console.warn(`!!! python3-onnx is missing: the ONNX checker tests will be SKIPPED (${missing})`);

  it('accepts every exported model (full_check, canonical bytes)', (t) => {
    if (missing !== undefined) {
      t.skip(
        `python3-onnx not installed: ${PYTHON} -c 'import onnx' failed (${missing}); apt-get install python3-onnx`,
      );
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'mass-onnx-'));
    try {
      const paths = Object.entries(models()).map(([name, bytes]) => {
        const path = join(dir, name);
        writeFileSync(path, bytes);
        return path;
      });
      const r = spawnSync(PYTHON, [SCRIPT, '--canonical', ...paths], { encoding: 'utf8' });
      assert.equal(r.status, 0, `checker failed:\n${r.stdout}${r.stderr}`);
      assert.deepEqual(
        r.stdout.trim().split('\n'),
        paths.map((p) => `OK ${p}`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a broken graph (the check is not a rubber stamp)', (t) => {
    if (missing !== undefined) {
      t.skip(
        `python3-onnx not installed: ${PYTHON} -c 'import onnx' failed (${missing}); apt-get install python3-onnx`,
      );
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'mass-onnx-'));
    try {
      // A node reads a value that nothing defines.
      const broken = encodeModel({
        irVersion: 8,
        opsetImports: [{ domain: '', version: 17 }],
        producerName: 'mass',
        producerVersion: '0',
        modelVersion: 1,
        graph: {
          name: 'broken',
          nodes: [{ opType: 'Relu', inputs: ['nowhere'], outputs: ['y'] }],
          initializers: [],
          inputs: [{ name: 'x', type: 'float', shape: ['N', 1] }],
          outputs: [{ name: 'y', type: 'float', shape: ['N', 1] }],
        },
        metadataProps: [],
      });
      const path = join(dir, 'broken.onnx');
      writeFileSync(path, broken);
      const r = spawnSync(PYTHON, [SCRIPT, path], { encoding: 'utf8' });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^FAIL .*broken\.onnx: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
