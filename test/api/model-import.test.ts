// Issue 5, import: the six real ONNX files of ../shared/data/models go in through the HTTP API,
// come back out of the artifact store byte for byte, and — loaded as serving loads them — give
// the outputs recorded beside them, for a batch of one and a batch of many. A model Mass exported
// itself comes back with its rows-by-column signature and serves rows again. Bundles are zips.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { unzipSync, strFromU8 } from 'fflate';
import { loadOnnxRuntime, type NamedTensor } from '../../src/serving/runtime.js';
import { call, SHARED_DATA, startTestServer, waitForJob, type TestServer } from '../support/server.js';

const MODELS = resolve('../shared/data/models');
const HAVE_MODELS = existsSync(MODELS);
if (!HAVE_MODELS) console.warn(`!!! ${MODELS} is missing: the real-model import tests are SKIPPED`);

type Nested = number | string | Nested[];

interface Case {
  readonly file: string;
  /** Query string of the upload. */
  readonly query?: string;
  /** JSON options header of the upload. */
  readonly header?: Record<string, unknown>;
  readonly task: string;
  readonly labels?: readonly (string | number)[];
  readonly outputRoles?: Record<string, string>;
  readonly tensors: {
    inputs: { name: string; datatype: string; shape: number[] }[];
    outputs: { name: string; datatype: string; shape: number[] }[];
  };
}

const CASES: readonly Case[] = [
  {
    file: 'breast_cancer_mlp',
    query: '?labels=malignant,benign&description=PyTorch%20MLP',
    task: 'classification',
    labels: ['malignant', 'benign'],
    outputRoles: { probabilities: 'probabilities' },
    tensors: {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 30] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }],
    },
  },
  {
    file: 'digits_cnn',
    query: '?task=classification',
    task: 'classification',
    labels: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    outputRoles: { probabilities: 'probabilities' },
    tensors: {
      inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 1, 8, 8] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }],
    },
  },
  {
    file: 'iris_forest',
    header: { labels: ['setosa', 'versicolor', 'virginica'], description: 'random forest, 10 trees' },
    task: 'classification',
    labels: ['setosa', 'versicolor', 'virginica'],
    outputRoles: { probabilities: 'probabilities', label: 'label' },
    tensors: {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    },
  },
  {
    file: 'species_encoder',
    task: 'custom',
    tensors: {
      inputs: [{ name: 'species', datatype: 'BYTES', shape: [-1] }],
      outputs: [{ name: 'species_id', datatype: 'INT64', shape: [-1] }],
    },
  },
  {
    file: 'text_encoder',
    query: '?task=custom&description=one-layer%20transformer',
    task: 'custom',
    tensors: {
      inputs: [
        { name: 'input_ids', datatype: 'INT64', shape: [-1, -1] },
        { name: 'attention_mask', datatype: 'INT64', shape: [-1, -1] },
      ],
      outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 2] }],
    },
  },
  {
    file: 'mlp30',
    task: 'custom',
    tensors: {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 30] }],
      outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 2] }],
    },
  },
];

/** The golden inputs and outputs by tensor name (mlp30's file has its own layout). */
function golden(file: string): { inputs: Record<string, Nested[]>; outputs: Record<string, Nested[]> } {
  const g = JSON.parse(readFileSync(join(MODELS, `${file}.golden.json`), 'utf8'));
  if (file === 'mlp30') return { inputs: { input: g.inputs }, outputs: { logits: g.logits } };
  return { inputs: g.inputs, outputs: g.outputs };
}

function flatten(v: Nested, out: (number | string)[] = []): (number | string)[] {
  if (Array.isArray(v)) for (const x of v) flatten(x, out);
  else out.push(v);
  return out;
}

function dimsOf(v: Nested): number[] {
  return Array.isArray(v) ? [v.length, ...dimsOf(v[0]!)] : [];
}

/** A tensor of the datatype the registered signature gives: the proof that the signature is right. */
function tensor(datatype: string, rows: Nested[]): NamedTensor {
  const flat = flatten(rows);
  const dims = [rows.length, ...dimsOf(rows[0]!)];
  switch (datatype) {
    case 'FP32':
      return { type: 'float32', data: Float32Array.from(flat as number[]), dims };
    case 'INT64':
      return { type: 'int64', data: BigInt64Array.from(flat as number[], (x) => BigInt(x)), dims };
    case 'BYTES':
      return { type: 'string', data: flat as string[], dims };
    default:
      throw new Error(`no test tensor for ${datatype}`);
  }
}

function assertClose(actual: NamedTensor, expected: Nested[], what: string): void {
  const want = flatten(expected) as number[];
  assert.deepEqual([...actual.dims], [expected.length, ...dimsOf(expected[0]!)], `${what}: shape`);
  const got = Array.from(actual.data as ArrayLike<number | bigint>, Number);
  assert.equal(got.length, want.length, `${what}: size`);
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-5, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
}

