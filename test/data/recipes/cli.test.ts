// `mass recipes ...` run as a user runs it (a child process) against a real server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { call, startTestServer, type TestServer } from '../../support/server.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'mass.js');

describe('mass recipes', () => {
  let server: TestServer;
  let key: string;

  const mass = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { env: { ...process.env, MASS_URL: server.url, MASS_API_KEY: key }, cwd: ROOT, timeout: 60_000 },
        (error, stdout, stderr) =>
          done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });

  before(async () => {
    server = await startTestServer();
    key = server.adminKey!;
    await call(server, 'POST', '/v1/projects', { key, json: { name: 'shop' } });
    const csv = [
      'sku,price,qty',
      ...Array.from({ length: 50 }, (_, i) => `s${i},${i % 7 === 0 ? '' : i * 1.5},${i % 5}`),
    ].join('\n');
    const up = await call(server, 'POST', '/v1/projects/shop/datasets?name=sales', {
      key,
      body: `${csv}\n`,
      type: 'text/csv',
    });
    assert.equal(up.status, 201);
    await writeFile(
      join(server.home, 'recipe.json'),
      JSON.stringify({
        inputs: { main: { dataset: 'sales' } },
        steps: [
          { type: 'impute', column: 'price', strategy: 'mean' },
          { type: 'derive', name: 'total', expression: 'price * qty' },
        ],
      }),
    );
    await writeFile(
      join(server.home, 'bad.json'),
      JSON.stringify({
        inputs: { main: { dataset: 'sales' } },
        steps: [{ type: 'filter', expression: 'cost > 1' }],
      }),
    );
  });
  after(() => server.dispose());

  test('create, list, show, preview, run and add-version', async () => {
    const created = await mass([
      'recipes',
      'create',
      'totals',
      '-p',
      'shop',
      '--file',
      join(server.home, 'recipe.json'),
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Created recipe totals with version 1 \(2 steps/);
    const list = await mass(['recipes', 'list', '-p', 'shop']);
    assert.match(list.stdout, /totals/);
    const preview = await mass(['recipes', 'preview', 'totals', '-p', 'shop', '--limit', '3']);
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(preview.stdout, /total \(numeric\)/i);
    assert.match(preview.stdout, /50 rows/);
    const run = await mass(['recipes', 'run', 'totals', '-p', 'shop', '--output', 'sales-totals']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Made dataset sales-totals version 1 from recipe totals version 1/);
    const show = await mass(['recipes', 'show', 'totals', '-p', 'shop']);
    assert.match(show.stdout, /sales-totals@1/);
    assert.match(show.stdout, /main=sales@1/);
    const added = await mass([
      'recipes',
      'add-version',
      'totals',
      '-p',
      'shop',
      '--file',
      join(server.home, 'recipe.json'),
    ]);
    assert.match(added.stdout, /version 2/);
    const json = await mass(['recipes', 'show', 'totals', '-p', 'shop', '--version', '1', '--json']);
    assert.equal(JSON.parse(json.stdout).runs.length, 1);
  });

  test('bad call: a step naming a missing column prints the step path and exits 1', async () => {
    const res = await mass([
      'recipes',
      'add-version',
      'totals',
      '-p',
      'shop',
      '--file',
      join(server.home, 'bad.json'),
    ]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /\/steps\/0\/expression/);
    assert.match(res.stderr, /cost/);
  });
});
