/**
 * The TF-IDF block in ONNX (ai.onnx StringNormalizer + ONNX Runtime's com.microsoft.Tokenizer +
 * ai.onnx TfIdfVectorizer): run by ONNX Runtime on raw strings it must give `transformTfidf`'s
 * rows, within 1e-6; the file must pass the reference checker.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { fitTfidf, sparseToMatrix, transformTfidf, type TfidfModel } from '../../src/ml/tfidf.js';
import { GraphBuilder } from '../../src/onnx/graph.js';
import { MS_DOMAIN, writeTfidf } from '../../src/onnx/heads/tfidf.js';
import { encodeModel } from '../../src/onnx/proto.js';

const CHECKER = fileURLToPath(new URL('../../../scripts/check-onnx.py', import.meta.url));

function tfidfModelBytes(model: TfidfModel): Uint8Array {
  const g = new GraphBuilder();
  g.op('Identity', [writeTfidf(g, 'text', model)], { output: 'tfidf' });
  return encodeModel({
    irVersion: 8,
    opsetImports: [
      { domain: '', version: 17 },
      { domain: MS_DOMAIN, version: 1 },
    ],
    producerName: 'mass',
    producerVersion: '0',
    modelVersion: 1,
    graph: {
      name: 'tfidf',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: 'text', type: 'string', shape: ['N', 1] }],
      outputs: [{ name: 'tfidf', type: 'double', shape: ['N', model.vocabulary.length] }],
      valueInfo: g.valueInfo,
    },
    metadataProps: [],
  });
}

const TRAIN = [
  'The quick brown fox.',
  'The lazy dog; the DOG sleeps',
  'A fox and a dog',
  'über café 42 x_y a1',
];
const DOCS = [...TRAIN, '', 'nothing known', 'ÜBER CAFÉ, Fox-dog_x x_y 7 fox fox', 'dog'];

describe('writeTfidf: parity with transformTfidf through onnxruntime-node', () => {
  it('lower-cases, tokenizes, weights by idf and normalises as ml/ does', async () => {
    const model = fitTfidf(TRAIN);
    const s = await ort.InferenceSession.create(tfidfModelBytes(model));
    try {
      const out = await s.run({ text: new ort.Tensor('string', DOCS, [DOCS.length, 1]) });
      const want = sparseToMatrix(transformTfidf(model, DOCS));
      const got = out['tfidf']!.data as Float64Array;
      assert.deepEqual(out['tfidf']!.dims, [DOCS.length, want.cols]);
      for (let i = 0; i < DOCS.length; i++) {
        for (let j = 0; j < want.cols; j++) {
          const w = want.data[j * DOCS.length + i]!;
          assert.ok(
            Math.abs(got[i * want.cols + j]! - w) < 1e-6,
            `document ${i}, term ${model.vocabulary[j]}`,
          );
        }
      }
    } finally {
      await s.release();
    }
  });

  it('passes the reference checker (onnx.checker, full_check)', (t) => {
    if (spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status !== 0) {
      console.warn('!!! python3-onnx is missing: the TF-IDF checker test is SKIPPED');
      return t.skip('python3-onnx not installed');
    }
    const dir = mkdtempSync(join(tmpdir(), 'mass-tfidf-'));
    try {
      const path = join(dir, 'tfidf.onnx');
      writeFileSync(path, tfidfModelBytes(fitTfidf(TRAIN)));
      const r = spawnSync('/usr/bin/python3', [CHECKER, '--canonical', path], { encoding: 'utf8' });
      assert.equal(r.status, 0, `checker failed:\n${r.stdout}${r.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
