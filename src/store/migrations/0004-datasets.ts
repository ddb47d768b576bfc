import type { Kysely, Migration } from 'kysely';

/**
 * Migration 0004-datasets: the DuckDB data engine. Dataset versions gain the identity of their
 * source content (for re-import without a new version), the source as JSON (never credentials),
 * their lineage and their profile. Versions stored before keep their CSV file and NULLs here.
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('dataset_versions').addColumn('content_key', 'text').execute();
    await db.schema.alterTable('dataset_versions').addColumn('source_json', 'text').execute();
    await db.schema.alterTable('dataset_versions').addColumn('lineage_json', 'text').execute();
    await db.schema.alterTable('dataset_versions').addColumn('profile_json', 'text').execute();
  },
};
