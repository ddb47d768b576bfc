// `mass train --algorithm auto --time-budget S` and `--search-file F`, run as a user runs them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { call, SHARED_DATA, startTestServer, type TestServer } from '../support/server.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'mass.js');
const skip = existsSync(SHARED_DATA) ? false : `${SHARED_DATA} is absent`;

describe('mass train: auto mode and search file', { skip, timeout: 60_000 }, () => {
  let server: TestServer;
  const mass = (args: readonly string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { env: { ...process.env, MASS_URL: server.url, MASS_API_KEY: server.adminKey }, timeout: 30_000 },
        (error, stdout, stderr) =>
          done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });

  before(async () => {
    server = await startTestServer();
    const key = server.adminKey!;
    await call(server, 'POST', '/v1/projects', { key, json: { name: 'p' } });
    for (const name of ['iris', 'digits'])
      await call(server, 'POST', `/v1/projects/p/datasets?name=${name}`, {
        key,
        body: readFileSync(join(SHARED_DATA, `${name}.csv`)),
        type: 'text/csv',
      });
  });
  after(() => server.dispose());

  test('--algorithm auto --time-budget 2: the picked algorithm is the version’s', async () => {
    const run = await mass([
      'train',
      '-p',
      'p',
      '-d',
      'iris',
      '-t',
      'target',
      '-m',
      'auto1',
      '--algorithm',
      'auto',
      '--time-budget',
      '2',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Trained model auto1 version 1/);
    const mv = await call(server, 'GET', '/v1/projects/p/models/auto1/versions/1', { key: server.adminKey });
    assert.equal(mv.body.metrics.auto.timeBudgetSeconds, 2);
  });

  test('--search-file: the search of the file runs; a bad file is refused before any request', async () => {
    const file = join(server.home, 'search.json');
    // Eight trials of about 0.3 s on digits: long enough for the status lines to show them.
    const l2 = [0.001, 0.01, 0.1, 0.3, 1, 3, 10, 100];
    writeFileSync(file, JSON.stringify({ strategy: 'grid', space: { l2 }, folds: 3, metric: 'accuracy' }));
    const run = await mass([
      'train',
      '-p',
      'p',
      '-d',
      'digits',
      '-t',
      'target',
      '-m',
      's1',
      '--algorithm',
      'logistic_regression',
      '--search-file',
      file,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /\] running: trial \d\/8: accuracy 0\.\d{4}; best 0\.\d{4}\n/);
    const mv = await call(server, 'GET', '/v1/projects/p/models/s1/versions/1', { key: server.adminKey });
    assert.equal(mv.body.metrics.search.trials.length, 8);

    writeFileSync(file, '{ not json');
    const bad = await mass(['train', '-p', 'p', '-d', 'iris', '-t', 'target', '--search-file', file]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /is not JSON/);
    writeFileSync(file, JSON.stringify({ space: { depth: [1] } }));
    const unknown = await mass(['train', '-p', 'p', '-d', 'iris', '-t', 'target', '--search-file', file]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /search\/space\/depth/);
  });
});
