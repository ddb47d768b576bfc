import type { Kysely, Migration } from 'kysely';

/** Migration 0005-connections: saved database connections of a project (passwords encrypted). */
export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('connections')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('host', 'text')
      .addColumn('port', 'integer')
      .addColumn('database', 'text')
      .addColumn('username', 'text')
      .addColumn('path', 'text')
      .addColumn('ssl_json', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('password_enc', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('connections_project_name', ['project_id', 'name'])
      .execute();
  },
};
