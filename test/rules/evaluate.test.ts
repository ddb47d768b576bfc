import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  RulesError,
  compileRuleSet,
  evaluateRuleSet,
  factsNeeded,
  type RuleSetDef,
} from '../../src/rules/index.js';
import { EVALUATORS } from './evaluators.js';

/** A small credit policy: three inputs, a model score, a derived ratio, a text fact. */
export const CREDIT: RuleSetDef = {
  facts: [
    { name: 'income', type: 'number', source: 'input' },
    { name: 'debt', type: 'number', source: 'input' },
    { name: 'country', type: 'string', source: 'input' },
    { name: 'employer', type: 'string', source: 'input', required: false },
    {
      name: 'fraud.score',
      type: 'number',
      source: 'model',
      model: { deployment: 'fraud', output: 'probability' },
    },
    { name: 'debt_ratio', type: 'number', source: 'derived', expression: 'debt / income' },
    {
      name: 'note.language',
      type: 'string',
      source: 'text',
      text: { field: 'note', feature: 'language' },
      required: false,
    },
  ],
  rules: [
    {
      name: 'dti-limit',
      priority: 10,
      conditions: { all: [{ fact: 'debt_ratio', operator: 'greaterThan', value: 0.43 }] },
      outcome: 'decline',
      reason: 'Debt-to-income above 43%',
    },
    {
      name: 'fraud-suspected',
      priority: 20,
      conditions: { any: [{ fact: 'fraud.score', operator: 'greaterThanInclusive', value: 0.8 }] },
      outcome: 'decline',
      reason: 'Fraud score 0.8 or above',
    },
    {
      name: 'no-employer',
      conditions: {
        all: [
          { fact: 'employer', operator: 'isNull' },
          { not: { fact: 'country', operator: 'in', value: ['FR', 'DE'] } },
        ],
      },
      outcome: 'refer',
      reason: 'No employer given outside FR and DE',
    },
    {
      name: 'good-income',
      conditions: { fact: 'income', operator: 'greaterThanInclusive', value: 30_000 },
      outcome: 'approve',
      reason: 'Income at least 30,000',
    },
  ],
  defaultOutcome: 'refer',
  outcomeOrder: ['decline', 'refer', 'approve'],
};

const base = { income: 60_000, debt: 6_000, country: 'FR', employer: 'ACME', 'fraud.score': 0.1 };

