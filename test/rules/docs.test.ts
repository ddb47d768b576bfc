import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { compileRuleSet, evaluateRuleSet, validateRuleSet, type RuleSetDef } from '../../src/rules/index.js';

// docs/rules.md stays true: its worked example validates and evaluates as the page says.
test('the worked example of docs/rules.md', async () => {
  const page = readFileSync(new URL('../../../docs/rules.md', import.meta.url), 'utf8');
  const blocks = [...page.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as unknown);
  const def = blocks[0] as RuleSetDef;
  const documented = blocks[1];
  assert.deepEqual(validateRuleSet(def).issues, []);
  const rs = compileRuleSet(def);
  const facts = { income: 60000, debt: 6000, country: 'FR', 'fraud.score': 0.1, 'credit.score': 700 };
  assert.deepEqual(await evaluateRuleSet(rs, facts), documented);
  const declined = await evaluateRuleSet(rs, { ...facts, debt: 30000 });
  assert.equal(declined.outcome, 'decline');
  assert.equal(declined.reason, 'Debt-to-income above 43%');
});
