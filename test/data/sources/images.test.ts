// Image datasets: a zip of PNGs made from the first 200 rows of the shared digits set (8x8 pixels,
// 0..16 as grey levels, one folder per label) goes in through the HTTP server; the images come
// back by SHA-256; imageTensor turns the version into a [N,1,8,8] batch that the shared
// digits_cnn.onnx classifies (accuracy > 0.9); the same digits as JPEGs score as well through a
// scoring job. Then the hostile zips: zip-slip names, a bomb,
// too many files, files that are not images, a body that is not a zip.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { zipSync, type Zippable } from 'fflate';
import { encode } from 'jpeg-js';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { imageTensor, labelOf } from '../../../src/data/sources/images.js';
import { call, SHARED_DATA, startTestServer, waitForJob, type TestServer } from '../../support/server.js';

const skip = existsSync(join(SHARED_DATA, 'digits.csv'))
  ? false
  : `${SHARED_DATA}/digits.csv is absent: SKIPPED`;

function digitPng(pixels: number[]): Buffer {
  const png = new PNG({ width: 8, height: 8 });
  pixels.forEach((v, i) => {
    const g = Math.round((v / 16) * 255);
    png.data.set([g, g, g, 255], 4 * i);
  });
  return PNG.sync.write(png, { colorType: 0 });
}

/** The same grey levels as a JPEG at quality 100 (jpeg-js's encoder: YCbCr, no chroma subsampling). */
function digitJpeg(pixels: number[]): Buffer {
  const data = Buffer.alloc(8 * 8 * 4);
  pixels.forEach((v, i) => {
    const g = Math.round((v / 16) * 255);
    data.set([g, g, g, 255], 4 * i);
  });
  return encode({ width: 8, height: 8, data }, 100).data;
}

