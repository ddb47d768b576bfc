// The decisions store on every dialect (SQLite and PostgreSQL): rule set versions and activations
// (scheduled, rollback), concurrent version numbers, the append-only record with search, cursor
// pages, rule search with LIKE metacharacters, the content hash, and backtests from the record.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Backtests } from '../../src/decisions/backtest.js';
import { DecisionRecord, type NewDecision } from '../../src/decisions/record.js';
import { RuleSetService } from '../../src/decisions/rulesets.js';
import type { JobQueue } from '../../src/jobs/queue.js';
import type { RuleSetDef } from '../../src/rules/index.js';
import { newId, nowIso } from '../../src/store/metadata.js';
import { DIALECTS, type StoreFixture } from '../support/stores.js';

const DEF = (limit: number): RuleSetDef => ({
  facts: [
    { name: 'amount', type: 'number', source: 'input' },
    { name: 'score', type: 'number', source: 'model', model: { deployment: 'risk', output: 'score' } },
  ],
  rules: [
    {
      name: 'big_100%',
      conditions: { all: [{ fact: 'amount', operator: 'greaterThan', value: limit }] },
      outcome: 'refer',
      reason: `Amount above ${limit}`,
    },
    {
      name: 'risky',
      priority: 5,
      conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 0.8 }] },
      outcome: 'decline',
      reason: 'Risk score above 0.8',
    },
  ],
  defaultOutcome: 'approve',
  outcomeOrder: ['decline', 'refer', 'approve'],
});

