// Batch scoring through the real server: a dataset version or an uploaded CSV scored by a model
// version in a job with progress; the CSV result in the artifact store; rows/s reported.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitForJob } from '../support/server.js';
import {
  call,
  IRIS_COLUMNS,
  irisCsv,
  register,
  servingFixture,
  sharedModel,
  train,
  type ServingFixture,
} from '../serving/support.js';

describe('batch scoring jobs', () => {
  let f: ServingFixture;

  before(async () => {
    f = await servingFixture();
    await train(f, 'iris', irisCsv(), 'target', 'iris');
    await register(f, 'lab', 'mlp30', sharedModel('mlp30'));
  });
  after(() => f.server.dispose());

  const result = async (job: string) => {
    const r = await fetch(`${f.server.url}/v1/projects/lab/batch-prediction-jobs/${job}/result`, {
      headers: { authorization: `Bearer ${f.key}` },
    });
    return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
  };

  test('a dataset version scored by a model: every row, the input columns then the predictions', async () => {
    const submitted = await call(f.server, 'POST', '/v1/projects/lab/batch-prediction-jobs', {
      key: f.key,
      json: { model: 'iris', dataset: 'iris' },
    });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    assert.equal(submitted.body.type, 'batch_predict');
    const job = await waitForJob(f.server, f.key, 'lab', submitted.body.id);
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.progress, 1);
    assert.equal(job.result.rows, 150);
    assert.ok(job.result.rowsPerSecond > 0);
    assert.ok(job.metrics.rows === 150);
    const csv = await result(job.id);
    assert.equal(csv.status, 200);
    assert.match(csv.type ?? '', /text\/csv/);
    const lines = csv.text.trim().split('\n');
    assert.equal(lines.length, 151);
    const header = lines[0]!.split(',');
    assert.deepEqual(header.slice(-4), ['prediction', 'probability_0', 'probability_1', 'probability_2']);
    // Row 1 of the file, scored online, gives the same answer.
    const cells = lines[1]!.split(',');
    const row = Object.fromEntries(
      IRIS_COLUMNS.map((c) => [
        c,
        Number(cells[header.indexOf(`"${c}"`) >= 0 ? header.indexOf(`"${c}"`) : header.indexOf(c)]),
      ]),
    );
    await call(f.server, 'POST', '/v1/projects/lab/deployments', {
      key: f.key,
      json: { name: 'iris', model: 'iris' },
    });
    const online = await call(f.server, 'POST', '/v1/projects/lab/deployments/iris/predict', {
      key: f.key,
      json: { rows: [row] },
    });
    assert.equal(online.status, 200, JSON.stringify(online.body));
    assert.equal(Number(cells[header.indexOf('prediction')]), online.body.predictions[0].label);
    assert.ok(Math.abs(Number(cells.at(-1)) - online.body.predictions[0].probabilities['2']) < 1e-6);
  });

  test('an uploaded CSV (columns in any order, extra columns kept) scored by a model version', async () => {
    const csv = [
      'id,petal width (cm),petal length (cm),sepal width (cm),sepal length (cm)',
      'a,0.2,1.4,3.5,5.1',
      'b,2.3,5.2,3.0,6.7',
      'c,,5.0,,6.0',
    ].join('\n');
    const submitted = await call(
      f.server,
      'POST',
      '/v1/projects/lab/batch-prediction-jobs?model=iris&version=1',
      {
        key: f.key,
        body: csv,
        type: 'text/csv',
      },
    );
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const job = await waitForJob(f.server, f.key, 'lab', submitted.body.id);
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.result.input, 'uploaded CSV');
    const lines = (await result(job.id)).text.trim().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[1]!, /^a,0\.2,1\.4,3\.5,5\.1,0,/);
    assert.match(lines[2]!, /^b,.*,2,/);
    assert.match(lines[3]!, /^c,,5\.0,,6\.0,[012],/, 'blanks are missing values, imputed');
  });

  test('bad call: a CSV without a model column fails the job naming it; a tensor model is refused; no result before success', async () => {
    const submitted = await call(f.server, 'POST', '/v1/projects/lab/batch-prediction-jobs?model=iris', {
      key: f.key,
      body: 'sepal length (cm),sepal width (cm)\n1,2\n',
      type: 'text/csv',
    });
    assert.equal(submitted.status, 202);
    const job = await waitForJob(f.server, f.key, 'lab', submitted.body.id);
    assert.equal(job.status, 'failed');
    assert.match(job.error, /petal length \(cm\)/);
    assert.equal(job.attempts, 1, 'bad input is not retried');
    assert.equal((await result(job.id)).status, 409);

    const text = await call(f.server, 'POST', '/v1/projects/lab/batch-prediction-jobs?model=iris', {
      key: f.key,
      body: 'sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n1,2,x,4\n',
      type: 'text/csv',
    });
    const failed = await waitForJob(f.server, f.key, 'lab', text.body.id);
    assert.equal(failed.status, 'failed');
    assert.match(failed.error, /row 1, column petal length \(cm\).*must be a number/);

    const tensors = await call(f.server, 'POST', '/v1/projects/lab/batch-prediction-jobs', {
      key: f.key,
      json: { model: 'mlp30', dataset: 'iris' },
    });
    assert.equal(tensors.status, 400);
    assert.match(tensors.body.detail, /tensors/);
    const unknown = await call(f.server, 'POST', '/v1/projects/lab/batch-prediction-jobs', {
      key: f.key,
      json: { model: 'iris', dataset: 'nope' },
    });
    assert.equal(unknown.status, 404);
    const invoker = await call(f.server, 'POST', '/v1/projects/lab/batch-prediction-jobs', {
      key: f.invoker,
      json: { model: 'iris', dataset: 'iris' },
    });
    assert.equal(invoker.status, 403);
  });
});
