// `mass models import` and `mass models export --zip`, run as a user runs them (a child process)
// against a real server started in this process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { strFromU8, unzipSync } from 'fflate';
import { call, startTestServer, type TestServer } from '../support/server.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'mass.js');
const MODELS = resolve(ROOT, '../shared/data/models');
const MLP = join(MODELS, 'breast_cancer_mlp.onnx');
if (!existsSync(MLP)) console.warn(`!!! ${MLP} is missing: the CLI import tests are SKIPPED`);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('mass models import / export --zip', { timeout: 60_000, skip: !existsSync(MLP) }, () => {
  let server: TestServer;
  let key: string;
  let work: string;

  const mass = (args: readonly string[]): Promise<Run> =>
    new Promise((done) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { env: { ...process.env, MASS_URL: server.url, MASS_API_KEY: key }, cwd: work, timeout: 20_000 },
        (error, stdout, stderr) =>
          done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
  const ok = (run: Run, what: string): Run => {
    assert.equal(run.code, 0, `${what} exited ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
    return run;
  };

  before(async () => {
    server = await startTestServer();
    await call(server, 'POST', '/v1/projects', { key: server.adminKey, json: { name: 'clinic' } });
    key = (
      await call(server, 'POST', '/v1/keys', {
        key: server.adminKey,
        json: { name: 'm', project: 'clinic', role: 'maintainer' },
      })
    ).body.key;
    work = await mkdtemp(join(tmpdir(), 'mass-cli-import-'));
  });
  after(async () => {
    await server.dispose();
    await rm(work, { recursive: true, force: true });
  });

  test('import with labels (one holding a comma and an accent), show, export the zip', async () => {
    const imported = ok(
      await mass([
        'models',
        'import',
        MLP,
        '-p',
        'clinic',
        '-n',
        'tumour',
        '--labels',
        'malin,bénin',
        '--description',
        'breast cancer MLP',
      ]),
      'models import',
    ).stdout;
    assert.match(imported, /Imported .*breast_cancer_mlp\.onnx as model tumour version 1 \(classification/);
    assert.match(imported, /inputs: {2}input FP32 \[-1,30\]/);
    assert.match(imported, /labels: {2}malin, bénin/);

    const shown = ok(
      await mass(['models', 'show', 'tumour', '-p', 'clinic', '--version', '1']),
      'show',
    ).stdout;
    assert.match(shown, /algorithm:\s+imported/);
    assert.match(shown, /in\s+input\s+FP32\s+\[-1,30\]/);
    assert.match(shown, /out\s+probabilities\s+FP32\s+\[-1,2\]/);

    const exported = ok(
      await mass(['models', 'export', 'tumour', '-p', 'clinic', '--version', '1', '--zip']),
      'export --zip',
    ).stdout;
    assert.match(exported, /Wrote tumour-v1\.zip/);
    const files = unzipSync(await readFile(join(work, 'tumour-v1.zip')));
    assert.ok(Buffer.from(files['model.onnx']!).equals(await readFile(MLP)));
    const card = JSON.parse(strFromU8(files['model-card.json']!));
    assert.deepEqual(card.labels, ['malin', 'bénin']);
    assert.equal(card.description, 'breast cancer MLP');
    assert.equal(card.producer.name, 'pytorch');

    ok(await mass(['models', 'export', 'tumour', '-p', 'clinic', '--version', '1']), 'export');
    assert.ok((await readFile(join(work, 'tumour-v1.onnx'))).equals(await readFile(MLP)));
  });

  test('bad call: a file that is not ONNX → exit 1 with the server’s reason', async () => {
    const csv = join(work, 'data.csv');
    await writeFile(csv, 'a,b\n1,2\n');
    const run = await mass(['models', 'import', csv, '-p', 'clinic', '-n', 'oops']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /not a valid ONNX model: the file is text/);
    const missing = await mass(['models', 'import', join(work, 'nope.onnx'), '-p', 'clinic', '-n', 'oops']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such file/);
  });
});
