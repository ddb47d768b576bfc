import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { FsArtifactStore } from '../../src/store/fs/index.js';

function fixture() {
  const root = mkdtempSync(join(tmpdir(), 'mass-artifacts-'));
  return {
    root,
    store: new FsArtifactStore(root),
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

test('put stores content under its SHA-256 and get returns it', async (t) => {
  const { store, dispose } = fixture();
  t.after(dispose);
  const bytes = new TextEncoder().encode('hello, mass');
  const ref = await store.put(bytes);
  assert.equal(ref.hash, createHash('sha256').update(bytes).digest('hex'));
  assert.equal(ref.size, bytes.length);
  assert.deepEqual(new Uint8Array(await store.get(ref.hash)), bytes);
  assert.equal(await store.has(ref.hash), true);
  // Same content again: same name, no error, still one file.
  assert.deepEqual(await store.put(bytes), ref);
});

test('a streamed write is invisible until commit, and abort leaves nothing', async (t) => {
  const { root, store, dispose } = fixture();
  t.after(dispose);
  const writer = await store.begin();
  await writer.write(Buffer.from('part one,'));
  await writer.write(Buffer.from('part two'));
  const hash = createHash('sha256').update('part one,part two').digest('hex');
  assert.equal(await store.has(hash), false, 'not visible before commit');
  const ref = await writer.commit();
  assert.equal(ref.hash, hash);
  assert.equal(await store.has(hash), true);

  const aborted = await store.begin();
  await aborted.write(Buffer.from('never to be seen'));
  await aborted.abort();
  assert.deepEqual(readdirSync(join(root, 'tmp')), [], 'no temporary file left');
  await assert.rejects(aborted.write(Buffer.from('x')), /finished/);
});

test('bad call: no spelling of a key escapes the store root', async (t) => {
  const { root, store, dispose } = fixture();
  t.after(dispose);
  const hostile = [
    '../etc/passwd',
    '..%2f..%2fetc%2fpasswd',
    '%2e%2e/%2e%2e/secret',
    '..\\..\\windows',
    '/etc/passwd',
    '//proc/self/root/etc/passwd',
    'a'.repeat(63) + '\0',
    'A'.repeat(64),
    'g'.repeat(64),
    'a'.repeat(65),
    '',
    '#'.padEnd(64, 'a'),
    `${'a'.repeat(62)}/.`,
  ];
  for (const key of hostile) {
    assert.throws(() => store.pathOf(key), /SHA-256/, `refused: ${JSON.stringify(key)}`);
    await assert.rejects(store.get(key), /SHA-256/);
    await assert.rejects(store.localPath(key), /SHA-256/);
  }
  const ok = 'ab'.repeat(32);
  assert.ok(store.pathOf(ok).startsWith(resolve(root) + sep));
});

test('concurrent writers of the same content agree', async (t) => {
  const { store, dispose } = fixture();
  t.after(dispose);
  const bytes = Buffer.alloc(1 << 20, 7);
  const refs = await Promise.all(Array.from({ length: 8 }, () => store.put(bytes)));
  assert.equal(new Set(refs.map((r) => r.hash)).size, 1);
  assert.equal((await store.get(refs[0]!.hash)).length, bytes.length);
});
