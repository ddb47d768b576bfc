// Search, the automatic mode and the evaluation report through the real HTTP server: what a data
// scientist sends, what the job shows while it runs, what the model version keeps.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { call, SHARED_DATA, startTestServer, waitForJob, type TestServer } from '../support/server.js';

const skip = existsSync(SHARED_DATA) ? false : `${SHARED_DATA} is absent`;

describe('training API: search, auto, evaluation report', { skip }, () => {
  let server: TestServer;
  let key: string;
  const train = (json: unknown) => call(server, 'POST', '/v1/projects/lab/training-jobs', { key, json });

  before(async () => {
    server = await startTestServer();
    key = server.adminKey!;
    await call(server, 'POST', '/v1/projects', { key, json: { name: 'lab' } });
    for (const name of ['breast_cancer', 'iris', 'digits']) {
      const up = await call(server, 'POST', `/v1/projects/lab/datasets?name=${name}`, {
        key,
        body: readFileSync(join(SHARED_DATA, `${name}.csv`)),
        type: 'text/csv',
      });
      assert.equal(up.status, 201);
    }
  });
  after(() => server.dispose());

  test('a grid search: the trials table and best params stored with the version, the report beside', async () => {
    const submitted = await train({
      dataset: 'breast_cancer',
      target: 'target',
      model: 'bc-search',
      algorithm: 'logistic_regression',
      search: { strategy: 'grid', space: { l2: [0.01, 1, 100] }, folds: 3, metric: 'accuracy' },
    });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const job = await waitForJob(server, key, 'lab', submitted.body.id);
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.result.metrics.search.trialCount, 3, 'the job shows a summary');
    assert.equal(job.result.metrics.curves, undefined, 'curves stay with the version');
    const mv = (await call(server, 'GET', '/v1/projects/lab/models/bc-search/versions/1', { key })).body;
    const search = mv.metrics.search;
    assert.deepEqual(
      search.trials.map((t: { params: { l2: number } }) => t.params.l2),
      [0.01, 1, 100],
    );
    assert.ok(
      search.trials.every((t: { score: number; status: string }) => t.status === 'ok' && t.score > 0.8),
    );
    assert.equal(mv.params.l2, search.bestParams.l2);
    assert.equal(mv.params.seed, 42);
    assert.ok(mv.metrics.curves.roc[0].fpr.length <= 200);
    assert.equal(mv.metrics.calibration[0].bins, 10);
    assert.equal(mv.metrics.permutationImportance.features.length, 30);
    assert.ok(mv.metrics.average_precision > 0.9);
    assert.ok(mv.metrics.durationMs > 0);
  });

  test("algorithm 'auto': the winner is the version's algorithm, the leaderboard stored", async () => {
    const submitted = await train({
      dataset: 'iris',
      target: 'target',
      model: 'iris-auto',
      algorithm: 'auto',
      timeBudgetSeconds: 2,
    });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const job = await waitForJob(server, key, 'lab', submitted.body.id);
    assert.equal(job.status, 'succeeded', job.error);
    const mv = (await call(server, 'GET', '/v1/projects/lab/models/iris-auto/versions/1', { key })).body;
    assert.notEqual(mv.algorithm, 'auto');
    assert.equal(mv.metrics.auto.best.algorithm, mv.algorithm);
    assert.equal(mv.metrics.auto.metric, 'roc_auc');
    assert.ok(mv.metrics.auto.leaderboard.length >= 1);
    assert.equal(job.result.algorithm, mv.algorithm);
    assert.equal(job.result.metrics.auto.leaderboard, undefined, 'the job keeps only the summary');
  });

  test('bad call: search and auto mistakes → 400 naming the field, before any job', async () => {
    const expect = async (json: unknown, path: RegExp) => {
      const r = await train(json);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.code, 'VALIDATION_FAILED');
      assert.ok(
        r.body.errors.some((e: { path: string }) => path.test(e.path)),
        JSON.stringify(r.body.errors),
      );
    };
    const base = { dataset: 'iris', target: 'target', algorithm: 'logistic_regression' };
    await expect({ ...base, search: { space: { depth: [3] } } }, /^search\/space\/depth$/);
    await expect({ ...base, search: { space: { l2: [-1] } } }, /^search\/space\/l2$/);
    await expect(
      { ...base, search: { space: { l2: { min: 0, max: 1, log: true } } } },
      /^search\/space\/l2$/,
    );
    await expect({ ...base, search: { strategy: 'magic', space: { l2: [1] } } }, /^search\/strategy$/);
    await expect({ ...base, search: { space: { l2: [1] }, metric: 'r2' } }, /^search\/metric$/);
    await expect({ ...base, timeBudgetSeconds: 5 }, /^timeBudgetSeconds$/);
    await expect({ dataset: 'iris', target: 'target', algorithm: 'auto', params: { l2: 1 } }, /^params$/);
    await expect({ dataset: 'iris', target: 'target', algorithm: 'auto', search: { space: {} } }, /^search$/);
    await expect(
      { dataset: 'iris', target: 'target', algorithm: 'auto', timeBudgetSeconds: 0 },
      /timeBudgetSeconds/,
    );
    await expect({ dataset: 'iris', target: 'target', algorithm: 'magic' }, /^algorithm$/);
  });

  test('a running search can be cancelled: the worker thread stops and no version is written', async () => {
    // 1. A search that would run for a minute.
    const submitted = await train({
      dataset: 'digits',
      target: 'target',
      model: 'digits-long',
      algorithm: 'logistic_regression',
      search: {
        strategy: 'random',
        space: { l2: { min: 0.001, max: 100, log: true } },
        budget: { seconds: 60 },
      },
    });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const id = submitted.body.id;
    // 2. Wait until it reports trials.
    const end = Date.now() + 20_000;
    let job: any;
    do {
      await new Promise((r) => setTimeout(r, 100));
      job = (await call(server, 'GET', `/v1/projects/lab/jobs/${id}`, { key })).body;
    } while (!/^trial \d+/.test(job.message) && Date.now() < end);
    assert.match(job.message, /^trial \d+: roc_auc (0\.\d{4}|failed); best/);
    assert.ok(job.metrics.trial >= 1);
    // 3. Cancel; the job ends within seconds, without a model version.
    const t0 = Date.now();
    const cancelled = await call(server, 'POST', `/v1/projects/lab/jobs/${id}/cancel`, { key });
    assert.equal(cancelled.status, 200);
    const done = await waitForJob(server, key, 'lab', id, 10_000);
    assert.equal(done.status, 'cancelled');
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal((await call(server, 'GET', '/v1/projects/lab/models/digits-long', { key })).status, 404);
  });
});
