import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRuleSet, evaluateRuleSet, validateRuleSet } from '../../src/rules/index.js';
import { generatedFacts, generatedRuleSet } from './fixtures.js';

// The compiled evaluator against json-rules-engine on generated credit-like rule sets: every
// operator, all / any / not nesting, five priorities, a first-hit table, a derived fact.
test('the compiled evaluator and json-rules-engine agree on generated rule sets', async () => {
  for (const seed of [1, 2, 3, 42]) {
    const def = generatedRuleSet(60, seed);
    assert.deepEqual(validateRuleSet(def).issues, [], `seed ${seed}`);
    const fast = compileRuleSet(def);
    const engine = compileRuleSet(def, { evaluator: 'json-rules-engine' });
    const outcomes = new Set<string>();
    let fired = 0;
    for (const facts of generatedFacts(150, seed)) {
      const a = await evaluateRuleSet(fast, facts);
      const b = await evaluateRuleSet(engine, facts);
      assert.deepEqual(a, b, `seed ${seed}, facts ${JSON.stringify(facts)}`);
      outcomes.add(a.outcome);
      fired += a.fired.length;
    }
    assert.equal(outcomes.size, 3, `seed ${seed} reaches every outcome`);
    assert.ok(fired > 150, `seed ${seed}: rules fire (${fired})`);
  }
});
