import type { ColumnType } from 'kysely';

type NullableText = ColumnType<string | null, string | null | undefined, string | null>;

/** Columns migration 0004-datasets adds to `dataset_versions` (DatasetVersionTable extends this). */
export interface DatasetVersionExtra {
  /** Identity of the source content (SHA-256 of the file and the import settings). */
  content_key: NullableText;
  /** The SourceInfo as JSON. */
  source_json: NullableText;
  /** `{ inputs: [dataset version ids], recipeVersionId? }` as JSON. */
  lineage_json: NullableText;
  /** The DatasetProfile as JSON (computed at import; for older versions on first request). */
  profile_json: NullableText;
}

/** Tables of migration 0004-datasets, merged into the store's Database interface. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DataTables {}
