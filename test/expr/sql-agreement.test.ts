// Every operator and function evaluated twice — by DuckDB on the SQL from toSql and by evaluate — over
// the same row, and the results compared. This is what keeps recipes (SQL) and rules (JS) in agreement.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  checkExpression,
  evaluate,
  MAX_EXPRESSION_DEPTH,
  parseExpression,
  quoteDuckDbIdent,
  toSql,
  type ExprType,
} from '../../src/expr/index.js';
import { formatTimestamp } from '../../src/expr/values.js';

const TYPES: Record<string, ExprType> = {
  n: 'number',
  i: 'number',
  neg: 'number',
  zero: 'number',
  big: 'number',
  s: 'string',
  e: 'string',
  u: 'string',
  q: 'string',
  num_text: 'string',
  date_text: 'string',
  b: 'boolean',
  f: 'boolean',
  d: 'date',
  d2: 'date',
  ns: 'number',
  nstr: 'string',
  nb: 'boolean',
  nd: 'date',
  'debt ratio': 'number',
  'fraud.score': 'number',
};

const ENV: Record<string, unknown> = {
  n: 7.5,
  i: 12,
  neg: -3.25,
  zero: 0,
  big: 1e300,
  s: 'Hello World',
  e: '',
  u: 'héllo😀 ✓',
  q: "it's; DROP TABLE t; --",
  num_text: ' 1_000.5 ',
  date_text: '2024-02-29 23:59:59',
  b: true,
  f: false,
  d: new Date(Date.UTC(2024, 2, 10, 14, 30, 15)),
  d2: new Date(Date.UTC(2024, 0, 31)),
  ns: null,
  nstr: null,
  nb: null,
  nd: null,
  'debt ratio': 0.35,
  'fraud.score': 0.9,
};

// The same row as DuckDB columns of their natural SQL types (i is a BIGINT, d2 a DATE).
const ROW_SQL = `SELECT 7.5::DOUBLE AS n, 12::BIGINT AS i, -3.25::DOUBLE AS neg, 0::DOUBLE AS zero,
  1e300::DOUBLE AS big, 'Hello World' AS s, '' AS e, 'héllo😀 ✓' AS u, 'it''s; DROP TABLE t; --' AS q,
  ' 1_000.5 ' AS num_text, '2024-02-29 23:59:59' AS date_text,
  TRUE AS b, FALSE AS f, TIMESTAMP '2024-03-10 14:30:15' AS d, DATE '2024-01-31' AS d2,
  NULL::DOUBLE AS ns, NULL::VARCHAR AS nstr, NULL::BOOLEAN AS nb, NULL::TIMESTAMP AS nd,
  0.35::DOUBLE AS "debt ratio", 0.9::DOUBLE AS "fraud.score"`;

