// The artifact sweep against a real metadata store (SQLite file; PostgreSQL when the test command
// started one) and a real file store: every column that holds a hash keeps its blob, unreferenced
// blobs go once they are older than the grace period, a dry run deletes nothing, and a writer's
// temporary file is never touched.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FsArtifactStore } from '../../src/store/fs/index.js';
import { newId, nowIso, type MetadataStore } from '../../src/store/metadata.js';
import {
  COLUMN_REFERENCES,
  SweepRefused,
  sweepArtifacts,
  type ReferenceSource,
} from '../../src/store/sweep.js';
import { DIALECTS } from '../support/stores.js';

const DAY = 24 * 60 * 60 * 1000;

function fsStore() {
  const root = mkdtempSync(join(tmpdir(), 'mass-sweep-'));
  return {
    root,
    artifacts: new FsArtifactStore(root),
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Sets a blob's time `ms` in the past, as if it had been committed then. */
function age(artifacts: FsArtifactStore, hash: string, ms: number): void {
  const then = new Date(Date.now() - ms);
  utimesSync(artifacts.pathOf(hash), then, then);
}

async function blobs(artifacts: FsArtifactStore): Promise<string[]> {
  const out: string[] = [];
  for await (const b of artifacts.list()) out.push(b.hash);
  return out.sort();
}

/** One row in each table that holds a hash, each naming its own blob. */
async function referenceEverything(store: MetadataStore, hashes: Record<string, string>): Promise<void> {
  const at = nowIso();
  const project = {
    id: newId('prj'),
    name: `p-${newId('x').slice(2, 10).toLowerCase()}`,
    description: '',
    created_at: at,
  };
  await store.db.insertInto('projects').values(project).execute();
  const dataset = { id: newId('ds'), project_id: project.id, name: 'd', created_at: at };
  await store.db.insertInto('datasets').values(dataset).execute();
  await store.db
    .insertInto('dataset_versions')
    .values({
      id: newId('dsv'),
      dataset_id: dataset.id,
      project_id: project.id,
      version: 1,
      content_hash: hashes.dataset!,
      format: 'parquet',
      size_bytes: 1,
      row_count: 1,
      schema_json: '{"columns":[]}',
      source: 'upload:csv',
      created_at: at,
    })
    .execute();
  const model = {
    id: newId('mdl'),
    project_id: project.id,
    name: 'm',
    task: 'classification',
    created_at: at,
  };
  await store.db.insertInto('models').values(model).execute();
  await store.db
    .insertInto('model_versions')
    .values({
      id: newId('mv'),
      model_id: model.id,
      project_id: project.id,
      version: 1,
      artifact_hash: hashes.model!,
      size_bytes: 1,
      algorithm: 'logistic_regression',
      params_json: '{}',
      metrics_json: '{}',
      signature_json: '{}',
      dataset_version_id: null,
      job_id: null,
      code_version: 'test',
      created_at: at,
    })
    .execute();
  // A batch scoring job: its input in the payload, its CSV result in the result.
  await store.db
    .insertInto('jobs')
    .values({
      id: newId('job'),
      project_id: project.id,
      type: 'batch_predict',
      payload_json: JSON.stringify({
        projectId: project.id,
        input: { hash: hashes.jobInput, rowCount: null },
      }),
      status: 'succeeded',
      progress: 1,
      message: '',
      metrics_json: '{}',
      result_json: JSON.stringify({ rows: 3, artifactHash: hashes.jobResult, sizeBytes: 9 }),
      error: null,
      attempts: 1,
      max_attempts: 2,
      lease_owner: null,
      lease_expires_at: null,
      cancel_requested: 0,
      created_by: 'usr_test',
      created_at: at,
      started_at: at,
      finished_at: at,
      updated_at: at,
    })
    .execute();
}

for (const dialect of DIALECTS) {
  describe(`artifact sweep on ${dialect.name}`, { skip: dialect.skipReason() }, () => {
    test('referenced blobs stay, old unreferenced ones go, young unreferenced ones stay (grace)', async (t) => {
      const { store, dispose } = await dialect.open();
      t.after(dispose);
      const { artifacts, dispose: disposeFs } = fsStore();
      t.after(disposeFs);

      const put = async (text: string) => (await artifacts.put(Buffer.from(text))).hash;
      const hashes = {
        dataset: await put('dataset version file'),
        model: await put('model version file'),
        jobInput: await put('batch input csv'),
        jobResult: await put('batch result csv'),
        image: await put('an image file'),
      };
      await referenceEverything(store, hashes);
      const oldOrphan = await put('an orphan of a cancelled import');
      const youngOrphan = await put('committed a minute ago, row not inserted yet');
      for (const hash of [...Object.values(hashes), oldOrphan]) age(artifacts, hash, 3 * DAY);
      age(artifacts, youngOrphan, 60_000);
      // Image files are named inside a dataset version's file: a source outside the store reads them.
      const images: ReferenceSource = {
        name: 'image files',
        async *hashes() {
          yield hashes.image;
          yield 'not a hash';
        },
      };

      const report = await sweepArtifacts(store, artifacts, { references: [images] });
      assert.equal(report.dryRun, false);
      assert.equal(report.graceSeconds, 24 * 3600);
      assert.deepEqual(report.stored, { count: 7, bytes: report.stored.bytes });
      assert.equal(report.referenced.count, 5);
      assert.equal(report.young.count, 1);
      assert.deepEqual(report.unreferenced, { count: 1, bytes: 'an orphan of a cancelled import'.length });
      assert.deepEqual(report.deleted, report.unreferenced);
      assert.equal(report.missing, 0);
      assert.deepEqual(
        report.sources.map((s) => s.name),
        [...COLUMN_REFERENCES.map((s) => s.name), 'image files'],
      );
      assert.deepEqual(await blobs(artifacts), [...Object.values(hashes), youngOrphan].sort());
      for (const hash of Object.values(hashes))
        assert.ok((await artifacts.get(hash)).length > 0, 'a referenced blob still reads');

      // Run again: nothing left to take, and a reference to a blob that is gone is reported.
      rmSync(artifacts.pathOf(hashes.model));
      const again = await sweepArtifacts(store, artifacts, { references: [images] });
      assert.equal(again.deleted.count, 0);
      assert.equal(again.missing, 1);
    });

    test('a dry run counts what it would delete and deletes nothing', async (t) => {
      const { store, dispose } = await dialect.open();
      t.after(dispose);
      const { artifacts, dispose: disposeFs } = fsStore();
      t.after(disposeFs);
      // One referenced blob: against a database that references nothing stored, the sweep refuses.
      const kept = (await artifacts.put(Buffer.from('a dataset version'))).hash;
      age(artifacts, kept, 2 * DAY);
      await referenceEverything(store, { dataset: kept, model: kept, jobInput: kept, jobResult: kept });
      const orphans = [];
      for (const text of ['one', 'two', 'three']) {
        const hash = (await artifacts.put(Buffer.from(text))).hash;
        age(artifacts, hash, 2 * DAY);
        orphans.push(hash);
      }
      const before = await blobs(artifacts);
      const report = await sweepArtifacts(store, artifacts, { references: [], dryRun: true });
      assert.equal(report.dryRun, true);
      assert.deepEqual(report.unreferenced, { count: 3, bytes: 3 + 3 + 5 });
      assert.deepEqual(report.deleted, { count: 0, bytes: 0 });
      assert.deepEqual(await blobs(artifacts), before);

      // The grace period is the caller's: three days keeps them, one hour takes them.
      const patient = await sweepArtifacts(store, artifacts, { references: [], graceMs: 3 * DAY });
      assert.equal(patient.young.count, 3);
      assert.equal(patient.deleted.count, 0);
      const eager = await sweepArtifacts(store, artifacts, { references: [], graceMs: 60 * 60 * 1000 });
      assert.deepEqual(eager.deleted, { count: 3, bytes: 11 });
      assert.deepEqual(await blobs(artifacts), [kept]);
    });

    test("an in-flight writer's temporary file is not touched, and its commit still lands", async (t) => {
      const { store, dispose } = await dialect.open();
      t.after(dispose);
      const { root, artifacts, dispose: disposeFs } = fsStore();
      t.after(disposeFs);
      const writer = await artifacts.begin();
      await writer.write(Buffer.from('a long import, still streaming'));
      const [temp] = readdirSync(join(root, 'tmp'));
      assert.ok(temp, 'the writer has a temporary file');
      const then = new Date(Date.now() - 10 * DAY);
      utimesSync(join(root, 'tmp', temp), then, then);

      const report = await sweepArtifacts(store, artifacts, { references: [], graceMs: 0 });
      assert.equal(report.stored.count, 0, 'temporary files are not blobs');
      assert.ok(existsSync(join(root, 'tmp', temp)));
      await writer.write(Buffer.from(', and done'));
      const ref = await writer.commit();
      assert.equal((await artifacts.get(ref.hash)).toString(), 'a long import, still streaming, and done');
      // Committed just now: young, whatever the age of its first bytes.
      const after = await sweepArtifacts(store, artifacts, { references: [] });
      assert.equal(after.young.count, 1);
      assert.equal(after.deleted.count, 0);
    });

    test('bad call: a database that references none of the stored blobs is refused, nothing deleted', async (t) => {
      const { store, dispose } = await dialect.open();
      t.after(dispose);
      const { artifacts, dispose: disposeFs } = fsStore();
      t.after(disposeFs);
      const stray = (await artifacts.put(Buffer.from('a blob of another installation'))).hash;
      age(artifacts, stray, 30 * DAY);
      // 1. An empty database (a wrong --database-url, a fresh one): every blob looks unreferenced.
      for (const dryRun of [false, true])
        await assert.rejects(
          sweepArtifacts(store, artifacts, { references: [], dryRun }),
          (e: Error) => e instanceof SweepRefused && /references no stored file at all/.test(e.message),
        );
      // 2. A database whose references are all absent from this store: another installation's.
      const elsewhere = (name: string) => createHash('sha256').update(name).digest('hex');
      await referenceEverything(store, {
        dataset: elsewhere('d'),
        model: elsewhere('m'),
        jobInput: elsewhere('i'),
        jobResult: elsewhere('r'),
      });
      await assert.rejects(
        sweepArtifacts(store, artifacts, { references: [] }),
        (e: Error) => e instanceof SweepRefused && /none of the 2 files/.test(e.message),
      );
      assert.deepEqual(await blobs(artifacts), [stray]);
    });

    test('bad call: a grace period that is not a duration', async (t) => {
      const { store, dispose } = await dialect.open();
      t.after(dispose);
      const { artifacts, dispose: disposeFs } = fsStore();
      t.after(disposeFs);
      for (const graceMs of [-1, Number.NaN, Number.POSITIVE_INFINITY])
        await assert.rejects(sweepArtifacts(store, artifacts, { references: [], graceMs }), /grace period/);
    });
  });
}

test('a reference source that fails stops the sweep before anything is deleted', async (t) => {
  const dialect = DIALECTS[0]!; // the sweep's own logic: one dialect is enough
  const { store, dispose } = await dialect.open();
  t.after(dispose);
  const { artifacts, dispose: disposeFs } = fsStore();
  t.after(disposeFs);
  const hash = (await artifacts.put(Buffer.from('an image whose dataset file cannot be read'))).hash;
  age(artifacts, hash, 5 * DAY);
  const broken: ReferenceSource = {
    name: 'image files',
    // eslint-disable-next-line require-yield
    async *hashes() {
      throw new Error('cannot read the version file');
    },
  };
  await assert.rejects(sweepArtifacts(store, artifacts, { references: [broken] }), /cannot read/);
  assert.deepEqual(await blobs(artifacts), [hash]);
});

for (const dialect of DIALECTS)
  test(
    `references are read a page at a time: more rows than a page, all read (${dialect.name})`,
    { skip: dialect.skipReason() },
    async (t) => {
      const { store, dispose } = await dialect.open();
      t.after(dispose);
      const { artifacts, dispose: disposeFs } = fsStore();
      t.after(disposeFs);
      const project = { id: newId('prj'), name: 'paged', description: '', created_at: nowIso() };
      await store.db.insertInto('projects').values(project).execute();
      const dataset = { id: newId('ds'), project_id: project.id, name: 'd', created_at: nowIso() };
      await store.db.insertInto('datasets').values(dataset).execute();
      // Hashes only (no blobs) except three, so that the test does not write 2,345 files.
      const hashes = Array.from({ length: 2_345 }, (_, i) =>
        createHash('sha256').update(`version ${i}`).digest('hex'),
      );
      const stored = [0, 1_500, 2_344].map((i) => hashes[i]!);
      for (const [i, hash] of stored.entries()) {
        assert.equal((await artifacts.put(Buffer.from(`version ${[0, 1_500, 2_344][i]}`))).hash, hash);
        age(artifacts, hash, 2 * DAY);
      }
      const rows = hashes.map((hash, i) => ({
        id: newId('dsv'),
        dataset_id: dataset.id,
        project_id: project.id,
        version: i + 1,
        content_hash: hash,
        format: 'parquet',
        size_bytes: 1,
        row_count: 1,
        schema_json: '{"columns":[]}',
        source: 'upload:csv',
        created_at: nowIso(),
      }));
      for (let i = 0; i < rows.length; i += 500)
        await store.db
          .insertInto('dataset_versions')
          .values(rows.slice(i, i + 500))
          .execute();
      const report = await sweepArtifacts(store, artifacts, { references: [] });
      assert.equal(report.sources[0]!.hashes, hashes.length);
      assert.equal(report.referenced.count, 3);
      assert.equal(report.deleted.count, 0);
      assert.equal(report.missing, hashes.length - 3);
    },
  );
