import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/config.js';
import { startPlatform, type Platform } from '../../src/platform.js';

// The `mass` command run as a user runs it, a child process, against a real server started in-process.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'mass.js');
const IRIS = resolve(ROOT, '../shared/data/iris.csv');
const FEATURES = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let platform: Platform | undefined;
let url = '';
let adminKey = '';
let home = '';

/** Runs `node bin/mass.js ...args` without blocking this process's event loop (the server lives in it). */
function mass(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<Run> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    MASS_URL: url,
    MASS_API_KEY: adminKey,
    ...options.env,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env, cwd: options.cwd ?? ROOT, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

function ok(run: Run, what: string): Run {
  assert.equal(run.code, 0, `${what} exited ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return run;
}

/** A port nothing listens on: bound by the OS, then released. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      );
    });
  });
}

describe('mass CLI against a real server', { timeout: 60_000 }, () => {
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'mass-cli-'));
    platform = await startPlatform(loadConfig({ home, port: 0, logLevel: 'silent' }, {}));
    url = await platform.app.listen({ host: '127.0.0.1', port: 0 });
    assert.ok(platform.adminKey, 'a fresh home creates the admin key');
    adminKey = platform.adminKey;
  });

  after(async () => {
    await platform?.close();
    await rm(home, { recursive: true, force: true });
  });

  test('the whole flow: project, dataset, train, registry, deploy, predict, export, keys', async (t) => {
    if (!existsSync(IRIS)) {
      console.warn(`!!! SKIPPED the CLI flow: ${IRIS} is missing`);
      t.skip(`${IRIS} is missing`);
      return;
    }
    const work = await mkdtemp(join(tmpdir(), 'mass-cli-work-'));
    t.after(() => rm(work, { recursive: true, force: true }));

    // 1. A project.
    ok(await mass(['project', 'create', 'flowers', '--description', 'the iris data']), 'project create');
    const projects = JSON.parse(ok(await mass(['project', 'list', '--json']), 'project list').stdout) as {
      items: { name: string }[];
    };
    assert.deepEqual(
      projects.items.map((p) => p.name),
      ['flowers'],
    );

    // 2. The dataset, streamed from the file; its schema as a table.
    const imported = ok(
      await mass(['dataset', 'import', IRIS, '--project', 'flowers', '--name', 'iris']),
      'dataset import',
    );
    assert.match(imported.stdout, /dataset iris version 1: 150 rows, 5 columns/);
    const shown = ok(await mass(['dataset', 'show', 'iris', '--project', 'flowers']), 'dataset show').stdout;
    assert.match(shown, /COLUMN\s+TYPE\s+MISSING\s+DISTINCT\s+MIN\s+MAX/);
    assert.match(shown, /petal width \(cm\)\s+numeric\s+0\s+22\s+0\.1\s+2\.5/);

    // 3. Training waits for the job, then names the model and its accuracy.
    const trained = ok(
      await mass([
        'train',
        '--project',
        'flowers',
        '--dataset',
        'iris',
        '--target',
        'target',
        '--model',
        'iris-clf',
      ]),
      'train',
    );
    assert.match(trained.stdout, /Trained model iris-clf version 1/);
    const accuracy = /accuracy:\s+([\d.]+)/.exec(trained.stdout);
    assert.ok(accuracy, `no accuracy in: ${trained.stdout}`);
    assert.ok(Number(accuracy[1]) > 0.8, `accuracy ${accuracy[1]}`);
    assert.match(trained.stderr, /succeeded/, 'a status line on stderr when it is not a terminal');

    // 4. The registry.
    const models = ok(await mass(['models', 'list', '--project', 'flowers']), 'models list').stdout;
    assert.match(models, /iris-clf\s+classification\s+1/);
    assert.match(
      ok(await mass(['models', 'show', 'iris-clf', '--project', 'flowers', '--version', '1']), 'models show')
        .stdout,
      /petal length \(cm\)\s+numeric/,
    );

    // 5. Deploy and predict, from JSON and from CSV.
    assert.match(
      ok(await mass(['deploy', 'iris', '--project', 'flowers', '--model', 'iris-clf']), 'deploy').stdout,
      /Deployed model iris-clf version 1 as iris/,
    );
    assert.match(
      ok(await mass(['deployments', 'list', '--project', 'flowers']), 'deployments list').stdout,
      /iris\s+iris-clf\s+1\s+yes/,
    );
    const setosa = Object.fromEntries(FEATURES.map((f, i) => [f, [5.1, 3.5, 1.4, 0.2][i]]));
    const one = ok(
      await mass(['predict', 'iris', '--project', 'flowers', '--rows', JSON.stringify(setosa)]),
      'predict --rows',
    ).stdout;
    assert.match(one, /^0: 0 \(p=0\.\d+\)\n$/);
    const asJson = JSON.parse(
      ok(
        await mass([
          'predict',
          'iris',
          '--project',
          'flowers',
          '--json',
          '--rows',
          JSON.stringify([setosa, setosa]),
        ]),
        'predict --json',
      ).stdout,
    ) as {
      predictions: unknown[];
    };
    assert.equal(asJson.predictions.length, 2);
    const csv = join(work, 'rows.csv');
    await writeFile(
      csv,
      `${FEATURES.map((f) => `"${f}"`).join(',')}\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n5.9,,4.2,1.5\n`,
    );
    const fromCsv = ok(await mass(['predict', 'iris', '--project', 'flowers', '--csv', csv]), 'predict --csv')
      .stdout.trim()
      .split('\n');
    assert.equal(fromCsv.length, 3, 'one line per row, the empty cell sent as a missing value');
    assert.match(fromCsv[0]!, /^0: 0 /);
    assert.match(fromCsv[1]!, /^1: 2 /);

    // 6. Export: the default file name, written whole (no temp file left), an ONNX protobuf.
    const exported = ok(
      await mass(['models', 'export', 'iris-clf', '--project', 'flowers', '--version', '1'], { cwd: work }),
      'models export',
    );
    assert.match(exported.stdout, /Wrote iris-clf-v1\.onnx/);
    const onnx = await readFile(join(work, 'iris-clf-v1.onnx'));
    assert.ok(onnx.length > 100, `the file has ${onnx.length} bytes`);
    assert.equal(onnx[0], 0x08, 'starts with ModelProto field 1 (ir_version, varint)');
    assert.ok(onnx.includes(Buffer.from('mass')), 'names its producer');
    assert.deepEqual((await readdir(work)).sort(), ['iris-clf-v1.onnx', 'rows.csv']);

    // 7. Keys: created once, listed without the key itself, usable for predictions.
    const created = ok(
      await mass(['keys', 'create', '--name', 'ci', '--role', 'invoker', '--project', 'flowers']),
      'keys create',
    ).stdout;
    assert.match(created, /not shown again/);
    const key = /(mass_\S+)/.exec(created)?.[1];
    assert.ok(key, `no key in: ${created}`);
    const listed = ok(await mass(['keys', 'list', '--project', 'flowers']), 'keys list').stdout;
    assert.match(listed, /ci\s+invoker\s+flowers/);
    assert.ok(!listed.includes(key), 'the key itself is never listed');
    ok(
      await mass(['predict', 'iris', '--project', 'flowers', '--rows', JSON.stringify(setosa)], {
        env: { MASS_API_KEY: key },
      }),
      'predict with the invoker key',
    );

    // 8. Bad call: a column the model does not know, refused with its path.
    const wrong = await mass([
      'predict',
      'iris',
      '--project',
      'flowers',
      '--rows',
      JSON.stringify({ ...setosa, colour: 'blue' }),
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^mass: /);
    assert.match(wrong.stderr, /\/rows\/0\/colour: is not an input of this model/);
    assert.equal(wrong.stdout, '');

    // 9. Jobs: listed, and a finished one cannot be cancelled.
    const jobs = JSON.parse(
      ok(await mass(['jobs', 'list', '--project', 'flowers', '--json']), 'jobs list').stdout,
    ) as { items: { id: string; status: string }[] };
    assert.equal(jobs.items[0]?.status, 'succeeded');
    const cancel = await mass(['jobs', 'cancel', jobs.items[0]!.id, '--project', 'flowers']);
    assert.equal(cancel.code, 1);
    assert.match(cancel.stderr, /already succeeded/);
  });

  test('bad call: no key says to set MASS_API_KEY', async () => {
    const run = await mass(['project', 'list'], { env: { MASS_API_KEY: undefined } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /MASS_API_KEY/);
  });

  test('bad call: an unknown project gets the server message', async () => {
    const run = await mass(['models', 'list', '--project', 'no-such-project']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^mass: project "no-such-project" was not found\n/);
  });

  test('bad call: a wrong key is refused by the server', async () => {
    const run = await mass(['project', 'list'], { env: { MASS_API_KEY: 'mass_not_a_real_key' } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^mass: /);
    assert.match(run.stderr, /MASS_API_KEY/);
  });

  test('bad call: an unreachable server is named with its URL', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const run = await mass(['project', 'list'], { env: { MASS_URL: dead } });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(`cannot reach the Mass server at ${dead.replace(/\./g, '\\.')}: connection refused`),
    );
  });

  test('bad call: unknown options and missing arguments are usage errors', async () => {
    const unknown = await mass(['project', 'list', '--frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--frobnicate'/);
    const missing = await mass(['train', '--project', 'p', '--dataset', 'd']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--target/);
    const rows = await mass(['predict', 'd', '--project', 'p', '--rows', '{not json']);
    assert.equal(rows.code, 1);
    assert.match(rows.stderr, /--rows is not valid JSON/);
  });
});
