// Decision figures: what 100 rules add to a prediction, decisions/s at 16 connections, and a
// backtest of a 100-rule set over 100,000 recorded decisions. One run on this machine: a real Mass
// server on 127.0.0.1 (in this process), the HTTP load from a worker thread (plain http.Agent
// keep-alive), every load run bounded in time. Writes its section of bench/RESULTS.md.
//
//   npm run bench:decisions            (npx tsc -p tsconfig.json && node dist/bench/decisions.js [--seconds 5] [--requests 1000])
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../src/config/config.js';
import { rowHash, type DecisionRow } from '../src/decisions/record.js';
import type { RuleDef, RuleSetDef } from '../src/rules/index.js';
import { startPlatform } from '../src/platform.js';
import { newId } from '../src/store/metadata.js';
import { replaceSection } from './results.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) || fallback : fallback;
};
const SECONDS = arg('--seconds', 5);
const REQUESTS = arg('--requests', 1000);
const SEED_DECISIONS = arg('--decisions', 100_000);
const P = 'bench';

function log(message: string): void {
  process.stderr.write(`[bench:decisions] ${message}\n`);
}

// The load generator: a worker thread so that the client does not share the server's event loop.
const LOADER = `
const { parentPort } = require('node:worker_threads');
const http = require('node:http');
parentPort.on('message', async (job) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const url = new URL(job.url);
  const latencies = [];
  let errors = 0, sent = 0;
  const end = job.seconds ? performance.now() + job.seconds * 1000 : Infinity;
  const one = (body) => new Promise((done) => {
    const t0 = performance.now();
    const req = http.request({ agent, host: url.hostname, port: url.port, method: 'POST', path: job.path,
      headers: { authorization: 'Bearer ' + job.key, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => { res.resume(); res.on('end', () => { if (res.statusCode !== 200) errors++; latencies.push(performance.now() - t0); done(); }); });
    req.on('error', () => { errors++; done(); });
    req.end(body);
  });
  const loop = async () => {
    while (performance.now() < end && (job.count === undefined || sent < job.count)) {
      const body = job.bodies[sent++ % job.bodies.length];
      await one(body);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  parentPort.postMessage({ latencies, errors, seconds });
});
`;

interface Load {
  readonly latencies: number[];
  readonly errors: number;
  readonly seconds: number;
}

function load(
  worker: Worker,
  job: {
    url: string;
    path: string;
    key: string;
    bodies: string[];
    concurrency: number;
    seconds?: number;
    count?: number;
  },
): Promise<Load> {
  return new Promise((resolve) => {
    worker.once('message', (m: Load) => resolve(m));
    worker.postMessage(job);
  });
}

