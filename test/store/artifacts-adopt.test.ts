// adopt(): a scratch file becomes a blob by a hard link (not a second copy of its bytes), or by a
// copy from another filesystem; the caller may read its file meanwhile; abort leaves nothing.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FsArtifactStore } from '../../src/store/fs/index.js';

function fixture() {
  const root = mkdtempSync(join(tmpdir(), 'mass-adopt-'));
  const scratch = join(root, 'scratch');
  const store = new FsArtifactStore(join(root, 'artifacts'));
  return { root, scratch, store, dispose: () => rmSync(root, { recursive: true, force: true }) };
}

test('an adopted file is committed under its SHA-256 without being copied', async (t) => {
  const { root, store, dispose } = fixture();
  t.after(dispose);
  const bytes = randomBytes(3 << 20);
  const path = join(root, 'data.parquet');
  writeFileSync(path, bytes);
  const writer = await store.adopt(path);
  // The caller's name still reads the file before the commit (a profile reading it meanwhile).
  assert.deepEqual(readFileSync(path), bytes);
  await assert.rejects(writer.write(new Uint8Array(1)), /adopted file takes no more bytes/);
  const ref = await writer.commit();
  assert.equal(ref.hash, createHash('sha256').update(bytes).digest('hex'));
  assert.equal(ref.size, bytes.length);
  const blob = store.pathOf(ref.hash);
  // One inode, two names, until the caller removes its scratch file.
  assert.equal(statSync(blob).ino, statSync(path).ino);
  assert.equal(statSync(blob).mode & 0o777, 0o600);
  rmSync(path);
  assert.deepEqual(await store.get(ref.hash), bytes);
  assert.deepEqual(readdirSync(join(root, 'artifacts', 'tmp')), []);
});

test('abort drops the link and leaves the caller its file', async (t) => {
  const { root, store, dispose } = fixture();
  t.after(dispose);
  const path = join(root, 'data.parquet');
  writeFileSync(path, 'content');
  const writer = await store.adopt(path);
  await writer.abort();
  assert.equal(readFileSync(path, 'utf8'), 'content');
  assert.deepEqual(readdirSync(join(root, 'artifacts', 'tmp')), []);
  assert.equal(existsSync(join(root, 'artifacts', 'sha256')), false);
});

test('a file on another filesystem is copied in', async (t) => {
  const { store, dispose } = fixture();
  t.after(dispose);
  const other = '/dev/shm';
  if (!existsSync(other) || statSync(other).dev === statSync(tmpdir()).dev) {
    t.skip(`needs ${other} on another filesystem than ${tmpdir()}`);
    return;
  }
  const dir = mkdtempSync(join(other, 'mass-adopt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'data.parquet');
  const bytes = randomBytes(100_000);
  writeFileSync(path, bytes);
  const ref = await (await store.adopt(path)).commit();
  assert.notEqual(statSync(store.pathOf(ref.hash)).ino, statSync(path).ino);
  assert.deepEqual(await store.get(ref.hash), bytes);
});

test('adopting a file that does not exist fails and leaves nothing', async (t) => {
  const { root, store, dispose } = fixture();
  t.after(dispose);
  await assert.rejects(store.adopt(join(root, 'missing.parquet')), { code: 'ENOENT' });
  assert.deepEqual(readdirSync(join(root, 'artifacts', 'tmp')), []);
});