function digitsZip(
  count: number,
  format: 'png' | 'jpg' = 'png',
): { zip: Uint8Array; labels: number[]; pixels: number[][] } {
  const lines = readFileSync(join(SHARED_DATA, 'digits.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1, count + 1);
  const files: Zippable = {};
  const labels: number[] = [];
  const pixels: number[][] = [];
  lines.forEach((line, i) => {
    const values = line.split(',').map(Number);
    const label = values.pop()!;
    labels.push(label);
    pixels.push(values);
    files[`digits/${label}/${String(i).padStart(4, '0')}.${format}`] =
      format === 'png' ? digitPng(values) : digitJpeg(values);
  });
  return { zip: zipSync(files, { level: 6 }), labels, pixels };
}

let server: TestServer;
let key: string;
const upload = (dataset: string, body: Uint8Array, type = 'application/zip') =>
  call(server, 'POST', `/v1/projects/img/datasets/${dataset}/images`, { key, body, type });

before(async () => {
  server = await startTestServer({ maxImages: 300, maxImageBytes: 1_000_000, maxUnzippedBytes: 5_000_000 });
  key = server.adminKey!;
  await call(server, 'POST', '/v1/projects', { key, json: { name: 'img' } });
});
after(() => server.dispose());

describe('image datasets', { skip }, () => {
  test('a zip of digits becomes an image dataset that digits_cnn.onnx classifies with accuracy > 0.9', async () => {
    const { zip, labels } = digitsZip(200);
    const r = await upload('digits', zip);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.rowCount, 200);
    assert.deepEqual(
      r.body.schema.columns.map((c: { name: string }) => c.name),
      ['file', 'label', 'width', 'height', 'format', 'sha256'],
    );
    const again = await upload('digits', zip);
    assert.equal(again.status, 200, 'the same images again: the existing version');

    const project = (await server.platform.services.auth.findProject('img'))!;
    const version = await server.platform.services.datasets.getVersion(project.id, 'digits', 1);
    assert.equal(version.sourceInfo?.kind, 'images');
    const batch = await server.platform.services.images.tensor(version, { height: 8, width: 8 });
    assert.deepEqual(batch.dims, [200, 1, 8, 8]);
    // Rows are stored sorted by file name: digits/<label>/<index>.png.
    const expected = batch.rows.map((row) => labels[Number(/(\d+)\.png$/.exec(row.file)![1])]);
    assert.deepEqual(batch.labels.map(Number), expected);
    const session = await ort.InferenceSession.create(join(SHARED_DATA, 'models', 'digits_cnn.onnx'));
    const out = await session.run({ image: new ort.Tensor('float32', batch.data, batch.dims) });
    const probs = out.probabilities!.data as Float32Array;
    let correct = 0;
    for (let n = 0; n < 200; n++) {
      let best = 0;
      for (let k = 1; k < 10; k++) if (probs[n * 10 + k]! > probs[n * 10 + best]!) best = k;
      if (best === expected[n]) correct++;
    }
    assert.ok(correct / 200 > 0.9, `accuracy ${correct / 200}`);

    const first = batch.rows[0]!;
    const image = await call(
      server,
      'GET',
      `/v1/projects/img/datasets/digits/versions/1/images/${first.sha256}`,
      { key },
    );
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), 'image/png');
    const raw = await fetch(
      `${server.url}/v1/projects/img/datasets/digits/versions/1/images/${first.sha256}`,
      {
        headers: { authorization: `Bearer ${key}` },
      },
    );
    const served = Buffer.from(await raw.arrayBuffer());
    assert.equal(createHash('sha256').update(served).digest('hex'), first.sha256, 'the exact bytes');
    const openapi = await call(server, 'GET', '/openapi.json');
    assert.equal(openapi.status, 200);
    assert.ok(openapi.body.paths['/v1/projects/{project}/datasets/{dataset}/images']);
    const other = createHash('sha256').update('not in this version').digest('hex');
    const missing = await call(server, 'GET', `/v1/projects/img/datasets/digits/versions/1/images/${other}`, {
      key,
    });
    assert.equal(missing.status, 404);
  });

  test('an image scoring job through a deployment of digits_cnn.onnx: CSV result, accuracy > 0.9', async () => {
    const model = await call(server, 'POST', '/v1/projects/img/models/digits-cnn/versions', {
      key,
      body: readFileSync(join(SHARED_DATA, 'models', 'digits_cnn.onnx')),
      type: 'application/octet-stream',
    });
    assert.equal(model.status, 201, JSON.stringify(model.body));
    const deploy = await call(server, 'POST', '/v1/projects/img/deployments', {
      key,
      json: { name: 'digits', model: 'digits-cnn' },
    });
    assert.ok(deploy.status === 201 || deploy.status === 200, JSON.stringify(deploy.body));
    const submit = await call(server, 'POST', '/v1/projects/img/datasets/digits/versions/1/predictions', {
      key,
      json: { deployment: 'digits' },
    });
    assert.equal(submit.status, 202, JSON.stringify(submit.body));
    const job = await waitForJob(server, key, 'img', submit.body.id);
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.result.rows, 200);
    assert.ok(job.result.accuracy > 0.9, `accuracy ${job.result.accuracy}`);
    const csv = await call(server, 'GET', `/v1/projects/img/image-prediction-jobs/${job.id}/result`, { key });
    assert.equal(csv.status, 200);
    const lines = String(csv.body).trim().split('\n');
    assert.equal(lines[0], 'file,label,sha256,prediction,score');
    assert.equal(lines.length, 201);
    const notImages = await call(server, 'POST', '/v1/projects/img/datasets/digits/versions/9/predictions', {
      key,
      json: { deployment: 'digits' },
    });
    assert.equal(notImages.status, 404);
    const both = await call(server, 'POST', '/v1/projects/img/datasets/digits/versions/1/predictions', {
      key,
      json: { deployment: 'digits', model: 'digits-cnn' },
    });
    assert.equal(both.status, 400);
  });

  test('the same digits as JPEGs: an image dataset whose scoring job through the deployment keeps accuracy > 0.9', async () => {
    const { zip, labels, pixels } = digitsZip(200, 'jpg');
    const r = await upload('digits-jpeg', zip);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.rowCount, 200);
    const project = (await server.platform.services.auth.findProject('img'))!;
    const version = await server.platform.services.datasets.getVersion(project.id, 'digits-jpeg', 1);
    const rows = await server.platform.services.images.list(version);
    assert.ok(rows.every((row) => row.format === 'jpeg' && row.width === 8 && row.height === 8));
    // Decoded JPEG pixels stay within 3/255 of the PNG grey levels (quality 100, lossy all the same).
    const batch = await server.platform.services.images.tensor(version, { height: 8, width: 8 });
    batch.rows.forEach((row, n) => {
      const source = pixels[Number(/(\d+)\.jpg$/.exec(row.file)![1])]!;
      for (let i = 0; i < 64; i++) {
        const want = Math.round((source[i]! / 16) * 255) / 255;
        assert.ok(Math.abs(batch.data[n * 64 + i]! - want) <= 3 / 255, `${row.file} pixel ${i}`);
      }
    });
    const submit = await call(
      server,
      'POST',
      '/v1/projects/img/datasets/digits-jpeg/versions/1/predictions',
      {
        key,
        json: { deployment: 'digits' },
      },
    );
    assert.equal(submit.status, 202, JSON.stringify(submit.body));
    const job = await waitForJob(server, key, 'img', submit.body.id);
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.result.rows, 200);
    assert.ok(job.result.accuracy > 0.9, `accuracy ${job.result.accuracy}`);
    const csv = await call(server, 'GET', `/v1/projects/img/image-prediction-jobs/${job.id}/result`, { key });
    const lines = String(csv.body).trim().split('\n').slice(1);
    assert.equal(lines.length, 200);
    for (const line of lines) {
      const [file, label] = line.split(',');
      assert.equal(Number(label), labels[Number(/(\d+)\.jpg$/.exec(file!)![1])], file);
    }
  });

  test('the golden input of digits_cnn matches what imageTensor makes of the same pixels', () => {
    const golden = JSON.parse(
      readFileSync(join(SHARED_DATA, 'models', 'digits_cnn.golden.json'), 'utf8'),
    ) as {
      inputs: { image: number[][][][] };
    };
    const first = golden.inputs.image[0]![0]!.flat();
    const { data } = imageTensor([digitPng(first.map((v) => v * 16))], { height: 8, width: 8 });
    for (let i = 0; i < 64; i++) assert.ok(Math.abs(data[i]! - first[i]!) < 0.003, `pixel ${i}`);
    // Resizing: a 2x2 checkerboard up to 4x4 (nearest keeps blocks; bilinear blends).
    const png = new PNG({ width: 2, height: 2 });
    [0, 255, 255, 0].forEach((g, i) => png.data.set([g, g, g, 255], 4 * i));
    const bytes = PNG.sync.write(png);
    const nearest = imageTensor([bytes], { height: 4, width: 4, resize: 'nearest' }).data;
    assert.deepEqual(Array.from(nearest.slice(0, 4)), [0, 0, 1, 1]);
    const smooth = imageTensor([bytes], { height: 4, width: 4, resize: 'bilinear' }).data;
    assert.ok(smooth[1]! > 0 && smooth[1]! < 1);
  });

  test('bad call: unsafe names, bombs, too many files, non-images and non-zips are refused; nothing is created', async () => {
    const png = digitPng(new Array(64).fill(8));
    // Beside a good image, so that the refusal is the name's, not "no image in the zip".
    const cases: [string, Zippable][] = [
      ['../escape.png', { 'ok/a.png': png, '../escape.png': png }],
      ['deep slip', { 'ok/a.png': png, 'a/../../b/x.png': png }],
      ['dot segment', { 'ok/a.png': png, 'a/./x.png': png }],
      ['absolute', { 'ok/a.png': png, '/etc/cron.d/x.png': png }],
      ['backslash', { 'ok/a.png': png, 'a\\..\\x.png': png }],
      ['no folder', { 'x.png': png }],
      ['not an image', { 'cat/readme.png': new TextEncoder().encode('hello') }],
      ['bomb', { 'cat/bomb.png': new Uint8Array(50_000_000) }],
    ];
    for (const [what, files] of cases) {
      const r = await upload('evil', zipSync(files, { level: 9 }));
      assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'ARCHIVE_INVALID', what);
      if (Object.keys(files).length > 1) assert.match(r.body.detail, /unsafe path/, what);
    }
    const many: Zippable = {};
    for (let i = 0; i < 301; i++) many[`a/${i}.png`] = png;
    const tooMany = await upload('evil', zipSync(many));
    assert.equal(tooMany.body.code, 'ARCHIVE_INVALID');
    assert.match(tooMany.body.detail, /more than 300 images/);
    const notZip = await upload('evil', new TextEncoder().encode('PK? not really'));
    assert.equal(notZip.status, 400);
    const wrongType = await upload('evil', zipSync({ 'a/x.png': png }), 'text/plain');
    assert.equal(wrongType.status, 415);
    assert.equal((await call(server, 'GET', '/v1/projects/img/datasets/evil', { key })).status, 404);
  });

  test('labelOf refuses traversal spellings', () => {
    assert.equal(labelOf('cats/x.png'), 'cats');
    assert.equal(labelOf('root/dogs/y.png'), 'dogs');
    for (const name of [
      '../x.png',
      'a/../x.png',
      '/abs/x.png',
      'C:/x/y.png',
      'a\\b.png',
      'a//b.png',
      'a/./b.png',
      'a/\0/b.png',
    ])
      assert.throws(() => labelOf(name), /unsafe|folder/, name);
  });
});
