// Decisions end to end through the real server: a classifier trained by Mass and a hand-made ONNX
// model served by ONNX Runtime, a credit rule set, the decision answer and its record, search and
// JSON Lines export, bad input before any model is called, and a model failing inside a decision.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RuleSetDef } from '../../src/rules/index.js';
import {
  activeRuleSet,
  api,
  call,
  decisionFixture,
  deploy,
  P,
  pickyModel,
  register,
  trainCredit,
  waitForJob,
  type DecisionFixture,
} from './support.js';

export const CREDIT_RULES: RuleSetDef = {
  facts: [
    { name: 'income', type: 'number', source: 'input' },
    { name: 'debt', type: 'number', source: 'input' },
    { name: 'age', type: 'number', source: 'input' },
    { name: 'country', type: 'string', source: 'input', required: false },
    { name: 'pd', type: 'number', source: 'model', model: { deployment: 'credit', output: 'probability_1' } },
    { name: 'debt_ratio', type: 'number', source: 'derived', expression: 'debt / income' },
  ],
  rules: [
    {
      name: 'minor',
      priority: 10,
      conditions: { all: [{ fact: 'age', operator: 'lessThan', value: 18 }] },
      outcome: 'decline',
      reason: 'Applicant under 18',
    },
    {
      name: 'dti',
      priority: 5,
      conditions: { all: [{ fact: 'debt_ratio', operator: 'greaterThan', value: 0.43 }] },
      outcome: 'decline',
      reason: 'Debt-to-income above 43%',
    },
    {
      name: 'risky',
      conditions: { all: [{ fact: 'pd', operator: 'greaterThan', value: 0.3 }] },
      outcome: 'refer',
      reason: 'Default probability above 30%',
    },
  ],
  defaultOutcome: 'approve',
  outcomeOrder: ['decline', 'refer', 'approve'],
};