const CASES: string[] = [
  // literals and names
  '1',
  '2.5',
  '1e3',
  "'it''s'",
  '"double ""quoted"""',
  'true',
  'false',
  'null',
  'n',
  'i',
  '`debt ratio`',
  'fraud.score',
  // arithmetic
  'n + i',
  'n - i * 2',
  '-n',
  '- -n',
  'n / 2',
  'i / 0',
  '0 / 0',
  'n / zero',
  'i % 5',
  'neg % 2',
  '7.5 % 2',
  'n % 0',
  'big * big',
  '-big * big',
  'n + ns',
  'ns * 0',
  '0.1 + 0.2',
  '(n + 1) * (i - 2) / 3',
  // comparisons
  'n > i',
  'n < i',
  'n = 7.5',
  'n == 7.5',
  'n != 7.5',
  'n <> 7',
  'i >= 12',
  'i <= 11',
  "s = 'Hello World'",
  "s < 'hello'",
  "u > 'z'",
  "'é' > 'z'",
  'b = true',
  'b != f',
  'ns = 1',
  'ns = ns',
  "d > date('2024-03-10')",
  "d2 = date('2024-01-31')",
  'd2 < d',
  "date_text > '2024'",
  // logic, three-valued
  'b and f',
  'b or f',
  'not b',
  '!f',
  'b && nb',
  'f && nb',
  'b || nb',
  'f || nb',
  'not nb',
  'nb and nb',
  'n > 1 and i < 20 or f',
  // in, between, is null
  'i in (1, 12, 3)',
  'i in (1, 2)',
  'i in (1, null)',
  'i in (12, null)',
  'i not in (1, 2)',
  'i not in (1, null)',
  'ns in (1, 2)',
  "s in ('a', 'Hello World')",
  "d in (date('2024-03-10 14:30:15'))",
  'n between 7 and 8',
  'n between 8 and 9',
  'n not between 8 and 9',
  'n between ns and 9',
  'n between 9 and ns',
  "s between 'A' and 'Z'",
  "d between date('2024-01-01') and date('2024-12-31')",
  'ns is null',
  'n is null',
  'nstr is not null',
  'nd is null',
  // case
  "case when n > 10 then 'big' when n > 5 then 'medium' else 'small' end",
  'case when nb then 1 else 2 end',
  "case when f then 'x' end",
  'case when b then ns else 3 end',
  'case when i > 100 then d else d2 end',
  // numeric functions
  'abs(neg)',
  'abs(ns)',
  'round(2.5)',
  'round(-2.5)',
  'round(n)',
  'round(neg, 1)',
  'round(1.005, 2)',
  'round(1234.5678, -2)',
  'round(1234.5678, 2.9)',
  'round(n, 400)',
  'round(n, ns)',
  'floor(neg)',
  'ceil(neg)',
  'floor(i)',
  'sqrt(16)',
  'sqrt(2)',
  'sqrt(neg)',
  'sqrt(0)',
  'exp(1)',
  'exp(1000)',
  'ln(n)',
  'ln(0)',
  'ln(neg)',
  'log10(1000)',
  'log10(zero)',
  'pow(2, 10)',
  'pow(neg, 0.5)',
  'pow(10, 400)',
  'pow(zero, -1)',
  'least(n, i, neg)',
  'min(n, ns, i)',
  'greatest(n, i, neg)',
  'max(ns, ns)',
  "greatest(s, 'Zebra', u)",
  "least(d, d2, date('2025-01-01'))",
  'coalesce(ns, i, n)',
  'coalesce(ns, ns)',
  "coalesce(nstr, s, 'x')",
  'coalesce(nd, d)',
  "if(n > 5, 'yes', 'no')",
  'if(nb, 1, 2)',
  'if(b, ns, n)',
  // string functions
  'lower(s)',
  'upper(s)',
  'upper(u)',
  'lower(nstr)',
  'length(s)',
  'length(u)',
  'length(e)',
  "trim('  x  ')",
  'trim(num_text)',
  'substr(s, 1, 5)',
  'substr(s, 7)',
  'substr(s, 0, 2)',
  'substr(s, -5, 3)',
  'substr(s, -5)',
  'substr(s, 3, -2)',
  'substr(s, 100)',
  'substr(s, 2.7, 3.9)',
  'substr(u, 5, 2)',
  'substr(s, ns)',
  'substr(s, 1e300)',
  "concat(s, '!', i, ' ', n, ' ', b)",
  'concat(nstr, s, ns)',
  'concat(nstr)',
  'concat(d, d2)',
  'concat(big, 0.0001, 0.00001, 1e16, 1e15, -0.5, neg * 0)',
  "contains(s, 'lo W')",
  "contains(s, '')",
  "contains(nstr, 'x')",
  "starts_with(s, 'Hell')",
  "ends_with(s, 'world')",
  'to_number(num_text)',
  "to_number('abc')",
  "to_number('1e400')",
  "to_number('.5')",
  "to_number('-7.')",
  "to_number('0x10')",
  'to_number(b)',
  'to_number(n)',
  'to_number(null)',
  'to_string(n)',
  'to_string(i)',
  'to_string(1e21)',
  'to_string(1/3)',
  'to_string(0.000123)',
  'to_string(-0.0)',
  'to_string(b)',
  'to_string(d)',
  'to_string(d2)',
  'to_string(s)',
  'to_string(ns)',
  'to_string(q)',
  // dates
  'year(d)',
  'month(d)',
  'day(d)',
  'hour(d)',
  'weekday(d)',
  'weekday(d2)',
  'year(nd)',
  "date('2024-02-29')",
  "date('2023-02-29')",
  "date('2024-03-10T08:05:03.25')",
  "date('2024-3-2 7:05')",
  "date('not a date')",
  'date(date_text)',
  'date(d)',
  'days_between(d2, d)',
  'days_between(d, d2)',
  "days_between(date('2024-01-01 23:00'), date('2024-01-02 01:00'))",
  'days_between(nd, d)',
  "to_string(date('1999-12-31 23:59:59.5'))",
  // edge cases of text conversions
  "date('2024-03-12T10:00:00+02:00')",
  "date('2024-03-12T10:00:00Z')",
  "date(' 2024-03-12')",
  "date('2024-03-12 24:00')",
  "date('2024-03-12 24:00:01')",
  "date('2024-03-12 ')",
  "date('2024-03-12Z')",
  "date('2024-03-12 10:00:00+0200')",
  "date('2024-03-12 10:00:00 UTC')",
  "date('2024-03-12T10')",
  "date('02024-03-12')",
  "date('2024-02-29T12:30:59.999')",
  "to_number(' 12 ')",
  "to_number('+5')",
  "to_number('1__0')",
  "to_number('_1')",
  "to_number('1_')",
  "to_number('1.5e')",
  "to_number('1e-3')",
  "to_number('')",
  "to_number('nan')",
  "to_number('- 5')",
  'to_string(123456789.125)',
  'to_string(1e15 + 0.5)',
  'to_string(-1e-5)',
  'to_string(5e-324)',
  'to_string(1.7976931348623157e308)',
];

