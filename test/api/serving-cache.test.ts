// Many models in one process: 100 deployments at once, an LRU model cache within a memory budget
// (eviction, reload on demand, readiness that tells the truth), and routing that survives a restart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer } from '../support/server.js';
import { DIALECTS } from '../support/stores.js';
import { scale } from '../serving/graphs.js';
import { call, deploy, register, servingFixture } from '../serving/support.js';

const x = (v: number) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [v] }] });

test('one process serves 100 deployed models at once', async (t) => {
  const f = await servingFixture();
  t.after(() => f.server.dispose());
  for (let k = 1; k <= 100; k++) await register(f, 'lab', `m${k}`, scale(k));
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  for (let k = 1; k <= 100; k++) {
    const d = await deploy(f, { name: `m${k}`, model: `m${k}` });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    assert.equal(d.body.ready, true, 'warm before it exists');
  }
  const deployMs = (performance.now() - t0) / 100;
  const perModel = (process.memoryUsage().rss - rss0) / 100;
  t.diagnostic(
    `deploy (load + warm-up + write) ${deployMs.toFixed(1)} ms per model; ~${(perModel / 1024).toFixed(0)} KiB RSS per model`,
  );
  const answers = await Promise.all(
    Array.from({ length: 100 }, (_v, i) =>
      call(f.server, 'POST', `/v2/models/m${i + 1}/infer`, { key: f.key, json: x(2) }),
    ),
  );
  answers.forEach((r, i) => {
    assert.equal(r.status, 200);
    assert.equal(r.body.outputs[0].data[0], 2 * (i + 1));
  });
  const metrics = (await call(f.server, 'GET', '/metrics', { key: f.admin })).body as string;
  assert.ok(Number(/mass_model_cache_models (\d+)/.exec(metrics)?.[1]) >= 100);
  assert.equal(Number(/mass_model_cache_evictions_total (\d+)/.exec(metrics)?.[1]), 0);
  const listed = await call(f.server, 'GET', '/api/model', { key: f.key });
  assert.equal(listed.body.models.length, 100);
});

test('the model cache keeps to its budget: least recently used models are evicted, reloaded on demand, and ready says so', async (t) => {
  // About 20 small models fit in 10 MiB (each is budgeted at 0.5 MiB plus three times its file).
  const f = await servingFixture({ modelCacheBytes: 10 * 1024 * 1024 });
  t.after(() => f.server.dispose());
  for (let k = 1; k <= 40; k++) {
    await register(f, 'lab', `m${k}`, scale(k));
    assert.equal((await deploy(f, { name: `m${k}`, model: `m${k}` })).status, 201);
  }
  const cache = f.server.platform.services.deployments.cache;
  assert.ok(cache.bytes <= cache.budgetBytes, `${cache.bytes} bytes loaded, budget ${cache.budgetBytes}`);
  assert.ok(cache.evictions >= 15, `${cache.evictions} evictions`);

  // m1 was deployed first and never used since: evicted, and readiness says so.
  const ready = await call(f.server, 'GET', '/v2/models/m1/ready', { key: f.key });
  assert.deepEqual([ready.status, ready.body], [503, { name: 'm1', ready: false }]);
  const d = await call(f.server, 'GET', '/v1/projects/lab/deployments/m1', { key: f.key });
  assert.equal(d.body.versions[0].state, 'evicted');
  assert.equal(d.body.ready, false);

  // A request reloads it; then it is ready, and the cache is still within budget.
  const r = await call(f.server, 'POST', '/v2/models/m1/infer', { key: f.key, json: x(3) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.outputs[0].data[0], 3);
  assert.equal((await call(f.server, 'GET', '/v2/models/m1/ready', { key: f.key })).status, 200);
  assert.ok(cache.bytes <= cache.budgetBytes);

  // Every model answers, however often the cache turns over.
  for (let round = 0; round < 2; round++) {
    const rs = await Promise.all(
      Array.from({ length: 40 }, (_v, i) =>
        call(f.server, 'POST', `/v2/models/m${i + 1}/infer`, { key: f.key, json: x(1) }),
      ),
    );
    rs.forEach((res, i) => assert.equal(res.body.outputs?.[0].data[0], i + 1, JSON.stringify(res.body)));
  }
});

for (const dialect of DIALECTS) {
  test(
    `routing (weights, aliases, batching) and the prediction log survive a restart (metadata on ${dialect.name})`,
    { skip: dialect.skipReason() },
    async (t) => {
      const db = await dialect.open();
      const f = await servingFixture({ databaseUrl: db.url });
      const restarted: { server?: Awaited<ReturnType<typeof startTestServer>> } = {};
      t.after(async () => {
        await restarted.server?.stop();
        await f.server.dispose();
        await db.dispose();
      });
      for (let k = 1; k <= 2; k++) await register(f, 'lab', 'scale', scale(k));
      const body = {
        name: 'kept',
        model: 'scale',
        version: 1,
        traffic: [
          { version: 1, weight: 70 },
          { version: 2, weight: 30 },
        ],
        aliases: { production: 1, staging: 2 },
        batching: { maxBatchSize: 8, maxWaitUs: 100 },
        logSampleRate: 1,
      };
      assert.equal((await deploy(f, body)).status, 201);
      assert.equal(
        (
          await call(f.server, 'POST', '/v2/models/kept/versions/production/infer', {
            key: f.key,
            json: x(5),
          })
        ).status,
        200,
      );
      const before = (await call(f.server, 'GET', '/v1/projects/lab/deployments/kept', { key: f.key })).body;
      await f.server.stop();
      const again = await startTestServer({
        home: f.server.home,
        databaseUrl: db.url,
        deploymentRefreshMs: 0,
      });
      restarted.server = again;
      const after = (await call(again, 'GET', '/v1/projects/lab/deployments/kept', { key: f.key })).body;
      for (const field of ['traffic', 'aliases', 'batching', 'version', 'modelVersionId', 'logSampleRate'])
        assert.deepEqual(after[field], before[field], field);
      const r = await call(again, 'POST', '/v2/models/kept/versions/staging/infer', {
        key: f.key,
        json: x(4),
      });
      assert.equal(r.body.outputs[0].data[0], 8);
      assert.equal((await call(again, 'GET', '/v2/health/ready')).status, 200);
      // The prediction made before the restart was flushed at shutdown; the one after is read back too.
      const log = await call(again, 'GET', '/v1/projects/lab/deployments/kept/predictions', { key: f.key });
      assert.equal(log.status, 200, JSON.stringify(log.body));
      assert.deepEqual(log.body.items.map((e: any) => [e.version, e.outputs.y.data[0]]).sort(), [
        [1, 5],
        [2, 8],
      ]);
    },
  );
}
