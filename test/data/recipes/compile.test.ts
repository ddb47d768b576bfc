// The recipe compiler run directly against DuckDB: each step's effect on real Parquet files, the
// statistics it computes, determinism, and the save-time checks naming the step and field.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent } from '../../../src/data/engine.js';
import { compileRecipe, type Source } from '../../../src/data/recipes/compile.js';
import { planRecipe, type Schema } from '../../../src/data/recipes/steps.js';
import { AppError } from '../../../src/errors/index.js';

const MAIN: Schema = [
  { name: 'id', type: 'integer' },
  { name: 'v', type: 'numeric' },
  { name: 'cat', type: 'categorical' },
  { name: 'flag', type: 'boolean' },
  { name: 'ts', type: 'datetime' },
  { name: 'code', type: 'text' },
];
const RIGHT: Schema = [
  { name: 'cat', type: 'categorical' },
  { name: 'weight', type: 'integer' },
  { name: 'v', type: 'numeric' },
];
const EXTRA: Schema = [
  { name: 'id', type: 'integer' },
  { name: 'cat', type: 'text' },
  { name: 'note', type: 'text' },
];

describe('recipe compiler on DuckDB', () => {
  let dir: string;
  let db: DuckDBInstance;
  let c: DuckDBConnection;
  let sources: Record<string, Source>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mass-recipe-'));
    db = await DuckDBInstance.create(':memory:', { threads: '2' });
    c = await db.connect();
    // 1,000 rows: v missing on every 10th row, an outlier at id 500, categories x0..x6, codes '12'.
    await c.run(
      `COPY (SELECT range AS id,
                    CASE WHEN range % 10 = 3 THEN NULL WHEN range = 500 THEN 100000.0 ELSE CAST(range % 100 AS DOUBLE) END AS v,
                    'x' || (range % 7) AS cat, (range % 3 = 0) AS flag,
                    TIMESTAMP '2024-03-04 05:00:00' + INTERVAL (range) HOUR AS ts,
                    CAST(range % 50 AS VARCHAR) AS code
             FROM range(1000)) TO '${join(dir, 'main.parquet')}' (FORMAT parquet)`,
    );
    await c.run(
      `COPY (SELECT 'x' || range AS cat, range * 10 AS weight, CAST(range AS DOUBLE) AS v FROM range(5)) TO '${join(dir, 'right.parquet')}' (FORMAT parquet)`,
    );
    await c.run(
      `COPY (SELECT 5000 + range AS id, 'y' || range AS cat, 'extra' AS note FROM range(3)) TO '${join(dir, 'extra.parquet')}' (FORMAT parquet)`,
    );
    sources = {
      main: { path: join(dir, 'main.parquet'), schema: MAIN },
      r: { path: join(dir, 'right.parquet'), schema: RIGHT },
      extra: { path: join(dir, 'extra.parquet'), schema: EXTRA },
    };
  });
  after(() => {
    c.closeSync();
    db.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  const inputs = { main: MAIN, r: RIGHT, extra: EXTRA };
  async function run(steps: unknown[]) {
    const plan = planRecipe(steps, inputs);
    const compiled = await compileRecipe(c, plan, sources, { quoteIdent });
    const reader = await c.runAndReadAll(compiled.sql, compiled.params);
    return { rows: reader.getRowObjects() as Record<string, any>[], compiled, plan };
  }
  function refused(steps: unknown[], path: string, message: RegExp) {
    assert.throws(
      () => planRecipe(steps, inputs),
      (e: unknown) => {
        assert.ok(e instanceof AppError, String(e));
        assert.equal(e.code, 'VALIDATION_FAILED');
        assert.equal(e.errors[0]?.path, path, e.message);
        assert.match(e.errors[0]!.message, message);
        return true;
      },
    );
  }

  test('select, drop, rename and cast change the columns; rows keep their order', async () => {
    const { rows, plan } = await run([
      { type: 'select', columns: ['code', 'id', 'v'] },
      { type: 'drop', columns: ['v'] },
      { type: 'rename', columns: { code: 'code_text' } },
      { type: 'cast', columns: { code_text: 'integer' } },
    ]);
    assert.deepEqual(plan.output, [
      { name: 'code_text', type: 'integer' },
      { name: 'id', type: 'integer' },
    ]);
    assert.equal(rows.length, 1000);
    assert.deepEqual(Object.keys(rows[0]!), ['code_text', 'id']);
    assert.equal(rows[123]!.id, 123n);
    assert.equal(rows[123]!.code_text, 23n);
  });

  test('filter and derive through the expression language', async () => {
    const { rows, plan } = await run([
      { type: 'filter', expression: 'id >= 990 and cat != "x1"' },
      { type: 'derive', name: 'double', expression: 'v * 2 + 1' },
      { type: 'derive', name: 'big', expression: 'v > 50' },
    ]);
    assert.deepEqual(
      rows.map((r) => Number(r.id)),
      [990, 991, 992, 993, 994, 995, 996, 997, 998, 999].filter((i) => i % 7 !== 1),
    );
    for (const r of rows) {
      if (r.v === null) assert.equal(r.double, null);
      else assert.equal(r.double, r.v * 2 + 1);
    }
    assert.equal(plan.output.find((col) => col.name === 'double')?.type, 'numeric');
    assert.equal(plan.output.find((col) => col.name === 'big')?.type, 'boolean');
  });

  test('impute: mean, median and most frequent computed on the data at that step; constant', async () => {
    const { rows, compiled } = await run([
      { type: 'filter', expression: 'id < 100' },
      { type: 'derive', name: 'm', expression: 'v' },
      { type: 'derive', name: 'md', expression: 'v' },
      { type: 'impute', column: 'v', strategy: 'mean' },
      { type: 'impute', columns: ['md'], strategy: 'median' },
      { type: 'impute', columns: ['m'], strategy: 'constant', value: -1 },
    ]);
    // Rows 0..99 with v = id except every 10th (3, 13, ...) missing: mean and median of the rest.
    const present = Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 10 !== 3);
    const mean = present.reduce((a, b) => a + b, 0) / present.length;
    assert.ok(Math.abs(rows[3]!.v - mean) < 1e-12);
    assert.equal(rows[3]!.md, 49.5);
    assert.equal(rows[3]!.m, -1);
    assert.equal(rows[4]!.v, 4);
    assert.equal(compiled.fitted[0]!.step, 3);
    const mf = await run([
      { type: 'filter', expression: 'id < 10' },
      { type: 'derive', name: 'c2', expression: 'if(id < 4, null, cat)' },
      { type: 'impute', column: 'c2', strategy: 'most_frequent' },
    ]);
    // ids 4..9 are x4, x5, x6, x0, x1, x2: all once, so the tie goes to the smallest, x0.
    assert.equal(mf.rows[0]!.c2, 'x0');
  });

  test('standardize (population std) and normalize (min-max)', async () => {
    const { rows } = await run([
      { type: 'filter', expression: 'id < 200 and id != 500' },
      { type: 'impute', column: 'v', strategy: 'constant', value: 0 },
      { type: 'derive', name: 'n', expression: 'v' },
      { type: 'standardize', columns: ['v'] },
      { type: 'normalize', columns: ['n', 'id'] },
    ]);
    const vs = rows.map((r) => r.v as number);
    const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
    const variance = vs.reduce((a, b) => a + (b - mean) ** 2, 0) / vs.length;
    assert.ok(Math.abs(mean) < 1e-9);
    assert.ok(Math.abs(variance - 1) < 1e-9);
    assert.equal(Math.min(...rows.map((r) => r.n)), 0);
    assert.equal(Math.max(...rows.map((r) => r.n)), 1);
    assert.equal(rows[199]!.id, 1);
  });

  test('clip and drop outliers by IQR (Tukey fences) and z-score', async () => {
    const clipped = await run([{ type: 'clip_outliers', columns: ['v'] }]);
    const fit = clipped.compiled.fitted[0]!.values.v as { low: number; high: number };
    assert.equal(clipped.rows[500]!.v, fit.high);
    assert.ok(fit.high < 1000);
    assert.equal(clipped.rows[3]!.v, null, 'a missing value stays missing');
    const dropped = await run([{ type: 'drop_outliers', columns: ['v'], method: 'zscore', threshold: 3 }]);
    assert.equal(dropped.rows.length, 999);
    assert.ok(!dropped.rows.some((r) => r.id === 500n));
  });

  test('bucket by edges with labels, and by quantiles', async () => {
    const { rows, compiled } = await run([
      { type: 'filter', expression: 'id < 100' },
      { type: 'bucket', column: 'v', name: 'band', edges: [10, 50], labels: ['low', 'mid', 'high'] },
      { type: 'bucket', column: 'id', name: 'q', quantiles: 4 },
    ]);
    assert.deepEqual(
      [rows[0]!.band, rows[10]!.band, rows[49]!.band, rows[50]!.band, rows[3]!.band],
      ['low', 'mid', 'mid', 'high', null],
    );
    assert.deepEqual(compiled.fitted[1]!.values.edges, [24.75, 49.5, 74.25]);
    assert.deepEqual([rows[0]!.q, rows[30]!.q, rows[99]!.q], ['q1', 'q2', 'q4']);
  });

  test('date parts: year, month, day, ISO weekday, hour', async () => {
    const { rows } = await run([
      { type: 'date_parts', column: 'ts', parts: ['year', 'month', 'day', 'weekday', 'hour'] },
    ]);
    // 2024-03-04 05:00 is a Monday; row 24 is a day later.
    assert.deepEqual(
      [rows[24]!.ts_year, rows[24]!.ts_month, rows[24]!.ts_day, rows[24]!.ts_weekday, rows[24]!.ts_hour],
      [2024n, 3n, 5n, 2n, 5n],
    );
  });

  test('join (inner and left, colliding names suffixed) and union by name', async () => {
    const inner = await run([{ type: 'join', with: 'r', on: ['cat'], how: 'inner' }]);
    assert.ok(inner.rows.every((r) => ['x0', 'x1', 'x2', 'x3', 'x4'].includes(r.cat)));
    assert.deepEqual(Object.keys(inner.rows[0]!).slice(-2), ['weight', 'v_r']);
    assert.equal(inner.rows[1]!.weight, 10n);
    assert.ok(
      inner.rows.every((r, i) => i === 0 || r.id > inner.rows[i - 1]!.id),
      'left order kept',
    );
    const left = await run([{ type: 'join', with: 'r', on: ['cat'], how: 'left' }]);
    assert.equal(left.rows.length, 1000);
    assert.equal(left.rows[5]!.weight, null);
    const union = await run([
      { type: 'select', columns: ['id', 'cat'] },
      { type: 'union', with: 'extra' },
    ]);
    assert.equal(union.rows.length, 1003);
    assert.deepEqual(union.rows[1000], { id: 5000n, cat: 'y0', note: 'extra' });
    assert.equal(union.rows[0]!.note, null);
    assert.deepEqual(
      union.plan.output.map((col) => col.type),
      ['integer', 'text', 'text'],
    );
  });

  test('drop duplicates keeps the first row of each group', async () => {
    const { rows } = await run([{ type: 'drop_duplicates', columns: ['cat'] }]);
    assert.deepEqual(
      rows.map((r) => Number(r.id)),
      [0, 1, 2, 3, 4, 5, 6],
    );
  });

  test('sample and split are seeded, exact in size and deterministic', async () => {
    const a = await run([{ type: 'sample', n: 100, seed: 7 }]);
    const b = await run([{ type: 'sample', n: 100, seed: 7 }]);
    const other = await run([{ type: 'sample', n: 100, seed: 8 }]);
    assert.equal(a.rows.length, 100);
    assert.deepEqual(a.rows, b.rows);
    assert.notDeepEqual(a.rows, other.rows);
    const frac = await run([{ type: 'sample', fraction: 0.25, seed: 1 }]);
    assert.equal(frac.rows.length, 250);
    const split = await run([
      { type: 'split', fractions: { train: 0.7, validation: 0.1, test: 0.2 }, seed: 3 },
    ]);
    const count = (s: string) => split.rows.filter((r) => r.split === s).length;
    assert.deepEqual([count('train'), count('validation'), count('test')], [700, 100, 200]);
    const again = await run([
      { type: 'split', fractions: { train: 0.7, validation: 0.1, test: 0.2 }, seed: 3 },
    ]);
    assert.deepEqual(again.rows, split.rows);
  });

  test('a stratified split keeps every class share (missing values a class of their own) in every part, deterministically', async () => {
    // Classes of very different sizes: 'rare' (ids < 37, v present), 'common', and missing (v null, 100 rows).
    const steps = (seed: number) => [
      {
        type: 'derive',
        name: 'klass',
        expression: "case when v is null then null when id < 37 then 'rare' else 'common' end",
      },
      {
        type: 'split',
        fractions: { train: 0.7, validation: 0.1, test: 0.2 },
        seed,
        stratify: 'klass',
      },
    ];
    const a = await run(steps(3));
    const fractions: Record<string, number> = { train: 0.7, validation: 0.1, test: 0.2 };
    const sizes = new Map<string | null, number>();
    const parts = new Map<string, number>();
    for (const r of a.rows) {
      const k = r.klass as string | null;
      sizes.set(k, (sizes.get(k) ?? 0) + 1);
      parts.set(`${k}/${r.split}`, (parts.get(`${k}/${r.split}`) ?? 0) + 1);
    }
    assert.deepEqual([...sizes.keys()].sort(), ['common', 'rare', null].sort());
    assert.equal(sizes.get(null), 100);
    for (const [k, n] of sizes)
      for (const [part, f] of Object.entries(fractions)) {
        const got = parts.get(`${k}/${part}`) ?? 0;
        assert.ok(Math.abs(got - n * f) <= 1, `${k}/${part}: ${got} rows of ${n}, expected ${n * f} ± 1`);
      }
    // Exact overall sizes per class: round(n·train) train rows, the rest by cumulative rounding.
    const rare = sizes.get('rare')!;
    assert.equal(parts.get('rare/train'), Math.round(rare * 0.7));
    assert.equal(parts.get('rare/train')! + parts.get('rare/validation')!, Math.round(rare * 0.8));
    // Deterministic: the same seed gives the same rows; another seed another assignment.
    assert.deepEqual((await run(steps(3))).rows, a.rows);
    assert.notDeepEqual(
      (await run(steps(4))).rows.map((r) => r.split),
      a.rows.map((r) => r.split),
    );
  });

  test('bad call: a stratify column that does not exist at that step names /steps/N/stratify', () => {
    refused(
      [{ type: 'split', fractions: { train: 0.8, test: 0.2 }, stratify: 'nope' }],
      '/steps/0/stratify',
      /no column "nope"/,
    );
    refused(
      [
        { type: 'drop', columns: ['cat'] },
        { type: 'split', fractions: { train: 0.8, test: 0.2 }, stratify: 'cat' },
      ],
      '/steps/1/stratify',
      /no column "cat"/,
    );
    refused(
      [{ type: 'split', fractions: { train: 0.8, test: 0.2 }, stratify: 3 }],
      '/steps/0/stratify',
      /column name/,
    );
  });

  test('the same recipe on the same input writes byte-identical Parquet', async () => {
    const steps = [
      { type: 'filter', expression: 'id % 2 = 0' },
      { type: 'impute', column: 'v', strategy: 'median' },
      { type: 'standardize', columns: ['v'] },
      { type: 'join', with: 'r', on: ['cat'], how: 'left' },
      { type: 'split', fractions: { train: 0.8, test: 0.2 }, seed: 42 },
    ];
    const hashes: string[] = [];
    for (const n of [1, 2]) {
      const plan = planRecipe(steps, inputs);
      const compiled = await compileRecipe(c, plan, sources, { quoteIdent });
      const file = join(dir, `out${n}.parquet`);
      await c.run(`COPY (${compiled.sql}) TO $file (FORMAT parquet)`, { ...compiled.params, file });
      hashes.push(createHash('sha256').update(readFileSync(file)).digest('hex'));
    }
    assert.equal(hashes[0], hashes[1]);
  });

  test('hostile names and values stay data: quotes in column names and constants', async () => {
    const { rows } = await run([
      { type: 'rename', columns: { cat: 'a"; DROP TABLE x; --' } },
      { type: 'derive', name: "it's", expression: '"it\'s; --"' },
      { type: 'filter', expression: 'id < 2' },
    ]);
    assert.equal(rows[0]!['a"; DROP TABLE x; --'], 'x0');
    assert.equal(rows[0]!["it's"], "it's; --");
  });

  test('bad call: unknown step type names the step index and field', () => {
    refused(
      [{ type: 'select', columns: ['id'] }, { type: 'explode' }],
      '/steps/1/type',
      /unknown step type "explode"/,
    );
  });

  test('bad call: a column dropped by an earlier step is refused where it is used', () => {
    refused(
      [
        { type: 'drop', columns: ['v'] },
        { type: 'impute', columns: ['id', 'v'], strategy: 'mean' },
      ],
      '/steps/1/columns/1',
      /no column "v"/,
    );
    refused(
      [
        { type: 'drop', columns: ['v'] },
        { type: 'filter', expression: 'v > 3' },
      ],
      '/steps/1/expression',
      /v/,
    );
  });

  test('bad call: an expression that does not parse gives its position', () => {
    refused([{ type: 'filter', expression: 'id > > 3' }], '/steps/0/expression', /position \d+/);
  });

  test('bad call: type mismatches (expression and step)', () => {
    refused([{ type: 'derive', name: 'x', expression: 'cat * 2' }], '/steps/0/expression', /./);
    refused([{ type: 'filter', expression: 'id + 1' }], '/steps/0/expression', /number/);
    refused([{ type: 'standardize', columns: ['cat'] }], '/steps/0/columns/0', /categorical/);
    refused(
      [{ type: 'impute', column: 'v', strategy: 'constant', value: 'zero' }],
      '/steps/0/value',
      /number/,
    );
  });

  test('bad call: join or union with an input that is not declared', () => {
    refused([{ type: 'join', with: 'orders', on: ['cat'] }], '/steps/0/with', /no input "orders"/);
    refused([{ type: 'join', with: 'r', on: ['id'] }], '/steps/0/on/0', /no column "id"/);
  });

  test('bad call: huge and deeply nested expressions are refused, not run', () => {
    refused(
      [{ type: 'filter', expression: `id > ${'1 + '.repeat(2_000)}1` }],
      '/steps/0/expression',
      /at most/,
    );
    refused(
      [{ type: 'filter', expression: `${'('.repeat(1_500)}id > 1${')'.repeat(1_500)}` }],
      '/steps/0/expression',
      /./,
    );
  });

  test('bad call: fields a step does not have, and bad split fractions', () => {
    refused([{ type: 'filter', expresion: 'id > 1' }], '/steps/0/expresion', /not a field/);
    refused([{ type: 'split', fractions: { train: 0.7, test: 0.2 } }], '/steps/0/fractions', /add up to 1/);
  });
});
