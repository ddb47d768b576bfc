import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ExprError,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  formatExpression,
  parseExpression,
  referencedNames,
  type Expr,
} from '../../src/expr/index.js';

/** The tree without source positions, for structural comparison. */
function shape(e: unknown): unknown {
  if (Array.isArray(e)) return e.map(shape);
  if (e && typeof e === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) if (k !== 'pos') out[k] = shape(v);
    return out;
  }
  return e;
}

const lit = (value: number | string | boolean | null) => ({ kind: 'literal', value });
const name = (n: string) => ({ kind: 'name', name: n });

function throwsAt(text: string, position: number, message: RegExp): void {
  assert.throws(
    () => parseExpression(text),
    (err: unknown) => {
      assert.ok(err instanceof ExprError, `${text}: not an ExprError: ${String(err)}`);
      assert.equal(err.position, position, `${text}: ${err.message}`);
      assert.match(err.message, message);
      return true;
    },
  );
}

describe('expr: parseExpression', () => {
  test('precedence: * over +, comparison over not, not over and, and over or', () => {
    assert.deepEqual(shape(parseExpression('1 + 2 * 3')), {
      kind: 'binary',
      op: '+',
      left: lit(1),
      right: { kind: 'binary', op: '*', left: lit(2), right: lit(3) },
    });
    assert.deepEqual(shape(parseExpression('not a = b')), {
      kind: 'unary',
      op: 'not',
      operand: { kind: 'binary', op: '=', left: name('a'), right: name('b') },
    });
    assert.deepEqual(shape(parseExpression('a or b and not c')), {
      kind: 'binary',
      op: 'or',
      left: name('a'),
      right: {
        kind: 'binary',
        op: 'and',
        left: name('b'),
        right: { kind: 'unary', op: 'not', operand: name('c') },
      },
    });
    assert.deepEqual(shape(parseExpression('a - b - c')), shape(parseExpression('(a - b) - c')));
    assert.deepEqual(shape(parseExpression('-2 * 3')), {
      kind: 'binary',
      op: '*',
      left: { kind: 'unary', op: '-', operand: lit(2) },
      right: lit(3),
    });
  });

  test('operator spellings: == <> && || ! and keywords in any case', () => {
    assert.deepEqual(
      shape(parseExpression('a == 1 && b <> 2 || !c')),
      shape(parseExpression('a = 1 AND b != 2 Or NOT c')),
    );
  });

  test('in, not in, between, is null, case', () => {
    assert.deepEqual(shape(parseExpression('x not in (1, 2)')), {
      kind: 'in',
      operand: name('x'),
      list: [lit(1), lit(2)],
      negated: true,
    });
    assert.deepEqual(shape(parseExpression('x between 1 and 2 and y')), {
      kind: 'binary',
      op: 'and',
      left: { kind: 'between', operand: name('x'), low: lit(1), high: lit(2), negated: false },
      right: name('y'),
    });
    assert.deepEqual(shape(parseExpression('x is not null')), {
      kind: 'isnull',
      operand: name('x'),
      negated: true,
    });
    assert.deepEqual(shape(parseExpression("case when a then 'x' when b then 'y' end")), {
      kind: 'case',
      whens: [
        { when: name('a'), then: lit('x') },
        { when: name('b'), then: lit('y') },
      ],
      else: null,
    });
  });

  test('literals: numbers, both quote styles with doubling, booleans, null, unicode', () => {
    assert.equal((parseExpression('1e3') as { value: number }).value, 1000);
    assert.equal((parseExpression('.5') as { value: number }).value, 0.5);
    assert.equal((parseExpression("'it''s'") as { value: string }).value, "it's");
    assert.equal((parseExpression('"say ""hi"""') as { value: string }).value, 'say "hi"');
    assert.equal(
      (parseExpression("'😀; DROP TABLE x; --'") as { value: string }).value,
      '😀; DROP TABLE x; --',
    );
    assert.deepEqual(shape(parseExpression('TRUE')), lit(true));
    assert.deepEqual(shape(parseExpression('Null')), lit(null));
  });

  test('names: dotted, backticks with `` escape, keywords only as backticks; functions case-insensitive', () => {
    assert.deepEqual(shape(parseExpression('fraud.score')), name('fraud.score'));
    assert.deepEqual(shape(parseExpression('`debt ratio`')), name('debt ratio'));
    assert.deepEqual(shape(parseExpression('`a``b`')), name('a`b'));
    assert.deepEqual(shape(parseExpression('`end`')), name('end'));
    assert.deepEqual(shape(parseExpression('ABS(x)')), { kind: 'call', name: 'abs', args: [name('x')] });
    assert.deepEqual(shape(parseExpression('Max(x, 1)')), {
      kind: 'call',
      name: 'max',
      args: [name('x'), lit(1)],
    });
  });

  test('positions point at the node start', () => {
    const e = parseExpression('  income > 10') as Extract<Expr, { kind: 'binary' }>;
    assert.equal(e.pos, 2);
    assert.equal(e.right.pos, 11);
  });

  test('bad call: errors name the offending token and its offset', () => {
    throwsAt('(1', 2, /^unexpected end of expression at 2, expected '\)'$/);
    throwsAt('income > 1)', 10, /^unexpected '\)' at 10$/);
    throwsAt("a = 'abc", 4, /unterminated string starting at 4/);
    throwsAt('1 +', 3, /unexpected end of expression at 3/);
    throwsAt('a < b < c', 6, /comparisons cannot be chained/);
    throwsAt('a = b is null', 6, /comparisons cannot be chained/);
    throwsAt('foo(1)', 0, /unknown function 'foo'/);
    throwsAt('x + abs(1, 2)', 4, /abs\(\) takes 1 argument, got 2/);
    throwsAt('substr(s)', 0, /substr\(\) takes 2 to 3 arguments, got 1/);
    throwsAt('1e400', 0, /number out of range/);
    throwsAt('12abc', 2, /unexpected 'a' at 2/);
    throwsAt('1e', 0, /malformed number/);
    throwsAt('a # b', 2, /unexpected '#' at 2/);
    throwsAt('a ; b', 2, /unexpected ';' at 2/);
    throwsAt('case end', 5, /expected 'when'/);
    throwsAt('case when a then 1', 18, /expected 'end'/);
    throwsAt('x in 1', 5, /expected '\('/);
    throwsAt('x between 1', 11, /expected 'and'/);
    throwsAt('x is 5', 5, /expected 'null'/);
    throwsAt('and', 0, /unexpected 'and' at 0/);
    throwsAt('f(', 0, /unknown function 'f'/);
    throwsAt('abs(', 4, /unexpected end of expression/);
    throwsAt('`unterminated', 0, /unterminated quoted name/);
    throwsAt('``', 0, /empty quoted name/);
    throwsAt("'a\0b'", 2, /NUL/);
    throwsAt('a\u0007', 1, /unexpected character U\+0007 at 1/);
    throwsAt('', 0, /empty expression/);
    throwsAt('   ', 0, /empty expression/);
  });

  test('hostile input: length and depth limits throw ExprError, never a stack overflow', () => {
    throwsAt('1+'.repeat(6000) + '1', MAX_EXPRESSION_LENGTH, /longer than 10000 characters/);
    const depth = new RegExp(`deeper than ${MAX_EXPRESSION_DEPTH} levels`);
    for (const text of [
      '('.repeat(4000) + '1' + ')'.repeat(4000),
      '-'.repeat(9000) + '1',
      'not '.repeat(2400) + 'x',
      '!'.repeat(9000) + 'x',
      '1' + '+1'.repeat(4000),
      'abs('.repeat(1500) + '1' + ')'.repeat(1500),
      'case when '.repeat(900) + 'x',
      'x in ('.repeat(1200) + '1' + ')'.repeat(1200),
    ]) {
      assert.throws(
        () => parseExpression(text),
        (err: unknown) => err instanceof ExprError && depth.test(err.message),
        text.slice(0, 20),
      );
    }
    // Wide but shallow is fine.
    const wide = parseExpression(`x in (${Array.from({ length: 1500 }, (_, i) => i).join(', ')})`);
    assert.equal(wide.kind === 'in' && wide.list.length, 1500);
    assert.ok(parseExpression('-'.repeat(MAX_EXPRESSION_DEPTH - 1) + '1'));
    assert.throws(() => parseExpression('-'.repeat(MAX_EXPRESSION_DEPTH) + '1'), ExprError);
    assert.throws(() => parseExpression(42 as unknown as string), ExprError);
  });

  test('formatExpression gives text that parses back to the same tree', () => {
    for (const text of [
      '1 + 2 * 3',
      '(1 + 2) * 3',
      'a - (b - c)',
      'not (a and b) or c',
      '-(-x)',
      '- -x',
      '-(a + b)',
      "x not in (1, 'two''s', null)",
      'x between 1 + 1 and 3',
      'not x is null',
      "case when a > 1 then 'x' else 'y' end = 'x'",
      '`debt ratio` / fraud.score',
      '`select` + `a``b`',
      'round(x, -2)',
      '(a = b) = c',
      '(a < b) = true',
    ]) {
      const e = parseExpression(text);
      assert.deepEqual(
        shape(parseExpression(formatExpression(e))),
        shape(e),
        `${text} → ${formatExpression(e)}`,
      );
    }
  });

  test('referencedNames lists distinct names in order of first use', () => {
    assert.deepEqual(referencedNames(parseExpression('b + a * b > coalesce(`c d`, a) and x.y in (b, z)')), [
      'b',
      'a',
      'c d',
      'x.y',
      'z',
    ]);
    assert.deepEqual(referencedNames(parseExpression("abs(-1) = 1 and 'a' = 'a'")), []);
  });
});
