// convertToParquet: Parquet input that Mass wrote itself (a recipe's output) kept as written
// where every column is in its storage type, still cleaned where it must be; dates kept as DATE.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { convertToParquet, recastParquet } from '../../src/data/convert.js';
import { settleDialect } from '../../src/data/input.js';

/** A temporary folder and a DuckDB connection, both gone after the test. */
async function scratch(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'mass-convert-'));
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  t.after(() => {
    c.closeSync();
    db.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, c };
}

test('a Parquet file in storage types is kept as written (asWritten), and cleaned where needed', async (t) => {
  const { dir, c } = await scratch(t);
  const write = async (name: string, select: string) => {
    const path = join(dir, name);
    await c.run(`COPY (${select}) TO '${path}' (FORMAT parquet, COMPRESSION zstd)`);
    return path;
  };
  const columns = `i AS id, i / 2 AS x, 'v' || (i % 3) AS s, DATE '2024-01-01' + CAST(i AS INTEGER) AS d, i % 2 = 0 AS f`;
  const clean = await write('clean.parquet', `SELECT ${columns} FROM range(100) t(i)`);
  const kept = join(dir, 'kept.parquet');
  const stored = await convertToParquet(c, { kind: 'parquet', path: clean }, kept, {}, { asWritten: true });
  assert.deepEqual(
    stored.map((col) => [col.name, col.storage]),
    [
      ['id', 'integer'],
      ['x', 'numeric'],
      ['s', 'string'],
      ['d', 'datetime'],
      ['f', 'boolean'],
    ],
  );
  // The same file (a hard link where the filesystem allows one), not a rewrite.
  assert.equal(statSync(kept).ino, statSync(clean).ino);
  const rewritten = join(dir, 'rewritten.parquet');
  await convertToParquet(c, { kind: 'parquet', path: clean }, rewritten, {});
  assert.notEqual(statSync(rewritten).ino, statSync(clean).ino);

  // An infinity and text with spaces or blank: rewritten, rows in order.
  const dirty = await write(
    'dirty.parquet',
    `SELECT i AS id, CASE WHEN i = 3 THEN 'inf'::DOUBLE ELSE i / 2 END AS x, ['a', ' b ', ''][i % 3 + 1] AS s FROM range(6) t(i)`,
  );
  const fixed = join(dir, 'fixed.parquet');
  await convertToParquet(c, { kind: 'parquet', path: dirty }, fixed, {}, { asWritten: true });
  const rows = (await c.runAndReadAll(`SELECT id, x, s FROM '${fixed}'`)).getRowObjectsJS();
  assert.deepEqual(
    rows.map((r) => [Number(r.id), r.x, r.s]),
    [
      [0, 0, 'a'],
      [1, 0.5, 'b'],
      [2, 1, null],
      [3, null, 'a'],
      [4, 2, 'b'],
      [5, 2.5, null],
    ],
  );
  // A column outside the storage types (INTEGER) means a rewrite, in BIGINT.
  const narrow = await write('narrow.parquet', 'SELECT CAST(i AS INTEGER) AS n FROM range(5) t(i)');
  const widened = join(dir, 'widened.parquet');
  await convertToParquet(c, { kind: 'parquet', path: narrow }, widened, {}, { asWritten: true });
  assert.notEqual(statSync(widened).ino, statSync(narrow).ino);
  const type = (await c.runAndReadAll(`DESCRIBE SELECT * FROM '${widened}'`)).getRowObjectsJS()[0]!;
  assert.equal(type.column_type, 'BIGINT');
});

test('CSV dates are stored as DATE, timestamps as TIMESTAMP; both read back as the same instants', async (t) => {
  const { dir, c } = await scratch(t);
  const text = 'day,at\n2024-03-01,2024-03-01 10:30:00\n2024-03-02,2024-03-02 00:00:00\n';
  const path = join(dir, 'dates.csv');
  writeFileSync(path, text);
  const dialect = settleDialect(text, 'csv', {}, 'utf-8');
  const out = join(dir, 'dates.parquet');
  const stored = await convertToParquet(c, { kind: 'csv', path, dialect }, out, {});
  assert.deepEqual(
    stored.map((col) => col.storage),
    ['datetime', 'datetime'],
  );
  const types = (await c.runAndReadAll(`DESCRIBE SELECT * FROM '${out}'`)).getRowObjectsJS();
  assert.deepEqual(
    types.map((r) => r.column_type),
    ['DATE', 'TIMESTAMP'],
  );
  const rows = (await c.runAndReadAll(`SELECT "day", "at" FROM '${out}'`)).getRowObjectsJS();
  assert.deepEqual(
    rows.map((r) => [(r.day as Date).toISOString(), (r.at as Date).toISOString()]),
    [
      ['2024-03-01T00:00:00.000Z', '2024-03-01T10:30:00.000Z'],
      ['2024-03-02T00:00:00.000Z', '2024-03-02T00:00:00.000Z'],
    ],
  );
  // As text, a DATE reads as a timestamp did before dates were kept as dates.
  const recast = join(dir, 'recast.parquet');
  await recastParquet(c, out, recast, { day: 'categorical' });
  const asText = (await c.runAndReadAll(`SELECT "day" FROM '${recast}'`)).getRowObjectsJS();
  assert.deepEqual(
    asText.map((r) => r.day),
    ['2024-03-01 00:00:00', '2024-03-02 00:00:00'],
  );
});
