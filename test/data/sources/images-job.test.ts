// Image zips imported as jobs (?async=true): the zip is stored in the artifact store and the
// image-import job reads it, reporting progress per image; the job's result names the version.
// The handler is also run by hand with a recording context, to see every progress report and to
// cancel it part-way: a cancelled import records no version and stores no image. Needs no shared data.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { zipSync, type Zippable } from 'fflate';
import { encode } from 'jpeg-js';
import { PNG } from 'pngjs';
import { IMAGE_IMPORT_JOB } from '../../../src/data/sources/images.js';
import type { Job, JobContext } from '../../../src/jobs/queue.js';
import { call, startTestServer, waitForJob, type TestServer } from '../../support/server.js';

function png(seed: number): Buffer {
  const image = new PNG({ width: 4, height: 4 });
  for (let i = 0; i < 16; i++) image.data.set([(seed * 37 + i) % 256, seed % 256, i * 16, 255], 4 * i);
  return PNG.sync.write(image);
}

function jpeg(seed: number): Buffer {
  const data = Buffer.alloc(8 * 8 * 4);
  for (let i = 0; i < 64; i++) data.set([(seed * 53 + i) % 256, (seed * 7) % 256, i * 4, 255], 4 * i);
  return encode({ width: 8, height: 8, data }, 90).data;
}

/** `count` distinct images in two label folders, PNG and JPEG alternating. */
function zipOf(count: number, seed = 0): Uint8Array {
  const files: Zippable = {};
  for (let i = 0; i < count; i++)
    files[`${i % 2 ? 'cats' : 'dogs'}/${i}.${i % 3 ? 'png' : 'jpg'}`] =
      i % 3 ? png(seed + i) : jpeg(seed + i);
  return zipSync(files, { level: 6 });
}

function countFiles(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true }))
    n += entry.isDirectory() ? countFiles(join(dir, entry.name)) : 1;
  return n;
}

let server: TestServer;
let key: string;
const submit = (dataset: string, body: Uint8Array) =>
  call(server, 'POST', `/v1/projects/imgjob/datasets/${dataset}/images?async=true`, {
    key,
    body,
    type: 'application/zip',
  });
const stored = () => countFiles(join(server.home, 'artifacts', 'sha256'));

/** A recording job context; `abortAt` aborts it when that many images have been read. */
function recorder(abortAt?: number) {
  const controller = new AbortController();
  const reports: { fraction: number; message: string | undefined; images: number | undefined }[] = [];
  const ctx: JobContext = {
    signal: controller.signal,
    attempt: 1,
    progress(fraction, message, metrics) {
      reports.push({ fraction, message, images: metrics?.images });
      if (abortAt !== undefined && metrics?.images === abortAt) controller.abort(new Error('cancelled'));
    },
  };
  return { ctx, reports };
}

before(async () => {
  server = await startTestServer({ maxImages: 100, maxImageBytes: 1_000_000, maxUnzippedBytes: 5_000_000 });
  key = server.adminKey!;
  await call(server, 'POST', '/v1/projects', { key, json: { name: 'imgjob' } });
});
after(() => server.dispose());

