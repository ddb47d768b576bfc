// Image datasets, security review (issue #7): a PNG that declares a huge size is refused before
// it is decoded (at upload and in imageTensor); a refused zip leaves nothing in the artifact store;
// the scoring CSV defuses spreadsheet formulas. Needs no shared data.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { encode } from 'jpeg-js';
import { PNG } from 'pngjs';
import { csv } from '../../../src/data/sources/image-scoring.js';
import { imageTensor, pngHeaderSize } from '../../../src/data/sources/images.js';
import { call, startTestServer, type TestServer } from '../../support/server.js';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/** A few hundred bytes that declare a width × height RGBA PNG (decoding it would need W·H·4 bytes and more). */
function hugePng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, adaptive filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function png(seed: number, size = 4): Buffer {
  const image = new PNG({ width: size, height: size });
  for (let i = 0; i < size * size; i++)
    image.data.set([(seed * 37 + i) % 256, seed % 256, i % 256, 255], 4 * i);
  return PNG.sync.write(image);
}

/** A small JPEG; with `declare`, its SOF0 frame header claims that width × height instead. */
function jpeg(seed: number, declare?: { width: number; height: number }): Buffer {
  const data = Buffer.alloc(8 * 8 * 4);
  for (let i = 0; i < 64; i++) data.set([(seed * 37 + i) % 256, seed % 256, (4 * i) % 256, 255], 4 * i);
  const bytes = Buffer.from(encode({ width: 8, height: 8, data }, 90).data);
  if (declare) {
    const at = bytes.indexOf(Buffer.from([0xff, 0xc0]));
    bytes.writeUInt16BE(declare.height, at + 5);
    bytes.writeUInt16BE(declare.width, at + 7);
  }
  return bytes;
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
const upload = (dataset: string, body: Uint8Array) =>
  call(server, 'POST', `/v1/projects/imglim/datasets/${dataset}/images`, {
    key,
    body,
    type: 'application/zip',
  });
const stored = () => countFiles(join(server.home, 'artifacts', 'sha256'));

before(async () => {
  server = await startTestServer({ maxImages: 50, maxImageBytes: 1_000_000, maxUnzippedBytes: 5_000_000 });
  key = server.adminKey!;
  await call(server, 'POST', '/v1/projects', { key, json: { name: 'imglim' } });
});
after(() => server.dispose());

describe('image dataset limits (issue #7)', () => {
  test('the crafted PNG is what it claims: a valid header declaring 30000×30000', () => {
    const bytes = hugePng(30000, 30000);
    assert.ok(bytes.length < 1000);
    assert.deepEqual(pngHeaderSize(bytes), { width: 30000, height: 30000 });
  });

  test('bad call: a small PNG declaring 30000×30000 pixels is refused at upload (400, named); nothing is stored', async () => {
    const before = stored();
    const r = await upload(
      'huge',
      zipSync({ 'cats/ok.png': png(1), 'cats/huge.png': hugePng(30000, 30000) }),
    );
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.code, 'ARCHIVE_INVALID');
    assert.match(r.body.detail, /huge\.png.*MASS_MAX_IMAGE_PIXELS/);
    assert.equal(stored(), before, 'no image reached the artifact store');
    assert.equal((await call(server, 'GET', '/v1/projects/imglim/datasets/huge', { key })).status, 404);
  });

  test('bad call: a small JPEG declaring 30000×30000 pixels, or with no frame header, is refused at upload; nothing is stored', async () => {
    const before = stored();
    const huge = await upload(
      'huge-jpeg',
      zipSync({ 'cats/ok.jpg': jpeg(1), 'cats/huge.jpg': jpeg(2, { width: 30000, height: 30000 }) }),
    );
    assert.equal(huge.status, 400, JSON.stringify(huge.body));
    assert.equal(huge.body.code, 'ARCHIVE_INVALID');
    assert.match(huge.body.detail, /huge\.jpg.*30000×30000.*MASS_MAX_IMAGE_PIXELS/);
    const headless = Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0x00, 0x04, 0x41, 0x42, 0xff, 0xd9]);
    const broken = await upload(
      'huge-jpeg',
      zipSync({ 'cats/ok.jpg': jpeg(1), 'cats/broken.jpg': headless }),
    );
    assert.equal(broken.status, 400, JSON.stringify(broken.body));
    assert.match(broken.body.detail, /broken\.jpg.*broken JPEG/);
    assert.equal(stored(), before, 'no image reached the artifact store');
    assert.equal((await call(server, 'GET', '/v1/projects/imglim/datasets/huge-jpeg', { key })).status, 404);
  });

  test("JPEG rows carry the frame header's size, and their images become tensors", async () => {
    const r = await upload(
      'jpegs',
      zipSync({ 'a/1.jpg': jpeg(31), 'b/2.jpeg': jpeg(32), 'b/3.png': png(33, 6) }),
    );
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const project = (await server.platform.services.auth.findProject('imglim'))!;
    const version = await server.platform.services.datasets.getVersion(project.id, 'jpegs', 1);
    const rows = await server.platform.services.images.list(version);
    assert.deepEqual(
      rows.map((row) => [row.file, row.width, row.height, row.format]),
      [
        ['a/1.jpg', 8, 8, 'jpeg'],
        ['b/2.jpeg', 8, 8, 'jpeg'],
        ['b/3.png', 6, 6, 'png'],
      ],
    );
    const batch = await server.platform.services.images.tensor(version, { height: 4, width: 4, channels: 3 });
    assert.deepEqual(batch.dims, [3, 3, 4, 4]);
    const image = await call(
      server,
      'GET',
      `/v1/projects/imglim/datasets/jpegs/versions/1/images/${rows[0]!.sha256}`,
      {
        key,
      },
    );
    assert.equal(image.headers.get('content-type'), 'image/jpeg');
  });

  test('bad call: imageTensor refuses an image above the pixel limit before decoding it', () => {
    assert.throws(
      () => imageTensor([png(2, 10)], { height: 4, width: 4 }, 99),
      /10×10 pixels is more than 99 \(MASS_MAX_IMAGE_PIXELS\)/,
    );
    assert.throws(
      () => imageTensor([hugePng(30000, 30000)], { height: 4, width: 4 }),
      /MASS_MAX_IMAGE_PIXELS/,
    );
    assert.deepEqual(imageTensor([png(2, 10)], { height: 4, width: 4 }, 100).dims, [1, 1, 4, 4]);
  });

  test('bad call: a zip whose last entry is not an image leaves the artifact store unchanged', async () => {
    const before = stored();
    const r = await upload(
      'partial',
      zipSync({
        'a/1.png': png(11),
        'a/2.png': png(12),
        'b/3.png': png(13),
        'z/readme.png': Buffer.from('hello'),
      }),
    );
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.code, 'ARCHIVE_INVALID');
    assert.equal(stored(), before, 'the images unzipped before the failure were not kept');
    assert.equal((await call(server, 'GET', '/v1/projects/imglim/datasets/partial', { key })).status, 404);
  });

  test('a valid zip still stores each distinct image once, and they are served', async () => {
    const before = stored();
    const r = await upload(
      'good',
      zipSync({ 'a/1.png': png(21), 'a/same.png': png(21), 'b/2.png': png(22) }),
    );
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.rowCount, 3);
    const project = (await server.platform.services.auth.findProject('imglim'))!;
    const version = await server.platform.services.datasets.getVersion(project.id, 'good', 1);
    const rows = await server.platform.services.images.list(version);
    const hashes = new Set(rows.map((row) => row.sha256));
    assert.equal(hashes.size, 2);
    for (const h of hashes)
      assert.ok(existsSync(join(server.home, 'artifacts', 'sha256', h.slice(0, 2), h)), h);
    assert.ok(stored() >= before + 2);
    const image = await call(
      server,
      'GET',
      `/v1/projects/imglim/datasets/good/versions/1/images/${rows[0]!.sha256}`,
      {
        key,
      },
    );
    assert.equal(image.status, 200);
  });

  test('the scoring CSV defuses spreadsheet formulas and still quotes', () => {
    assert.equal(csv('cats/1.png'), 'cats/1.png');
    assert.equal(csv('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csv('+1'), "'+1");
    assert.equal(csv('-2+3'), "'-2+3");
    assert.equal(csv('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csv('\tx'), "'\tx");
    assert.equal(csv('\rx'), `"'\rx"`);
    assert.equal(csv('a,b'), '"a,b"');
    assert.equal(csv('=1,2'), `"'=1,2"`);
  });
});