for (const dialect of DIALECTS) {
  describe(`decisions store on ${dialect.name}`, { skip: dialect.skipReason() }, () => {
    let fx: StoreFixture;
    let rulesets: RuleSetService;
    let record: DecisionRecord;
    const projectId = newId('prj');

    before(async () => {
      fx = await dialect.open();
      await fx.store.db
        .insertInto('projects')
        .values({ id: projectId, name: `p-${dialect.name}`, description: '', created_at: nowIso() })
        .execute();
      rulesets = new RuleSetService(fx.store);
      record = new DecisionRecord(fx.store);
    });
    after(() => fx?.dispose());

    test('versions: concurrent authors get distinct numbers; lifecycle and activation history', async () => {
      await rulesets.create(projectId, { name: 'limits' }, 'usr_alice');
      const versions = await Promise.all(
        [100, 200, 300, 400].map((l) => rulesets.addVersion(projectId, 'limits', DEF(l), 'usr_alice')),
      );
      assert.deepEqual(versions.map((v) => v.version).sort(), [1, 2, 3, 4]);
      for (const v of [1, 2]) {
        await rulesets.submit(projectId, 'limits', v, 'usr_alice');
        await assert.rejects(rulesets.approve(projectId, 'limits', v, 'usr_alice'), {
          code: 'FOUR_EYES_REQUIRED',
        });
        await rulesets.approve(projectId, 'limits', v, 'usr_bob');
      }
      await assert.rejects(rulesets.activate(projectId, 'limits', 3, 'usr_bob', undefined), {
        code: 'STATE_CONFLICT',
      });
      await rulesets.activate(projectId, 'limits', 1, 'usr_bob', undefined);
      const future = new Date(Date.now() + 60_000).toISOString();
      const rs = await rulesets.activate(projectId, 'limits', 2, 'usr_bob', future);
      assert.equal(rs.activeVersion, 1);
      const id = await rulesets.rulesetId(projectId, 'limits');
      const v2 = await rulesets.loadByNumber(projectId, 'limits', 2);
      assert.equal(await rulesets.activeVersionId(id, new Date(Date.now() + 61_000).toISOString()), v2.id);
      await rulesets.activate(projectId, 'limits', 2, 'usr_bob', undefined);
      const back = await rulesets.rollback(projectId, 'limits', 'usr_bob');
      assert.equal(back.activeVersion, 1);
      assert.ok(back.activations.some((a) => a.effectiveFrom === future && a.cancelledAt !== null));
    });

    test('the record: append, search by every filter, cursor pages, exact rule match, hash', async () => {
      const v1 = await rulesets.loadByNumber(projectId, 'limits', 1);
      const base = Date.now() - 10_000;
      for (let i = 0; i < 25; i++) {
        const amount = i * 10;
        const score = (i % 5) / 5;
        const fired = [
          ...(score > 0.8 ? [{ rule: 'risky', outcome: 'decline', reason: 'Risk', priority: 5 }] : []),
          ...(amount > 100 ? [{ rule: 'big_100%', outcome: 'refer', reason: 'Big', priority: 1 }] : []),
        ];
        const row: NewDecision = {
          id: newId('dec'),
          project_id: projectId,
          service_id: 'dsv_x',
          service: i % 2 ? 'odd' : 'even',
          business_key: `K-${i}`,
          input_json: JSON.stringify({ amount }),
          facts_json: JSON.stringify({ amount, score }),
          model_outputs_json: JSON.stringify({ risk: { value: score } }),
          ruleset_version_id: v1.id,
          ruleset: 'limits',
          ruleset_version: 1,
          model_versions_json: JSON.stringify([
            { deployment: 'risk', model: 'risk', version: 1, modelVersionId: 'mv_1' },
          ]),
          fired_json: JSON.stringify(fired),
          outcome: fired[0]?.outcome ?? 'approve',
          status: 'ok',
          error: null,
          caller_user_id: 'usr_ivan',
          caller_key_id: 'key_1',
          request_id: `req_${i}`,
          latency_us: 1000 + i,
          created_at: new Date(base + i * 100).toISOString(),
        };
        await record.append(row);
      }
      const all = await record.search(projectId, {}, 100);
      assert.equal(all.rows.length, 25);
      assert.equal(all.nextCursor, null);
      assert.equal(all.rows[0]!.business_key, 'K-24', 'newest first');
      assert.equal(
        (await record.search(projectId, { businessKey: 'K-7' }, 10)).rows[0]!.input_json,
        '{"amount":70}',
      );
      assert.equal((await record.search(projectId, { service: 'odd' }, 100)).rows.length, 12);
      const refer = await record.search(projectId, { outcome: 'refer' }, 100);
      assert.ok(refer.rows.every((r) => r.outcome === 'refer'));
      const byRule = await record.search(projectId, { rule: 'big_100%' }, 100);
      assert.equal(byRule.rows.length, 14);
      assert.equal(
        (await record.search(projectId, { rule: 'big_1_0%' }, 100)).rows.length,
        0,
        'LIKE wildcards are literal',
      );
      assert.equal((await record.search(projectId, { rule: 'BIG_100%' }, 100)).rows.length, 0, 'exact names');
      const window = await record.search(
        projectId,
        { from: new Date(base + 500).toISOString(), to: new Date(base + 1000).toISOString() },
        100,
      );
      assert.deepEqual(
        window.rows.map((r) => r.business_key),
        ['K-9', 'K-8', 'K-7', 'K-6', 'K-5'],
      );
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await record.search(projectId, {}, 7, cursor);
        seen.push(...page.rows.map((r) => r.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual(
        seen,
        all.rows.map((r) => r.id),
      );
      await assert.rejects(record.search(projectId, {}, 5, 'garbage'), { code: 'VALIDATION_FAILED' });
      assert.deepEqual((await record.verify(projectId)).mismatched, []);
    });

    test('backtest against the record: counts before and after, flips, transitions', async () => {
      const jobs = {} as JobQueue;
      const backtests = new Backtests(rulesets, record, jobs);
      const candidate = await rulesets.addVersion(projectId, 'limits', DEF(50), 'usr_alice');
      const loaded = await rulesets.loadByNumber(projectId, 'limits', candidate.version);
      const result = await backtests.run(projectId, loaded, { decisions: { last: 1000 } });
      assert.equal(result.cases, 25);
      assert.equal(result.evaluated, 25);
      assert.deepEqual(result.before, { approve: 11, refer: 14 });
      assert.deepEqual(result.after, { approve: 6, refer: 19 });
      // Amounts 60..100 move from approve to refer.
      assert.deepEqual(result.transitions, { 'approve → refer': 5 });
      assert.equal(result.flips.total, 5);
      assert.equal(result.flips.capped, false);
      for (const flip of result.flips.items) {
        assert.equal(flip.before, 'approve');
        assert.equal(flip.after, 'refer');
        assert.ok(flip.rules.includes('big_100%'));
        const amount = Number(/K-(\d+)/.exec(flip.businessKey!)![1]) * 10;
        assert.ok(amount > 50 && amount <= 100, `${flip.businessKey}`);
      }
      const limited = await backtests.run(projectId, loaded, { decisions: { last: 5, service: 'odd' } });
      assert.equal(limited.cases, 5);
    });
  });
}
