// The rule set lifecycle through the real server: validation at save (422 naming path and rule),
// draft → submitted → approved → active, four-eyes (the author cannot approve: 403), never-approved
// activation (409), scheduled activation resolved at decision time, rollback, immutability.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { RuleSetDef } from '../../src/rules/index.js';
import { api, call, decisionFixture, P, type DecisionFixture } from './support.js';

const rules = (limit: number, outcome = 'decline'): RuleSetDef => ({
  facts: [{ name: 'amount', type: 'number', source: 'input' }],
  rules: [
    {
      name: 'big',
      conditions: { all: [{ fact: 'amount', operator: 'greaterThan', value: limit }] },
      outcome,
      reason: `Amount above ${limit}`,
    },
  ],
  defaultOutcome: 'approve',
});

describe('rule set lifecycle', () => {
  let f: DecisionFixture;
  let a: ReturnType<typeof api>;
  const decide = async (amount: number) => {
    const r = await a.post('/decisions/limits', { inputs: { amount } }, f.invoker);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { outcome: string; versions: { ruleset: { version: number } } };
  };

  before(async () => {
    f = await decisionFixture();
    a = api(f);
  });
  after(() => f.server.dispose());

  test('bad call: invalid definitions are refused with every issue, its path and its rule', async () => {
    assert.equal((await a.post('/rulesets', { name: 'limits', description: 'Payment limits' })).status, 201);
    assert.equal((await a.post('/rulesets', { name: 'limits' })).status, 409);
    assert.equal((await a.post('/rulesets', { name: 'Bad Name' })).status, 400);
    const bad = await a.post('/rulesets/limits/versions', {
      facts: [{ name: 'amount', type: 'number', source: 'input' }],
      rules: [
        {
          name: 'typo',
          conditions: { all: [{ fact: 'amuont', operator: 'greaterThan', value: 1 }] },
          outcome: 'decline',
          reason: 'x',
        },
        {
          name: 'mismatch',
          conditions: { all: [{ fact: 'amount', operator: 'equal', value: 'ten' }] },
          outcome: 'decline',
          reason: 'y',
        },
        {
          name: 'weird',
          conditions: { all: [{ fact: 'amount', operator: 'resembles', value: 1 }] },
          outcome: 'decline',
          reason: 'z',
        },
      ],
      defaultOutcome: 'approve',
    });
    assert.equal(bad.status, 422, JSON.stringify(bad.body));
    assert.equal(bad.body.code, 'RULESET_INVALID');
    const messages = bad.body.errors.map((e: { path: string; message: string }) => `${e.path} ${e.message}`);
    assert.ok(
      messages.some((m: string) => /rules\/0/.test(m) && /typo/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m: string) => /rules\/1/.test(m) && /mismatch/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m: string) => /rules\/2/.test(m) && /weird/.test(m)),
      messages.join('\n'),
    );
    assert.equal((await a.post('/rulesets/limits/versions', { nonsense: true })).status, 422);
    assert.equal((await a.get('/rulesets/limits')).body.latestVersion, null, 'nothing was stored');
    const checked = await a.post('/rulesets/validate', rules(100), f.viewer);
    assert.equal(checked.status, 200);
    assert.equal(checked.body.valid, true);
  });

  test('draft → submitted → approved (by another person) → active; both people and times recorded', async () => {
    const v1 = await a.post('/rulesets/limits/versions?comment=first', rules(1_000));
    assert.equal(v1.status, 201, JSON.stringify(v1.body));
    assert.equal(v1.body.version, 1);
    assert.equal(v1.body.status, 'draft');
    assert.equal(v1.body.author, 'alice');
    assert.equal(v1.body.comment, 'first');

    assert.equal(
      (await a.post('/rulesets/limits/versions/1/approve', {}, f.bob)).status,
      409,
      'a draft is not submitted',
    );
    assert.equal(
      (await a.post('/rulesets/limits/versions/1/activate', {}, f.bob)).status,
      409,
      'never approved',
    );

    const sub = await a.post('/rulesets/limits/versions/1/submit');
    assert.equal(sub.status, 200);
    assert.equal(sub.body.status, 'submitted');
    assert.equal(sub.body.submittedBy, 'alice');
    assert.ok(sub.body.submittedAt);
    assert.equal((await a.post('/rulesets/limits/versions/1/submit')).status, 409);

    // Four-eyes: alice cannot approve her own version, even with an owner key; a maintainer may not approve at all.
    const self = await a.post('/rulesets/limits/versions/1/approve', {}, f.aliceOwner);
    assert.equal(self.status, 403);
    assert.equal(self.body.code, 'FOUR_EYES_REQUIRED');
    assert.equal((await a.post('/rulesets/limits/versions/1/approve', {}, f.alice)).status, 403);
    assert.equal(
      (await a.post('/rulesets/limits/versions/1/activate', {}, f.bob)).status,
      409,
      'submitted, not approved',
    );

    // A service account is not a person: it cannot be the second pair of eyes, even as an owner.
    assert.equal(
      (await call(f.server, 'POST', '/v1/users', { key: f.admin, json: { name: 'robot', kind: 'service' } }))
        .status,
      201,
    );
    const robot = (
      await call(f.server, 'POST', '/v1/keys', {
        key: f.admin,
        json: { name: 'robot-owner', project: P, role: 'owner', user: 'robot' },
      })
    ).body.key as string;
    const bot = await a.post('/rulesets/limits/versions/1/approve', {}, robot);
    assert.equal(bot.status, 403);
    assert.equal(bot.body.code, 'FOUR_EYES_REQUIRED');

    const ok = await a.post('/rulesets/limits/versions/1/approve', {}, f.bob);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.status, 'approved');
    assert.equal(ok.body.approvedBy, 'bob');
    assert.ok(Date.parse(ok.body.approvedAt) >= Date.parse(sub.body.submittedAt));
    assert.equal(
      (await a.post('/rulesets/limits/versions/1/activate', {}, f.alice)).status,
      403,
      'maintainers do not activate',
    );

    const act = await a.post('/rulesets/limits/versions/1/activate', {}, f.bob);
    assert.equal(act.status, 200, JSON.stringify(act.body));
    assert.equal(act.body.activeVersion, 1);
    assert.equal(act.body.versions[0].status, 'active');
    assert.equal(act.body.activations[0].by, 'bob');

    assert.equal(
      (await a.post('/decision-services', { name: 'limits', ruleset: 'limits', deployments: [] })).status,
      201,
    );
    assert.equal((await decide(5_000)).outcome, 'decline');
    assert.equal((await decide(500)).outcome, 'approve');
  });

  test('bad call: versions in review or in use can never be deleted; drafts can', async () => {
    assert.equal((await a.del('/rulesets/limits/versions/1')).status, 409, 'active');
    const v2 = await a.post('/rulesets/limits/versions', rules(10));
    assert.equal(v2.body.version, 2);
    assert.equal((await a.del('/rulesets/limits/versions/2')).status, 204);
    assert.equal((await a.get('/rulesets/limits/versions/2')).status, 404);
    const v3 = await a.post('/rulesets/limits/versions', rules(10));
    assert.equal(v3.body.version, 3, 'numbers are never reused');
    await a.post('/rulesets/limits/versions/3/submit');
    assert.equal((await a.del('/rulesets/limits/versions/3')).status, 409, 'submitted');
    assert.equal((await a.del('/rulesets/limits/versions/3', f.viewer)).status, 403);
  });

  test('scheduled activation takes effect at its time, with no timer; rollback is immediate', async () => {
    assert.equal((await a.post('/rulesets/limits/versions/3/approve', {}, f.bob)).status, 200);
    const at = new Date(Date.now() + 1_500).toISOString();
    const sched = await a.post('/rulesets/limits/versions/3/activate', { at }, f.bob);
    assert.equal(sched.status, 200, JSON.stringify(sched.body));
    assert.equal(sched.body.activeVersion, 1);
    assert.equal(sched.body.versions.find((v: { version: number }) => v.version === 3).status, 'scheduled');
    assert.equal((await decide(500)).outcome, 'approve', 'still version 1 before the time');
    await sleep(Date.parse(at) - Date.now() + 1_100);
    const now = await decide(500);
    assert.equal(now.versions.ruleset.version, 3, 'version 3 decides from its time on');
    assert.equal(now.outcome, 'decline');
    const shown = await a.get('/rulesets/limits/versions/1');
    assert.equal(shown.body.status, 'superseded');

    const back = await a.post('/rulesets/limits/rollback', {}, f.bob);
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal(back.body.activeVersion, 1);
    assert.equal(back.body.activations.at(-1).kind, 'rollback');
    const after = await decide(500);
    assert.equal(after.versions.ruleset.version, 1, 'the rollback is immediate');
    assert.equal(after.outcome, 'approve');
    const again = await a.post('/rulesets/limits/rollback', {}, f.bob);
    assert.equal(again.status, 409, 'nothing before version 1');
  });

  test('a rollback cancels a pending scheduled activation; bad times are refused', async () => {
    assert.equal((await a.post('/rulesets/limits/versions/3/activate', {}, f.bob)).body.activeVersion, 3);
    const v4 = await a.post('/rulesets/limits/versions', rules(1, 'refer'));
    await a.post(`/rulesets/limits/versions/${v4.body.version}/submit`);
    await a.post(`/rulesets/limits/versions/${v4.body.version}/approve`, {}, f.bob);
    const bad = await a.post(
      `/rulesets/limits/versions/${v4.body.version}/activate`,
      { at: 'tomorrow' },
      f.bob,
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].path, '/at');
    const later = new Date(Date.now() + 3_600_000).toISOString();
    await a.post(`/rulesets/limits/versions/${v4.body.version}/activate`, { at: later }, f.bob);
    const back = await a.post('/rulesets/limits/rollback', {}, f.bob);
    assert.equal(back.body.activeVersion, 1);
    const pending = back.body.activations.find((x: { effectiveFrom: string }) => x.effectiveFrom === later);
    assert.ok(pending.cancelledAt, 'the scheduled activation was cancelled');
    assert.equal(
      back.body.versions.find((v: { version: number }) => v.version === v4.body.version).status,
      'approved',
    );
  });

  test('a service pinned to a version keeps it whatever is active', async () => {
    const s = await a.post('/decision-services', {
      name: 'pinned',
      ruleset: 'limits',
      rulesetVersion: 3,
      deployments: [],
    });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    const r = await a.post('/decisions/pinned', { inputs: { amount: 500 } }, f.invoker);
    assert.equal(r.body.versions.ruleset.version, 3);
    assert.equal(r.body.outcome, 'decline');
    const p = await a.patch('/decision-services/pinned', { rulesetVersion: 'active' });
    assert.equal(p.status, 200);
    assert.equal(p.body.rulesetVersion, 'active');
    assert.equal(
      (await a.post('/decisions/pinned', { inputs: { amount: 500 } }, f.invoker)).body.versions.ruleset
        .version,
      1,
    );
    assert.equal((await a.del('/decision-services/pinned')).status, 204);
    assert.equal((await a.get('/decision-services/pinned')).status, 404);
  });
});
