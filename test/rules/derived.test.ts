import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  RulesError,
  compileRuleSet,
  evaluateRuleSet,
  validateRuleSet,
  type FactDecl,
  type RuleSetDef,
} from '../../src/rules/index.js';
import { EVALUATORS } from './evaluators.js';

const inputs: FactDecl[] = [
  { name: 'income', type: 'number', source: 'input' },
  { name: 'debt', type: 'number', source: 'input' },
  { name: 'country', type: 'string', source: 'input', required: false },
  { name: 'fraud.score', type: 'number', source: 'model', model: { deployment: 'fraud', output: 'p' } },
  { name: 'note.keywords', type: 'string', source: 'text', text: { field: 'note', feature: 'keywords' } },
];
const derived = (name: string, type: FactDecl['type'], expression: string): FactDecl => ({
  name,
  type,
  source: 'derived',
  expression,
});
const set = (facts: FactDecl[], rules: RuleSetDef['rules'] = []): RuleSetDef => ({
  facts: [...inputs, ...facts],
  rules,
  defaultOutcome: 'approve',
});

for (const evaluator of EVALUATORS) {
  const compile = (def: RuleSetDef) => compileRuleSet(def, { evaluator });
  describe(`derived facts (${evaluator})`, () => {
    test('a chain is computed in dependency order, whatever the declaration order', async () => {
      const def = set(
        [
          derived('risky', 'boolean', 'risk > 50'),
          derived('risk', 'number', 'debt_ratio * 100 + fraud.score * 10'),
          derived('debt_ratio', 'number', 'debt / income'),
        ],
        [
          {
            name: 'risky',
            conditions: { all: [{ fact: 'risky', operator: 'equal', value: true }] },
            outcome: 'decline',
            reason: 'Risk above 50',
          },
        ],
      );
      assert.deepEqual(validateRuleSet(def).issues, []);
      const rs = compile(def);
      const ev = await evaluateRuleSet(rs, {
        income: 100,
        debt: 45,
        'fraud.score': 0.6,
        'note.keywords': [],
      });
      assert.equal(ev.facts.debt_ratio, 0.45);
      assert.equal(ev.facts.risk, 51);
      assert.equal(ev.facts.risky, true);
      assert.equal(ev.outcome, 'decline');
      const low = await evaluateRuleSet(rs, {
        income: 100,
        debt: 10,
        'fraud.score': 0.1,
        'note.keywords': [],
      });
      assert.deepEqual([low.facts.risky, low.outcome], [false, 'approve']);
    });

    test('null propagates: a null derived fact fails every comparison but isNull', async () => {
      const def = set(
        [derived('is_fr', 'boolean', "country = 'FR'")],
        [
          {
            name: 'fr',
            conditions: { all: [{ fact: 'is_fr', operator: 'equal', value: true }] },
            outcome: 'a',
            reason: 'r',
          },
          {
            name: 'not-fr',
            conditions: { all: [{ fact: 'is_fr', operator: 'notEqual', value: true }] },
            outcome: 'b',
            reason: 'r',
          },
          {
            name: 'unknown',
            conditions: { all: [{ fact: 'is_fr', operator: 'isNull' }] },
            outcome: 'c',
            reason: 'r',
          },
        ],
      );
      const rs = compile(def);
      const base = { income: 1, debt: 1, 'fraud.score': 0, 'note.keywords': [] };
      const fired = async (facts: object) =>
        (await evaluateRuleSet(rs, { ...base, ...facts })).fired.map((f) => f.rule);
      assert.deepEqual(await fired({ country: 'FR' }), ['fr']);
      assert.deepEqual(await fired({ country: 'DE' }), ['not-fr']);
      assert.deepEqual(await fired({}), ['unknown']);
    });

    test('a cycle is refused, naming its members in order', () => {
      const { issues } = validateRuleSet(
        set([
          derived('a', 'number', 'b + 1'),
          derived('b', 'number', 'c * 2'),
          derived('c', 'number', 'a - income'),
        ]),
      );
      assert.deepEqual(issues, [
        { path: '/facts/5/expression', message: 'derived facts form a cycle: a → b → c → a' },
      ]);
      const self = validateRuleSet(set([derived('a', 'number', 'a + 1')])).issues;
      assert.deepEqual(self, [{ path: '/facts/5/expression', message: 'derived facts form a cycle: a → a' }]);
      assert.throws(() => compile(set([derived('a', 'number', 'a + 1')])), RulesError);
    });

    test('bad expressions: parse errors with the position, unknown names, list facts, type mismatches', () => {
      const one = (f: FactDecl) => {
        const { issues } = validateRuleSet(set([f]));
        assert.equal(issues.length, 1, JSON.stringify(issues));
        assert.equal(issues[0]!.path, '/facts/5/expression');
        return issues[0]!.message;
      };
      assert.match(
        one(derived('x', 'number', 'debt /')),
        /^fact 'x': the expression does not parse: .*\(at character \d+\)$/,
      );
      assert.equal(
        one(derived('x', 'number', 'debt / incme')),
        "fact 'x': the expression reads unknown fact 'incme'",
      );
      assert.match(
        one(derived('x', 'boolean', "note.keywords = 'a'")),
        /'note.keywords' is a list of strings/,
      );
      assert.equal(
        one(derived('x', 'number', "country = 'FR'")),
        "fact 'x' is declared number but its expression is a boolean",
      );
      assert.match(one(derived('x', 'number', "income * 'abc'")), /^fact 'x': /);
    });

    test('a rule on a derived fact that is invalid reports the fact once, not the rule', () => {
      const { issues } = validateRuleSet(
        set(
          [derived('x', 'number', 'debt / incme'), derived('y', 'number', 'x * 2')],
          [
            {
              name: 'r',
              conditions: { all: [{ fact: 'y', operator: 'greaterThan', value: 1 }] },
              outcome: 'a',
              reason: 'r',
            },
          ],
        ),
      );
      assert.deepEqual(
        issues.map((i) => i.path),
        ['/facts/5/expression'],
      );
    });

    test('division by zero gives a null derived fact, as in SQL', async () => {
      const def = set([derived('d', 'number', 'debt / income')]);
      const rs = compile(def);
      const ev = await evaluateRuleSet(rs, { income: 0, debt: 1, 'fraud.score': 0, 'note.keywords': [] });
      assert.equal(ev.facts.d, null, 'division by zero is null, as in SQL');
    });
  });
}
