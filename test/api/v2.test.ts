// The Open Inference Protocol (KServe V2) over REST, through the real server: health, metadata,
// inference on a model trained by Mass (one tensor per column) and on imported ONNX models (FP32,
// INT64, BYTES, several inputs), the model-name mapping, versions and aliases.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call,
  close,
  deploy,
  flat,
  golden,
  irisCsv,
  irisTensors,
  register,
  servingFixture,
  sharedModel,
  train,
  type ServingFixture,
} from '../serving/support.js';

const SETOSA = [5.1, 3.5, 1.4, 0.2];
const VIRGINICA = [6.7, 3.0, 5.2, 2.3];

describe('Open Inference Protocol over REST', () => {
  let f: ServingFixture;

  before(async () => {
    f = await servingFixture();
    await train(f, 'iris', irisCsv(), 'target', 'iris');
    assert.equal((await deploy(f, { name: 'iris', model: 'iris' })).status, 201);
    for (const name of ['iris_forest', 'species_encoder', 'text_encoder', 'mlp30']) {
      await register(f, 'lab', name, sharedModel(name));
      const d = await deploy(f, { name: name.replace('_', '-'), model: name });
      assert.equal(d.status, 201, JSON.stringify(d.body));
    }
  });
  after(() => f.server.dispose());

  test('health, readiness and server metadata need no key', async () => {
    assert.deepEqual((await call(f.server, 'GET', '/v2/health/live')).body, { live: true });
    assert.deepEqual((await call(f.server, 'GET', '/v2/health/ready')).body, { ready: true });
    const meta = await call(f.server, 'GET', '/v2');
    assert.equal(meta.body.name, 'mass');
    assert.deepEqual(meta.body.extensions, []);
  });

  test('model metadata of a trained model: one FP32 [-1,1] tensor per column', async () => {
    const r = await call(f.server, 'GET', '/v2/models/iris', { key: f.key });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.name, 'iris');
    assert.deepEqual(r.body.versions, ['1']);
    assert.equal(r.body.platform, 'onnx_onnxv1');
    assert.deepEqual(
      r.body.inputs.map((i: { name: string }) => i.name),
      ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'],
    );
    for (const i of r.body.inputs) assert.deepEqual([i.datatype, i.shape], ['FP32', [-1, 1]]);
    const outputs = Object.fromEntries(r.body.outputs.map((o: any) => [o.name, [o.datatype, o.shape]]));
    assert.deepEqual(outputs.probabilities, ['FP32', [-1, 3]]);
    assert.deepEqual(outputs.label, ['INT64', [-1]]);
    const ready = await call(f.server, 'GET', '/v2/models/iris/ready', { key: f.key });
    assert.deepEqual(ready.body, { name: 'iris', ready: true });
    assert.equal(
      (await call(f.server, 'GET', '/v2/models/iris/versions/1/ready', { key: f.key })).status,
      200,
    );
  });

  test('infer: tensors per column in, label and probabilities out, with model, version and request id', async () => {
    const r = await call(f.server, 'POST', '/v2/models/iris/infer', {
      key: f.key,
      json: { id: 'my-42', inputs: irisTensors([SETOSA, VIRGINICA]) },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.model_name, 'iris');
    assert.equal(r.body.model_version, '1');
    assert.equal(r.body.id, 'my-42');
    assert.equal(r.body.parameters.request_id, r.headers.get('x-request-id'));
    assert.equal(r.headers.get('x-mass-model'), 'iris');
    assert.equal(r.headers.get('x-mass-model-version'), '1');
    const out = Object.fromEntries(r.body.outputs.map((o: any) => [o.name, o]));
    assert.deepEqual(out.label.data, [0, 2]);
    assert.deepEqual(out.label.shape, [2]);
    assert.deepEqual(out.probabilities.shape, [2, 3]);
    // The same model through the native rows API gives the same numbers.
    const names = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];
    const rows = [SETOSA, VIRGINICA].map((v) => Object.fromEntries(names.map((n, j) => [n, v[j]])));
    const native = await call(f.server, 'POST', '/v1/projects/lab/deployments/iris/predict', {
      key: f.key,
      json: { rows },
    });
    const p = native.body.predictions.flatMap((x: any) => [
      x.probabilities['0'],
      x.probabilities['1'],
      x.probabilities['2'],
    ]);
    assert.ok(close(out.probabilities.data, p, 1e-6));
  });

  test('infer: requested outputs only, nested data, a [N] vector for a [-1,1] input, null as a missing value', async () => {
    const inputs = irisTensors([SETOSA]).map((t, j) =>
      j === 0 ? { ...t, shape: [1], data: [5.1] } : j === 1 ? { ...t, data: [[null]] } : t,
    );
    const r = await call(f.server, 'POST', '/v2/models/iris/infer', {
      key: f.key,
      json: { inputs, outputs: [{ name: 'label' }] },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.outputs.map((o: any) => o.name),
      ['label'],
    );
    assert.equal(r.body.id, r.headers.get('x-request-id'), 'no id given: the request id');
  });

  test('versions and aliases in the path; a version the deployment does not serve is 404', async () => {
    const body = { inputs: irisTensors([SETOSA]) };
    for (const v of ['1', 'production'])
      assert.equal(
        (await call(f.server, 'POST', `/v2/models/iris/versions/${v}/infer`, { key: f.key, json: body }))
          .status,
        200,
      );
    const missing = await call(f.server, 'POST', '/v2/models/iris/versions/7/infer', {
      key: f.key,
      json: body,
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'NOT_FOUND');
    assert.match(missing.body.error, /7/, 'the V2 "error" field is there too');
  });

  test('imported models: FP32 matrix, INT64 inputs, BYTES (plain and base64) match their golden outputs', async () => {
    const forest = golden('iris_forest');
    const x = forest.inputs.features as number[][];
    let r = await call(f.server, 'POST', '/v2/models/iris-forest/infer', {
      key: f.key,
      json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [x.length, 4], data: x }] },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const byName = (body: any) => Object.fromEntries(body.outputs.map((o: any) => [o.name, o]));
    assert.deepEqual(byName(r.body).label.data, flat(forest.outputs.label));
    assert.ok(close(byName(r.body).probabilities.data, flat(forest.outputs.probabilities)));

    const text = golden('text_encoder');
    const ids = text.inputs.input_ids as number[][];
    r = await call(f.server, 'POST', '/v2/models/text-encoder/infer', {
      key: f.key,
      json: {
        inputs: ['input_ids', 'attention_mask'].map((name) => ({
          name,
          datatype: 'INT64',
          shape: [ids.length, 16],
          data: (text.inputs[name] as number[][]).flat(),
        })),
      },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(close(byName(r.body).logits.data, flat(text.outputs.logits), 1e-4));

    const species = golden('species_encoder');
    const names = species.inputs.species as string[];
    r = await call(f.server, 'POST', '/v2/models/species-encoder/infer', {
      key: f.key,
      json: { inputs: [{ name: 'species', datatype: 'BYTES', shape: [3], data: names }] },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(byName(r.body).species_id.data, species.outputs.species_id);
    r = await call(f.server, 'POST', '/v2/models/species-encoder/infer', {
      key: f.key,
      json: {
        inputs: [
          {
            name: 'species',
            datatype: 'BYTES',
            shape: [3],
            parameters: { content_type: 'base64' },
            data: names.map((n) => Buffer.from(n).toString('base64')),
          },
        ],
      },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(byName(r.body).species_id.data, species.outputs.species_id);
  });

  test('model names: project.deployment or x-mass-project for keys not scoped to a project', async () => {
    const body = { inputs: irisTensors([SETOSA]) };
    const admin = await call(f.server, 'POST', '/v2/models/lab.iris/infer', { key: f.admin, json: body });
    assert.equal(admin.status, 200, JSON.stringify(admin.body));
    assert.equal(admin.body.model_name, 'lab.iris');
    const header = await call(f.server, 'POST', '/v2/models/iris/infer', {
      key: f.admin,
      json: body,
      headers: { 'x-mass-project': 'lab' },
    });
    assert.equal(header.status, 200);
    const unscoped = await call(f.server, 'POST', '/v2/models/iris/infer', { key: f.admin, json: body });
    assert.equal(unscoped.status, 400);
    assert.match(unscoped.body.detail, /lab\.iris|project/);
    // A project key may spell out its own project, never another one (which reads as not found).
    assert.equal(
      (await call(f.server, 'POST', '/v2/models/lab.iris/infer', { key: f.key, json: body })).status,
      200,
    );
    for (const name of ['lab.iris', 'iris']) {
      const r = await call(f.server, 'POST', `/v2/models/${name}/infer`, { key: f.other, json: body });
      assert.equal(r.status, 404, name);
    }
    assert.equal((await call(f.server, 'GET', '/v2/models/nobody.iris', { key: f.admin })).status, 404);
  });

  test('an invoker key may infer and read metadata, and nothing else', async () => {
    const body = { inputs: irisTensors([SETOSA]) };
    assert.equal(
      (await call(f.server, 'POST', '/v2/models/iris/infer', { key: f.invoker, json: body })).status,
      200,
    );
    assert.equal((await call(f.server, 'GET', '/v2/models/iris', { key: f.invoker })).status, 200);
    assert.equal((await call(f.server, 'POST', '/v2/models/iris/infer', { json: body })).status, 401);
  });
});
