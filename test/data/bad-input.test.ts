// Bad dataset files through the real HTTP server: each one is refused with a problem+json that
// names what is wrong, and nothing is left behind (no dataset, no version, no stored file, no
// temporary file).
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import iconv from 'iconv-lite';
import { call, startTestServer, type TestServer } from '../support/server.js';

const LIMIT = 64 * 1024;

function assertProblem(
  r: { status: number; body: any; headers: Headers },
  status: number,
  code: string,
  detail?: RegExp,
) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.equal(r.body.code, code, JSON.stringify(r.body));
  if (detail) assert.match(r.body.detail, detail);
}

describe('bad dataset files', () => {
  let server: TestServer;
  let key: string;
  before(async () => {
    server = await startTestServer({ maxUploadBytes: LIMIT });
    key = server.adminKey!;
    await call(server, 'POST', '/v1/projects', { key, json: { name: 'lab' } });
  });
  after(() => server.dispose());
  const upload = (query: string, body: string | Buffer, type = 'text/csv') =>
    call(server, 'POST', `/v1/projects/lab/datasets?${query}`, { key, body, type });

  test('a CSV column of numbers and words is categorical; imposing numeric names the column, row and value', async () => {
    const mixed = 'id,size\n1,10\n2,large\n3,12\n';
    const ok = await upload('name=mixed-ok', mixed);
    assert.equal(ok.status, 201);
    assert.equal(ok.body.schema.columns[1].type, 'categorical');
    assertProblem(
      await upload(`name=mixed&schema=${encodeURIComponent('{"size":"numeric"}')}`, mixed),
      422,
      'CAST_FAILED',
      /column "size" cannot be numeric: row 2 has "large"/,
    );
    assertProblem(
      await upload(`name=mixed&schema=${encodeURIComponent('{"size":"money"}')}`, mixed),
      400,
      'VALIDATION_FAILED',
      /schema\/size/,
    );
    assertProblem(
      await upload(`name=mixed&schema=${encodeURIComponent('{"nope":"numeric"}')}`, mixed),
      400,
      'VALIDATION_FAILED',
      /nope/,
    );
  });

  test('JSON with a field that is sometimes an object and sometimes a number is refused', async () => {
    assertProblem(
      await upload('name=mixedjson', '{"a":1,"b":{"x":1}}\n{"a":2,"b":3}\n', 'application/x-ndjson'),
      400,
      'JSON_INVALID',
      /"b" is sometimes an object/,
    );
    assertProblem(await upload('name=brokenjson', '[{"a":1},{"a":', 'application/json'), 400, 'JSON_INVALID');
    // Nested objects are flattened (test/data/json-nested.test.ts); two fields flattening to one name are refused.
    assertProblem(
      await upload('name=nested', '[{"a.b":1,"a":{"b":2}}]', 'application/json'),
      400,
      'JSON_INVALID',
      /"a\.b" appears twice/,
    );
  });

  test('broken quoting and ragged rows name the problem', async () => {
    assertProblem(await upload('name=quote', 'a,b\n1,"unterminated\n2,3\n'), 400, 'CSV_INVALID');
    assertProblem(await upload('name=ragged', 'a,b,c\n1,2,3\n4,5\n6,7,8\n'), 400, 'CSV_INVALID', /line/);
  });

  test('a wrong encoding: invalid UTF-8 declared as UTF-8, invalid bytes for a declared encoding, an unknown one', async () => {
    const latin1 = iconv.encode('name,city\n1,Zürich\n2,Malmö\n', 'latin1');
    assertProblem(await upload('name=enc&encoding=utf-8', latin1), 400, 'ENCODING_INVALID', /UTF-8/);
    assertProblem(
      await upload('name=enc&encoding=shift_jis', Buffer.from([0x61, 0x0a, 0x82, 0xff, 0x0a])),
      400,
      'ENCODING_INVALID',
      /shift.jis/,
    );
    assertProblem(await upload('name=enc&encoding=klingon', 'a\n1\n'), 400, 'VALIDATION_FAILED', /encoding/);
    // Detected: the same Latin-1 bytes without a declaration are read right.
    const detected = await upload('name=latin1', latin1);
    assert.equal(detected.status, 201, JSON.stringify(detected.body));
    const rows = await call(server, 'GET', '/v1/projects/lab/datasets/latin1/versions/1/rows', { key });
    assert.equal(rows.body.rows[0].city, 'Zürich');
  });

  test('empty files: nothing, a header alone, an empty JSON list', async () => {
    assertProblem(await upload('name=empty', ''), 400, 'DATASET_EMPTY');
    assertProblem(await upload('name=empty', '   \n'), 400, 'DATASET_EMPTY');
    assertProblem(await upload('name=empty', 'a,b\n'), 400, 'DATASET_EMPTY', /no data rows/);
    assertProblem(await upload('name=empty', '[]', 'application/json'), 400, 'DATASET_EMPTY');
  });

  test('a duplicate or empty column name', async () => {
    assertProblem(await upload('name=dup', 'a,b,a\n1,2,3\n'), 400, 'CSV_INVALID', /"a" twice/);
    assertProblem(await upload('name=dup', 'a;;c\n1;2;3\n'), 400, 'CSV_INVALID', /column 2 has no name/);
  });

  test('a file over the size limit, in any format', async () => {
    assertProblem(await upload('name=big', `a\n${'1\n'.repeat(LIMIT)}`), 413, 'PAYLOAD_TOO_LARGE');
    assertProblem(
      await upload('name=big', `${'{"a":1}\n'.repeat(LIMIT / 4)}`, 'application/x-ndjson'),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  test('an .xlsx that is not a zip, a Parquet file that is not Parquet', async () => {
    const xlsx = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    assertProblem(await upload('name=xl', 'a,b\n1,2\n', xlsx), 400, 'XLSX_INVALID', /not a zip/);
    // A zip, but not a workbook.
    const zip = Buffer.from('504b0304140000000000', 'hex');
    assertProblem(await upload('name=xl', Buffer.concat([zip, Buffer.alloc(64)]), xlsx), 400, 'XLSX_INVALID');
    assertProblem(
      await upload('name=pq&format=parquet', 'a,b\n1,2\n', 'application/octet-stream'),
      400,
      'PARQUET_INVALID',
    );
    assertProblem(
      await upload(
        'name=pq',
        Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(100), Buffer.from('PAR1')]),
        'application/vnd.apache.parquet',
      ),
      400,
      'PARQUET_INVALID',
    );
  });

  test('options that do not fit the format, an unknown format', async () => {
    assertProblem(
      await upload('name=o&delimiter=;', '[{"a":1}]', 'application/json'),
      400,
      'VALIDATION_FAILED',
      /delimiter/,
    );
    assertProblem(await upload('name=o&sheet=x', 'a\n1\n'), 400, 'VALIDATION_FAILED', /sheet/);
    assertProblem(await upload('name=o&format=xml', 'a\n1\n'), 400, 'VALIDATION_FAILED', /format/);
    assertProblem(await upload('name=o&delimiter=ab', 'a\n1\n'), 400, 'VALIDATION_FAILED', /delimiter/);
  });

  test('preview and sample parameters are checked', async () => {
    const r = (q: string) =>
      call(server, 'GET', `/v1/projects/lab/datasets/mixed-ok/versions/1/rows?${q}`, { key });
    assertProblem(await r('limit=0'), 400, 'VALIDATION_FAILED', /limit/);
    assertProblem(await r('limit=5000'), 400, 'VALIDATION_FAILED', /limit/);
    assertProblem(await r('sample=5&offset=2'), 400, 'VALIDATION_FAILED', /sample/);
    assertProblem(await r('seed=3'), 400, 'VALIDATION_FAILED', /seed/);
    const missing = await call(server, 'GET', '/v1/projects/lab/datasets/mixed-ok/versions/9/profile', {
      key,
    });
    assertProblem(missing, 404, 'NOT_FOUND');
  });

  test('nothing half-written: only the good datasets, one stored file each, no temporary file', async () => {
    const listed = await call(server, 'GET', '/v1/projects/lab/datasets', { key });
    assert.deepEqual(
      listed.body.items.map((d: { name: string }) => d.name),
      ['latin1', 'mixed-ok'],
    );
    const tmp = join(server.home, 'artifacts', 'tmp');
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], []);
    assert.deepEqual(readdirSync(join(server.home, 'tmp', 'data')), []);
    const blobs = readdirSync(join(server.home, 'artifacts', 'sha256'), { recursive: true }).filter(
      (p) => String(p).length > 60,
    );
    assert.equal(blobs.length, 2);
  });
});
