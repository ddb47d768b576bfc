import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId, nowIso } from '../../src/store/metadata.js';
import { DIALECTS } from '../support/stores.js';

for (const dialect of DIALECTS) {
  describe(`MetadataStore on ${dialect.name}`, { skip: dialect.skipReason() }, () => {
    test('migrations apply, and applying them again changes nothing', async (t) => {
      const { store, dispose } = await dialect.open();
      t.after(dispose);
      await store.migrate();
      await store.ping();
      const tables = [
        'projects',
        'users',
        'api_keys',
        'datasets',
        'dataset_versions',
        'jobs',
        'models',
        'model_versions',
        'deployments',
        'sessions',
        'project_members',
        'grants',
        'audit_log',
      ] as const;
      for (const table of tables) {
        const rows = await store.db.selectFrom(table).selectAll().execute();
        assert.deepEqual(rows, [], `${table} starts empty`);
      }
    });

    test('rows round-trip with their types (integers, big sizes, nulls, unicode)', async (t) => {
      const { store, dispose } = await dialect.open();
      t.after(dispose);
      const project = {
        id: newId('prj'),
        name: 'ünïcode-✓',
        description: 'd'.repeat(5000),
        created_at: nowIso(),
      };
      await store.db.insertInto('projects').values(project).execute();
      const ds = { id: newId('ds'), project_id: project.id, name: 'a', created_at: nowIso() };
      await store.db.insertInto('datasets').values(ds).execute();
      const version = {
        id: newId('dsv'),
        dataset_id: ds.id,
        project_id: project.id,
        version: 1,
        content_hash: 'f'.repeat(64),
        format: 'csv',
        size_bytes: 5 * 2 ** 30,
        row_count: 3,
        schema_json: '{"columns":[]}',
        source: 'test',
        created_at: nowIso(),
      };
      await store.db.insertInto('dataset_versions').values(version).execute();
      assert.deepEqual(await store.db.selectFrom('projects').selectAll().executeTakeFirstOrThrow(), {
        ...project,
        max_concurrent_jobs: null,
        storage_quota_bytes: null,
      });
      const back = await store.db.selectFrom('dataset_versions').selectAll().executeTakeFirstOrThrow();
      assert.equal(back.size_bytes, 5 * 2 ** 30);
      assert.equal(typeof back.version, 'number');
      // Columns added by later migrations start empty for rows that do not set them.
      assert.deepEqual(back, {
        ...version,
        content_key: null,
        source_json: null,
        lineage_json: null,
        profile_json: null,
      });
    });

    test('bad call: a duplicate name is recognised as a unique violation', async (t) => {
      const { store, dispose } = await dialect.open();
      t.after(dispose);
      await store.db
        .insertInto('projects')
        .values({ id: newId('prj'), name: 'dup', description: '', created_at: nowIso() })
        .execute();
      const error = await store.db
        .insertInto('projects')
        .values({ id: newId('prj'), name: 'dup', description: '', created_at: nowIso() })
        .execute()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(error, 'the second insert fails');
      assert.equal(store.dialect.isUniqueViolation(error), true);
      assert.equal(store.dialect.isUniqueViolation(new Error('other')), false);
    });

    test('a failed transaction leaves nothing behind', async (t) => {
      const { store, dispose } = await dialect.open();
      t.after(dispose);
      await assert.rejects(
        store.transaction(async (trx) => {
          await trx
            .insertInto('projects')
            .values({ id: newId('prj'), name: 'half', description: '', created_at: nowIso() })
            .execute();
          throw new Error('boom after the first write');
        }),
        /boom/,
      );
      assert.equal((await store.db.selectFrom('projects').selectAll().execute()).length, 0);
    });

    test('foreign keys hold: a dataset needs its project', async (t) => {
      const { store, dispose } = await dialect.open();
      t.after(dispose);
      await assert.rejects(
        store.db
          .insertInto('datasets')
          .values({ id: newId('ds'), project_id: 'prj_missing', name: 'x', created_at: nowIso() })
          .execute(),
      );
    });
  });
}