describe('importing ONNX models', { timeout: 120_000 }, () => {
  let server: TestServer;
  let key: string;
  const imported = new Map<string, any>();

  before(async () => {
    server = await startTestServer({ maxUploadBytes: 1024 * 1024 });
    const admin = server.adminKey!;
    await call(server, 'POST', '/v1/projects', { key: admin, json: { name: 'zoo' } });
    key = (
      await call(server, 'POST', '/v1/keys', {
        key: admin,
        json: { name: 'm', project: 'zoo', role: 'maintainer' },
      })
    ).body.key;
  });
  after(() => server.dispose());

  for (const c of CASES) {
    test(
      `${c.file}.onnx imports, and ONNX Runtime gives its golden outputs (batch of 1 and of all)`,
      {
        skip: !HAVE_MODELS,
      },
      async () => {
        const bytes = readFileSync(join(MODELS, `${c.file}.onnx`));
        const name = c.file.replace(/_/g, '-');
        const r = await call(server, 'POST', `/v1/projects/zoo/models/${name}/versions${c.query ?? ''}`, {
          key,
          body: bytes,
          type: 'application/octet-stream',
          ...(c.header ? { headers: { 'x-mass-import-options': JSON.stringify(c.header) } } : {}),
        });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        const v = r.body;
        imported.set(c.file, v);
        assert.equal(v.model, name);
        assert.equal(v.version, 1);
        assert.equal(v.algorithm, 'imported');
        assert.equal(v.sizeBytes, bytes.length);
        assert.equal(v.artifactHash, createHash('sha256').update(bytes).digest('hex'));
        assert.equal(v.datasetVersionId, null);
        assert.equal(v.jobId, null);
        assert.equal(v.params.source, 'upload');
        assert.equal(v.params.signatureRestored, false);
        assert.equal(v.signature.task, c.task);
        assert.deepEqual(v.signature.inputs, [], 'tensor-only: no rows-by-column inputs');
        assert.deepEqual(v.signature.labels, c.labels);
        assert.deepEqual(v.signature.outputRoles, c.outputRoles);
        assert.deepEqual(v.signature.tensors, c.tensors);

        // The registry serves the same version back, and the artifact is the uploaded file.
        const got = await call(server, 'GET', `/v1/projects/zoo/models/${name}/versions/1`, { key });
        assert.equal(got.status, 200);
        assert.deepEqual(got.body.signature, v.signature);
        const artifact = await fetch(`${server.url}/v1/projects/zoo/models/${name}/versions/1/artifact`, {
          headers: { authorization: `Bearer ${key}` },
        });
        assert.equal(artifact.status, 200);
        assert.ok(Buffer.from(await artifact.arrayBuffer()).equals(bytes));

        // As serving loads it: from the artifact store, through the runtime seam.
        const stored = await server.platform.services.artifacts.get(v.artifactHash);
        const runtime = await loadOnnxRuntime(stored);
        try {
          const { inputs, outputs } = golden(c.file);
          const n = (Object.values(inputs)[0] as Nested[]).length;
          assert.ok(n > 1, 'the golden file has several rows');
          for (const rows of [n, 1]) {
            const feeds: Record<string, NamedTensor> = {};
            for (const spec of v.signature.tensors.inputs)
              feeds[spec.name] = tensor(spec.datatype, inputs[spec.name]!.slice(0, rows));
            const result = await runtime.run(feeds);
            for (const [out, want] of Object.entries(outputs))
              assertClose(result[out]!, want.slice(0, rows), `${c.file} ${out} (batch ${rows})`);
          }
        } finally {
          await runtime.unload();
        }
      },
    );
  }

  test('a second upload is the next version of the same model', { skip: !HAVE_MODELS }, async () => {
    const bytes = readFileSync(join(MODELS, 'mlp30.onnx'));
    const r = await call(server, 'POST', '/v1/projects/zoo/models/mlp30/versions', {
      key,
      body: bytes,
      type: 'application/octet-stream',
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.version, 2);
    assert.equal(r.body.artifactHash, imported.get('mlp30').artifactHash, 'same content, same blob');
    const listed = await call(server, 'GET', '/v1/projects/zoo/models', { key });
    const mlp = listed.body.items.find((m: { name: string }) => m.name === 'mlp30');
    assert.deepEqual([mlp.task, mlp.latestVersion], ['custom', 2]);
  });

  test(
    'the artifact as a zip: model.onnx, signature.json and model-card.json',
    { skip: !HAVE_MODELS },
    async () => {
      const v = imported.get('iris_forest');
      const res = await fetch(
        `${server.url}/v1/projects/zoo/models/iris-forest/versions/1/artifact?format=zip`,
        {
          headers: { authorization: `Bearer ${key}` },
        },
      );
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/zip');
      assert.match(res.headers.get('content-disposition') ?? '', /filename="iris-forest-v1\.zip"/);
      const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
      assert.deepEqual(Object.keys(files).sort(), ['model-card.json', 'model.onnx', 'signature.json']);
      assert.ok(Buffer.from(files['model.onnx']!).equals(readFileSync(join(MODELS, 'iris_forest.onnx'))));
      assert.deepEqual(JSON.parse(strFromU8(files['signature.json']!)), v.signature);
      const card = JSON.parse(strFromU8(files['model-card.json']!));
      assert.equal(card.name, 'iris-forest');
      assert.equal(card.version, 1);
      assert.equal(card.task, 'classification');
      assert.equal(card.description, 'random forest, 10 trees');
      assert.equal(card.algorithm, 'imported');
      assert.equal(card.created, v.createdAt);
      assert.equal(card.sha256, v.artifactHash);
      assert.deepEqual(card.metrics, {});
      assert.equal(card.lineage.source, 'upload');
      assert.equal(card.lineage.jobId, null);
      assert.deepEqual(card.labels, ['setosa', 'versicolor', 'virginica']);
      assert.deepEqual(card.inputs, v.signature.tensors.inputs);
      assert.deepEqual(card.outputs, v.signature.tensors.outputs);
      assert.deepEqual(card.producer, { name: 'scikit-learn (converted by hand)', version: '' });
      assert.deepEqual(card.opsets, { 'ai.onnx': 17, 'ai.onnx.ml': 3 });
      // The plain form is unchanged.
      const plain = await call(
        server,
        'GET',
        '/v1/projects/zoo/models/iris-forest/versions/1/artifact?format=onnx',
        {
          key,
        },
      );
      assert.equal(plain.status, 200);
      const bad = await call(
        server,
        'GET',
        '/v1/projects/zoo/models/iris-forest/versions/1/artifact?format=tar',
        {
          key,
        },
      );
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'VALIDATION_FAILED');
    },
  );

  test('a model Mass exported, re-imported, has its rows signature again and serves rows', async () => {
    await call(server, 'POST', '/v1/projects/zoo/datasets?name=iris', {
      key,
      body: readFileSync(join(SHARED_DATA, 'iris.csv')),
      type: 'text/csv',
    });
    const job = await call(server, 'POST', '/v1/projects/zoo/training-jobs', {
      key,
      json: { dataset: 'iris', target: 'target', model: 'iris' },
    });
    assert.equal((await waitForJob(server, key, 'zoo', job.body.id)).status, 'succeeded');
    const trained = (await call(server, 'GET', '/v1/projects/zoo/models/iris/versions/1', { key })).body;

    // The trained model's bundle: lineage to its job and dataset, tensors read from the file.
    const zip = await fetch(`${server.url}/v1/projects/zoo/models/iris/versions/1/artifact?format=zip`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const files = unzipSync(new Uint8Array(await zip.arrayBuffer()));
    const card = JSON.parse(strFromU8(files['model-card.json']!));
    assert.equal(card.lineage.source, 'training');
    assert.equal(card.lineage.jobId, job.body.id);
    assert.equal(card.lineage.datasetVersionId, trained.datasetVersionId);
    assert.equal(card.producer.name, 'mass');
    assert.equal(typeof card.metrics.accuracy, 'number');
    assert.deepEqual(
      card.columns.map((c: { name: string }) => c.name),
      trained.signature.inputs.map((c: { name: string }) => c.name),
    );
    const signature = JSON.parse(strFromU8(files['signature.json']!));
    assert.deepEqual(
      signature.tensors.inputs.map((t: { name: string; datatype: string; shape: number[] }) => [
        t.datatype,
        t.shape,
      ]),
      trained.signature.inputs.map(() => ['FP32', [-1, 1]]),
    );

    // Re-import the exported file under another name.
    const onnx = Buffer.from(files['model.onnx']!);
    const r = await call(server, 'POST', '/v1/projects/zoo/models/iris-again/versions', {
      key,
      body: onnx,
      type: 'application/octet-stream',
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.params.signatureRestored, true);
    assert.equal(r.body.signature.task, 'classification');
    assert.equal(r.body.signature.target, 'target');
    assert.deepEqual(r.body.signature.inputs, trained.signature.inputs);
    assert.deepEqual(r.body.signature.labels, trained.signature.labels);
    assert.equal(r.body.metrics.accuracy, trained.metrics.accuracy);
    assert.equal(r.body.signature.tensors.inputs.length, trained.signature.inputs.length);

    // Both serve rows, with the same answers.
    const rows = [
      {
        'sepal length (cm)': 5.1,
        'sepal width (cm)': 3.5,
        'petal length (cm)': 1.4,
        'petal width (cm)': 0.2,
      },
      {
        'sepal length (cm)': 6.7,
        'sepal width (cm)': 3.0,
        'petal length (cm)': 5.2,
        'petal width (cm)': 2.3,
      },
    ];
    const answers = [];
    for (const name of ['iris', 'iris-again']) {
      const d = await call(server, 'POST', '/v1/projects/zoo/deployments', {
        key,
        json: { name, model: name },
      });
      assert.equal(d.status, 201, JSON.stringify(d.body));
      const p = await call(server, 'POST', `/v1/projects/zoo/deployments/${name}/predict`, {
        key,
        json: { rows },
      });
      assert.equal(p.status, 200, JSON.stringify(p.body));
      answers.push(p.body.predictions);
    }
    assert.deepEqual(answers[1], answers[0]);
    assert.deepEqual(
      answers[0]!.map((p: { label: number }) => p.label),
      [0, 2],
    );
  });
});
