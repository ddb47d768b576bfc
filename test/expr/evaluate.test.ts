import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExprError, evaluate, parseExpression } from '../../src/expr/index.js';

const run = (text: string, env: Record<string, unknown> = {}) => evaluate(parseExpression(text), env);

describe('expr: evaluate', () => {
  test('and / or / not are three-valued (SQL truth tables)', () => {
    const V = [true, false, null];
    for (const a of V) {
      assert.equal(run('not a', { a }), a === null ? null : !a);
      for (const b of V) {
        const and = a === false || b === false ? false : a === null || b === null ? null : true;
        const or = a === true || b === true ? true : a === null || b === null ? null : false;
        assert.equal(run('a and b', { a, b }), and, `${a} and ${b}`);
        assert.equal(run('a or b', { a, b }), or, `${a} or ${b}`);
      }
    }
  });

  test('null propagates through arithmetic, comparisons and functions; is null does not', () => {
    for (const text of [
      'x + 1',
      'x * 0',
      '-x',
      'x > 1',
      'x = x',
      'abs(x)',
      'upper(s)',
      'x in (1, 2)',
      'x between 0 and 1',
    ]) {
      assert.equal(run(text, { x: null, s: null }), null, text);
    }
    assert.equal(run('x is null', { x: null }), true);
    assert.equal(run('x is not null', { x: undefined }), false);
    assert.equal(run('coalesce(x, 3)', { x: null }), 3);
    assert.equal(run("concat('a', x, 'b')", { x: null }), 'ab');
    assert.equal(run('greatest(x, 2, 1)', { x: null }), 2);
  });

  test('numbers: x / 0 and x % 0 are null, overflow is null, results are plain JS numbers', () => {
    assert.equal(run('1 / 0'), null);
    assert.equal(run('0 / 0'), null);
    assert.equal(run('5 % 0'), null);
    assert.equal(run('7 / 2'), 3.5);
    assert.equal(run('-7 % 3'), -1);
    assert.equal(run('1e308 * 10'), null);
    assert.equal(run('x + 1', { x: 10n }), 11);
    assert.equal(run('x', { x: Number.NaN }), null);
    assert.equal(run('round(2.5) + round(-2.5)'), 0);
  });

  test('dates: Date objects (UTC fields) and ISO strings; results are Dates; weekday 0 = Sunday', () => {
    const d = new Date(Date.UTC(2024, 2, 10, 23, 30));
    assert.equal(run('weekday(d)', { d }), 0);
    assert.equal(run('hour(d)', { d }), 23);
    assert.equal(run("d > date('2024-03-10')", { d }), true);
    assert.equal(run("d > date('2024-03-11')", { d: '2024-03-10T23:30:00' }), false);
    assert.equal(run('days_between(a, b)', { a: '2024-02-28', b: new Date(Date.UTC(2024, 2, 1)) }), 2);
    assert.equal(run('year(d)', { d: 'not a date' }), null);
    const out = run("date('2024-03-10 08:00')");
    assert.ok(out instanceof Date);
    assert.equal(out.toISOString(), '2024-03-10T08:00:00.000Z');
    assert.equal(run("date('2024-13-01')"), null);
  });

  test('strings: comparison by code point, unicode-safe length and substr', () => {
    assert.equal(run("'é' > 'z'"), true);
    assert.equal(run("'😀' > '\uffff'"), true); // U+1F600 sorts after U+FFFF, as in UTF-8
    assert.equal(run("length('a😀b')"), 3);
    assert.equal(run("substr('a😀b', 2, 1)"), '😀');
    assert.equal(run('to_string(0.1 + 0.2)'), '0.30000000000000004');
    assert.equal(run('to_string(1e-7)'), '1e-07');
  });

  test('case takes the first true branch; null conditions fall through', () => {
    const text = "case when x > 10 then 'big' when x > 5 then 'medium' else 'small' end";
    assert.equal(run(text, { x: 7 }), 'medium');
    assert.equal(run(text, { x: null }), 'small');
    assert.equal(run("case when x > 10 then 'big' end", { x: 1 }), null);
  });

  test('bad call: missing names, unsupported values and runtime type mismatches throw ExprError', () => {
    assert.throws(
      () => run('x + 1'),
      (e: unknown) =>
        e instanceof ExprError && /unknown column or fact 'x'/.test(e.message) && e.position === 0,
    );
    assert.throws(
      () => run('x + 1', { x: { a: 1 } }),
      /value of 'x' is not a number, string, boolean, date or null/,
    );
    assert.throws(() => run('x > 1', { x: 'a' }), /cannot compare string with number: x > 1/);
    assert.throws(() => run('x + 1', { x: 'a' }), /'\+' does not join strings/);
    assert.throws(() => run('x and true', { x: 1 }), /'and' needs a boolean, got number/);
    assert.throws(() => run('upper(x)', { x: 1 }), /upper\(\) expects a string as argument 1, got a number/);
    assert.throws(() => run('x < y', { x: true, y: false }), /cannot order booleans/);
    // The environment's prototype is not a source of names.
    assert.throws(() => run('toString = 1', {}), /unknown column or fact 'toString'/);
  });
});
