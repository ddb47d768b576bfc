/** Tables of migration 0006-recipes, merged into the store's Database interface. */
export interface RecipeTables {
  recipes: RecipeTable;
  recipe_versions: RecipeVersionTable;
  recipe_runs: RecipeRunTable;
}

export interface RecipeTable {
  id: string;
  project_id: string;
  name: string;
  description: string;
  created_by: string;
  created_at: string;
}

/** Immutable once written: a new version is a new row. */
export interface RecipeVersionTable {
  id: string;
  recipe_id: string;
  project_id: string;
  version: number;
  description: string;
  /** `{ alias: { dataset, version: n | "latest" } }`, alias `main` always present. */
  inputs_json: string;
  /** The steps as the client sent them (checked). */
  steps_json: string;
  /** `[{ name, type }]` after the last step, as checked against the inputs when saved. */
  output_schema_json: string;
  created_by: string;
  created_at: string;
}

/** One successful run: which input versions and which recipe version made which dataset version. */
export interface RecipeRunTable {
  id: string;
  project_id: string;
  recipe_version_id: string;
  job_id: string;
  output_dataset_version_id: string;
  output_dataset: string;
  output_version: number;
  /** 1 when the run created the version, 0 when identical content already existed. */
  created: number;
  /** `{ alias: { dataset, version, id } }` */
  inputs_json: string;
  /** The statistics each step computed on the data (means, quantiles, ...). */
  fitted_json: string;
  created_at: string;
}
