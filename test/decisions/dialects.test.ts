// Decisions through the real server on every metadata store (SQLite and PostgreSQL): the
// lifecycle, a decision with a model, a model failing inside a decision (recorded as failed),
// search, export and replay after the deployment moved to another model version.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, type StoreFixture } from '../support/stores.js';
import {
  activeRuleSet,
  api,
  call,
  decisionFixture,
  deploy,
  P,
  pickyModel,
  register,
  scaleModel,
  type DecisionFixture,
} from './support.js';

for (const dialect of DIALECTS) {
  describe(`decisions through the server on ${dialect.name}`, { skip: dialect.skipReason() }, () => {
    let store: StoreFixture;
    let f: DecisionFixture;
    let a: ReturnType<typeof api>;

    before(async () => {
      store = await dialect.open();
      // The server migrates the same database again (a no-op) and owns it from here.
      await store.store.close();
      f = await decisionFixture({ databaseUrl: store.url });
      a = api(f);
      assert.equal(await register(f, 'risk', scaleModel(1)), 1);
      assert.equal(await register(f, 'risk', scaleModel(3)), 2);
      await register(f, 'picky', pickyModel());
      await deploy(f, 'risk', 'risk', 1);
      await deploy(f, 'picky', 'picky');
    });
    after(async () => {
      await f?.server.dispose();
      await store?.dispose().catch(() => undefined);
    });

    test('decide, record, fail whole, search, export, replay', async () => {
      await activeRuleSet(f, 'limits', {
        facts: [
          { name: 'amount', type: 'number', source: 'input' },
          { name: 'risk', type: 'number', source: 'model', model: { deployment: 'risk', output: 'y' } },
          { name: 'p', type: 'number', source: 'model', model: { deployment: 'picky', output: 'y' } },
        ],
        rules: [
          {
            name: 'risky',
            priority: 5,
            conditions: { all: [{ fact: 'risk', operator: 'greaterThan', value: 0.5 }] },
            outcome: 'decline',
            reason: 'Risk above 0.5',
          },
          {
            name: 'big',
            conditions: { any: [{ fact: 'amount', operator: 'greaterThan', value: 1000 }] },
            outcome: 'refer',
            reason: 'Amount above 1000',
          },
        ],
        defaultOutcome: 'approve',
        outcomeOrder: ['decline', 'refer', 'approve'],
      });
      const s = await a.post('/decision-services', {
        name: 'pay',
        ruleset: 'limits',
        deployments: ['risk', 'picky'],
      });
      assert.equal(s.status, 201, JSON.stringify(s.body));
      const decide = (inputs: Record<string, unknown>, businessKey: string) =>
        a.post('/decisions/pay', { inputs, businessKey }, f.invoker);
      const d1 = await decide({ amount: 5000, x: 0.4 }, 'A-1');
      assert.equal(d1.status, 200, JSON.stringify(d1.body));
      assert.equal(d1.body.outcome, 'refer');
      const d2 = await decide({ amount: 10, x: 0.6 }, 'A-2');
      assert.equal(d2.body.outcome, 'decline');
      assert.deepEqual(
        d2.body.versions.models.map((m: { deployment: string; version: number }) => [
          m.deployment,
          m.version,
        ]),
        [
          ['risk', 1],
          ['picky', 1],
        ],
      );
      const failed = await decide({ amount: 10, x: 5 }, 'A-3');
      assert.equal(failed.status, 500);
      const rec = (await a.get('/decisions?businessKey=A-3')).body.items;
      assert.equal(rec.length, 1);
      assert.equal(rec[0].status, 'failed');
      assert.equal(rec[0].outcome, null);
      assert.equal((await decide({ amount: 10 }, 'A-4')).status, 400, 'x is an input of both models');
      assert.equal((await a.get('/decisions?businessKey=A-4')).body.items.length, 0);

      assert.deepEqual(
        (await a.get('/decisions?outcome=decline')).body.items.map((d: { id: string }) => d.id),
        [d2.body.decisionId],
      );
      assert.equal((await a.get('/decisions?rule=big')).body.items[0].id, d1.body.decisionId);
      const exp = await call(f.server, 'GET', `/v1/projects/${P}/decisions/export`, { key: f.viewer });
      assert.equal((exp.body as string).trim().split('\n').length, 3);

      assert.equal((await a.patch('/deployments/risk', { version: 2 })).status, 200);
      const live = await decide({ amount: 10, x: 0.4 }, 'A-5');
      assert.equal(live.body.outcome, 'decline', 'version 2 answers 3x: 1.2 > 0.5');
      for (const d of [d1, d2]) {
        const r = await a.post(`/decisions/${d.body.decisionId}/replay`, {}, f.viewer);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.matches, true);
        assert.equal(r.body.outcome, d.body.outcome);
        assert.equal(r.body.modelOutputsMatch, true);
      }
      assert.equal((await a.post(`/decisions/${rec[0].id}/replay`, {}, f.viewer)).status, 409);
    });
  });
}
