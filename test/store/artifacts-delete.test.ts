// The file store's list and delete: only committed blobs are listed, delete takes nothing but a
// hash and nothing outside the blob folder, and a conditional delete loses to a fresh commit.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { FsArtifactStore } from '../../src/store/fs/index.js';

const DAY = 24 * 60 * 60 * 1000;

function fixture() {
  const root = mkdtempSync(join(tmpdir(), 'mass-artifacts-'));
  return {
    root,
    store: new FsArtifactStore(root),
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

function age(store: FsArtifactStore, hash: string, ms: number): Date {
  const then = new Date(Date.now() - ms);
  utimesSync(store.pathOf(hash), then, then);
  return then;
}

async function listed(store: FsArtifactStore) {
  const out = [];
  for await (const entry of store.list()) out.push(entry);
  return out.sort((a, b) => (a.hash < b.hash ? -1 : 1));
}

test('list gives every committed blob with its size and time, and nothing else', async (t) => {
  const { root, store, dispose } = fixture();
  t.after(dispose);
  assert.deepEqual(await listed(store), [], 'an empty store (no folders yet) lists nothing');
  const a = await store.put(Buffer.from('first'));
  const b = await store.put(Buffer.from('second, longer'));
  const when = age(store, a.hash, DAY);
  const writer = await store.begin();
  await writer.write(Buffer.from('not committed'));
  // Things in the blob folder that are not blobs: a stray name, a hash in the wrong shard, a
  // delete interrupted by a crash, a folder and a symlink named like a hash.
  const shard = dirname(store.pathOf(a.hash));
  writeFileSync(join(shard, 'README'), 'x');
  const wrongShard = join(root, 'sha256', a.hash.startsWith('00') ? '11' : '00');
  mkdirSync(wrongShard, { recursive: true });
  writeFileSync(join(wrongShard, a.hash), 'x');
  writeFileSync(join(shard, `${a.hash}.0123456789ab.deleting`), 'x');
  const fake = 'c'.repeat(64);
  mkdirSync(join(root, 'sha256', 'cc', fake), { recursive: true });
  const linked = 'd'.repeat(64);
  mkdirSync(join(root, 'sha256', 'dd'), { recursive: true });
  symlinkSync('/etc/hostname', join(root, 'sha256', 'dd', linked));

  const entries = await listed(store);
  assert.deepEqual(
    entries.map((e) => [e.hash, e.bytes]),
    [
      [a.hash, 5],
      [b.hash, 14],
    ].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
  );
  const entryA = entries.find((e) => e.hash === a.hash)!;
  assert.equal(Math.round(entryA.modifiedAt.getTime() / 1000), Math.round(when.getTime() / 1000));
  await writer.abort();
});

test('delete removes a blob and is idempotent; other blobs and writers in flight are untouched', async (t) => {
  const { root, store, dispose } = fixture();
  t.after(dispose);
  const keep = await store.put(Buffer.from('keep me'));
  const drop = await store.put(Buffer.from('drop me'));
  const writer = await store.begin();
  await writer.write(Buffer.from('drop me'));
  const temps = readdirSync(join(root, 'tmp'));
  assert.equal(temps.length, 1);

  assert.equal(await store.delete(drop.hash), true);
  assert.equal(await store.has(drop.hash), false);
  assert.equal(await store.delete(drop.hash), false, 'already gone: no error');
  assert.equal(await store.has(keep.hash), true);
  assert.deepEqual(readdirSync(join(root, 'tmp')), temps, "the writer's temporary file is still there");
  // The writer of the very content that was deleted commits it again.
  const again = await writer.commit();
  assert.equal(again.hash, drop.hash);
  assert.equal((await store.get(drop.hash)).toString(), 'drop me');
});

test('bad call: delete refuses anything but a SHA-256 hex digest, and removes nothing', async (t) => {
  const { root, store, dispose } = fixture();
  t.after(dispose);
  const outside = join(dirname(root), `${root.split('/').pop()}-outside`);
  writeFileSync(outside, 'not the store');
  t.after(() => rmSync(outside, { force: true }));
  const ref = await store.put(Buffer.from('a blob'));
  const hostile = [
    '../etc/passwd',
    `../../${outside.split('/').pop()}`,
    '..%2f..%2fetc%2fpasswd',
    '..\\..\\windows',
    '/etc/passwd',
    outside,
    'a'.repeat(63) + '\0',
    ref.hash.toUpperCase(),
    ref.hash + '/',
    `${ref.hash.slice(0, 2)}/${ref.hash}`,
    'g'.repeat(64),
    '',
  ];
  for (const key of hostile) {
    await assert.rejects(store.delete(key), /SHA-256/, `refused: ${JSON.stringify(key)}`);
    await assert.rejects(store.delete(key, { unlessModifiedSince: new Date() }), /SHA-256/);
  }
  assert.ok(existsSync(outside));
  assert.equal(await store.has(ref.hash), true);
});

test('a conditional delete takes an old blob, and keeps one committed or asked for since', async (t) => {
  const { store, dispose } = fixture();
  t.after(dispose);
  const cutoff = new Date(Date.now() - DAY);
  const old = await store.put(Buffer.from('old and forgotten'));
  age(store, old.hash, 2 * DAY);
  assert.equal(await store.delete(old.hash, { unlessModifiedSince: cutoff }), true);
  assert.equal(await store.has(old.hash), false);

  // Listed as old, then the same content committed again before the delete: the commit wins.
  const recommitted = await store.put(Buffer.from('the same bytes, imported again'));
  age(store, recommitted.hash, 2 * DAY);
  await store.put(Buffer.from('the same bytes, imported again'));
  assert.equal(await store.delete(recommitted.hash, { unlessModifiedSince: cutoff }), false);
  assert.equal((await store.get(recommitted.hash)).toString(), 'the same bytes, imported again');

  // Listed as old, then found by `has` (an image import reusing a stored image): kept as well.
  const reused = await store.put(Buffer.from('an image already stored'));
  age(store, reused.hash, 2 * DAY);
  assert.equal(await store.has(reused.hash), true);
  assert.ok(statSync(store.pathOf(reused.hash)).mtimeMs > cutoff.getTime(), 'has refreshed its time');
  assert.equal(await store.delete(reused.hash, { unlessModifiedSince: cutoff }), false);
  assert.equal(await store.has(reused.hash), true);

  const absent = createHash('sha256').update('never stored').digest('hex');
  assert.equal(await store.delete(absent, { unlessModifiedSince: cutoff }), false);
  assert.equal(await store.has(absent), false);
  // Nothing left behind by the conditional deletes: only the blobs themselves in their folders.
  for (const entry of await listed(store)) {
    const names = readdirSync(dirname(store.pathOf(entry.hash)));
    assert.deepEqual(names, [entry.hash]);
  }
});