describe('image zips as jobs', () => {
  let template: Job;

  test('?async=true answers 202 with an image-import job that makes the version; the same zip again gives it back', async () => {
    const zip = zipOf(12);
    const r = await submit('pets', zip);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.type, IMAGE_IMPORT_JOB);
    const job = await waitForJob(server, key, 'imgjob', r.body.id);
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.progress, 1);
    assert.equal(job.metrics.images, 12, 'the last report counted every image');
    assert.deepEqual(
      { version: job.result.version, created: job.result.created, images: job.result.images },
      { version: 1, created: true, images: 12 },
    );
    const version = await call(server, 'GET', '/v1/projects/imgjob/datasets/pets/versions/1', { key });
    assert.equal(version.status, 200);
    assert.equal(version.body.rowCount, 12);
    // The synchronous path still answers with the version; the same images give the same one.
    const again = await call(server, 'POST', '/v1/projects/imgjob/datasets/pets/images', {
      key,
      body: zip,
      type: 'application/zip',
    });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.version, 1);
    const third = await waitForJob(server, key, 'imgjob', (await submit('pets', zip)).body.id);
    assert.equal(third.status, 'succeeded', third.error);
    assert.deepEqual([third.result.version, third.result.created], [1, false]);
    const project = (await server.platform.services.auth.findProject('imgjob'))!;
    template = await server.platform.services.jobs.get(project.id, r.body.id);
  });

  test('bad call: a body that is not a zip is refused before a job is queued; a hostile zip fails its job by code', async () => {
    const notZip = await submit('nope', new TextEncoder().encode('hello, not a zip at all'));
    assert.equal(notZip.status, 400, JSON.stringify(notZip.body));
    assert.equal(notZip.body.code, 'ARCHIVE_INVALID');
    const badName = await call(server, 'POST', '/v1/projects/imgjob/datasets/..%2Fx/images?async=true', {
      key,
      body: zipOf(1),
      type: 'application/zip',
    });
    assert.equal(badName.status, 400, JSON.stringify(badName.body));
    const before = stored();
    const r = await submit('evil', zipSync({ 'a/1.png': png(900), '/etc/cron.d/x.png': png(901) }));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const job = await waitForJob(server, key, 'imgjob', r.body.id);
    assert.equal(job.status, 'failed');
    assert.match(job.error, /^ARCHIVE_INVALID: unsafe path/);
    assert.equal(job.attempts, 1, 'a bad zip is not retried');
    assert.equal(stored(), before + 1, "only the zip itself (the job's input): none of its images");
    assert.equal((await call(server, 'GET', '/v1/projects/imgjob/datasets/evil', { key })).status, 404);
  });

  test('progress is reported per image read, rising, then for storing and recording the version', async () => {
    const project = (await server.platform.services.auth.findProject('imgjob'))!;
    const queued = await submit('progress', zipOf(20, 100));
    await waitForJob(server, key, 'imgjob', queued.body.id);
    const payload = (await server.platform.services.jobs.get(project.id, queued.body.id)).payload as {
      input: { hash: string };
    };
    // The same stored zip, imported again by hand into another dataset.
    const { ctx, reports } = recorder();
    const job = {
      ...template,
      payload: { projectId: project.id, dataset: 'progress-by-hand', input: payload.input },
    };
    const outcome = await server.platform.services.images.handler(job as Job, ctx);
    assert.equal((outcome.result as { images: number }).images, 20);
    const read = reports.filter((r) => /images read$/.test(r.message ?? ''));
    assert.deepEqual(
      read.map((r) => r.images),
      Array.from({ length: 20 }, (_, i) => i + 1),
      'one report per image',
    );
    for (let i = 1; i < reports.length; i++)
      assert.ok(reports[i]!.fraction >= reports[i - 1]!.fraction, `report ${i} does not go back`);
    assert.ok(read.every((r) => r.fraction <= 0.8));
    assert.ok(reports.some((r) => /images stored$/.test(r.message ?? '')));
    assert.ok(reports.at(-1)!.fraction > 0.9);
  });

  test('cancelled part-way through the images: no version, no image stored, the dataset does not exist', async () => {
    const project = (await server.platform.services.auth.findProject('imgjob'))!;
    const zip = zipOf(30, 500);
    const writer = await server.platform.services.artifacts.begin();
    await writer.write(zip);
    const ref = await writer.commit();
    const before = stored();
    const { ctx, reports } = recorder(5);
    const job = {
      ...template,
      payload: { projectId: project.id, dataset: 'cancelled', input: { hash: ref.hash, bytes: ref.size } },
    };
    await assert.rejects(server.platform.services.images.handler(job as Job, ctx), /cancelled/);
    assert.ok(reports.some((r) => r.images === 5));
    assert.ok(!reports.some((r) => /stored|version/.test(r.message ?? '')), 'stopped before storing');
    assert.equal(stored(), before, 'none of the 30 images reached the artifact store');
    assert.equal((await call(server, 'GET', '/v1/projects/imgjob/datasets/cancelled', { key })).status, 404);
    const workDir = join(server.home, 'tmp', 'sources');
    assert.deepEqual(
      readdirSync(workDir).filter((name) => name.startsWith('images-')),
      [],
      'no staging folder or table left behind',
    );
  });

  test('cancelled while recording the version (an abort during the table import): nothing recorded', async () => {
    const project = (await server.platform.services.auth.findProject('imgjob'))!;
    const writer = await server.platform.services.artifacts.begin();
    await writer.write(zipOf(6, 700));
    const ref = await writer.commit();
    const controller = new AbortController();
    const ctx: JobContext = {
      signal: controller.signal,
      attempt: 1,
      progress(fraction) {
        if (fraction > 0.9) controller.abort(new Error('cancelled'));
      },
    };
    const job = {
      ...template,
      payload: { projectId: project.id, dataset: 'late-cancel', input: { hash: ref.hash, bytes: ref.size } },
    };
    await assert.rejects(server.platform.services.images.handler(job as Job, ctx), /cancel|abort/i);
    assert.equal(
      (await call(server, 'GET', '/v1/projects/imgjob/datasets/late-cancel', { key })).status,
      404,
    );
  });

  test('a job cancelled through the API ends cancelled, or succeeded if it had finished first', async () => {
    const r = await submit('api-cancel', zipOf(60, 900));
    assert.equal(r.status, 202);
    const cancel = await call(server, 'POST', `/v1/projects/imgjob/jobs/${r.body.id}/cancel`, { key });
    assert.ok([200, 202, 409].includes(cancel.status), JSON.stringify(cancel.body));
    const job = await waitForJob(server, key, 'imgjob', r.body.id);
    const dataset = await call(server, 'GET', '/v1/projects/imgjob/datasets/api-cancel', { key });
    if (job.status === 'cancelled') assert.equal(dataset.status, 404, 'a cancelled import records nothing');
    else assert.equal(job.status, 'succeeded', job.error);
  });
});
