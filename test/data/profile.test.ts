/**
 * The profile's sample statistics, computed in JavaScript from the sampled rows: quantiles by
 * selection (as DuckDB's quantile_cont), distinct counts, histograms (scaled from a sample) and
 * Pearson correlations (pairwise complete), each against a direct computation or DuckDB itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { createRng } from '../../src/ml/rng.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  distinctCount,
  histogramOf,
  pearson,
  profileParquet,
  QUANTILES,
  quantilesOf,
} from '../../src/data/profile.js';

/** A seeded stream of numbers in [0, 1). */
function rng(seed: number): () => number {
  const r = createRng(seed);
  return () => r.next();
}

describe('profile statistics from the sample', () => {
  it('quantiles by selection equal those of a sort, with ties, negatives and tiny lists', () => {
    const random = rng(1);
    for (const n of [1, 2, 3, 7, 15, 16, 17, 100, 1001, 50_000]) {
      const values = Float64Array.from({ length: n }, () => Math.round((random() - 0.3) * 40) / 4);
      const sorted = Float64Array.from(values).sort();
      const expected = QUANTILES.map((q) => {
        const rn = (n - 1) * q;
        const lo = Math.floor(rn);
        const hi = Math.ceil(rn);
        return lo === hi ? sorted[lo]! : sorted[lo]! * (1 - (rn - lo)) + sorted[hi]! * (rn - lo);
      });
      assert.deepEqual(quantilesOf(values), expected, `n = ${n}`);
    }
    assert.equal(quantilesOf([]), null);
  });

  it('quantiles match DuckDB quantile_cont', async () => {
    const random = rng(2);
    const values = Array.from({ length: 997 }, () => Math.round(random() * 1e6) / 100);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const row = (
      await c.runAndReadAll(
        `SELECT quantile_cont(v, [${QUANTILES.join(', ')}]) AS q FROM (SELECT unnest([${values.join(', ')}]::DOUBLE[]) AS v)`,
      )
    ).getRowObjectsJS()[0]!;
    c.closeSync();
    db.closeSync();
    const duck = row.q as number[];
    quantilesOf(values)!.forEach((q, i) =>
      assert.ok(Math.abs(q! - duck[i]!) <= 1e-9 * Math.abs(duck[i]!), `q${i}`),
    );
  });

  it('counts distinct values (−0 and 0 as one, repeated values once)', () => {
    assert.equal(distinctCount(Float64Array.of()), 0);
    assert.equal(distinctCount(Float64Array.of(0, -0, 1, 1, 1.5, -1.5, 1e300, 1e300)), 5);
    const random = rng(3);
    const values = Float64Array.from({ length: 20_000 }, () => Math.floor(random() * 5000) / 7);
    assert.equal(distinctCount(values), new Set(values).size);
  });

  it('histograms: exact without sampling (right-closed bins, the first from min), scaled to the column with it', () => {
    // Width 0.5: 0 → [0, 0.5]; 1 → (0.5, 1]; 2 → (1.5, 2]; 5 → (4.5, 5]; 10 → (9.5, 10].
    const exact = histogramOf(Float64Array.of(0, 1, 1, 2, 5, 10, 10), 0, 10, 7, false);
    assert.equal(exact.sampled, false);
    assert.equal(exact.edges.length, 21);
    assert.equal(exact.edges[20], 10);
    const expected = new Array(20).fill(0);
    Object.assign(expected, { 0: 1, 1: 2, 3: 1, 9: 1, 19: 2 });
    assert.deepEqual(exact.counts, expected);
    // A sample of 3 values for a column of 10: scaled, the remainder to the largest share.
    const scaled = histogramOf(Float64Array.of(0, 5, 10), 0, 10, 10, true);
    assert.equal(scaled.sampled, true);
    assert.equal(scaled.counts[0], 4);
    assert.equal(scaled.counts[9], 3);
    assert.equal(scaled.counts[19], 3);
    assert.equal(
      scaled.counts.reduce((a, b) => a + b, 0),
      10,
    );
    // A constant column: one bin of width 1 from the value.
    assert.equal(histogramOf(Float64Array.of(3, 3), 3, 3, 2, false).counts[0], 2);
  });

  it('correlations match DuckDB corr over the pairwise complete rows, null when undefined', async () => {
    const random = rng(4);
    const n = 500;
    const x = Float64Array.from({ length: n }, () => random());
    const y = Float64Array.from(x, (v, i) => (i % 17 === 0 ? NaN : 2 * v + random()));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const list = (a: Float64Array) =>
      `[${Array.from(a, (v) => (Number.isNaN(v) ? 'NULL' : String(v))).join(', ')}]::DOUBLE[]`;
    const row = (
      await c.runAndReadAll(
        `SELECT corr(a, b) AS r FROM (SELECT unnest(${list(x)}) AS a, unnest(${list(y)}) AS b)`,
      )
    ).getRowObjectsJS()[0]!;
    c.closeSync();
    db.closeSync();
    assert.ok(Math.abs(pearson(x, y)! - Number(row.r)) < 1e-12);
    assert.equal(pearson(x, new Float64Array(n).fill(1)), null, 'a constant side');
    assert.equal(pearson(Float64Array.of(1, NaN), Float64Array.of(NaN, 2)), null, 'no complete pair');
  });

  it('means and standard deviations from centred sums equal a two-pass computation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mass-profile-'));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const path = join(dir, 'm.parquet');
      // A large offset with a small spread (timestamps as numbers), a spread of many magnitudes,
      // a constant, one value, all missing and whole numbers with blanks.
      await c.run(`COPY (SELECT
          1.7e9 + (i % 997) * 0.001 AS shifted,
          CASE WHEN i % 7 = 0 THEN 1e12 ELSE (i % 13) * 1e-3 END AS wide,
          CAST(42.5 AS DOUBLE) AS flat,
          CASE WHEN i = 3 THEN CAST(-8 AS DOUBLE) END AS single,
          CAST(NULL AS DOUBLE) AS empty,
          CASE WHEN i % 5 = 0 THEN NULL ELSE CAST(i * 37 % 1001 - 500 AS BIGINT) END AS whole
        FROM range(20000) t(i)) TO '${path}' (FORMAT parquet)`);
      const names = ['shifted', 'wide', 'flat', 'single', 'empty', 'whole'];
      const { profile } = await profileParquet(
        c,
        path,
        names.map((name) => ({ name, storage: name === 'whole' ? 'integer' : 'numeric' })),
      );
      const row = (
        await c.runAndReadAll(
          // Two passes (DuckDB's own stddev_samp loses about 6 digits on the shifted column).
          `WITH m AS (SELECT ${names.map((n) => `avg(${n}) AS a_${n}`).join(', ')} FROM '${path}')
           SELECT ${names.map((n) => `any_value(a_${n}) AS a_${n}, CASE WHEN count(${n}) > 1 THEN sqrt(sum((${n} - a_${n}) ** 2) / (count(${n}) - 1)) END AS s_${n}`).join(', ')}
           FROM '${path}', m`,
        )
      ).getRowObjectsJS()[0]!;
      for (const name of names) {
        const col = profile.columns.find((x) => x.name === name)!;
        for (const [got, want, what] of [
          [col.mean, row[`a_${name}`], 'mean'],
          [col.std, row[`s_${name}`], 'std'],
        ] as const) {
          if (want === null) assert.equal(got, null, `${name} ${what}`);
          else {
            const w = Number(want);
            assert.ok(
              Math.abs(Number(got) - w) <= 1e-9 * Math.max(Math.abs(w), 1e-300) + 1e-12,
              `${name} ${what}: ${got} against ${w}`,
            );
          }
        }
      }
    } finally {
      c.closeSync();
      db.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
