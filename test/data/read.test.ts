// Training reads a stored version (Parquet) into typed columns exactly as it read CSV before:
// numbers (integers, decimals, datetimes as epoch seconds) into Float64Array with NaN for missing;
// booleans as 'true' / 'false', categories and text as strings with null for missing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { readColumns, trainingSchema } from '../../src/data/read.js';
import type { ColumnSchema } from '../../src/data/schema.js';

test('readColumns reads Parquet columns as training expects them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mass-read-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'v.parquet');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  await c.run(`COPY (SELECT * FROM (VALUES
      (1::BIGINT, 1.5::DOUBLE, true, TIMESTAMP '1970-01-02 00:00:00', 'a'),
      (NULL, NULL, NULL, NULL, NULL),
      (3, -2.25, false, TIMESTAMP '2024-01-01 00:00:00', 'b')) t(n, x, flag, day, city))
    TO '${path}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
  const col = (name: string, type: ColumnSchema['type']): ColumnSchema => ({
    name,
    type,
    missing: 1,
    distinct: 2,
    distinctCapped: false,
  });
  const wanted = [
    col('n', 'integer'),
    col('x', 'numeric'),
    col('flag', 'boolean'),
    col('day', 'datetime'),
    col('city', 'categorical'),
  ];
  const [n, x, flag, day, city] = await readColumns(path, wanted, 3);
  assert.equal(n!.kind, 'numeric');
  assert.deepEqual([...(n!.values as Float64Array)], [1, NaN, 3]);
  assert.deepEqual([...(x!.values as Float64Array)], [1.5, NaN, -2.25]);
  assert.deepEqual(flag!.values, ['true', null, 'false']);
  assert.deepEqual([...(day!.values as Float64Array)], [86_400, NaN, 1_704_067_200]);
  assert.deepEqual(city!.values, ['a', null, 'b']);
  await assert.rejects(readColumns(path, [col('nope', 'numeric')], 3), /nope/);
  await assert.rejects(readColumns(path, wanted, 2), /more rows/);
  const seen = trainingSchema({ rowCount: 3, columns: wanted }).columns.map((c) => [c.type, c.integer]);
  assert.deepEqual(seen, [
    ['numeric', true],
    ['numeric', undefined],
    ['boolean', undefined],
    ['numeric', false],
    ['categorical', undefined],
  ]);
});
