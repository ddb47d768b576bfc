// `mass datasets import | profile | preview`, run as a user runs them (a child process) against a
// real server on 127.0.0.1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../support/server.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'mass.js');
const IRIS = resolve(ROOT, '../shared/data/iris.csv');

describe('mass datasets CLI', { timeout: 60_000 }, () => {
  let server: TestServer;
  let dir = '';
  const mass = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(
        process.execPath,
        [BIN, ...args],
        { env: { ...process.env, MASS_URL: server.url, MASS_API_KEY: server.adminKey! }, timeout: 20_000 },
        (error, stdout, stderr) =>
          done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      ),
    );

  before(async () => {
    server = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), 'mass-cli-data-'));
    assert.equal((await mass(['project', 'create', 'lab'])).code, 0);
  });
  after(async () => {
    await server.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  test('import with format and delimiter options, then profile and preview', async () => {
    const iris = await mass(['datasets', 'import', IRIS, '--project', 'lab', '--name', 'iris']);
    assert.equal(iris.code, 0, iris.stderr);
    assert.match(iris.stdout, /dataset iris version 1: 150 rows, 5 columns/);

    const semi = join(dir, 'shop.txt');
    await writeFile(semi, 'item;price;sold\npen;1.5;yes\nink;3;no\npad;2.25;yes\n');
    const shop = await mass(['datasets', 'import', semi, '-p', 'lab', '-n', 'shop', '--delimiter', ';']);
    assert.equal(shop.code, 0, shop.stderr);
    assert.match(shop.stdout, /3 rows, 3 columns/);

    const lines = join(dir, 'events.jsonl');
    await writeFile(lines, '{"kind":"a","n":1}\n{"kind":"b","n":2}\n');
    const events = await mass(['datasets', 'import', lines, '-p', 'lab', '-n', 'events']);
    assert.equal(events.code, 0, events.stderr);
    const forced = await mass(['datasets', 'import', semi, '-p', 'lab', '-n', 'shop2', '--format', 'tsv']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(
      forced.stdout,
      /3 rows, 1 columns/,
      'a tab-separated read of a ;-separated file: one column',
    );

    const profile = await mass(['datasets', 'profile', 'iris', '-p', 'lab']);
    assert.equal(profile.code, 0, profile.stderr);
    assert.match(profile.stdout, /rows:\s+150/);
    assert.match(profile.stdout, /duplicate rows:\s+1/);
    assert.match(profile.stdout, /COLUMN\s+TYPE\s+MISSING\s+DISTINCT/);
    assert.match(profile.stdout, /target\s+integer\s+0%\s+3/);
    assert.match(profile.stdout, /strongest correlations/);
    const json = await mass(['datasets', 'profile', 'iris', '-p', 'lab', '--version', '1', '--json']);
    assert.equal(JSON.parse(json.stdout).rowCount, 150);

    const preview = await mass(['datasets', 'preview', 'shop', '-p', 'lab', '--limit', '2']);
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(preview.stdout, /rows 1-2 of 3/);
    assert.match(preview.stdout, /ITEM\s+PRICE\s+SOLD/);
    assert.match(preview.stdout, /pen\s+1\.5\s+true/);
    const sample = await mass(['datasets', 'preview', 'iris', '-p', 'lab', '--sample', '5', '--seed', '3']);
    const again = await mass(['datasets', 'preview', 'iris', '-p', 'lab', '--sample', '5', '--seed', '3']);
    assert.equal(sample.code, 0, sample.stderr);
    assert.match(sample.stdout, /5 sampled rows of 150/);
    assert.equal(sample.stdout, again.stdout);
  });

  test('bad calls: an unknown format, a bad file', async () => {
    const bad = await mass(['datasets', 'import', IRIS, '-p', 'lab', '-n', 'x', '--format', 'xml']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--format must be one of/);
    const notXlsx = join(dir, 'fake.xlsx');
    await writeFile(notXlsx, 'a,b\n1,2\n');
    const refused = await mass(['datasets', 'import', notXlsx, '-p', 'lab', '-n', 'fake']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /not a zip/);
  });
});
