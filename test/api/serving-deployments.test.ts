// Deployments as a product, through the real server: traffic split, shadow, aliases, promote and
// rollback, an atomic switch under concurrent load, adaptive batching, load shedding, metrics and
// the prediction log. The `scale` model's versions answer y = k·x with k = the version number, so
// every answer tells which version computed it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scale, slow } from '../serving/graphs.js';
import { call, deploy, register, servingFixture, type ServingFixture } from '../serving/support.js';

const x = (v: number) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [v] }] });

describe('deployments: routing, shadow, batching, shedding, metrics', () => {
  let f: ServingFixture;
  let shedCount = 0;
  const infer = (name: string, v = 1, version?: string) =>
    call(f.server, 'POST', `/v2/models/${name}${version ? `/versions/${version}` : ''}/infer`, {
      key: f.key,
      json: x(v),
    });
  const answer = (r: { body: any }) => r.body.outputs[0].data[0] as number;
  const patch = (name: string, json: unknown) =>
    call(f.server, 'PATCH', `/v1/projects/lab/deployments/${name}`, { key: f.key, json });

  before(async () => {
    f = await servingFixture();
    for (let k = 1; k <= 3; k++) assert.equal(await register(f, 'lab', 'scale', scale(k)), k);
  });
  after(() => f.server.dispose());

  test('traffic split 90/10: about a tenth of requests reach the canary, each answer from the version it names', async () => {
    const d = await deploy(f, {
      name: 'split',
      model: 'scale',
      version: 1,
      traffic: [
        { version: 1, weight: 90 },
        { version: 2, weight: 10 },
      ],
    });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    assert.equal(d.body.version, 1, 'production takes traffic: it is the primary version');
    assert.deepEqual(
      d.body.versions.map((v: any) => [v.version, v.state]),
      [
        [1, 'ready'],
        [2, 'ready'],
      ],
    );
    const counts = { 1: 0, 2: 0 } as Record<number, number>;
    for (let batch = 0; batch < 20; batch++) {
      const rs = await Promise.all(Array.from({ length: 25 }, () => infer('split', 3)));
      for (const r of rs) {
        assert.equal(r.status, 200);
        const version = Number(r.body.model_version);
        assert.equal(answer(r), 3 * version, 'the answer comes from the version named');
        assert.equal(r.headers.get('x-mass-model-version'), String(version));
        counts[version]!++;
      }
    }
    assert.ok(counts[2]! >= 20 && counts[2]! <= 90, `canary took ${counts[2]} of 500`);
  });

  test('aliases resolve per request; promote moves production and all traffic; rollback returns', async () => {
    assert.equal(
      (await deploy(f, { name: 'rel', model: 'scale', version: 1, aliases: { production: 1, staging: 2 } }))
        .status,
      201,
    );
    assert.equal(answer(await infer('rel', 1, 'staging')), 2);
    assert.equal(answer(await infer('rel', 1, 'production')), 1);
    assert.equal(answer(await infer('rel', 1)), 1);
    assert.equal((await infer('rel', 1, 'canary')).status, 404);

    const promoted = await call(f.server, 'POST', '/v1/projects/lab/deployments/rel/promote', {
      key: f.key,
      json: {},
    });
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    assert.deepEqual(promoted.body.traffic, [{ version: 2, weight: 100 }]);
    assert.equal(promoted.body.aliases.production, 2);
    assert.equal(promoted.body.previous, 1);
    assert.equal(answer(await infer('rel', 1)), 2);
    assert.equal(answer(await infer('rel', 1, 'production')), 2);

    const back = await call(f.server, 'POST', '/v1/projects/lab/deployments/rel/rollback', {
      key: f.key,
      json: {},
    });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal(back.body.version, 1);
    assert.equal(answer(await infer('rel', 1)), 1);

    const again = await call(f.server, 'POST', '/v1/projects/lab/deployments/rel/promote', {
      key: f.key,
      json: { version: 3 },
    });
    assert.equal(again.status, 200);
    assert.equal(answer(await infer('rel', 1)), 3);
    // The deployment survives in the database: a fresh read gives the same routing.
    const got = await call(f.server, 'GET', '/v1/projects/lab/deployments/rel', { key: f.key });
    assert.deepEqual(got.body.traffic, [{ version: 3, weight: 100 }]);
    assert.equal(
      (
        await call(f.server, 'POST', '/v1/projects/lab/deployments/rel/promote', {
          key: f.key,
          json: { alias: 'nope' },
        })
      ).status,
      409,
    );
  });

  test('an atomic switch under load: no request fails and none sees a half-switched routing', async () => {
    assert.equal((await deploy(f, { name: 'live', model: 'scale', version: 1 })).status, 201);
    const configs: { versions: number[]; begin: number; end: number }[] = [
      { versions: [1], begin: 0, end: performance.now() },
    ];
    const changes: [unknown, number[]][] = [
      [
        {
          traffic: [
            { version: 1, weight: 90 },
            { version: 2, weight: 10 },
          ],
        },
        [1, 2],
      ],
      [{ traffic: [{ version: 2, weight: 100 }] }, [2]],
      [
        {
          traffic: [
            { version: 3, weight: 50 },
            { version: 2, weight: 50 },
          ],
        },
        [2, 3],
      ],
      [{ version: 1 }, [1]],
      [{ traffic: [{ version: 3, weight: 100 }] }, [3]],
    ];
    const seen: { start: number; end: number; status: number; version: number; y: number; v: number }[] = [];
    let stop = false;
    const worker = async (w: number) => {
      let i = 0;
      while (!stop) {
        const v = w * 1000 + i++;
        const start = performance.now();
        const r = await infer('live', v);
        seen.push({
          start,
          end: performance.now(),
          status: r.status,
          version: Number(r.body?.model_version),
          y: r.status === 200 ? answer(r) : NaN,
          v,
        });
      }
    };
    const workers = Array.from({ length: 12 }, (_v, w) => worker(w));
    // Between switches, at least 40 requests complete (by count, not time: the machine may be busy).
    const settle = async () => {
      const target = seen.length + 40;
      const until = Date.now() + 10_000;
      while (seen.length < target && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    };
    for (const [body, versions] of changes) {
      await settle();
      const begin = performance.now();
      const r = await patch('live', body);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      configs.push({ versions, begin, end: performance.now() });
    }
    await settle();
    stop = true;
    await Promise.all(workers);

    assert.ok(seen.length >= 240, `${seen.length} requests`);
    for (const s of seen) {
      assert.equal(s.status, 200, 'no request fails during switches');
      assert.ok(
        Math.abs(s.y - s.v * s.version) <= 1e-3 * Math.max(1, s.v * s.version),
        'answered wholly by the version named',
      );
    }
    // A request that started after switch i finished and ended before switch i+1 began sees only config i.
    let checked = 0;
    for (let c = 0; c < configs.length; c++) {
      const from = configs[c]!.end;
      const to = configs[c + 1]?.begin ?? Infinity;
      const within = seen.filter((s) => s.start > from && s.end < to);
      checked += within.length;
      for (const s of within)
        assert.ok(configs[c]!.versions.includes(s.version), `config ${c}: version ${s.version}`);
    }
    assert.ok(checked >= 60, `${checked} requests fell cleanly between switches`);
    const versions = new Set(seen.map((s) => s.version));
    assert.deepEqual([...versions].sort(), [1, 2, 3], 'every configuration served');
  });

  test('a shadow version gets a copy: compared and logged, never returned', async () => {
    const d = await deploy(f, {
      name: 'shadowed',
      model: 'scale',
      version: 1,
      shadow: { version: 2 },
      logSampleRate: 1,
    });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    for (let i = 1; i <= 5; i++) {
      const r = await infer('shadowed', i);
      assert.equal(r.body.model_version, '1');
      assert.equal(answer(r), i);
    }
    await new Promise((r) => setTimeout(r, 50));
    const shadow = await call(
      f.server,
      'GET',
      '/v1/projects/lab/deployments/shadowed/predictions?role=shadow',
      {
        key: f.key,
      },
    );
    assert.equal(shadow.status, 200, JSON.stringify(shadow.body));
    assert.equal(shadow.body.items.length, 5);
    for (const e of shadow.body.items) {
      assert.equal(e.version, 2);
      assert.equal(e.comparison.primaryVersion, 1);
      assert.equal(e.comparison.agree, false, 'y = 2x differs from y = x');
      assert.ok(e.comparison.maxAbsDiff >= 1);
    }
    const primary = await call(
      f.server,
      'GET',
      '/v1/projects/lab/deployments/shadowed/predictions?role=primary',
      {
        key: f.key,
      },
    );
    assert.equal(primary.body.items.length, 5);
    const entry = primary.body.items.find((e: any) => e.inputs[0].data[0] === 3);
    assert.ok(entry, 'inputs are logged');
    assert.deepEqual(entry.outputs.y.data, [3]);
    assert.equal(entry.protocol, 'v2');
    assert.equal(typeof entry.latencyUs, 'number');
    // A shadow that also takes traffic is refused.
    assert.equal((await patch('shadowed', { traffic: [{ version: 2, weight: 100 }] })).status, 400);
  });

  test('adaptive batching: concurrent single rows share one run, answers split back; a lone request waits at most maxWaitUs', async () => {
    const d = await deploy(f, {
      name: 'batched',
      model: 'scale',
      version: 2,
      batching: { maxBatchSize: 64, maxWaitUs: 1_000_000 },
    });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    await infer('batched', 1);
    const before = await batchStats('batched');
    const rs = await Promise.all(Array.from({ length: 32 }, (_v, i) => infer('batched', i + 1)));
    rs.forEach((r, i) => assert.equal(answer(r), 2 * (i + 1)));
    const afterStats = await batchStats('batched');
    const runs = afterStats.count - before.count;
    assert.ok(runs < 32, `32 requests in ${runs} runs`);
    assert.equal(afterStats.sum - before.sum, 32, 'every row counted once');
    // Alone: nothing else arrives, so it runs on the next turn instead of waiting out the 1 s it
    // may wait (the margin is wide so that a loaded machine cannot make this fail).
    const lone: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      assert.equal(answer(await infer('batched', 5)), 10);
      lone.push(performance.now() - t0);
    }
    lone.sort((a, b) => a - b);
    assert.ok(lone[2]! < 500, `a lone request took ${lone[2]!.toFixed(1)} ms (median) with a 1 s wait`);
    // Turned off: each request runs alone at once.
    assert.equal((await patch('batched', { batching: null })).status, 200);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t1 = performance.now();
      assert.equal(answer(await infer('batched', 5)), 10);
      times.push(performance.now() - t1);
    }
    times.sort((a, b) => a - b);
    assert.ok(times[2]! < 20, `median ${times[2]!.toFixed(1)} ms without batching`);
  });

  test('load shedding: a full queue answers 503 with Retry-After; queued requests are served', async () => {
    // A model that runs for tens of milliseconds: requests pile up behind it, the queue holds two.
    await register(f, 'lab', 'slow', slow());
    const d = await deploy(f, {
      name: 'narrow',
      model: 'slow',
      maxQueue: 2,
      batching: { maxBatchSize: 1, maxWaitUs: 0 },
    });
    assert.equal(d.status, 201, JSON.stringify(d.body));
    const rs = await Promise.all(Array.from({ length: 12 }, (_v, i) => infer('narrow', i + 1)));
    const ok = rs.filter((r) => r.status === 200);
    const shed = rs.filter((r) => r.status === 503);
    assert.equal(ok.length + shed.length, 12, rs.map((r) => r.status).join(','));
    assert.ok(ok.length >= 1 && shed.length >= 1, `${ok.length} served, ${shed.length} shed`);
    for (const r of shed) {
      assert.equal(r.body.code, 'OVERLOADED');
      assert.equal(r.headers.get('retry-after'), '1');
    }
    assert.equal((await infer('narrow', 1)).status, 200, 'served again once the queue drained');
    shedCount = shed.length;
  });

  test('metrics: requests, errors, latency, batch sizes, queue depth, load times, cache memory, in-server time', async () => {
    await infer('split', 1);
    await infer('nope', 1);
    const denied = await call(f.server, 'GET', '/metrics', { key: f.key });
    assert.equal(denied.status, 403, 'a project key may not read every tenant’s metrics');
    const r = await call(f.server, 'GET', '/metrics', { key: f.admin });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
    const text = r.body as string;
    for (const line of [
      /mass_predictions_total\{project="lab",deployment="split",version="1",protocol="v2"\} \d+/,
      new RegExp(
        `mass_prediction_errors_total\\{project="lab",deployment="narrow",version="1",code="OVERLOADED"\\} ${shedCount}`,
      ),
      /mass_prediction_duration_seconds_bucket\{le="0.001",project="lab",deployment="split",version="1"\} \d+/,
      /mass_batch_rows_sum\{project="lab",deployment="batched",version="2"\} \d+/,
      /mass_queue_depth\{project="lab",deployment="split",version="1"\} 0/,
      /mass_model_load_seconds_count\{model="scale",version="1"\} \d+/,
      /mass_model_cache_bytes \d+/,
      /mass_model_cache_budget_bytes \d+/,
      /mass_http_server_duration_seconds_bucket\{route="v2_infer",project="lab",deployment="split",le="0.0001"\} \d+/,
      /mass_http_server_duration_quantile_seconds\{route="v2_infer",project="lab",deployment="split",quantile="0.5"\} [\d.e-]+/,
      /mass_http_server_duration_seconds_count\{route="v2_infer",project="",deployment=""\} [1-9]/,
      /mass_process_cpu_seconds_total/,
    ])
      assert.match(text, line);
  });

  async function batchStats(deployment: string): Promise<{ sum: number; count: number }> {
    const text = (await call(f.server, 'GET', '/metrics', { key: f.admin })).body as string;
    const get = (what: string) =>
      Number(
        new RegExp(
          `mass_batch_rows_${what}\\{project="lab",deployment="${deployment}",version="\\d+"\\} (\\d+)`,
        ).exec(text)?.[1] ?? 0,
      );
    return { sum: get('sum'), count: get('count') };
  }
});
