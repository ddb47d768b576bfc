// JSON and JSON Lines with nested values through the real HTTP server: objects are flattened into
// dotted columns (as pandas.json_normalize does), recursively, nulls inside and instead of objects
// stay missing, lists and objects with varying keys become JSON text; two fields flattening to one
// name, and fields mixing objects with plain values, are refused naming the column.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { call, startTestServer, type TestServer } from '../support/server.js';

const PEOPLE = [
  {
    id: 1,
    name: 'Ana',
    address: { city: 'Paris', zip: '75001', geo: { lat: 48.86, lon: 2.35 } },
    tags: ['vip', 'early'],
    orders: [{ sku: 'a', n: 2 }],
  },
  { id: 2, name: 'Bo', address: { city: null, zip: '69001', geo: null }, tags: [], orders: null },
  { id: 3, name: 'Cy', address: null, tags: null },
  { id: 4, name: 'Di', address: { city: 'Nice' }, tags: ['x'], orders: [] },
];
const jsonl = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('nested JSON records', () => {
  let server: TestServer;
  let key: string;
  before(async () => {
    server = await startTestServer({});
    key = server.adminKey!;
    await call(server, 'POST', '/v1/projects', { key, json: { name: 'lab' } });
  });
  after(() => server.dispose());
  const upload = (query: string, body: string, type = 'application/x-ndjson') =>
    call(server, 'POST', `/v1/projects/lab/datasets?${query}`, { key, body, type });
  const rowsOf = async (name: string) => {
    const r = await call(server, 'GET', `/v1/projects/lab/datasets/${name}/versions/1/rows?limit=100`, {
      key,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.rows as Record<string, unknown>[];
  };
  const refused = (r: { status: number; body: any; headers: Headers }, column: string, detail: RegExp) => {
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(r.body.code, 'JSON_INVALID');
    assert.equal(r.body.errors[0].path, `columns/${column}`, JSON.stringify(r.body));
    assert.match(r.body.detail, detail);
  };

  test('objects become dotted columns, recursively; lists become JSON text; nulls stay missing', async () => {
    const up = await upload('name=people', jsonl(PEOPLE));
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.deepEqual(
      up.body.schema.columns.map((c: { name: string; type: string }) => [c.name, c.type]),
      [
        ['id', 'integer'],
        ['name', 'categorical'],
        ['address.city', 'categorical'],
        ['address.zip', 'categorical'],
        ['address.geo.lat', 'numeric'],
        ['address.geo.lon', 'numeric'],
        ['tags', 'categorical'],
        ['orders', 'categorical'],
      ],
    );
    const rows = await rowsOf('people');
    assert.deepEqual(rows[0], {
      id: 1,
      name: 'Ana',
      'address.city': 'Paris',
      'address.zip': '75001',
      'address.geo.lat': 48.86,
      'address.geo.lon': 2.35,
      tags: '["vip","early"]',
      orders: '[{"sku":"a","n":2}]',
    });
    // A null inside an object, a null object, a missing object and a missing field: all missing.
    assert.deepEqual(
      rows.map((r) => [r['address.city'], r['address.zip'], r['address.geo.lat']]),
      [
        ['Paris', '75001', 48.86],
        [null, '69001', null],
        [null, null, null],
        ['Nice', null, null],
      ],
    );
    // An empty list is its JSON text, a null list missing.
    assert.deepEqual(
      rows.map((r) => [r.tags, r.orders]),
      [
        ['["vip","early"]', '[{"sku":"a","n":2}]'],
        ['[]', null],
        [null, null],
        ['["x"]', '[]'],
      ],
    );
    const profile = await call(server, 'GET', '/v1/projects/lab/datasets/people/versions/1/profile', { key });
    assert.equal(profile.status, 200);
    const city = profile.body.columns.find((c: { name: string }) => c.name === 'address.city');
    assert.equal(city.missing, 2);
  });

  test('a JSON array of records flattens the same way; an imposed type reaches a dotted column', async () => {
    const up = await upload(
      `name=people-array&schema=${encodeURIComponent('{"address.zip":"integer"}')}`,
      JSON.stringify(PEOPLE.slice(0, 2)),
      'application/json',
    );
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const zip = up.body.schema.columns.find((c: { name: string }) => c.name === 'address.zip');
    assert.equal(zip.type, 'integer');
    const rows = await rowsOf('people-array');
    assert.deepEqual(
      rows.map((r) => r['address.zip']),
      [75001, 69001],
    );
  });

  test('objects whose keys vary from record to record (read as a map) become JSON text', async () => {
    // 40 different keys, one per record: DuckDB reads the field as a MAP, kept as its JSON text.
    const records = Array.from({ length: 40 }, (_, i) => ({ id: i, counts: { [`k${i}`]: i } }));
    const up = await upload('name=sparse', jsonl(records));
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.deepEqual(
      up.body.schema.columns.map((c: { name: string }) => c.name),
      ['id', 'counts'],
    );
    const rows = await rowsOf('sparse');
    assert.equal(rows[3]!.counts, '{"k3":3}');
  });

  test('a field null in every record, at the top or inside an object, is an empty column', async () => {
    const up = await upload(
      'name=allnull',
      jsonl([
        { id: 1, gone: null, a: { x: null, y: 1 } },
        { id: 2, gone: null, a: { x: null, y: 2 } },
      ]),
    );
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.deepEqual(
      up.body.schema.columns.map((c: { name: string; missing: number }) => [c.name, c.missing]),
      [
        ['id', 0],
        ['gone', 2],
        ['a.x', 2],
        ['a.y', 0],
      ],
    );
  });

  test('bad call: two fields that flatten to the same name are refused, naming the column', async () => {
    refused(
      await upload('name=clash', jsonl([{ id: 1, 'address.city': 'x', address: { city: 'Paris' } }])),
      'address.city',
      /"address\.city" appears twice.*the field "address\.city" and the field "city" inside "address"/,
    );
    refused(
      await upload('name=clash2', jsonl([{ a: { 'b.c': 1, b: { c: 2 } } }])),
      'a.b.c',
      /"a\.b\.c" appears twice/,
    );
    assert.equal((await call(server, 'GET', '/v1/projects/lab/datasets/clash', { key })).status, 404);
  });

  test('bad call: a field that is an object in some records and a plain value in others is still refused', async () => {
    refused(
      await upload(
        'name=mixed',
        jsonl([
          { id: 1, b: { x: 1 } },
          { id: 2, b: 3 },
        ]),
      ),
      'b',
      /"b" is sometimes an object or a list and sometimes a plain value/,
    );
    // The same inside an object: named by its dotted column.
    refused(
      await upload('name=mixed-inner', jsonl([{ s: { a: 1 } }, { s: { a: { deep: true } } }])),
      's.a',
      /"s\.a" is sometimes an object/,
    );
    // Nothing left behind by the refusals.
    const work = join(server.home, 'tmp', 'data');
    assert.deepEqual(existsSync(work) ? readdirSync(work) : [], []);
    assert.equal((await call(server, 'GET', '/v1/projects/lab/datasets/mixed', { key })).status, 404);
  });
});
