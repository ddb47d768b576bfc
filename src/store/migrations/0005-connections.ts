import type { Kysely, Migration } from 'kysely';

/** Migration 0005-connections: saved database connections and other sources. */
export const migration: Migration = {
  async up(_db: Kysely<unknown>) {},
};