for (const evaluator of EVALUATORS) {
  const compile = (def: RuleSetDef) => compileRuleSet(def, { evaluator });
  describe(`evaluateRuleSet (${evaluator})`, () => {
    test('outcomeOrder picks the most severe fired outcome; fired is in priority order with reasons', async () => {
      const rs = compile(CREDIT);
      const ok = await evaluateRuleSet(rs, base);
      assert.equal(ok.outcome, 'approve');
      assert.equal(ok.reason, 'Income at least 30,000');
      assert.deepEqual(
        ok.fired.map((f) => f.rule),
        ['good-income'],
      );

      const bad = await evaluateRuleSet(rs, {
        ...base,
        debt: 50_000,
        'fraud.score': 0.9,
        employer: null,
        country: 'US',
      });
      assert.equal(bad.outcome, 'decline');
      assert.equal(bad.reason, 'Fraud score 0.8 or above');
      assert.deepEqual(bad.fired, [
        { rule: 'fraud-suspected', outcome: 'decline', reason: 'Fraud score 0.8 or above', priority: 20 },
        { rule: 'dti-limit', outcome: 'decline', reason: 'Debt-to-income above 43%', priority: 10 },
        { rule: 'no-employer', outcome: 'refer', reason: 'No employer given outside FR and DE', priority: 1 },
        { rule: 'good-income', outcome: 'approve', reason: 'Income at least 30,000', priority: 1 },
      ]);

      const refer = await evaluateRuleSet(rs, { ...base, employer: undefined, country: 'US' });
      assert.equal(refer.outcome, 'refer');
      assert.deepEqual(
        refer.fired.map((f) => f.rule),
        ['no-employer', 'good-income'],
      );
    });

    test('without outcomeOrder the highest-priority fired rule decides; nothing fired gives the default', async () => {
      const def: RuleSetDef = { ...CREDIT, outcomeOrder: undefined };
      const rs = compile(def);
      const ev = await evaluateRuleSet(rs, {
        ...base,
        income: 10_000,
        debt: 5_000,
        employer: null,
        country: 'US',
      });
      assert.deepEqual(
        ev.fired.map((f) => f.rule),
        ['dti-limit', 'no-employer'],
      );
      assert.equal(ev.outcome, 'decline');
      // Equal priorities: the rule defined first fires first.
      const ev2 = await evaluateRuleSet(rs, { ...base, employer: null, country: 'US' });
      assert.deepEqual(
        ev2.fired.map((f) => f.rule),
        ['no-employer', 'good-income'],
      );
      assert.equal(ev2.outcome, 'refer');
      const none = await evaluateRuleSet(rs, { ...base, income: 20_000, debt: 0 });
      assert.deepEqual(none.fired, []);
      assert.equal(none.outcome, 'refer');
      assert.equal(none.reason, 'No rule fired');
    });

    test('facts: every declared fact, derived computed, optional absent ones null, undeclared ignored', async () => {
      const ev = await evaluateRuleSet(compile(CREDIT), {
        ...base,
        debt_ratio: 99,
        extra: 1,
        employer: undefined,
      });
      assert.deepEqual(ev.facts, {
        income: 60_000,
        debt: 6_000,
        country: 'FR',
        employer: null,
        'fraud.score': 0.1,
        debt_ratio: 0.1,
        'note.language': null,
      });
    });

    test('all / any / not nest to any depth', async () => {
      const def: RuleSetDef = {
        facts: [
          { name: 'a', type: 'number', source: 'input' },
          { name: 'b', type: 'string', source: 'input' },
          { name: 'c', type: 'boolean', source: 'input' },
        ],
        rules: [
          {
            name: 'nested',
            // (a > 10 and not (b = 'x' or c)) or (a < 0 and not not c)
            conditions: {
              any: [
                {
                  all: [
                    { fact: 'a', operator: 'greaterThan', value: 10 },
                    {
                      not: {
                        any: [
                          { fact: 'b', operator: 'equal', value: 'x' },
                          { fact: 'c', operator: 'equal', value: true },
                        ],
                      },
                    },
                  ],
                },
                {
                  all: [
                    { fact: 'a', operator: 'lessThan', value: 0 },
                    { not: { not: { fact: 'c', operator: 'equal', value: true } } },
                  ],
                },
              ],
            },
            outcome: 'yes',
            reason: 'nested',
          },
        ],
        defaultOutcome: 'no',
      };
      const rs = compile(def);
      const expect = (a: number, b: string, c: boolean) => (a > 10 && !(b === 'x' || c)) || (a < 0 && c);
      for (const a of [-5, 5, 15]) {
        for (const b of ['x', 'y']) {
          for (const c of [true, false]) {
            const ev = await evaluateRuleSet(rs, { a, b, c });
            assert.equal(ev.outcome, expect(a, b, c) ? 'yes' : 'no', JSON.stringify({ a, b, c }));
          }
        }
      }
    });

    test('an empty all fires always (a catch-all rule)', async () => {
      const def: RuleSetDef = {
        facts: [],
        rules: [{ name: 'always', conditions: { all: [] }, outcome: 'refer', reason: 'manual review' }],
        defaultOutcome: 'approve',
      };
      assert.equal((await evaluateRuleSet(compile(def), {})).outcome, 'refer');
    });

    test('bad call: a missing required fact names it by path', async () => {
      const rs = compile(CREDIT);
      for (const missing of ['income', 'fraud.score']) {
        const facts: Record<string, unknown> = { ...base };
        delete facts[missing];
        await assert.rejects(evaluateRuleSet(rs, facts), (e: unknown) => {
          assert.ok(e instanceof RulesError);
          assert.equal(e.path, `/facts/${missing}`);
          assert.match(e.message, new RegExp(`missing required fact '${missing.replace('.', '\\.')}'`));
          assert.deepEqual(e.issues, [{ path: e.path, message: e.message }]);
          return true;
        });
      }
      await assert.rejects(evaluateRuleSet(rs, { ...base, country: null }), { path: '/facts/country' });
    });

    test('bad call: a fact of the wrong type is refused, never compared', async () => {
      const rs = compile(CREDIT);
      for (const [name, value] of [
        ['income', '60000'],
        ['income', Number.NaN],
        ['income', Infinity],
        ['country', 3],
        ['fraud.score', true],
        ['note.language', ['en']],
      ] as const) {
        await assert.rejects(evaluateRuleSet(rs, { ...base, [name]: value }), (e: unknown) => {
          assert.ok(e instanceof RulesError, String(e));
          assert.equal(e.path, `/facts/${name}`);
          assert.match(e.message, /must be/);
          return true;
        });
      }
    });

    test('bad call: evaluating an uncompiled definition', async () => {
      await assert.rejects(evaluateRuleSet({ def: CREDIT }, base), TypeError);
    });

    test('compileRuleSet refuses an invalid set with every issue, and freezes a copy of a valid one', () => {
      const bad = structuredClone(CREDIT);
      bad.rules![0]!.conditions = { all: [{ fact: 'incme', operator: 'greaterThan', value: 1 }] };
      bad.rules![1]!.outcome = 'maybe';
      assert.throws(
        () => compile(bad),
        (e: unknown) => {
          assert.ok(e instanceof RulesError);
          assert.equal(e.issues.length, 2);
          assert.equal(e.path, '/rules/0/conditions/all/0/fact');
          assert.match(e.message, /rule 'dti-limit': unknown fact "incme"/);
          return true;
        },
      );
      const def = structuredClone(CREDIT);
      const rs = compile(def);
      def.rules![0]!.outcome = 'approve';
      assert.equal(rs.def.rules![0]!.outcome, 'decline');
      assert.ok(Object.isFrozen(rs.def.rules![0]));
    });

    test('deterministic: the same facts give the same evaluation, also under concurrency', async () => {
      const rs = compile(CREDIT);
      const inputs = Array.from({ length: 200 }, (_, i) => ({
        ...base,
        debt: (i * 997) % 40_000,
        income: 10_000 + ((i * 7919) % 80_000),
        'fraud.score': ((i * 31) % 100) / 100,
        employer: i % 3 === 0 ? null : 'ACME',
        country: ['FR', 'US', 'DE', 'GB'][i % 4]!,
      }));
      const sequential = [];
      for (const f of inputs) sequential.push(await evaluateRuleSet(rs, f));
      // Rules at three priority levels: overlapping runs on one json-rules-engine Engine would skip levels.
      // Started a few microtasks apart, so that runs overlap at different stages.
      const pending = [];
      for (const [i, f] of inputs.entries()) {
        pending.push(evaluateRuleSet(rs, f));
        for (let k = 0; k < i % 9; k++) await Promise.resolve();
      }
      const concurrent = await Promise.all(pending);
      assert.deepEqual(concurrent, sequential);
      const again = await Promise.all(inputs.map((f) => evaluateRuleSet(compile(CREDIT), f)));
      assert.deepEqual(again, sequential);
      assert.ok(new Set(sequential.map((e) => e.outcome)).size === 3, 'the inputs reach every outcome');
    });
  });
}

describe('factsNeeded', () => {
  test('lists inputs, model outputs and text facts; not derived facts', () => {
    const need = factsNeeded(CREDIT);
    assert.deepEqual(need.inputs, ['income', 'debt', 'country', 'employer']);
    assert.deepEqual(need.models, [{ deployment: 'fraud', output: 'probability', fact: 'fraud.score' }]);
    assert.deepEqual(
      need.texts.map((t) => t.name),
      ['note.language'],
    );
  });
});
