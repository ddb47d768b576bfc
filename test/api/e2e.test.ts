// The whole flow of issue 3 through the real HTTP server: project, key, CSV upload, training job,
// model version, deployment, prediction; then a restart on the same data folder.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { call, SHARED_DATA, startTestServer, waitForJob, type TestServer } from '../support/server.js';
import { DIALECTS } from '../support/stores.js';

function csvRows(path: string, limit: number): Record<string, number>[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const names = header!.split(',');
  return lines
    .slice(0, limit)
    .map((line) => Object.fromEntries(line.split(',').map((v, j) => [names[j]!, Number(v)])));
}

for (const dialect of DIALECTS) {
  test(
    `from a CSV file to an authenticated prediction, surviving a restart (metadata on ${dialect.name})`,
    { skip: dialect.skipReason() },
    async (t) => {
      const fixture = await dialect.open();
      const server = await startTestServer({ databaseUrl: fixture.url });
      const restarted: { server?: TestServer } = {};
      t.after(async () => {
        await restarted.server?.stop();
        await server.dispose();
        await fixture.dispose();
      });
      const admin = server.adminKey!;
      assert.match(admin, /^mass_[A-Za-z0-9]{8}_/);

      // 1. A project and a maintainer key scoped to it.
      assert.equal(
        (await call(server, 'POST', '/v1/projects', { key: admin, json: { name: 'credit' } })).status,
        201,
      );
      const created = await call(server, 'POST', '/v1/keys', {
        key: admin,
        json: { name: 'ci', project: 'credit', role: 'maintainer' },
      });
      assert.equal(created.status, 201);
      const key: string = created.body.key;
      assert.equal(created.body.info.prefix, key.slice(0, 13));

      // 2. Upload: schema inferred, stored once.
      const csv = readFileSync(join(SHARED_DATA, 'breast_cancer.csv'));
      const up = await call(server, 'POST', '/v1/projects/credit/datasets?name=cancer', {
        key,
        body: csv,
        type: 'text/csv',
      });
      assert.equal(up.status, 201, JSON.stringify(up.body));
      assert.equal(up.body.version, 1);
      assert.equal(up.body.rowCount, 569);
      assert.equal(up.body.schema.columns.length, 31);
      // Whole-number columns are typed integer since the DuckDB import (the 0/1 target among them).
      assert.ok(
        up.body.schema.columns.every((c: { type: string }) => c.type === 'numeric' || c.type === 'integer'),
      );
      assert.equal(up.body.schema.columns.find((c: { name: string }) => c.name === 'target').type, 'integer');
      const again = await call(server, 'POST', '/v1/projects/credit/datasets?name=cancer', {
        key,
        body: csv,
        type: 'text/csv',
      });
      assert.equal(again.status, 200, 'same content: the existing version');
      assert.equal(again.body.id, up.body.id);

      // 3. Train: a job with progress, then a model version with metrics on the held-out split.
      const submitted = await call(server, 'POST', '/v1/projects/credit/training-jobs', {
        key,
        json: { dataset: 'cancer', target: 'target', model: 'cancer-lr' },
      });
      assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
      const job = await waitForJob(server, key, 'credit', submitted.body.id);
      assert.equal(job.status, 'succeeded', job.error);
      assert.equal(job.result.version, 1);
      const mv = await call(server, 'GET', '/v1/projects/credit/models/cancer-lr/versions/1', { key });
      assert.equal(mv.status, 200);
      assert.equal(mv.body.algorithm, 'logistic_regression');
      assert.ok(mv.body.metrics.accuracy > 0.93, `accuracy ${mv.body.metrics.accuracy}`);
      assert.ok(mv.body.metrics.roc_auc > 0.95);
      assert.equal(mv.body.datasetVersionId, up.body.id, 'lineage: the dataset version');
      assert.equal(mv.body.jobId, submitted.body.id, 'lineage: the job');
      assert.deepEqual(mv.body.signature.labels, [0, 1]);
      assert.equal(mv.body.signature.inputs.length, 30);

      // 4. Deploy and predict by column name.
      const dep = await call(server, 'POST', '/v1/projects/credit/deployments', {
        key,
        json: { name: 'cancer', model: 'cancer-lr' },
      });
      assert.equal(dep.status, 201, JSON.stringify(dep.body));
      const rows = csvRows(join(SHARED_DATA, 'breast_cancer.csv'), 50);
      const truth = rows.map((r) => r.target);
      for (const r of rows) delete r.target;
      const predicted = await call(server, 'POST', '/v1/projects/credit/deployments/cancer/predict', {
        key,
        json: { rows },
      });
      assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
      assert.equal(predicted.body.model, 'cancer-lr');
      assert.equal(predicted.body.version, 1);
      assert.equal(predicted.headers.get('x-request-id'), predicted.body.requestId);
      const preds = predicted.body.predictions as { label: number; probabilities: Record<string, number> }[];
      assert.equal(preds.length, 50);
      for (const p of preds) {
        assert.ok(p.label === 0 || p.label === 1);
        assert.ok(Math.abs(p.probabilities['0']! + p.probabilities['1']! - 1) < 1e-5);
        assert.equal(p.label, p.probabilities['1']! > p.probabilities['0']! ? 1 : 0);
      }
      const correct = preds.filter((p, i) => p.label === truth[i]).length;
      assert.ok(correct >= 45, `${correct}/50 correct`);

      // 5. The ONNX file can be downloaded.
      const artifact = await fetch(`${server.url}/v1/projects/credit/models/cancer-lr/versions/1/artifact`, {
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(artifact.status, 200);
      assert.ok((await artifact.arrayBuffer()).byteLength > 500);

      // 6. Restart on the same data folder: everything is there and the deployment answers at once.
      await server.stop();
      const again2 = await startTestServer({ home: server.home, databaseUrl: fixture.url });
      restarted.server = again2;
      assert.equal(again2.adminKey, undefined, 'no second admin key');
      const ready = await call(again2, 'GET', '/readyz');
      assert.equal(ready.status, 200);
      const after = await call(again2, 'POST', '/v1/projects/credit/deployments/cancer/predict', {
        key,
        json: { rows: rows.slice(0, 3) },
      });
      assert.equal(after.status, 200, JSON.stringify(after.body));
      assert.deepEqual(after.body.predictions, preds.slice(0, 3));
      for (const path of [
        '/v1/projects',
        '/v1/projects/credit/datasets',
        '/v1/projects/credit/models',
        '/v1/projects/credit/deployments',
        '/v1/projects/credit/jobs',
      ]) {
        const listed = await call(again2, 'GET', path, { key });
        assert.equal(listed.status, 200, path);
        assert.equal(listed.body.items.length, 1, path);
      }
    },
  );
}

test('regression and categorical data: linear regression on diabetes; logistic regression on strings, booleans and blanks', async (t) => {
  const server = await startTestServer();
  t.after(() => server.dispose());
  const key = server.adminKey!;
  await call(server, 'POST', '/v1/projects', { key, json: { name: 'lab' } });

  // Regression: auto picks linear regression for a numeric target with many values.
  const diabetes = readFileSync(join(SHARED_DATA, 'diabetes.csv'));
  assert.equal(
    (
      await call(server, 'POST', '/v1/projects/lab/datasets?name=diabetes', {
        key,
        body: diabetes,
        type: 'text/csv',
      })
    ).status,
    201,
  );
  const reg = await call(server, 'POST', '/v1/projects/lab/training-jobs', {
    key,
    json: { dataset: 'diabetes', target: 'target' },
  });
  const regJob = await waitForJob(server, key, 'lab', reg.body.id);
  assert.equal(regJob.status, 'succeeded', regJob.error);
  const model = await call(server, 'GET', '/v1/projects/lab/models/diabetes-target', { key });
  assert.equal(model.body.task, 'regression');
  assert.equal(model.body.versions[0].algorithm, 'linear_regression');
  assert.ok(model.body.versions[0].metrics.r2 > 0.3, `r2 ${model.body.versions[0].metrics.r2}`);
  await call(server, 'POST', '/v1/projects/lab/deployments', {
    key,
    json: { name: 'diabetes', model: 'diabetes-target' },
  });
  const row = csvRows(join(SHARED_DATA, 'diabetes.csv'), 1)[0]!;
  delete row.target;
  const value = await call(server, 'POST', '/v1/projects/lab/deployments/diabetes/predict', {
    key,
    json: { rows: [row] },
  });
  assert.equal(value.status, 200);
  assert.equal(typeof value.body.predictions[0].value, 'number');

  // Classification with a string target, a categorical and a boolean column, and blanks.
  const lines = ['income,region,owner,decision'];
  const regions = ['north', 'south', 'east'];
  for (let i = 0; i < 300; i++) {
    const income = 20 + ((i * 37) % 100);
    const region = regions[i % 3]!;
    const owner = i % 4 === 0 ? 'yes' : 'no';
    const approve = income + (region === 'south' ? 25 : 0) + (owner === 'yes' ? 10 : 0) > 80;
    lines.push(
      `${i % 17 === 0 ? '' : income},${i % 23 === 0 ? '' : region},${owner},${approve ? 'approve' : 'decline'}`,
    );
  }
  const up = await call(server, 'POST', '/v1/projects/lab/datasets?name=loans', {
    key,
    body: lines.join('\n'),
    type: 'text/csv',
  });
  assert.equal(up.status, 201);
  const types = Object.fromEntries(
    up.body.schema.columns.map((c: { name: string; type: string }) => [c.name, c.type]),
  );
  assert.deepEqual(types, {
    income: 'integer',
    region: 'categorical',
    owner: 'boolean',
    decision: 'categorical',
  });
  const clf = await call(server, 'POST', '/v1/projects/lab/training-jobs', {
    key,
    json: { dataset: 'loans', target: 'decision', model: 'loans' },
  });
  const clfJob = await waitForJob(server, key, 'lab', clf.body.id);
  assert.equal(clfJob.status, 'succeeded', clfJob.error);
  assert.ok(clfJob.result.metrics.accuracy > 0.85, `accuracy ${clfJob.result.metrics.accuracy}`);
  await call(server, 'POST', '/v1/projects/lab/deployments', {
    key,
    json: { name: 'loans', model: 'loans' },
  });
  const answer = await call(server, 'POST', '/v1/projects/lab/deployments/loans/predict', {
    key,
    json: {
      rows: [
        { income: 95, region: 'south', owner: true },
        { income: 21, region: 'north', owner: 'no' },
        { income: null, region: 'atlantis', owner: null },
      ],
    },
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const [rich, poor, unknown] = answer.body.predictions;
  assert.equal(rich.label, 'approve');
  assert.equal(poor.label, 'decline');
  assert.ok(
    ['approve', 'decline'].includes(unknown.label),
    'missing values and an unseen category still predict',
  );
  assert.deepEqual(Object.keys(rich.probabilities).sort(), ['approve', 'decline']);
});