function pct(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** A deterministic credit table: income, debt, age → default. */
function creditCsv(rows: number): string {
  let s = 11;
  const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ['income,debt,age,default'];
  for (let i = 0; i < rows; i++) {
    const income = Math.round(20_000 + rand() * 130_000);
    const debt = Math.round(rand() * 80_000);
    const age = Math.round(18 + rand() * 57);
    lines.push(`${income},${debt},${age},${debt / income + (rand() - 0.5) * 0.2 > 0.45 ? 1 : 0}`);
  }
  return `${lines.join('\n')}\n`;
}

/** 100 rules of the kind a credit policy has: thresholds over the inputs, derived ratios and the model score. */
export function hundredRules(): RuleSetDef {
  const rules: RuleDef[] = [];
  const outcomes = ['decline', 'refer', 'approve_reduced'];
  for (let k = 0; k < 100; k++) {
    const outcome = outcomes[k % 3]!;
    const t = k / 100;
    const conditions = [
      [
        { fact: 'debt_ratio', operator: 'greaterThan', value: 0.3 + t * 0.5 },
        { fact: 'pd', operator: 'greaterThan', value: 0.2 + t * 0.6 },
      ],
      [
        { fact: 'loan_to_income', operator: 'greaterThan', value: 0.5 + t * 3 },
        { fact: 'employment_years', operator: 'lessThan', value: 1 + (k % 10) },
      ],
      [
        { fact: 'age', operator: 'between', value: [18, 20 + (k % 7)] },
        { fact: 'amount', operator: 'greaterThan', value: 5_000 + k * 400 },
      ],
      [
        { fact: 'term', operator: 'in', value: [48, 60, 72, 84].slice(0, 1 + (k % 4)) },
        { fact: 'pd', operator: 'greaterThanInclusive', value: 0.1 + t * 0.5 },
      ],
    ][k % 4]!;
    rules.push({
      name: `policy_${String(k + 1).padStart(3, '0')}`,
      priority: 1 + (k % 10),
      conditions: { all: conditions },
      outcome,
      reason: `Policy ${k + 1}: ${conditions.map((c) => `${c.fact} ${c.operator} ${JSON.stringify(c.value)}`).join(' and ')}`,
    });
  }
  return {
    facts: [
      { name: 'income', type: 'number', source: 'input' },
      { name: 'debt', type: 'number', source: 'input' },
      { name: 'age', type: 'number', source: 'input' },
      { name: 'amount', type: 'number', source: 'input' },
      { name: 'term', type: 'number', source: 'input' },
      { name: 'employment_years', type: 'number', source: 'input' },
      {
        name: 'pd',
        type: 'number',
        source: 'model',
        model: { deployment: 'credit', output: 'probability_1' },
      },
      { name: 'debt_ratio', type: 'number', source: 'derived', expression: 'debt / income' },
      { name: 'loan_to_income', type: 'number', source: 'derived', expression: 'amount / income' },
    ],
    rules,
    defaultOutcome: 'approve',
    outcomeOrder: ['decline', 'refer', 'approve_reduced', 'approve'],
  };
}

function cases(n: number): Record<string, number>[] {
  let s = 5;
  const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, () => ({
    income: Math.round(20_000 + rand() * 130_000),
    debt: Math.round(rand() * 80_000),
    age: Math.round(18 + rand() * 57),
    amount: Math.round(1_000 + rand() * 60_000),
    term: [12, 24, 36, 48, 60, 72, 84][Math.floor(rand() * 7)]!,
    employment_years: Math.round(rand() * 30),
  }));
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'mass-bench-decisions-'));
  const config = loadConfig(
    { logLevel: 'silent', home, host: '127.0.0.1', port: 0, rateLimitRps: 0, deploymentRefreshMs: 0 },
    {},
  );
  const platform = await startPlatform(config);
  const url = await platform.app.listen({ host: '127.0.0.1', port: 0 });
  const worker = new Worker(LOADER, { eval: true });
  const admin = platform.adminKey!;
  const http = async (method: string, path: string, key: string, body?: unknown, type?: string) => {
    const r = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': type ?? 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers, read by field
    const parsed = text ? (JSON.parse(text) as Record<string, any>) : {};
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return parsed;
  };
  try {
    // 1. A project, two people (four-eyes), a small trained model deployed.
    await http('POST', '/v1/projects', admin, { name: P });
    for (const name of ['alice', 'bob']) await http('POST', '/v1/users', admin, { name, kind: 'service' });
    const alice = (
      await http('POST', '/v1/keys', admin, { name: 'a', project: P, role: 'maintainer', user: 'alice' })
    ).key as string;
    const bob = (await http('POST', '/v1/keys', admin, { name: 'b', project: P, role: 'owner', user: 'bob' }))
      .key as string;
    await http('POST', `/v1/projects/${P}/datasets?name=credit`, alice, creditCsv(2_000), 'text/csv');
    // `auto` picks logistic regression for a class target.
    const job = await http('POST', `/v1/projects/${P}/training-jobs`, alice, {
      dataset: 'credit',
      target: 'default',
      model: 'credit',
    });
    for (;;) {
      const j = await http('GET', `/v1/projects/${P}/jobs/${job.id}`, alice);
      if (j.status === 'succeeded') break;
      if (j.status === 'failed') throw new Error(`training failed: ${j.error}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await http('POST', `/v1/projects/${P}/deployments`, alice, { name: 'credit', model: 'credit' });
    const model = await http('GET', `/v1/projects/${P}/deployments/credit`, alice);
    log(`model ${model.model} v${model.version} deployed`);

    // 2. The 100-rule policy, written by alice, approved and activated by bob; a decision service.
    const def = hundredRules();
    await http('POST', `/v1/projects/${P}/rulesets`, alice, { name: 'policy' });
    await http('POST', `/v1/projects/${P}/rulesets/policy/versions`, alice, def);
    await http('POST', `/v1/projects/${P}/rulesets/policy/versions/1/submit`, alice);
    await http('POST', `/v1/projects/${P}/rulesets/policy/versions/1/approve`, bob);
    await http('POST', `/v1/projects/${P}/rulesets/policy/versions/1/activate`, bob);
    await http('POST', `/v1/projects/${P}/decision-services`, alice, {
      name: 'loans',
      ruleset: 'policy',
      deployments: ['credit'],
    });
    const sample = cases(500);
    const decisionBodies = sample.map((c) => JSON.stringify({ inputs: c, businessKey: 'APP' }));
    const predictBodies = sample.map((c) =>
      JSON.stringify({ rows: [{ income: c.income, debt: c.debt, age: c.age }] }),
    );
    const first = await http(
      'POST',
      `/v1/projects/${P}/decisions/loans`,
      alice,
      JSON.parse(decisionBodies[0]!),
    );
    log(`a decision: ${first.outcome}, ${first.fired.length} rules fired`);
    const outcomes: Record<string, number> = {};
    for (const b of decisionBodies.slice(0, 200)) {
      const d = await http('POST', `/v1/projects/${P}/decisions/loans`, alice, JSON.parse(b));
      outcomes[d.outcome as string] = (outcomes[d.outcome as string] ?? 0) + 1;
    }
    log(`outcomes of 200 cases: ${JSON.stringify(outcomes)}`);

    // 3. Latency, one request at a time, predictions and decisions interleaved in rounds.
    const predictPath = `/v1/projects/${P}/deployments/credit/predict`;
    const decidePath = `/v1/projects/${P}/decisions/loans`;
    const lat = { predict: [] as number[], decide: [] as number[] };
    const rounds = 5;
    for (let r = 0; r < rounds; r++) {
      for (const [kind, path, bodies] of [
        ['predict', predictPath, predictBodies],
        ['decide', decidePath, decisionBodies],
      ] as const) {
        const res = await load(worker, {
          url,
          path,
          key: alice,
          bodies,
          concurrency: 1,
          count: Math.ceil(REQUESTS / rounds),
        });
        assert.equal(res.errors, 0, `${kind}: ${res.errors} errors`);
        lat[kind].push(...res.latencies);
      }
    }
    // 4. Throughput at 16 connections, bounded in time.
    const rps: Record<string, { rps: number; p50: number; p99: number; errors: number }> = {};
    for (const [kind, path, bodies] of [
      ['predict', predictPath, predictBodies],
      ['decide', decidePath, decisionBodies],
    ] as const) {
      const res = await load(worker, { url, path, key: alice, bodies, concurrency: 16, seconds: SECONDS });
      rps[kind] = {
        rps: res.latencies.length / res.seconds,
        p50: pct(res.latencies, 50),
        p99: pct(res.latencies, 99),
        errors: res.errors,
      };
      log(`${kind} at 16 connections: ${rps[kind]!.rps.toFixed(0)}/s`);
    }

    // 5. Where a decision's time goes, in process (no HTTP): the rules, the durable write, the whole.
    const { store, decisions, auth } = platform.services;
    const project = (await auth.findProject(P))!;
    const active = await decisions.rulesets.loadByNumber(project.id, 'policy', 1);
    const { evaluateRuleSet } = await import('../src/rules/index.js');
    const timed = async (n: number, fn: (i: number) => Promise<unknown>) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await fn(i);
        out.push(performance.now() - t0);
      }
      return out;
    };
    const factsOf = (c: Record<string, number>, i: number) => ({ ...c, pd: (i % 100) / 100 });
    const evalMs = await timed(REQUESTS, (i) =>
      evaluateRuleSet(active.compiled, factsOf(sample[i % sample.length]!, i)),
    );
    const template = (await decisions.record.search(project.id, {}, 1)).rows[0]!;
    const writeMs = await timed(REQUESTS, () => {
      const { hash: _h, ...rest } = template;
      return decisions.record.append({ ...rest, id: newId('dec') });
    });
    const engineMs = await timed(REQUESTS, (i) =>
      decisions.engine.decide(
        project.id,
        'loans',
        { inputs: sample[i % sample.length]! },
        { userId: null, keyId: null, requestId: `bench-${i}` },
      ),
    );
    log(
      `in process: rules p50 ${pct(evalMs, 50).toFixed(3)} ms, write p50 ${pct(writeMs, 50).toFixed(3)} ms`,
    );

    // 6. Backtest of the 100-rule set over 100,000 recorded decisions, seeded in bulk.
    const recorded = (await decisions.record.search(project.id, {}, 1)).rows[0]!;
    const seedStarted = performance.now();
    const many = cases(2_000);
    const base = Date.now() - SEED_DECISIONS * 10;
    for (let i = 0; i < SEED_DECISIONS; i += 1_000) {
      const rows: DecisionRow[] = [];
      for (let j = i; j < Math.min(SEED_DECISIONS, i + 1_000); j++) {
        const c = many[j % many.length]!;
        const pd = ((j * 7919) % 1000) / 1000;
        const row = {
          ...recorded,
          id: newId('dec'),
          business_key: `APP-${j}`,
          input_json: JSON.stringify(c),
          facts_json: JSON.stringify({ ...c, pd }),
          model_outputs_json: JSON.stringify({
            credit: { label: pd > 0.5 ? 1 : 0, probabilities: { 0: 1 - pd, 1: pd } },
          }),
          outcome: ['approve', 'refer', 'decline'][j % 3]!,
          created_at: new Date(base + j * 10).toISOString(),
        };
        const { hash: _h, ...rest } = row;
        rows.push({ ...rest, hash: rowHash(rest) });
      }
      await store.transaction(async (trx) => {
        for (let k = 0; k < rows.length; k += 50)
          await trx
            .insertInto('decisions')
            .values(rows.slice(k, k + 50))
            .execute();
      });
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    log(`seeded ${SEED_DECISIONS} decisions in ${seedSeconds.toFixed(1)} s`);
    await http('POST', `/v1/projects/${P}/rulesets/policy/versions`, alice, {
      ...def,
      rules: def.rules!.map((r, k) => (k % 10 === 0 ? { ...r, outcome: 'refer' } : r)),
    });
    const candidate = await decisions.rulesets.loadByNumber(project.id, 'policy', 2);
    const btStarted = performance.now();
    const bt = await decisions.backtests.run(project.id, candidate, { decisions: { last: SEED_DECISIONS } });
    const btSeconds = (performance.now() - btStarted) / 1000;
    assert.ok(bt.evaluated >= SEED_DECISIONS, `${bt.evaluated} evaluated, ${bt.skipped.count} skipped`);
    log(`backtest over ${bt.cases} decisions: ${btSeconds.toFixed(1)} s, ${bt.flips.total} flips`);

    // 7. The section.
    const p50p = pct(lat.predict, 50);
    const p50d = pct(lat.decide, 50);
    const p99p = pct(lat.predict, 99);
    const p99d = pct(lat.decide, 99);
    const ms = (x: number) => (x < 0.1 ? x.toFixed(3) : x.toFixed(2));
    const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GB, load average ${loadavg()[0]!.toFixed(1)} at the end of the run${loadavg()[0]! > cpus().length ? ' (the cores were shared with other work during the run)' : ''}`;
    const body = `
Command: \`npm run bench:decisions\` (\`node dist/bench/decisions.js --seconds ${SECONDS} --requests ${REQUESTS}\`). Machine: ${machine}.
One process: the Mass server (SQLite store, WAL) on 127.0.0.1 and the HTTP client in a worker thread
(node:http, keep-alive). The model: logistic regression trained by Mass on 2,000 rows (3 inputs),
served by ONNX Runtime. The decision: that one model + a rule set of 100 rules (thresholds over six
inputs, two derived ratios and the model's probability; 9 facts), evaluated by the rules module
(its compiled evaluator, json-rules-engine's semantics),
and the decision **recorded durably before the answer** (one INSERT per decision, committed;
decisions, like predictions, are not written to the audit log one by one: the record is their trail).

| one request at a time (${lat.predict.length} each, interleaved) | p50 ms | p99 ms |
| --- | ---: | ---: |
| bare prediction (\`POST .../deployments/credit/predict\`) | ${ms(p50p)} | ${ms(p99p)} |
| decision, 1 model + 100 rules (\`POST .../decisions/loans\`) | ${ms(p50d)} | ${ms(p99d)} |
| added by the decision | ${ms(p50d - p50p)} (${(((p50d - p50p) / p50p) * 100).toFixed(0)}%) | ${ms(p99d - p99p)} |

| 16 connections, ${SECONDS} s each | requests/s | p50 ms | p99 ms | errors |
| --- | ---: | ---: | ---: | ---: |
| bare prediction | ${rps.predict!.rps.toFixed(0)} | ${ms(rps.predict!.p50)} | ${ms(rps.predict!.p99)} | ${rps.predict!.errors} |
| decision (1 model + 100 rules, recorded) | ${rps.decide!.rps.toFixed(0)} | ${ms(rps.decide!.p50)} | ${ms(rps.decide!.p99)} | ${rps.decide!.errors} |
| ratio decisions / predictions | ${(rps.decide!.rps / rps.predict!.rps).toFixed(2)} | | | |

Where a decision's time goes, measured in process (no HTTP), ${REQUESTS} each:

| part | p50 ms | p99 ms |
| --- | ---: | ---: |
| evaluating the 100 rules (derived facts included) | ${ms(pct(evalMs, 50))} | ${ms(pct(evalMs, 99))} |
| the durable write of the record (one committed INSERT, group commit) | ${ms(pct(writeMs, 50))} | ${ms(pct(writeMs, 99))} |
| the whole decision in process (model call, facts, rules, write) | ${ms(pct(engineMs, 50))} | ${ms(pct(engineMs, 99))} |

The issue's aim: rules add less than 20% to the prediction time. The rules themselves take
${ms(pct(evalMs, 50))} ms at p50, **${((pct(evalMs, 50) / p50p) * 100).toFixed(1)}% of the bare prediction's ${ms(p50p)} ms** — ${pct(evalMs, 50) / p50p < 0.2 ? 'within the aim' : 'above the aim'}; the whole
decision's own work (model call, facts, rules, durable write) is ${ms(pct(engineMs, 50))} ms at p50. Over HTTP the decision
adds ${(((p50d - p50p) / p50p) * 100).toFixed(0)}% at p50: the rest is the request around it, not the rules. Profiled over HTTP on this machine, the largest part is the durable
INSERT itself (better-sqlite3 prepare and run, five indexes, WAL on a disk shared with other work:
its p50 is small, its mean and tail are not), then the larger request and answer. Under 16 connections the record's group commit
shares commits between concurrent decisions.

Backtest of a 100-rule candidate (every tenth rule's outcome changed) over ${SEED_DECISIONS.toLocaleString('en-US')} recorded decisions
(seeded in bulk in ${seedSeconds.toFixed(1)} s): **${btSeconds.toFixed(1)} s** (${Math.round(bt.cases / btSeconds).toLocaleString('en-US')} decisions/s; facts rebuilt from
each record, no model called), ${bt.flips.total.toLocaleString('en-US')} outcomes flip.
`;
    replaceSection('bench/RESULTS.md', 'Decisions: 100 rules over a prediction, and backtests', body);
    process.stdout.write(body);
  } finally {
    await worker.terminate();
    await platform.close();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
