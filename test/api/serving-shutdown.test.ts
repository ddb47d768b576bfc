// Graceful shutdown of a real server process: on SIGTERM it stops accepting, finishes the
// predictions in flight, then exits 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { scale } from '../serving/graphs.js';
import { call } from '../support/server.js';

test('SIGTERM: stop accepting, finish in-flight requests, exit 0', { timeout: 60_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'mass-shutdown-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    MASS_LOG_LEVEL: 'silent',
    MASS_DEPLOYMENT_REFRESH_MS: '0',
  };
  const child = spawn(
    process.execPath,
    ['dist/src/main.js', '--host', '127.0.0.1', '--port', '0', '--home', home],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(home, { recursive: true, force: true });
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!/listening on (http:\/\/\S+)/.test(out)) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `the server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const server = { url: /listening on (http:\/\/[^\s(]+)/.exec(out)![1]! };
  const key = /(mass_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43})/.exec(out)![1]!;

  // 1. A deployment whose requests wait 400 ms in its batching queue: easy to catch in flight.
  assert.equal((await call(server, 'POST', '/v1/projects', { key, json: { name: 'p' } })).status, 201);
  const imported = await call(server, 'POST', '/v1/projects/p/models/twice/versions?task=custom', {
    key,
    body: Buffer.from(scale(2)),
    type: 'application/octet-stream',
  });
  assert.equal(imported.status, 201, JSON.stringify(imported.body));
  const d = await call(server, 'POST', '/v1/projects/p/deployments', {
    key,
    json: { name: 'twice', model: 'twice', batching: { maxBatchSize: 100, maxWaitUs: 400_000 } },
  });
  assert.equal(d.status, 201, JSON.stringify(d.body));

  // 2. Three requests in flight, then SIGTERM.
  const body = (v: number) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [v] }] });
  const inFlight = [1, 2, 3].map((v) =>
    call(server, 'POST', '/v2/models/p.twice/infer', { key, json: body(v) }),
  );
  await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 50));

  // 3. New work is refused (connection refused, or 503 on a kept-alive connection).
  const late = await call(server, 'POST', '/v2/models/p.twice/infer', { key, json: body(9) }).catch(
    (e: unknown) => e as Error,
  );
  if (!(late instanceof Error)) assert.equal(late.status, 503, JSON.stringify(late.body));

  // 4. The requests in flight are answered in full, then the process exits cleanly.
  const answers = await Promise.all(inFlight);
  answers.forEach((r, i) => {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.outputs[0].data[0], 2 * (i + 1));
  });
  const code = await Promise.race([
    exited,
    new Promise((r) => setTimeout(() => r('timeout'), 10_000).unref()),
  ]);
  assert.equal(code, 0, out);
});
