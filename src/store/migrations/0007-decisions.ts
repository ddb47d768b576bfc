import type { Kysely, Migration } from 'kysely';

/**
 * Migration 0007-decisions: rule sets with immutable versions and their activations, decision
 * services, and the decision record (append-only: no code path updates or deletes a decision).
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('rulesets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      // The last version number given: numbers are never reused, even after a draft is deleted.
      .addColumn('last_version', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('rulesets_project_name', ['project_id', 'name'])
      .execute();
    // A version's definition never changes once written; only its review fields are filled in, once each.
    await db.schema
      .createTable('ruleset_versions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('ruleset_id', 'text', (c) => c.notNull().references('rulesets.id').onDelete('cascade'))
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('definition_json', 'text', (c) => c.notNull())
      .addColumn('definition_hash', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('comment', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('author_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('submitted_by', 'text')
      .addColumn('submitted_at', 'text')
      .addColumn('approved_by', 'text')
      .addColumn('approved_at', 'text')
      .addUniqueConstraint('ruleset_versions_ruleset_version', ['ruleset_id', 'version'])
      .execute();
    // Activations are appended; the active version at time T is the latest one effective at or before T.
    await db.schema
      .createTable('ruleset_activations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('ruleset_id', 'text', (c) => c.notNull().references('rulesets.id').onDelete('cascade'))
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('version_id', 'text', (c) => c.notNull().references('ruleset_versions.id'))
      .addColumn('effective_at', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('cancelled_at', 'text')
      .addUniqueConstraint('ruleset_activations_seq', ['ruleset_id', 'seq'])
      .execute();
    await db.schema
      .createTable('decision_services')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('ruleset_id', 'text', (c) => c.notNull().references('rulesets.id'))
      .addColumn('ruleset_version', 'integer')
      .addColumn('deployments_json', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('decision_services_project_name', ['project_id', 'name'])
      .execute();
    await db.schema
      .createTable('decisions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('service_id', 'text', (c) => c.notNull())
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('business_key', 'text')
      .addColumn('input_json', 'text', (c) => c.notNull())
      .addColumn('facts_json', 'text', (c) => c.notNull())
      .addColumn('model_outputs_json', 'text', (c) => c.notNull())
      .addColumn('ruleset_version_id', 'text')
      .addColumn('ruleset', 'text', (c) => c.notNull())
      .addColumn('ruleset_version', 'integer')
      .addColumn('model_versions_json', 'text', (c) => c.notNull())
      .addColumn('fired_json', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('caller_user_id', 'text')
      .addColumn('caller_key_id', 'text')
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('latency_us', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('decisions_project_created')
      .on('decisions')
      .columns(['project_id', 'created_at', 'id'])
      .execute();
    await db.schema
      .createIndex('decisions_project_business_key')
      .on('decisions')
      .columns(['project_id', 'business_key'])
      .execute();
    await db.schema
      .createIndex('decisions_project_outcome')
      .on('decisions')
      .columns(['project_id', 'outcome', 'created_at'])
      .execute();
    await db.schema
      .createIndex('decisions_project_service')
      .on('decisions')
      .columns(['project_id', 'service_id', 'created_at'])
      .execute();
    await db.schema
      .createIndex('decisions_ruleset_version')
      .on('decisions')
      .columns(['ruleset_version_id'])
      .execute();
  },
};