describe('decisions end to end', () => {
  let f: DecisionFixture;
  let a: ReturnType<typeof api>;

  before(async () => {
    f = await decisionFixture();
    a = api(f);
    await trainCredit(f);
    await deploy(f, 'credit', 'credit');
    await activeRuleSet(f, 'credit-policy', CREDIT_RULES);
    const s = await a.post('/decision-services', {
      name: 'loans',
      ruleset: 'credit-policy',
      rulesetVersion: 'active',
      deployments: ['credit'],
    });
    assert.equal(s.status, 201, JSON.stringify(s.body));
  });
  after(() => f.server.dispose());

  test('a decision: outcome, reasons, model outputs, versions; and its record', async () => {
    const r = await a.post(
      '/decisions/loans',
      { inputs: { income: 40_000, debt: 30_000, age: 30 }, businessKey: 'APP-1' },
      f.invoker,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.outcome, 'decline');
    assert.ok(r.body.reasons.includes('Debt-to-income above 43%'), r.body.reasons);
    assert.equal(r.body.fired[0].rule, 'dti');
    assert.equal(r.body.businessKey, 'APP-1');
    const answer = r.body.modelOutputs.credit;
    assert.ok(typeof answer.probabilities['1'] === 'number');
    assert.ok(Math.abs(r.body.facts.pd - answer.probabilities['1']) < 1e-12);
    assert.equal(r.body.facts.debt_ratio, 0.75);
    assert.deepEqual(r.body.versions, {
      ruleset: { name: 'credit-policy', version: 1 },
      models: [{ deployment: 'credit', model: 'credit', version: 1 }],
    });

    const rec = await a.get(`/decisions/${r.body.decisionId}`, f.viewer);
    assert.equal(rec.status, 200, JSON.stringify(rec.body));
    assert.equal(rec.body.status, 'ok');
    assert.equal(rec.body.outcome, 'decline');
    assert.deepEqual(rec.body.inputs, { income: 40_000, debt: 30_000, age: 30 });
    assert.equal(rec.body.businessKey, 'APP-1');
    assert.equal(rec.body.versions.models[0].version, 1);
    assert.match(rec.body.versions.models[0].modelVersionId, /^mv/);
    assert.equal(rec.body.versions.ruleset.version, 1);
    assert.ok(rec.body.caller.keyId, 'the caller is recorded');
    assert.match(rec.body.hash, /^[0-9a-f]{64}$/);

    const low = await a.post(
      '/decisions/loans',
      { inputs: { income: 150_000, debt: 1_000, age: 50 } },
      f.invoker,
    );
    assert.equal(low.status, 200);
    assert.ok(['approve', 'refer'].includes(low.body.outcome));
    if (low.body.outcome === 'approve') assert.deepEqual(low.body.reasons, []);
  });

  test('bad call: a field the rules or the model need is missing or mistyped → 400 naming it, nothing recorded', async () => {
    const before = (await a.get('/decisions?limit=1000')).body.items.length;
    const missing = await a.post('/decisions/loans', { inputs: { income: 40_000, age: 30 } }, f.invoker);
    assert.equal(missing.status, 400);
    assert.match(missing.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.deepEqual(
      missing.body.errors.map((e: { path: string }) => e.path),
      ['/inputs/debt'],
    );
    const typed = await a.post(
      '/decisions/loans',
      { inputs: { income: '40k', debt: 1, age: 30 } },
      f.invoker,
    );
    assert.equal(typed.status, 400);
    assert.equal(typed.body.errors[0].path, '/inputs/income');
    const noInputs = await a.post('/decisions/loans', { businessKey: 'x' }, f.invoker);
    assert.equal(noInputs.status, 400);
    assert.match(noInputs.body.errors[0].path, /inputs/);
    const unknown = await a.post('/decisions/nope', { inputs: {} }, f.invoker);
    assert.equal(unknown.status, 404);
    assert.equal((await a.get('/decisions?limit=1000')).body.items.length, before, 'nothing was recorded');
  });

  test('bad call: a service must bind the deployments its model facts read', async () => {
    const r = await a.post('/decision-services', {
      name: 'broken',
      ruleset: 'credit-policy',
      deployments: [],
    });
    assert.equal(r.status, 400);
    assert.match(r.body.detail, /deployment "credit", which is not bound/);
    const nope = await a.post('/decision-services', {
      name: 'broken',
      ruleset: 'credit-policy',
      deployments: ['credit', 'ghost'],
    });
    assert.equal(nope.status, 400);
    assert.equal(nope.body.errors[0].path, '/deployments/1');
    const draft = await a.post('/rulesets/credit-policy/versions', CREDIT_RULES);
    const pinned = await a.post('/decision-services', {
      name: 'broken',
      ruleset: 'credit-policy',
      rulesetVersion: draft.body.version,
      deployments: ['credit'],
    });
    assert.equal(pinned.status, 409, 'a service pins approved versions only');
  });

  test('a model failing inside a decision: the decision fails whole and is recorded as failed', async () => {
    await register(f, 'picky', pickyModel());
    await deploy(f, 'picky', 'picky');
    await activeRuleSet(f, 'picky-rules', {
      facts: [{ name: 'y', type: 'number', source: 'model', model: { deployment: 'picky', output: 'y' } }],
      rules: [
        {
          name: 'high',
          conditions: { all: [{ fact: 'y', operator: 'greaterThan', value: 0.5 }] },
          outcome: 'refer',
          reason: 'High y',
        },
      ],
      defaultOutcome: 'approve',
    });
    assert.equal(
      (await a.post('/decision-services', { name: 'picky', ruleset: 'picky-rules', deployments: ['picky'] }))
        .status,
      201,
    );
    const ok = await a.post('/decisions/picky', { inputs: { x: 1 } }, f.invoker);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.outcome, 'refer');

    const bad = await a.post('/decisions/picky', { inputs: { x: 7 }, businessKey: 'APP-FAIL' }, f.invoker);
    assert.equal(bad.status, 500, JSON.stringify(bad.body));
    assert.equal(bad.body.code, 'INFERENCE_FAILED');
    const id = /recorded as failed decision (dec_\S+)\)/.exec(bad.body.detail)?.[1];
    assert.ok(id, bad.body.detail);
    const rec = await a.get(`/decisions/${id}`);
    assert.equal(rec.status, 200);
    assert.equal(rec.body.status, 'failed');
    assert.equal(rec.body.outcome, null);
    assert.deepEqual(rec.body.fired, []);
    assert.match(rec.body.error, /^INFERENCE_FAILED: /);
    assert.equal(rec.body.businessKey, 'APP-FAIL');
    const failed = await a.get('/decisions?status=failed');
    assert.deepEqual(
      failed.body.items.map((d: { id: string }) => d.id),
      [id],
    );
    // The next decision is served normally.
    assert.equal((await a.post('/decisions/picky', { inputs: { x: 0 } }, f.invoker)).body.outcome, 'approve');
  });

  test('search by outcome, rule, business key, service and time; cursor pages; JSON Lines export', async () => {
    const since = new Date().toISOString();
    const cases = [
      { income: 30_000, debt: 20_000, age: 40 },
      { income: 100_000, debt: 5_000, age: 40 },
      { income: 50_000, debt: 40_000, age: 22 },
      { income: 120_000, debt: 1_000, age: 60 },
    ];
    const made: { id: string; outcome: string }[] = [];
    for (const [i, inputs] of cases.entries()) {
      const r = await a.post('/decisions/loans', { inputs, businessKey: `S-${i}` }, f.invoker);
      assert.equal(r.status, 200);
      made.push({ id: r.body.decisionId, outcome: r.body.outcome });
    }
    const declined = await a.get(`/decisions?outcome=decline&from=${encodeURIComponent(since)}`, f.viewer);
    assert.equal(declined.status, 200);
    assert.deepEqual(
      declined.body.items.map((d: { id: string }) => d.id).sort(),
      made
        .filter((m) => m.outcome === 'decline')
        .map((m) => m.id)
        .sort(),
    );
    const byRule = await a.get(`/decisions?rule=dti&from=${encodeURIComponent(since)}`);
    assert.ok(byRule.body.items.length >= 2);
    for (const d of byRule.body.items) assert.ok(d.fired.some((x: { rule: string }) => x.rule === 'dti'));
    const byKey = await a.get('/decisions?businessKey=S-1');
    assert.deepEqual(
      byKey.body.items.map((d: { id: string }) => d.id),
      [made[1]!.id],
    );
    assert.equal(
      (await a.get('/decisions?service=picky')).body.items.every((d: any) => d.service === 'picky'),
      true,
    );
    const future = await a.get(`/decisions?from=2999-01-01T00:00:00Z`);
    assert.deepEqual(future.body.items, []);
    const badDate = await a.get('/decisions?from=yesterday');
    assert.equal(badDate.status, 400);
    assert.equal(badDate.body.errors[0].path, '/from');

    // Pages of 2 walk every decision once, newest first.
    const all = (await a.get('/decisions?limit=1000')).body.items.map((d: { id: string }) => d.id);
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; next: string | null } } = await a.get(
        `/decisions?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      walked.push(...page.body.items.map((d) => d.id));
      cursor = page.body.next;
    } while (cursor);
    assert.deepEqual(walked, all);
    assert.equal(new Set(walked).size, walked.length);

    const exp = await call(f.server, 'GET', `/v1/projects/${P}/decisions/export?service=loans`, {
      key: f.viewer,
    });
    assert.equal(exp.status, 200);
    assert.match(exp.headers.get('content-type') ?? '', /ndjson/);
    const lines = (exp.body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(lines.length >= cases.length + 2);
    assert.ok(lines.every((l) => l.service === 'loans' && typeof l.hash === 'string'));
    assert.deepEqual(
      made.map((m) => lines.find((l) => l.id === m.id)?.outcome),
      made.map((m) => m.outcome),
    );
  });

  test('bad call: roles: an invoker decides but cannot read the record; a viewer reads but cannot decide; another tenant sees nothing', async () => {
    assert.equal((await a.get('/decisions', f.invoker)).status, 403);
    assert.equal(
      (await a.post('/decisions/loans', { inputs: { income: 1, debt: 0, age: 30 } }, f.viewer)).status,
      403,
    );
    const mine = (await a.get('/decisions?limit=1')).body.items[0].id;
    const theirs = await call(f.server, 'GET', `/v1/projects/other/decisions/${mine}`, { key: f.other });
    assert.equal(theirs.status, 404);
    assert.equal((await a.get(`/decisions/${mine}`, f.other)).status, 404);
  });

  test('backtest a draft against the last decisions: a job with counts before and after and the flipped cases', async () => {
    const stricter: RuleSetDef = {
      ...CREDIT_RULES,
      rules: CREDIT_RULES.rules!.map((r) =>
        r.name === 'dti'
          ? { ...r, conditions: { all: [{ fact: 'debt_ratio', operator: 'greaterThan', value: 0.005 }] } }
          : r,
      ),
    };
    const draft = await a.post('/rulesets/credit-policy/versions', stricter);
    assert.equal(draft.status, 201);
    const job = await a.post(`/rulesets/credit-policy/versions/${draft.body.version}/backtest`, {
      against: { decisions: { last: 100, service: 'loans' } },
    });
    assert.equal(job.status, 202, JSON.stringify(job.body));
    const done = await waitForJob(f.server, f.alice, P, job.body.id);
    assert.equal(done.status, 'succeeded', done.error);
    const r = done.result;
    assert.equal(r.version, draft.body.version);
    const recorded = (await a.get('/decisions?service=loans&status=ok&limit=1000')).body.items;
    assert.equal(r.cases, recorded.length);
    assert.equal(r.evaluated, recorded.length);
    const before: Record<string, number> = {};
    for (const d of recorded) before[d.outcome] = (before[d.outcome] ?? 0) + 1;
    assert.deepEqual(r.before, before);
    assert.ok(r.flips.total >= 1, JSON.stringify(r));
    for (const flip of r.flips.items) {
      assert.equal(flip.after, 'decline');
      const d = recorded.find((x: { id: string }) => x.id === flip.decisionId);
      assert.equal(flip.before, d.outcome);
      assert.ok(d.facts.debt_ratio > 0.005 && d.facts.debt_ratio <= 0.43);
    }
    const bad = await a.post(`/rulesets/credit-policy/versions/${draft.body.version}/backtest`, {
      against: { decisions: { last: 0 } },
    });
    assert.equal(bad.status, 400);
    assert.equal(
      (
        await a.post(`/rulesets/credit-policy/versions/${draft.body.version}/backtest`, {
          against: { decisions: { last: 5, service: 'ghost' } },
        })
      ).status,
      400,
    );
  });

  test('backtest against a dataset version: the active version before, the candidate after, precision and recall', async () => {
    // The truth: declined when the debt ratio is above 0.43 (what version 1's dti rule says), approved otherwise.
    const rows = [
      [40_000, 30_000, 30],
      [100_000, 5_000, 45],
      [60_000, 20_000, 33],
      [150_000, 1_000, 50],
      [30_000, 25_000, 22],
      [80_000, 2_000, 60],
    ];
    const csv = `income,debt,age,truth\n${rows.map(([i, d, a]) => `${i},${d},${a},${d! / i! > 0.43 ? 'decline' : 'approve'}`).join('\n')}\n`;
    const up = await call(f.server, 'POST', `/v1/projects/${P}/datasets?name=holdout`, {
      key: f.alice,
      body: csv,
      type: 'text/csv',
    });
    assert.ok(up.status === 201 || up.status === 200, JSON.stringify(up.body));
    const versions = (await a.get('/rulesets/credit-policy')).body.versions;
    const draft = versions.at(-1).version as number;
    const job = await a.post(`/rulesets/credit-policy/versions/${draft}/backtest`, {
      against: { dataset: { name: 'holdout', outcomeColumn: 'truth' } },
    });
    assert.equal(job.status, 202, JSON.stringify(job.body));
    const done = await waitForJob(f.server, f.alice, P, job.body.id);
    assert.equal(done.status, 'succeeded', done.error);
    const r = done.result;
    assert.equal(r.cases, rows.length);
    assert.equal(r.evaluated, rows.length);
    assert.equal(r.baseline.version, 1);
    assert.deepEqual(r.modelFacts, { pd: 'deployment' });
    assert.equal(r.before.decline, 2, JSON.stringify(r.before));
    assert.equal(r.after.decline, rows.length, 'the stricter draft declines everyone here');
    assert.equal(r.metrics.after.decline.recall, 1);
    assert.equal(r.metrics.after.decline.precision, 2 / 6);
    assert.equal(r.metrics.after.approve.recall, 0);
    assert.equal(r.metrics.before.decline.precision, 1);
    assert.equal(r.metrics.before.decline.recall, 1);
    assert.ok(
      r.flips.items.every(
        (x: { row: number; decisionId: null }) => typeof x.row === 'number' && x.decisionId === null,
      ),
    );
    const bad = await a.post(`/rulesets/credit-policy/versions/${draft}/backtest`, {
      against: { dataset: { name: 'holdout', outcomeColumn: 'nope' } },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].path, '/against/dataset/outcomeColumn');
    const none = await a.post(`/rulesets/credit-policy/versions/${draft}/backtest`, {
      against: { dataset: { name: 'ghost' } },
    });
    assert.equal(none.status, 400);
  });

  test('the record is append-only and each row carries the hash of its content', async () => {
    const { decisions, auth } = f.server.platform.services;
    const project = await auth.findProject(P);
    const report = await decisions.record.verify(project!.id);
    assert.ok(report.checked >= 6);
    assert.deepEqual(report.mismatched, []);
    const id = (await a.get('/decisions?limit=1')).body.items[0].id;
    await f.server.platform.services.store.db
      .updateTable('decisions')
      .set({ outcome: 'approve-forged' })
      .where('id', '=', id)
      .execute();
    assert.deepEqual((await decisions.record.verify(project!.id)).mismatched, [id]);
  });
});
