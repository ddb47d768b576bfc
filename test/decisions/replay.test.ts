// Replay gives the recorded outcome for every rule operator (test/rules/fixtures.ts), after the
// active rule set AND the deployment's model version have both changed: the replay loads the exact
// rule set version and model version the decision used.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FactDecl, RuleSetDef } from '../../src/rules/index.js';
import { OPERATOR_CASES } from '../rules/fixtures.js';
import {
  activeRuleSet,
  api,
  decisionFixture,
  deploy,
  register,
  scaleModel,
  type DecisionFixture,
} from './support.js';

/** Texts whose analysis gives (or not) the keyword of the text case; only replay equality is asserted for them. */
const TEXTS = ['The parcel came late and I want a refund of my money', 'The parcel came late again', ''];

interface Made {
  readonly name: string;
  readonly id: string;
  readonly outcome: string;
  readonly expected: string | undefined;
}

/** The fixture's rule set, its model fact (if any) read from the `scaler` deployment's output `y`. */
function bind(def: RuleSetDef): RuleSetDef {
  const facts: FactDecl[] = def.facts.map((f) =>
    f.source === 'model' ? { ...f, model: { deployment: 'scaler', output: 'y' } } : f,
  );
  return { ...def, facts };
}

describe('replay: every operator, after the rules and the model changed', () => {
  let f: DecisionFixture;
  let a: ReturnType<typeof api>;
  const made: Made[] = [];
  let nlp = false;

  before(async () => {
    f = await decisionFixture();
    a = api(f);
    assert.equal(await register(f, 'scaler', scaleModel(1)), 1);
    assert.equal(await register(f, 'scaler', scaleModel(2)), 2);
    await deploy(f, 'scaler', 'scaler', 1);
    nlp = await import('../../src/nlp/index.js').then(
      () => true,
      () => false,
    );
  });
  after(() => f.server.dispose());

  test('record decisions for every operator case (outcomes as the fixtures expect)', async (t) => {
    for (const [i, c] of OPERATOR_CASES.entries()) {
      const name = `op-${i}`;
      const def = bind(c.ruleSet);
      if (!nlp && def.facts.some((x) => x.source === 'text')) {
        t.diagnostic(`${c.name}: SKIPPED, the nlp module is not built`);
        continue;
      }
      await activeRuleSet(f, name, def);
      const s = await a.post('/decision-services', { name, ruleset: name, deployments: ['scaler'] });
      assert.equal(s.status, 201, `${c.name}: ${JSON.stringify(s.body)}`);
      const model = def.facts.find((x) => x.source === 'model');
      const text = def.facts.find((x) => x.source === 'text');
      const inputsList: { inputs: Record<string, unknown>; expected: string | undefined }[] = text
        ? TEXTS.map((t) => ({ inputs: { x: 1, [text.text!.field]: t }, expected: undefined }))
        : c.cases.map((k) => {
            const inputs: Record<string, unknown> = { x: 1 };
            for (const [fact, value] of Object.entries(k.facts)) {
              if (model && fact === model.name) inputs.x = value;
              else if (value !== null) inputs[fact] = value;
            }
            return { inputs, expected: k.outcome };
          });
      for (const { inputs, expected } of inputsList) {
        const r = await a.post(`/decisions/${name}`, { inputs, businessKey: `${name}` }, f.invoker);
        assert.equal(r.status, 200, `${c.name} ${JSON.stringify(inputs)}: ${JSON.stringify(r.body)}`);
        if (expected !== undefined)
          assert.equal(r.body.outcome, expected, `${c.name} ${JSON.stringify(inputs)}`);
        made.push({ name: c.name, id: r.body.decisionId, outcome: r.body.outcome, expected });
      }
    }
    assert.ok(made.length >= OPERATOR_CASES.length * 2);
  });

  test('change every active rule set and the deployment; replay gives the recorded outcome', async () => {
    for (const [i, c] of OPERATOR_CASES.entries()) {
      if (!made.some((m) => m.name === c.name)) continue;
      // Version 2 decides the opposite way: a live decision would now differ.
      const def = bind(c.ruleSet);
      const flipped: RuleSetDef = {
        ...def,
        rules: (def.rules ?? []).map((r) => ({ ...r, outcome: 'miss' })),
        defaultOutcome: 'hit',
      };
      assert.equal(await activeRuleSet(f, `op-${i}`, flipped), 2);
    }
    const moved = await a.patch('/deployments/scaler', { version: 2 });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const live = await a.post('/decisions/op-0', { inputs: { x: 1, country: 'FR' } }, f.invoker);
    assert.equal(live.body.versions.ruleset.version, 2);
    assert.equal(live.body.versions.models[0].version, 2);
    assert.equal(live.body.outcome, 'miss', 'a live decision now goes the other way');

    for (const m of made) {
      const r = await a.post(`/decisions/${m.id}/replay`, {}, f.viewer);
      assert.equal(r.status, 200, `${m.name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.outcome, m.outcome, `${m.name}: replay of ${m.id}`);
      assert.equal(r.body.matches, true);
      assert.equal(r.body.modelOutputsMatch, true, `${m.name}: the model answered as recorded`);
      assert.equal(r.body.versions.ruleset.version, 1);
      assert.deepEqual(r.body.versions.models, [{ deployment: 'scaler', model: 'scaler', version: 1 }]);
    }
  });

  test('bad call: replay of an unknown decision → 404; of another tenant → 404', async () => {
    assert.equal((await a.post('/decisions/dec_nope/replay', {}, f.viewer)).status, 404);
    assert.equal((await a.post(`/decisions/${made[0]!.id}/replay`, {}, f.other)).status, 404);
    assert.equal((await a.post(`/decisions/${made[0]!.id}/replay`, {}, f.invoker)).status, 403);
  });
});
