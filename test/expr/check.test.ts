import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ExprError,
  checkExpression,
  parseExpression,
  type Expr,
  type ExprType,
} from '../../src/expr/index.js';

const NAMES: Record<string, ExprType> = {
  income: 'number',
  age: 'number',
  name: 'string',
  flag: 'boolean',
  d: 'date',
  fact: 'any',
  'debt ratio': 'number',
};

const typeOf = (text: string) => checkExpression(parseExpression(text), NAMES);

function rejects(text: string, message: string | RegExp, position?: number): void {
  assert.throws(
    () => typeOf(text),
    (err: unknown) => {
      assert.ok(err instanceof ExprError, String(err));
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      if (position !== undefined) assert.equal(err.position, position, err.message);
      return true;
    },
    text,
  );
}

describe('expr: checkExpression', () => {
  test('result types', () => {
    const cases: [string, ExprType][] = [
      ['income > 1000 and not flag', 'boolean'],
      ['income * 1.1 + `debt ratio`', 'number'],
      ["case when age < 18 then 'minor' else 'adult' end", 'string'],
      ['case when flag then null else 1 end', 'number'],
      ['coalesce(income, 0)', 'number'],
      ["date('2024-01-01')", 'date'],
      ['least(d, date(name))', 'date'],
      ['null', 'null'],
      ['fact', 'any'],
      ['fact + 1', 'number'],
      ["fact = 'x' or fact > 3", 'boolean'],
      ['coalesce(fact, fact)', 'any'],
      ["concat(name, ' ', income, flag, d)", 'string'],
      ['days_between(d, date(name))', 'number'],
      ['weekday(d) in (0, 6)', 'boolean'],
      ['if(flag, income, null)', 'number'],
      ['to_number(name) between 1 and 2', 'boolean'],
      ['name is null', 'boolean'],
      ['flag = true', 'boolean'],
    ];
    for (const [text, type] of cases) assert.equal(typeOf(text), type, text);
  });

  test('bad call: unknown names, with a suggestion when one is close', () => {
    rejects('incom > 1', "unknown column or fact 'incom' (did you mean 'income'?)", 0);
    rejects('1 + zzz', "unknown column or fact 'zzz'", 4);
    rejects('`debt  ratio` > 1', "unknown column or fact 'debt  ratio' (did you mean 'debt ratio'?)");
  });

  test('bad call: type mismatches quote the offending expression', () => {
    rejects("income > 'high'", "cannot compare number with string: income > 'high'", 0);
    rejects('name + 1', "'+' does not join strings, use concat(a, b): name + 1");
    rejects('income * name', "'*' needs numbers, got string: income * name");
    rejects('d - d', "'-' needs numbers, got date (use days_between for dates): d - d");
    rejects('-name', "'-' needs a number, got string: -name");
    rejects('income and flag', "'and' needs booleans, got number: income and flag");
    rejects('not income', "'not' needs a boolean, got number: not income");
    rejects('flag < true', 'cannot order booleans (only = and != apply): flag < true');
    rejects("age in (1, 'two')", "cannot compare number with string: age in (1, 'two')", 11);
    rejects("age between 1 and 'x'", "cannot compare number with string: age between 1 and 'x'", 18);
    rejects('flag between false and true', 'cannot order booleans: flag between false and true');
    rejects('case when income then 1 end', 'case condition must be a boolean, got number: income', 10);
    rejects(
      "case when flag then 1 else 'x' end",
      "case branches mix types: case when flag then 1 else 'x' end",
    );
    rejects("d > '2024-01-01'", "cannot compare date with string: d > '2024-01-01'");
  });

  test('bad call: wrong argument types for functions point at the argument', () => {
    rejects('upper(income)', 'upper() expects a string as argument 1, got a number: upper(income)', 6);
    rejects(
      'year(name)',
      'year() expects a date as argument 1, got a string (convert it with date(...)): year(name)',
      5,
    );
    rejects('round(income, name)', /round\(\) expects a number as argument 2, got a string/, 14);
    rejects('coalesce(income, name)', 'coalesce() mixes number and string: coalesce(income, name)', 17);
    rejects("if(flag, 1, 'a')", "if() mixes number and string: if(flag, 1, 'a')", 12);
    rejects('if(income, 1, 2)', /if\(\) expects a boolean as argument 1, got a number/, 3);
    rejects('least(flag, flag)', /least\(\) cannot order booleans/);
    rejects('to_number(d)', 'to_number() cannot convert a date: to_number(d)', 10);
    rejects('date(income)', /date\(\) expects a string or a date, got a number/);
    rejects('contains(name, 1)', /contains\(\) expects a string as argument 2, got a number/);
  });

  test('bad call: trees built by hand are checked too (unknown function, arity, non-finite literal)', () => {
    const call = (fn: string, args: Expr[]): Expr => ({ kind: 'call', name: fn, args, pos: 0 });
    const one: Expr = { kind: 'literal', value: 1, pos: 0 };
    assert.throws(() => checkExpression(call('system', [one]), NAMES), /unknown function 'system'/);
    assert.throws(() => checkExpression(call('abs', [one, one]), NAMES), /abs\(\) takes 1 argument, got 2/);
    assert.throws(
      () => checkExpression(call('concat', []), NAMES),
      /concat\(\) takes at least 1 argument, got 0/,
    );
    assert.throws(
      () => checkExpression({ kind: 'literal', value: Infinity, pos: 0 }, NAMES),
      /number literal must be finite/,
    );
  });
});
