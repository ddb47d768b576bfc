// `mass artifacts sweep` run as a user runs it (a child process): through the server, then
// offline on the data folder with the server stopped.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, utimesSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/config.js';
import { startPlatform, type Platform } from '../../src/platform.js';
import { FsArtifactStore } from '../../src/store/fs/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'mass.js');
const IRIS = resolve(ROOT, '../shared/data/iris.csv');
const DAY = 24 * 60 * 60 * 1000;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function mass(args: readonly string[], env: Record<string, string | undefined>): Promise<Run> {
  const all: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [k, v] of Object.entries(all)) if (v === undefined) delete all[k];
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: all, cwd: ROOT, timeout: 30_000 },
      (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

function ok(run: Run, what: string): Run {
  assert.equal(run.code, 0, `${what} exited ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return run;
}

/** Whether a blob is there, without `has` (which would refresh its time and so protect it). */
const stored = (artifacts: FsArtifactStore, hash: string) => existsSync(artifacts.pathOf(hash));

/** An unreferenced blob, written `ms` ago. */
async function orphan(artifacts: FsArtifactStore, text: string, ms: number): Promise<string> {
  const { hash } = await artifacts.put(Buffer.from(text));
  const then = new Date(Date.now() - ms);
  utimesSync(artifacts.pathOf(hash), then, then);
  return hash;
}

describe('mass artifacts sweep', { timeout: 90_000 }, () => {
  let home = '';
  let platform: Platform | undefined;
  let env: Record<string, string | undefined> = {};

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'mass-cli-sweep-'));
    platform = await startPlatform(loadConfig({ home, port: 0, logLevel: 'silent' }, {}));
    const url = await platform.app.listen({ host: '127.0.0.1', port: 0 });
    env = { MASS_URL: url, MASS_API_KEY: platform.adminKey };
  });
  after(async () => {
    await platform?.close();
    await rm(home, { recursive: true, force: true });
  });

  test('through the server: a dry run, then the sweep; a project key is refused', async () => {
    const artifacts = platform!.services.artifacts as FsArtifactStore;
    ok(await mass(['project', 'create', 'lab'], env), 'project');
    ok(await mass(['dataset', 'import', IRIS, '--project', 'lab', '--name', 'iris'], env), 'import');
    const old = await orphan(artifacts, 'an orphan', 2 * DAY);
    const dry = JSON.parse(
      ok(await mass(['artifacts', 'sweep', '--dry-run', '--json'], env), 'dry run').stdout,
    );
    assert.equal(dry.dryRun, true);
    assert.deepEqual(dry.unreferenced, { count: 1, bytes: 9 });
    assert.equal(stored(artifacts, old), true);

    const human = ok(await mass(['artifacts', 'sweep'], env), 'sweep').stdout;
    assert.match(
      human,
      /^Deleted 1 file \(9 B\): referenced by nothing and last written before .* \(grace 24 h\)\./,
    );
    assert.equal(stored(artifacts, old), false);

    const key = JSON.parse(
      ok(
        await mass(['keys', 'create', '--name', 'o', '--project', 'lab', '--role', 'owner', '--json'], env),
        'key',
      ).stdout,
    ).key as string;
    const refused = await mass(['artifacts', 'sweep', '--dry-run'], { ...env, MASS_API_KEY: key });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /site admin/);

    const usage = await mass(['artifacts', 'sweep', '--grace-hours', 'soon'], env);
    assert.equal(usage.code, 2, usage.stderr);
  });

  test('offline with --home: the same sweep on the data folder, the server stopped', async () => {
    await platform!.close();
    platform = undefined;
    const artifacts = new FsArtifactStore(join(home, 'artifacts'));
    const hour = await orphan(artifacts, 'two hours old', 2 * 60 * 60 * 1000);
    const day = await orphan(artifacts, 'two days old', 2 * DAY);
    const first = JSON.parse(
      ok(await mass(['artifacts', 'sweep', '--home', home, '--json'], {}), 'offline').stdout,
    );
    assert.deepEqual(first.deleted, { count: 1, bytes: 12 });
    assert.equal(first.young.count, 1);
    assert.equal(stored(artifacts, day), false);
    assert.equal(stored(artifacts, hour), true);
    const second = JSON.parse(
      ok(
        await mass(['artifacts', 'sweep', '--home', home, '--grace-hours', '1', '--json'], {}),
        'offline, 1 h',
      ).stdout,
    );
    assert.deepEqual(second.deleted, { count: 1, bytes: 13 });
    assert.equal(stored(artifacts, hour), false);

    const elsewhere = await mkdtemp(join(tmpdir(), 'mass-cli-sweep-empty-'));
    try {
      const empty = await mass(['artifacts', 'sweep', '--home', elsewhere], {});
      assert.equal(empty.code, 1);
      assert.match(empty.stderr, /^mass: no database at sqlite:.*mass\.db/);
      assert.ok(!existsSync(join(elsewhere, 'mass.db')), 'no database was created');
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }

    const lonely = await mass(['artifacts', 'sweep', '--database-url', 'sqlite:/nowhere.db'], env);
    assert.equal(lonely.code, 1);
    assert.match(lonely.stderr, /--database-url needs --home/);
  });
});
