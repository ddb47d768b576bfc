// Helpers for the serving tests: a real server on 127.0.0.1 with a project, keys, trained and
// imported models.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigInput } from '../../src/config/config.js';
import type { Signature } from '../../src/registry/service.js';
import { registerVersion } from '../support/models.js';
import { call, SHARED_DATA, startTestServer, waitForJob, type TestServer } from '../support/server.js';

export const MODELS = join(SHARED_DATA, 'models');

export interface ServingFixture {
  readonly server: TestServer;
  readonly admin: string;
  /** A maintainer key of project `lab`. */
  readonly key: string;
  /** An invoker key of project `lab`: may predict and read deployments only. */
  readonly invoker: string;
  /** The owner key of project `other`. */
  readonly other: string;
}

export async function servingFixture(options: Omit<ConfigInput, 'home'> = {}): Promise<ServingFixture> {
  const server = await startTestServer({ deploymentRefreshMs: 0, ...options });
  const admin = server.adminKey!;
  for (const name of ['lab', 'other'])
    assert.equal((await call(server, 'POST', '/v1/projects', { key: admin, json: { name } })).status, 201);
  const key = async (project: string, role: string) =>
    (await call(server, 'POST', '/v1/keys', { key: admin, json: { name: role, project, role } })).body
      .key as string;
  return {
    server,
    admin,
    key: await key('lab', 'maintainer'),
    invoker: await key('lab', 'invoker'),
    other: await key('other', 'owner'),
  };
}

/** Uploads a CSV and trains a model on it through a job; returns the version number. */
export async function train(
  f: ServingFixture,
  dataset: string,
  csv: string | Buffer,
  target: string,
  model: string,
  extra: Record<string, unknown> = {},
): Promise<number> {
  const up = await call(f.server, 'POST', `/v1/projects/lab/datasets?name=${dataset}`, {
    key: f.key,
    body: csv,
    type: 'text/csv',
  });
  assert.ok(up.status === 201 || up.status === 200, JSON.stringify(up.body));
  const job = await call(f.server, 'POST', '/v1/projects/lab/training-jobs', {
    key: f.key,
    json: { dataset, target, model, ...extra },
  });
  assert.equal(job.status, 202, JSON.stringify(job.body));
  const done = await waitForJob(f.server, f.key, 'lab', job.body.id);
  assert.equal(done.status, 'succeeded', done.error);
  return done.result.version as number;
}

export function irisCsv(): Buffer {
  return readFileSync(join(SHARED_DATA, 'iris.csv'));
}

/**
 * Registers a model version straight through the registry (no probe process): for tests that
 * need many versions or a hand-made graph. `signature` defaults to a custom model.
 */
export function register(
  f: ServingFixture,
  project: string,
  model: string,
  bytes: Uint8Array,
  signature: Signature = { task: 'custom', inputs: [] },
): Promise<number> {
  return registerVersion(f.server, project, model, bytes, signature);
}

export function sharedModel(name: string): Buffer {
  return readFileSync(join(MODELS, `${name}.onnx`));
}

export function golden(name: string): { inputs: Record<string, unknown>; outputs: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(MODELS, `${name}.golden.json`), 'utf8'));
}

export async function deploy(
  f: ServingFixture,
  body: Record<string, unknown>,
  key = f.key,
): Promise<{ status: number; body: any }> {
  return call(f.server, 'POST', '/v1/projects/lab/deployments', { key, json: body });
}

export const IRIS_COLUMNS = [
  'sepal length (cm)',
  'sepal width (cm)',
  'petal length (cm)',
  'petal width (cm)',
];

/** One V2 tensor per column of the iris model, for `rows` rows of four numbers. */
export function irisTensors(
  rows: number[][],
): { name: string; datatype: string; shape: number[]; data: number[] }[] {
  return IRIS_COLUMNS.map((name, j) => ({
    name,
    datatype: 'FP32',
    shape: [rows.length, 1],
    data: rows.map((r) => r[j]!),
  }));
}

export function flat(a: unknown): number[] {
  return (Array.isArray(a) ? a.flat(Infinity) : [a]) as number[];
}

export function close(a: readonly number[], b: readonly number[], tol = 1e-5): boolean {
  return (
    a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) <= tol * Math.max(1, Math.abs(b[i]!)))
  );
}

export { call };