let conn: DuckDBConnection;

function normalise(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Date) return formatTimestamp(v);
  // DuckDB DECIMAL and TIMESTAMP values print as their SQL text.
  const text = String(v);
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    return a === b || Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  return a === b;
}

describe('expr: toSql and evaluate agree (DuckDB)', () => {
  before(async () => {
    const db = await DuckDBInstance.create(':memory:');
    conn = await db.connect();
    await conn.run(`CREATE TABLE t AS ${ROW_SQL}`);
  });
  after(() => conn?.closeSync());

  for (const text of CASES) {
    test(text, async () => {
      const expr = parseExpression(text);
      checkExpression(expr, TYPES);
      const sql = toSql(expr, quoteDuckDbIdent, TYPES);
      const reader = await conn.runAndReadAll(`SELECT ${sql} AS v FROM t`);
      const fromSql = normalise(reader.getRowObjects()[0]!.v);
      const fromJs = normalise(evaluate(expr, ENV));
      assert.ok(
        same(fromSql, fromJs),
        `${text}\n  SQL: ${String(fromSql)}\n  JS:  ${String(fromJs)}\n  ${sql}`,
      );
    });
  }

  test('without column types the SQL still agrees (except number-to-text conversions)', async () => {
    for (const text of CASES.filter((c) => !/to_string|concat/.test(c))) {
      const expr = parseExpression(text);
      const reader = await conn.runAndReadAll(`SELECT ${toSql(expr, quoteDuckDbIdent)} AS v FROM t`);
      const fromSql = normalise(reader.getRowObjects()[0]!.v);
      assert.ok(same(fromSql, normalise(evaluate(expr, ENV))), text);
    }
  });

  test(
    'the deepest accepted expressions compile to SQL DuckDB runs quickly',
    { timeout: 30_000 },
    async () => {
      const deep = [
        'n' + ' + 1'.repeat(MAX_EXPRESSION_DEPTH - 1),
        '-'.repeat(MAX_EXPRESSION_DEPTH - 1) + 'n',
        'sqrt('.repeat(MAX_EXPRESSION_DEPTH - 1) + 'n' + ')'.repeat(MAX_EXPRESSION_DEPTH - 1),
        'b' + ' and b'.repeat(MAX_EXPRESSION_DEPTH - 1),
        // Shapes that would repeat SQL text exponentially if a value were used twice (NULLIF, BETWEEN).
        '1 / ('.repeat(MAX_EXPRESSION_DEPTH / 2 - 1) + 'n' + ')'.repeat(MAX_EXPRESSION_DEPTH / 2 - 1),
        'if('.repeat(30) + 'n' + ' between 0 and 10, 1, 2)'.repeat(30),
        'ln('.repeat(MAX_EXPRESSION_DEPTH - 1) + 'n' + ')'.repeat(MAX_EXPRESSION_DEPTH - 1),
        'if('.repeat(30) + 'n' + ' in (1, 7.5, null), 7.5, 2)'.repeat(30),
      ];
      for (const text of deep) {
        const expr = parseExpression(text);
        const reader = await conn.runAndReadAll(`SELECT ${toSql(expr, quoteDuckDbIdent, TYPES)} AS v FROM t`);
        assert.ok(
          same(normalise(reader.getRowObjects()[0]!.v), normalise(evaluate(expr, ENV))),
          text.slice(0, 40),
        );
      }
    },
  );

  test('the table is intact after every case (strings stayed data)', async () => {
    const reader = await conn.runAndReadAll('SELECT q FROM t');
    assert.equal(reader.getRowObjects()[0]!.q, "it's; DROP TABLE t; --");
  });
});
