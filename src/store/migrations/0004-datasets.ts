import type { Kysely, Migration } from 'kysely';

/** Migration 0004-datasets: the DuckDB data engine (dataset version formats, profiles, sources). */
export const migration: Migration = {
  async up(_db: Kysely<unknown>) {},
};
