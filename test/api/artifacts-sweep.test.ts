// The artifact sweep through the real server, end to end: a dataset, a trained model, a batch
// scoring job (its converted input and its CSV result) and an image dataset all keep their files
// when every file is days old; only the orphan goes. Only a site admin may sweep.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { zipSync } from 'fflate';
import { PNG } from 'pngjs';
import { call, SHARED_DATA, startTestServer, waitForJob, type TestServer } from '../support/server.js';

const DAY = 24 * 60 * 60 * 1000;

function png(grey: number): Buffer {
  const image = new PNG({ width: 2, height: 2 });
  for (let i = 0; i < 4; i++) image.data.set([grey, grey, grey, 255], 4 * i);
  return PNG.sync.write(image, { colorType: 0 });
}

describe('POST /v1/admin/artifacts/sweep', { timeout: 120_000 }, () => {
  let server: TestServer;
  let admin: string;
  let owner: string;
  let batchJob: string;
  const blobDir = () => join(server.home, 'artifacts', 'sha256');
  const blobs = () =>
    readdirSync(blobDir())
      .flatMap((shard) => readdirSync(join(blobDir(), shard)))
      .sort();
  const sweep = (json: unknown, key = admin) =>
    call(server, 'POST', '/v1/admin/artifacts/sweep', { key, json });

  before(async () => {
    server = await startTestServer();
    admin = server.adminKey!;
    await call(server, 'POST', '/v1/projects', { key: admin, json: { name: 'lab' } });
    owner = (
      await call(server, 'POST', '/v1/keys', {
        key: admin,
        json: { name: 'o', project: 'lab', role: 'owner' },
      })
    ).body.key;
    const upload = await call(server, 'POST', '/v1/projects/lab/datasets?name=iris', {
      key: owner,
      body: readFileSync(join(SHARED_DATA, 'iris.csv')),
      type: 'text/csv',
    });
    assert.equal(upload.status, 201, JSON.stringify(upload.body));
    const train = await call(server, 'POST', '/v1/projects/lab/training-jobs', {
      key: owner,
      json: { dataset: 'iris', target: 'target', model: 'iris' },
    });
    assert.equal((await waitForJob(server, owner, 'lab', train.body.id)).status, 'succeeded');
    const batch = await call(server, 'POST', '/v1/projects/lab/batch-prediction-jobs', {
      key: owner,
      json: { model: 'iris', dataset: 'iris' },
    });
    batchJob = batch.body.id;
    assert.equal((await waitForJob(server, owner, 'lab', batchJob)).status, 'succeeded');
    const zip = zipSync({ 'dark/1.png': png(10), 'dark/2.png': png(20), 'light/3.png': png(240) });
    const images = await call(server, 'POST', '/v1/projects/lab/datasets/pics/images', {
      key: owner,
      body: zip,
      type: 'application/zip',
    });
    assert.equal(images.status, 201, JSON.stringify(images.body));
  });
  after(() => server?.dispose());

  test('bad call: without a key 401, with a project owner key 403, as problem+json', async () => {
    assert.equal((await call(server, 'POST', '/v1/admin/artifacts/sweep', { json: {} })).status, 401);
    const before = blobs();
    for (const json of [{}, { dryRun: true }]) {
      const res = await sweep(json, owner);
      assert.equal(res.status, 403);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.body.code, 'FORBIDDEN');
    }
    assert.deepEqual(blobs(), before);
  });

  test('bad call: a grace period under an hour, or an unknown field, is refused', async () => {
    for (const json of [{ graceHours: 0 }, { graceHours: -5 }, { graceHours: 'soon' }, { olderThan: 1 }]) {
      const res = await sweep(json);
      assert.equal(res.status, 400, JSON.stringify(json));
      assert.equal(res.body.code, 'VALIDATION_FAILED');
    }
  });

  test('everything referenced stays when all of it is old; the old orphan goes, the young one stays', async () => {
    const { artifacts } = server.platform.services;
    const oldOrphan = await artifacts.put(Buffer.from('model bytes of a training job that failed'));
    const referencedAndOld = blobs().filter((h) => h !== oldOrphan.hash);
    const then = new Date(Date.now() - 3 * DAY);
    for (const hash of blobs()) utimesSync(join(blobDir(), hash.slice(0, 2), hash), then, then);
    const youngOrphan = await artifacts.put(Buffer.from('committed, row not yet inserted'));
    // Two dataset versions (Parquet), a model (ONNX), the batch input (the dataset as CSV) and its
    // result, and three images.
    assert.equal(referencedAndOld.length, 8, referencedAndOld.join('\n'));

    const dry = await sweep({ dryRun: true });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.equal(dry.body.dryRun, true);
    assert.deepEqual(dry.body.unreferenced, { count: 1, bytes: oldOrphan.size });
    assert.deepEqual(dry.body.deleted, { count: 0, bytes: 0 });
    assert.equal(dry.body.referenced.count, 8);
    assert.equal(dry.body.young.count, 1);
    assert.equal(dry.body.missing, 0);
    const images = dry.body.sources.find((s: { name: string }) => s.name.includes('images'));
    assert.equal(images.hashes, 3, 'the three image files were read from the image version');
    assert.equal(blobs().length, 10, 'a dry run deletes nothing');

    const real = await sweep({});
    assert.equal(real.status, 200, JSON.stringify(real.body));
    assert.deepEqual(real.body.deleted, { count: 1, bytes: oldOrphan.size });
    assert.deepEqual(blobs(), [...referencedAndOld, youngOrphan.hash].sort());

    // Everything still works from the files kept.
    const model = await call(server, 'GET', '/v1/projects/lab/models/iris/versions/1/artifact', {
      key: owner,
    });
    assert.equal(model.status, 200);
    const result = await call(server, 'GET', `/v1/projects/lab/batch-prediction-jobs/${batchJob}/result`, {
      key: owner,
    });
    assert.equal(result.status, 200);
    const project = (await server.platform.services.auth.findProject('lab'))!;
    const version = await server.platform.services.datasets.getVersion(project.id, 'pics', 1);
    for (const row of await server.platform.services.images.list(version)) {
      const image = await call(
        server,
        'GET',
        `/v1/projects/lab/datasets/pics/versions/1/images/${row.sha256}`,
        { key: owner },
      );
      assert.equal(image.status, 200);
    }
    const retrain = await call(server, 'POST', '/v1/projects/lab/training-jobs', {
      key: owner,
      json: { dataset: 'iris', target: 'target', model: 'iris' },
    });
    assert.equal((await waitForJob(server, owner, 'lab', retrain.body.id)).status, 'succeeded');
  });
});
