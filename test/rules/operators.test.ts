import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OPERATORS, compileRuleSet, evaluateRuleSet, validateRuleSet } from '../../src/rules/index.js';
import { EVALUATORS } from './evaluators.js';
import { OPERATOR_CASES } from './fixtures.js';

describe('every rule operator fires and does not fire', () => {
  test('the fixture covers every operator, each with hits and misses', () => {
    const covered = new Set(OPERATOR_CASES.map((c) => c.operator));
    assert.deepEqual(
      [...OPERATORS].filter((o) => !covered.has(o)),
      [],
    );
    for (const c of OPERATOR_CASES) {
      assert.ok(
        c.cases.some((k) => k.outcome === 'hit'),
        `${c.name} has a hit`,
      );
      assert.ok(
        c.cases.some((k) => k.outcome === 'miss'),
        `${c.name} has a miss`,
      );
    }
  });

  for (const c of OPERATOR_CASES) {
    test(c.name, async () => {
      assert.deepEqual(validateRuleSet(c.ruleSet).issues, []);
      const sets = EVALUATORS.map((evaluator) => compileRuleSet(c.ruleSet, { evaluator }));
      for (const k of c.cases) {
        const [ev, ...others] = await Promise.all(sets.map((rs) => evaluateRuleSet(rs, k.facts)));
        if (!ev) throw new Error('no evaluator');
        for (const o of others) assert.deepEqual(o, ev, 'the evaluators agree');
        assert.equal(ev.outcome, k.outcome, `${c.name} on ${JSON.stringify(k.facts)}`);
        const rule = c.ruleSet.rules![0]!;
        if (k.outcome === 'hit') {
          assert.deepEqual(ev.fired, [{ rule: rule.name, outcome: 'hit', reason: rule.reason, priority: 1 }]);
          assert.equal(ev.reason, rule.reason);
        } else {
          assert.deepEqual(ev.fired, []);
          assert.equal(ev.reason, 'No rule fired');
        }
        // Replay: the recorded facts give the same evaluation again.
        const replay = await evaluateRuleSet(compileRuleSet(structuredClone(c.ruleSet)), ev.facts);
        assert.deepEqual(replay, ev);
      }
    });
  }

  test('the same operators in a decision table cell behave the same', async () => {
    for (const c of OPERATOR_CASES) {
      const cond = (c.ruleSet.rules![0]!.conditions as { all: { fact: string; value: unknown }[] }).all[0]!;
      const def = {
        facts: c.ruleSet.facts,
        tables: [
          {
            name: 't',
            hitPolicy: 'first' as const,
            inputs: [cond.fact],
            rows: [{ when: [{ operator: c.operator, value: cond.value }], outcome: 'hit', reason: 'r' }],
          },
        ],
        defaultOutcome: 'miss',
      };
      for (const evaluator of EVALUATORS) {
        const rs = compileRuleSet(def, { evaluator });
        for (const k of c.cases) {
          const ev = await evaluateRuleSet(rs, k.facts);
          assert.equal(ev.outcome, k.outcome, `${evaluator}: ${c.name} on ${JSON.stringify(k.facts)}`);
        }
      }
    }
  });
});
