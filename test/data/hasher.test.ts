// The background hasher: the same SHA-256 as node:crypto, one file after another, errors named,
// and (on Linux) a thread whose nice value is above the process's.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { BackgroundHasher, backgroundSha256 } from '../../src/data/hasher.js';

test('backgroundSha256 hashes files on a thread of lower priority', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mass-hasher-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = [0, 1, 3 << 20].map((size, i) => {
    const path = join(dir, `f${i}`);
    const bytes = Buffer.alloc(size);
    for (let k = 0; k < size; k++) bytes[k] = (k * 7 + i) & 0xff;
    writeFileSync(path, bytes);
    return { path, want: createHash('sha256').update(bytes).digest('hex') };
  });
  // Several at once: answered in order, each with its own hash.
  const got = await Promise.all(files.map((f) => backgroundSha256(f.path)));
  assert.deepEqual(
    got,
    files.map((f) => f.want),
  );
  await assert.rejects(backgroundSha256(join(dir, 'missing')), /ENOENT/);
  // The thread is still there after a failure.
  assert.equal(await backgroundSha256(files[2]!.path), files[2]!.want);
  if (existsSync('/proc/self/task')) {
    // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value.
    const nice = (tid: string) =>
      Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    const own = nice(String(process.pid));
    const values = readdirSync('/proc/self/task').map(nice);
    assert.ok(
      values.some((v) => v > own),
      `a thread below the process's priority: ${values.join(' ')}`,
    );
  }
});

test('a hashing thread that cannot start or dies: the hashes are computed on the calling thread', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mass-hasher-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'f');
  writeFileSync(path, 'hello');
  const want = createHash('sha256').update('hello').digest('hex');
  // A module that does not exist: the worker fails after it was created.
  const missing = new BackgroundHasher(new URL('file:///nonexistent/hash-worker.js'));
  assert.deepEqual(await Promise.all([missing.sha256(path), missing.sha256(path)]), [want, want]);
  assert.equal(await missing.sha256(path), want);
  // A thread that exits before answering.
  const script = join(dir, 'quits.mjs');
  writeFileSync(
    script,
    "import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => process.exit(3));",
  );
  const quits = new BackgroundHasher(pathToFileURL(script));
  assert.equal(await quits.sha256(path), want);
  assert.equal(await quits.sha256(path), want);
});
