import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { ExprError, parseExpression, quoteDuckDbIdent, toSql, type Expr } from '../../src/expr/index.js';

describe('expr: toSql', () => {
  test('names reach the SQL only through quoteIdent', () => {
    const seen: string[] = [];
    const sql = toSql(parseExpression('`a"; DROP TABLE t; --` + b.c'), (n) => {
      seen.push(n);
      return `<${seen.length}>`;
    });
    assert.deepEqual(seen, ['a"; DROP TABLE t; --', 'b.c']);
    assert.ok(!sql.includes('DROP'));
    assert.match(sql, /<1>.*<2>/);
  });

  test('strings stay data: quotes doubled, NUL rejected; numbers must be finite', () => {
    const sql = toSql(parseExpression(`'x''); DROP TABLE t; --' = "it's"`), quoteDuckDbIdent);
    assert.ok(sql.includes(`'x''); DROP TABLE t; --'`));
    assert.ok(sql.includes(`'it''s'`));
    const nul: Expr = { kind: 'literal', value: 'a\0b', pos: 3 };
    assert.throws(
      () => toSql(nul, quoteDuckDbIdent),
      (e: unknown) => e instanceof ExprError && e.position === 3,
    );
    assert.throws(() => toSql({ kind: 'literal', value: Number.NaN, pos: 0 }, quoteDuckDbIdent), /finite/);
    assert.throws(
      () => toSql({ kind: 'call', name: 'system', args: [], pos: 0 }, quoteDuckDbIdent),
      /unknown function/,
    );
    assert.throws(() => quoteDuckDbIdent('a\0'), ExprError);
  });

  test('hostile names and strings run in DuckDB as data', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      await conn.run(`CREATE TABLE t AS SELECT 2::DOUBLE AS "we""ird; --", 'a' AS s`);
      const expr = parseExpression("concat(`we\"ird; --` * 2, '''; DROP TABLE t; --', s)");
      const reader = await conn.runAndReadAll(
        `SELECT ${toSql(expr, quoteDuckDbIdent, { 'we"ird; --': 'number', s: 'string' })} AS v FROM t`,
      );
      assert.equal(reader.getRowObjects()[0]!.v, "4'; DROP TABLE t; --a");
      assert.equal((await conn.runAndReadAll('SELECT count(*) AS n FROM t')).getRowObjects()[0]!.n, 1n);
    } finally {
      conn.closeSync();
    }
  });
});
