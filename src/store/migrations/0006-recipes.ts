import type { Kysely, Migration } from 'kysely';

/** Migration 0006-recipes: preparation recipes, their versions and lineage. */
export const migration: Migration = {
  async up(_db: Kysely<unknown>) {},
};
