import type { Kysely, Migration } from 'kysely';

/**
 * Migration 0006-recipes: preparation recipes, their immutable numbered versions, and the runs
 * that produced dataset versions from them (the lineage a recipe version shows).
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('recipes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('recipes_project_name', ['project_id', 'name'])
      .execute();
    await db.schema
      .createTable('recipe_versions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('recipe_id', 'text', (c) => c.notNull().references('recipes.id').onDelete('cascade'))
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('inputs_json', 'text', (c) => c.notNull())
      .addColumn('steps_json', 'text', (c) => c.notNull())
      .addColumn('output_schema_json', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('recipe_versions_recipe_version', ['recipe_id', 'version'])
      .execute();
    await db.schema
      .createTable('recipe_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('recipe_version_id', 'text', (c) =>
        c.notNull().references('recipe_versions.id').onDelete('cascade'),
      )
      .addColumn('job_id', 'text', (c) => c.notNull())
      .addColumn('output_dataset_version_id', 'text', (c) => c.notNull())
      .addColumn('output_dataset', 'text', (c) => c.notNull())
      .addColumn('output_version', 'integer', (c) => c.notNull())
      .addColumn('created', 'integer', (c) => c.notNull())
      .addColumn('inputs_json', 'text', (c) => c.notNull())
      .addColumn('fitted_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('recipe_runs_version')
      .on('recipe_runs')
      .columns(['recipe_version_id', 'created_at'])
      .execute();
  },
};
