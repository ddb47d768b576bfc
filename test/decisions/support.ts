// Helpers for the decisions tests: a real server on 127.0.0.1 with project `bank`, two people
// (alice writes rules as a maintainer, bob approves as an owner: four-eyes), an invoker and a viewer
// key; hand-made ONNX models registered straight into the registry; rule sets taken to "active".
import assert from 'node:assert/strict';
import type { RuleSetDef } from '../../src/rules/index.js';
import type { Signature } from '../../src/registry/service.js';
import type { ConfigInput } from '../../src/config/config.js';
import { onnxModel, registerVersion } from '../support/models.js';
import { call, startTestServer, waitForJob, type TestServer } from '../support/server.js';

export const P = 'bank';

export interface DecisionFixture {
  readonly server: TestServer;
  readonly admin: string;
  /** alice: maintainer (writes and submits rule sets, deploys). */
  readonly alice: string;
  /** A second key of alice, with the owner role: still alice, so still not allowed to approve her own work. */
  readonly aliceOwner: string;
  /** bob: owner (approves, activates, rolls back). */
  readonly bob: string;
  readonly invoker: string;
  readonly viewer: string;
  /** The owner key of another project. */
  readonly other: string;
}

export async function decisionFixture(options: Omit<ConfigInput, 'home'> = {}): Promise<DecisionFixture> {
  const server = await startTestServer({ deploymentRefreshMs: 0, rateLimitRps: 0, ...options });
  const admin = server.adminKey!;
  for (const name of [P, 'other'])
    assert.equal((await call(server, 'POST', '/v1/projects', { key: admin, json: { name } })).status, 201);
  for (const name of ['alice', 'bob', 'ivan', 'vera'])
    assert.equal(
      (
        await call(server, 'POST', '/v1/users', {
          key: admin,
          json: { name, password: `${name}-correct-horse-battery` },
        })
      ).status,
      201,
    );
  const key = async (user: string, project: string, role: string) => {
    const r = await call(server, 'POST', '/v1/keys', {
      key: admin,
      json: { name: `${user}-${role}`, project, role, user },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.key as string;
  };
  return {
    server,
    admin,
    alice: await key('alice', P, 'maintainer'),
    aliceOwner: await key('alice', P, 'owner'),
    bob: await key('bob', P, 'owner'),
    invoker: await key('ivan', P, 'invoker'),
    viewer: await key('vera', P, 'viewer'),
    other: await key('bob', 'other', 'owner'),
  };
}

const onnx = onnxModel;

/** x float [N,1] → y = k·x: each version answers with its own k, so an answer tells which version computed it. */
export function scaleModel(k: number): Uint8Array {
  return onnx({
    name: `scale-${k}`,
    nodes: [{ opType: 'Mul', inputs: ['x', 'k'], outputs: ['y'] }],
    initializers: [{ name: 'k', type: 'float', dims: [1], values: [k] }],
    inputs: [{ name: 'x', type: 'float', shape: ['N', 1] }],
    outputs: [{ name: 'y', type: 'float', shape: ['N', 1] }],
  });
}

/**
 * x float [N,1] → y = table[x] with a two-entry table: x = 0 or 1 (or missing) answers; any other
 * x makes ONNX Runtime fail at run time (index out of bounds), a real model failure.
 */
export function pickyModel(): Uint8Array {
  return onnx({
    name: 'picky',
    nodes: [
      { opType: 'IsNaN', inputs: ['x'], outputs: ['nan'] },
      { opType: 'Where', inputs: ['nan', 'zero', 'x'], outputs: ['x0'] },
      { opType: 'Cast', inputs: ['x0'], outputs: ['i'], attributes: [{ name: 'to', type: 'int', value: 7 }] },
      {
        opType: 'Gather',
        inputs: ['table', 'i'],
        outputs: ['y'],
        attributes: [{ name: 'axis', type: 'int', value: 0 }],
      },
    ],
    initializers: [
      { name: 'zero', type: 'float', dims: [1], values: [0] },
      { name: 'table', type: 'float', dims: [2], values: [0.25, 0.75] },
    ],
    inputs: [{ name: 'x', type: 'float', shape: ['N', 1] }],
    outputs: [{ name: 'y', type: 'float', shape: ['N', 1] }],
  });
}

export const X_SIGNATURE: Signature = { task: 'custom', inputs: [{ name: 'x', type: 'numeric' }] };

/** Registers a model version straight through the registry; returns its number. */
export function register(
  f: DecisionFixture,
  model: string,
  bytes: Uint8Array,
  signature: Signature = X_SIGNATURE,
): Promise<number> {
  return registerVersion(f.server, P, model, bytes, signature);
}

export async function deploy(
  f: DecisionFixture,
  name: string,
  model: string,
  version?: number,
): Promise<void> {
  const r = await call(f.server, 'POST', `/v1/projects/${P}/deployments`, {
    key: f.alice,
    json: { name, model, ...(version !== undefined ? { version } : {}) },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

export function api(f: DecisionFixture) {
  const u = (path: string) => `/v1/projects/${P}${path}`;
  return {
    get: (path: string, key = f.alice) => call(f.server, 'GET', u(path), { key }),
    post: (path: string, json: unknown = {}, key = f.alice) => call(f.server, 'POST', u(path), { key, json }),
    patch: (path: string, json: unknown, key = f.alice) => call(f.server, 'PATCH', u(path), { key, json }),
    del: (path: string, key = f.alice) => call(f.server, 'DELETE', u(path), { key }),
  };
}

/** alice writes and submits, bob approves and activates: returns the version number. */
export async function activeRuleSet(f: DecisionFixture, name: string, def: RuleSetDef): Promise<number> {
  const a = api(f);
  const got = await a.get(`/rulesets/${name}`);
  if (got.status === 404) assert.equal((await a.post('/rulesets', { name })).status, 201);
  const v = await a.post(`/rulesets/${name}/versions`, def);
  assert.equal(v.status, 201, JSON.stringify(v.body));
  const n = v.body.version as number;
  assert.equal((await a.post(`/rulesets/${name}/versions/${n}/submit`)).status, 200);
  const ok = await a.post(`/rulesets/${name}/versions/${n}/approve`, {}, f.bob);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const act = await a.post(`/rulesets/${name}/versions/${n}/activate`, {}, f.bob);
  assert.equal(act.status, 200, JSON.stringify(act.body));
  return n;
}

/** A small credit table: income, debt, age → default (1 when the debt ratio is high, with a little noise). */
export function creditCsv(rows = 400, seed = 7): string {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ['income,debt,age,default'];
  for (let i = 0; i < rows; i++) {
    const income = Math.round(20_000 + rand() * 130_000);
    const debt = Math.round(rand() * 80_000);
    const age = Math.round(18 + rand() * 57);
    const ratio = debt / income;
    const y = ratio + (rand() - 0.5) * 0.2 > 0.45 ? 1 : 0;
    lines.push(`${income},${debt},${age},${y}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Uploads the credit table and trains a classifier on it; returns the model version. */
export async function trainCredit(f: DecisionFixture, model = 'credit'): Promise<number> {
  const up = await call(f.server, 'POST', `/v1/projects/${P}/datasets?name=${model}-data`, {
    key: f.alice,
    body: creditCsv(),
    type: 'text/csv',
  });
  assert.ok(up.status === 201 || up.status === 200, JSON.stringify(up.body));
  const job = await call(f.server, 'POST', `/v1/projects/${P}/training-jobs`, {
    key: f.alice,
    json: { dataset: `${model}-data`, target: 'default', model },
  });
  assert.equal(job.status, 202, JSON.stringify(job.body));
  const done = await waitForJob(f.server, f.alice, P, job.body.id, 120_000);
  assert.equal(done.status, 'succeeded', done.error);
  return done.result.version as number;
}

export { call, waitForJob };
