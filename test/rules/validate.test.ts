import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateRuleSet, type Condition, type RuleIssue, type RuleSetDef } from '../../src/rules/index.js';

const facts: RuleSetDef['facts'] = [
  { name: 'income', type: 'number', source: 'input' },
  { name: 'country', type: 'string', source: 'input' },
  { name: 'employed', type: 'boolean', source: 'input' },
  { name: 'note.keywords', type: 'string', source: 'text', text: { field: 'note', feature: 'keywords' } },
];

function oneRule(conditions: Condition): RuleSetDef {
  return {
    facts,
    rules: [{ name: 'r1', conditions, outcome: 'decline', reason: 'because' }],
    defaultOutcome: 'approve',
  };
}
const issuesOf = (def: unknown) => validateRuleSet(def).issues;
const only = (def: unknown): RuleIssue => {
  const issues = issuesOf(def);
  assert.equal(issues.length, 1, JSON.stringify(issues, null, 1));
  return issues[0]!;
};
const leaf = (fact: string, operator: string, value?: unknown) => ({ fact, operator, value });

describe('validateRuleSet', () => {
  test('a valid rule set has no issues and comes back as given', () => {
    const def = oneRule({ all: [leaf('income', 'greaterThan', 1)] });
    const out = validateRuleSet(def);
    assert.deepEqual(out.issues, []);
    assert.equal(out.def, def);
  });

  test('bad input: not an object, missing fields, wrong field types', () => {
    for (const x of [null, 3, 'rules', []]) {
      assert.deepEqual(
        issuesOf(x).map((i) => i.path),
        [''],
      );
    }
    assert.deepEqual(
      issuesOf({}).map((i) => i.path),
      ['/defaultOutcome', '/facts'],
    );
    assert.deepEqual(
      issuesOf({ facts: {}, rules: 'x', tables: 1, defaultOutcome: '', outcomeOrder: 'a' }).map(
        (i) => i.path,
      ),
      ['/outcomeOrder', '/defaultOutcome', '/facts', '/rules', '/tables'],
    );
    const r = only({ ...oneRule({ all: [] }), rulez: [] });
    assert.deepEqual(r.path, '/rulez');
    assert.match(r.message, /unknown field 'rulez'/);
  });

  test('bad rule: missing name, outcome, reason, conditions; bad priority; unknown field', () => {
    const issues = issuesOf({
      facts,
      rules: [{ priority: 0, outcom: 'x' }],
      defaultOutcome: 'approve',
    });
    assert.deepEqual(
      issues.map((i) => [i.path, i.rule]),
      [
        ['/rules/0/name', '#0'],
        ['/rules/0/outcom', '#0'],
        ['/rules/0/priority', '#0'],
        ['/rules/0/outcome', '#0'],
        ['/rules/0/reason', '#0'],
        ['/rules/0/conditions', '#0'],
      ],
    );
    assert.match(issues[2]!.message, /priority must be a whole number ≥ 1/);
  });

  test('unknown fact names, with a suggestion', () => {
    const i = only(oneRule({ all: [leaf('Income', 'greaterThan', 1)] }));
    assert.deepEqual([i.path, i.rule], ['/rules/0/conditions/all/0/fact', 'r1']);
    assert.equal(i.message, `rule 'r1': unknown fact "Income" (did you mean 'income'?)`);
    const j = only(
      oneRule({ any: [leaf('income', 'greaterThan', 1), { not: leaf('keywords', 'contains', 'x') }] }),
    );
    assert.equal(j.path, '/rules/0/conditions/any/1/not/fact');
    assert.match(j.message, /did you mean 'note.keywords'/);
  });

  test('unknown operators, including json-rules-engine decorators we do not offer', () => {
    for (const op of ['equals', 'gt', 'not:equal', 'someFact:equal', '']) {
      const i = only(oneRule({ all: [leaf('income', op, 1)] }));
      assert.equal(i.path, '/rules/0/conditions/all/0/operator');
      assert.match(i.message, /^rule 'r1': unknown operator .*\(known: equal, notEqual, .*isNotNull\)$/);
    }
  });

  test('type mismatches name the fact, the expected and the given value', () => {
    const cases: [Condition, string, RegExp][] = [
      [
        leaf('income', 'greaterThan', '50000'),
        '/value',
        /'income' is a number: compare it with a number, not the string "50000"/,
      ],
      [leaf('income', 'equal', null), '/value', /compare it with a number, not null/],
      [leaf('income', 'equal'), '/value', /compare it with a number, not nothing/],
      [
        leaf('country', 'equal', 3),
        '/value',
        /'country' is a string: compare it with a string, not number 3/,
      ],
      [leaf('employed', 'equal', 'yes'), '/value', /'employed' is a boolean/],
      [
        leaf('country', 'greaterThan', 'M'),
        '/operator',
        /operator 'greaterThan' does not apply to 'country', a string/,
      ],
      [leaf('income', 'startsWith', '1'), '/operator', /does not apply to 'income', a number/],
      [
        leaf('note.keywords', 'equal', 'x'),
        '/operator',
        /does not apply to 'note.keywords', a list of strings/,
      ],
      [leaf('country', 'in', 'FR'), '/value', /'in' takes an array of strings, not the string "FR"/],
      [leaf('country', 'in', ['FR', 1]), '/value/1', /the list holds number 1/],
      [leaf('income', 'between', [1]), '/value', /'between' takes \[low, high\], two numbers/],
      [leaf('income', 'between', ['1', '2']), '/value', /'between' takes \[low, high\]/],
      [leaf('income', 'between', 5), '/value', /'between' takes \[low, high\]/],
      [leaf('country', 'contains', 1), '/value', /'contains' takes a string, not number 1/],
    ];
    for (const [cond, suffix, re] of cases) {
      const i = only(oneRule({ all: [cond] }));
      assert.equal(i.path, `/rules/0/conditions/all/0${suffix}`, JSON.stringify(cond));
      assert.equal(i.rule, 'r1');
      assert.match(i.message, re);
    }
  });

  test('malformed conditions', () => {
    const cases: [unknown, string, RegExp][] = [
      ['x', '/rules/0/conditions', /a condition must be an object/],
      [{ all: [], any: [] }, '/rules/0/conditions', /one of all, any, not, not all and any/],
      [{ all: {} }, '/rules/0/conditions/all', /'all' must be an array/],
      [{ any: [] }, '/rules/0/conditions/any', /'any' needs at least one condition/],
      [{ foo: 1 }, '/rules/0/conditions', /a condition is \{ all/],
      [
        { all: [{ ...leaf('income', 'equal', 1), path: '$.x' }] },
        '/rules/0/conditions/all/0/path',
        /unknown field 'path'/,
      ],
      [{ all: [], name: 'x' }, '/rules/0/conditions/name', /unknown field 'name'/],
    ];
    for (const [cond, path, re] of cases) {
      const i = only(oneRule(cond as Condition));
      assert.equal(i.path, path, JSON.stringify(cond));
      assert.match(i.message, re);
    }
    let deep: Condition = leaf('income', 'equal', 1);
    for (let k = 0; k < 40; k++) deep = { not: deep };
    assert.match(only(oneRule(deep)).message, /nested more than 32 deep/);
  });

  test('a rule that can never fire is refused', () => {
    const never: [Condition, string][] = [
      [{ all: [leaf('income', 'greaterThan', 5), leaf('income', 'lessThan', 3)] }, 'income'],
      [{ all: [leaf('income', 'greaterThan', 5), leaf('income', 'lessThanInclusive', 5)] }, 'income'],
      [{ all: [leaf('country', 'equal', 'a'), leaf('country', 'equal', 'b')] }, 'country'],
      [{ all: [leaf('country', 'in', [])] }, 'country'],
      [leaf('country', 'in', []), 'country'],
      [{ all: [leaf('income', 'between', [10, 1])] }, 'income'],
      [{ all: [leaf('income', 'in', [1, 2]), leaf('income', 'notIn', [1, 2])] }, 'income'],
      [
        {
          all: [
            leaf('income', 'in', [1, 20]),
            leaf('income', 'greaterThan', 2),
            leaf('income', 'lessThan', 19),
          ],
        },
        'income',
      ],
      [{ all: [leaf('country', 'isNull'), leaf('country', 'notEqual', 'FR')] }, 'country'],
      [{ all: [leaf('country', 'isNull'), leaf('country', 'isNotNull')] }, 'country'],
      [{ all: [leaf('employed', 'equal', true), leaf('employed', 'notEqual', true)] }, 'employed'],
      [{ all: [leaf('employed', 'notIn', [true, false])] }, 'employed'],
      [{ all: [leaf('country', 'startsWith', 'FR'), leaf('country', 'startsWith', 'DE')] }, 'country'],
      [{ all: [leaf('country', 'endsWith', 'x'), leaf('country', 'equal', 'abc')] }, 'country'],
      [{ all: [leaf('country', 'contains', 'abc'), leaf('country', 'doesNotContain', 'b')] }, 'country'],
      [{ all: [leaf('country', 'doesNotContain', '')] }, 'country'],
      [
        { all: [leaf('note.keywords', 'contains', 'x'), leaf('note.keywords', 'doesNotContain', 'x')] },
        'note.keywords',
      ],
      // through not: not(income <= 5) with income < 3, and nested all inside any inside all
      [{ all: [{ not: leaf('income', 'lessThanInclusive', 5) }, leaf('income', 'lessThan', 3)] }, 'income'],
      [{ not: { any: [leaf('income', 'isNull'), leaf('income', 'isNotNull')] } }, 'income'],
      [
        {
          all: [
            leaf('income', 'greaterThan', 10),
            { any: [leaf('income', 'lessThan', 5), { all: [leaf('income', 'equal', 7)] }] },
          ],
        },
        'income',
      ],
    ];
    for (const [cond, fact] of never) {
      const i = only(oneRule(cond));
      assert.equal(i.path, '/rules/0/conditions', JSON.stringify(cond));
      assert.equal(i.rule, 'r1');
      assert.equal(i.message, `rule 'r1': can never fire: its conditions on '${fact}' contradict each other`);
    }
  });

  test('satisfiable rules are not refused', () => {
    const fine: Condition[] = [
      { any: [leaf('income', 'greaterThan', 5), leaf('income', 'lessThan', 3)] },
      { all: [leaf('income', 'greaterThanInclusive', 5), leaf('income', 'lessThanInclusive', 5)] },
      {
        all: [
          leaf('income', 'greaterThan', 5),
          leaf('income', 'lessThan', 5.0001),
          leaf('income', 'notIn', [5.00005]),
        ],
      },
      { all: [leaf('income', 'in', [1, 20]), leaf('income', 'greaterThan', 2)] },
      { all: [leaf('country', 'notEqual', 'a'), leaf('country', 'notEqual', 'b')] },
      { all: [{ not: leaf('country', 'equal', 'a') }, { not: leaf('country', 'notEqual', 'a') }] }, // null
      { all: [leaf('country', 'startsWith', 'FR'), leaf('country', 'startsWith', 'F')] },
      { all: [leaf('country', 'contains', 'ab'), leaf('country', 'doesNotContain', 'abc')] },
      { all: [leaf('country', 'isNull'), { not: leaf('country', 'equal', 'FR') }] },
      { all: [leaf('employed', 'notEqual', true)] },
      { all: [] },
    ];
    for (const cond of fine) assert.deepEqual(issuesOf(oneRule(cond)), [], JSON.stringify(cond));
  });

  test('duplicate rule names and table names', () => {
    const r = { conditions: { all: [] }, outcome: 'decline', reason: 'x' };
    const issues = issuesOf({
      facts,
      rules: [
        { name: 'a', ...r },
        { name: 'b', ...r },
        { name: 'a', ...r },
      ],
      tables: [
        {
          name: 't',
          hitPolicy: 'first',
          inputs: ['income'],
          rows: [{ when: [null], outcome: 'x', reason: 'y' }],
        },
        {
          name: 't',
          hitPolicy: 'first',
          inputs: ['income'],
          rows: [{ when: [null], outcome: 'x', reason: 'y' }],
        },
      ],
      defaultOutcome: 'approve',
    });
    assert.deepEqual(
      issues.map((i) => [i.path, i.rule]),
      [
        ['/rules/2/name', 'a'],
        ['/tables/1/name', 't'],
        ['/tables/1/rows/0', 't#1'],
      ],
    );
    assert.match(issues[0]!.message, /the name 'a' is used twice \(also at \/rules\/0\/name\)/);
  });

  test('outcomes must appear in outcomeOrder when it is given', () => {
    const def = oneRule({ all: [] });
    def.outcomeOrder = ['decline', 'refer', 'decline'];
    def.defaultOutcome = 'approve';
    const issues = issuesOf(def);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['/outcomeOrder/2', '/defaultOutcome'],
    );
    def.outcomeOrder = ['refer', 'approve'];
    const i = only(def);
    assert.deepEqual([i.path, i.rule], ['/rules/0/outcome', 'r1']);
    assert.equal(i.message, "rule 'r1': outcome 'decline' is not in outcomeOrder (refer, approve)");
  });

  test('fact declarations: names, types, sources and their settings', () => {
    const bad = (f: unknown) => issuesOf({ facts: [f], defaultOutcome: 'x' });
    assert.deepEqual(
      bad({ name: 'a b', type: 'number', source: 'input' }).map((i) => i.path),
      ['/facts/0/name'],
    );
    assert.deepEqual(
      bad({ name: 'a', type: 'int', source: 'input' }).map((i) => i.path),
      ['/facts/0/type'],
    );
    assert.deepEqual(
      bad({ name: 'a', type: 'number', source: 'db' }).map((i) => i.path),
      ['/facts/0/source'],
    );
    assert.deepEqual(
      bad({ name: 'a', type: 'number', source: 'model' }).map((i) => i.path),
      ['/facts/0/model'],
    );
    assert.deepEqual(
      bad({
        name: 'a',
        type: 'number',
        source: 'input',
        model: { deployment: 'd', output: 'o' },
        required: 'yes',
      }).map((i) => i.path),
      ['/facts/0/required', '/facts/0/model'],
    );
    assert.deepEqual(
      bad({ name: 'a', type: 'number', source: 'text', text: { field: 'note', feature: 'sentiment' } }),
      [],
    );
    assert.deepEqual(
      bad({ name: 'a', type: 'number', source: 'text', text: { field: 'note', feature: 'language' } }).map(
        (i) => i.path,
      ),
      ['/facts/0/type'],
    );
    assert.deepEqual(
      bad({ name: 'a', type: 'boolean', source: 'text', text: { field: 'note', feature: 'has_entity' } }).map(
        (i) => i.path,
      ),
      ['/facts/0/text/entity'],
    );
    assert.deepEqual(
      bad({ name: 'a', type: 'string', source: 'text', text: { field: 'note', feature: 'mood' } }).map(
        (i) => i.path,
      ),
      ['/facts/0/text/feature'],
    );
    const dup = issuesOf({
      facts: [
        { name: 'a', type: 'number', source: 'input' },
        { name: 'a', type: 'string', source: 'input' },
      ],
      defaultOutcome: 'x',
    });
    assert.deepEqual(
      dup.map((i) => i.path),
      ['/facts/1/name'],
    );
    assert.match(dup[0]!.message, /fact 'a' is declared twice \(also \/facts\/0\)/);
  });

  test('every issue has a JSON pointer path and a message; rule issues name the rule', () => {
    const issues = issuesOf({
      facts: [...facts, { name: 'x', type: 'number', source: 'derived', expression: 'nope +' }],
      rules: [
        {
          name: 'r',
          conditions: { all: [leaf('nope', 'equal', 1), leaf('income', 'like', 1)] },
          outcome: 'a',
          reason: '',
        },
      ],
      tables: [{ name: 't', hitPolicy: 'unique', inputs: [], rows: [] }],
      defaultOutcome: 'a',
    });
    assert.ok(issues.length >= 5, JSON.stringify(issues));
    for (const i of issues) {
      assert.match(i.path, /^(\/[^/]+)+$/);
      assert.ok(i.message.length > 10);
      if (i.rule !== undefined) assert.ok(i.message.startsWith(`rule '${i.rule}': `), i.message);
    }
  });
});
