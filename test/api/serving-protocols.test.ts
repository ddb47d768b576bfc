// The other front doors to the same data plane: MLflow scoring bodies on /invocations and the
// simple /api/model + /api/predict, for trained and imported models.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call,
  close,
  deploy,
  flat,
  golden,
  IRIS_COLUMNS,
  irisCsv,
  register,
  servingFixture,
  sharedModel,
  train,
  type ServingFixture,
} from '../serving/support.js';

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.0, 2.7, 5.1, 1.6],
  [6.7, 3.0, 5.2, 2.3],
];

describe('MLflow /invocations and the simple /api', () => {
  let f: ServingFixture;
  const invoke = (json: unknown, deployment = 'iris') =>
    call(f.server, 'POST', `/v1/projects/lab/deployments/${deployment}/invocations`, { key: f.key, json });

  before(async () => {
    f = await servingFixture();
    await train(f, 'iris', irisCsv(), 'target', 'iris');
    assert.equal((await deploy(f, { name: 'iris', model: 'iris' })).status, 201);
    for (const name of ['species_encoder', 'mlp30']) {
      await register(f, 'lab', name, sharedModel(name));
      assert.equal((await deploy(f, { name: name.split('_')[0]!, model: name })).status, 201);
    }
  });
  after(() => f.server.dispose());

  test('every MLflow body form gives the same predictions', async () => {
    const records = ROWS.map((r) => Object.fromEntries(IRIS_COLUMNS.map((c, j) => [c, r[j]])));
    const native = await call(f.server, 'POST', '/v1/projects/lab/deployments/iris/predict', {
      key: f.key,
      json: { rows: records },
    });
    const LABELS = native.body.predictions.map((p: { label: number }) => p.label);
    assert.equal(LABELS[0], 0);
    const columns = Object.fromEntries(IRIS_COLUMNS.map((c, j) => [c, ROWS.map((r) => r[j])]));
    for (const body of [
      { dataframe_split: { columns: IRIS_COLUMNS, data: ROWS } },
      { dataframe_split: { columns: [...IRIS_COLUMNS].reverse(), data: ROWS.map((r) => [...r].reverse()) } },
      { dataframe_records: records },
      { instances: ROWS },
      { instances: records },
      { inputs: ROWS },
      { inputs: columns },
      { dataframe_split: { index: [0, 1, 2], columns: IRIS_COLUMNS, data: ROWS }, params: {} },
    ]) {
      const r = await invoke(body);
      assert.equal(r.status, 200, `${JSON.stringify(body).slice(0, 60)}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body, { predictions: LABELS }, JSON.stringify(body).slice(0, 60));
      assert.equal(r.headers.get('x-mass-model'), 'iris');
      assert.equal(r.headers.get('x-mass-model-version'), '1');
      assert.ok(r.headers.get('x-request-id'));
    }
    const csv = [IRIS_COLUMNS.map((c) => `"${c}"`).join(','), ...ROWS.map((r) => r.join(','))].join('\n');
    const r = await call(f.server, 'POST', '/v1/projects/lab/deployments/iris/invocations', {
      key: f.key,
      body: csv,
      type: 'text/csv',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.predictions, LABELS);
  });

  test('MLflow bodies for imported models: tensors by name or as one matrix', async () => {
    const species = golden('species_encoder');
    let r = await invoke({ inputs: species.inputs.species }, 'species');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.predictions, species.outputs.species_id);
    r = await invoke({ inputs: { species: species.inputs.species } }, 'species');
    assert.deepEqual(r.body.predictions, species.outputs.species_id);
    r = await invoke(
      { instances: (species.inputs.species as string[]).map((s) => ({ species: s })) },
      'species',
    );
    assert.deepEqual(r.body.predictions, species.outputs.species_id);

    // mlp30's golden file keeps its rows in `inputs` and its answers in `logits`.
    const mlp = golden('mlp30') as unknown as { inputs: number[][]; logits: number[][] };
    r = await invoke({ instances: mlp.inputs }, 'mlp30');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(close(flat(r.body.predictions), flat(mlp.logits), 1e-4));
    // The native rows API takes imported models whose inputs are one value per row.
    const rows = await call(f.server, 'POST', '/v1/projects/lab/deployments/species/predict', {
      key: f.key,
      json: { rows: [{ species: 'virginica' }] },
    });
    assert.equal(rows.status, 200, JSON.stringify(rows.body));
    assert.deepEqual(rows.body.predictions, [{ species_id: 2 }]);
  });

  test('/api/model lists what the caller may use; /api/predict answers one target', async () => {
    const listed = await call(f.server, 'GET', '/api/model', { key: f.invoker });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const iris = listed.body.models.find((m: any) => m.model_id === 'iris');
    assert.equal(iris.task, 'classification');
    assert.equal(iris.ready, true);
    assert.deepEqual(
      iris.input_parameters.map((i: any) => i.name),
      IRIS_COLUMNS,
    );
    assert.ok(iris.output_targets.includes('target'));
    assert.equal((await call(f.server, 'GET', '/api/model', { key: f.other })).body.models.length, 0);
    const admin = await call(f.server, 'GET', '/api/model', { key: f.admin });
    assert.ok(admin.body.models.some((m: any) => m.model_id === 'lab.iris'));

    const input_parameters = Object.fromEntries(IRIS_COLUMNS.map((c, j) => [c, ROWS[2]![j]]));
    const r = await call(f.server, 'POST', '/api/predict', {
      key: f.invoker,
      json: { model_id: 'iris', input_parameters, output_target: 'target' },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.prediction, 2);
    assert.equal(r.body.model, 'iris');
    assert.equal(r.body.model_version, 1);
    assert.equal(r.body.request_id, r.headers.get('x-request-id'));
    const p = await call(f.server, 'POST', '/api/predict', {
      key: f.admin,
      json: { model_id: 'lab.iris', input_parameters, output_target: '2' },
    });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.ok(p.body.prediction > 0.5 && p.body.prediction <= 1, 'the probability of class 2');
    const all = await call(f.server, 'POST', '/api/predict', {
      key: f.key,
      json: { model_id: 'iris', input_parameters, output_target: 'probabilities' },
    });
    assert.equal(all.body.prediction.length, 3);
    const s = await call(f.server, 'POST', '/api/predict', {
      key: f.key,
      json: { model_id: 'species', input_parameters: { species: 'setosa' } },
    });
    assert.equal(s.status, 200, JSON.stringify(s.body));
    assert.deepEqual(s.body.prediction, { species_id: 0 });
  });
});
