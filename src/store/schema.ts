import type { ColumnType } from 'kysely';

/**
 * The tables of the metadata store, as Kysely sees them. Ids are random strings (never sequential);
 * times are ISO-8601 UTC strings (sortable as text in both dialects); JSON is stored as text.
 */
export interface Database {
  projects: ProjectTable;
  users: UserTable;
  api_keys: ApiKeyTable;
  datasets: DatasetTable;
  dataset_versions: DatasetVersionTable;
  jobs: JobTable;
  models: ModelTable;
  model_versions: ModelVersionTable;
  deployments: DeploymentTable;
}

type Json = string;
type Time = string;

export interface ProjectTable {
  id: string;
  name: string;
  description: string;
  created_at: Time;
}

export interface UserTable {
  id: string;
  name: string;
  is_admin: number;
  created_at: Time;
}

export interface ApiKeyTable {
  id: string;
  /** The visible start of the key (`mass_` + 8 characters), to recognise it in lists and logs. */
  prefix: string;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  hash: string;
  name: string;
  user_id: string;
  /** null: a site-admin key, valid for every project. */
  project_id: string | null;
  role: string;
  created_at: Time;
  expires_at: Time | null;
  revoked_at: Time | null;
  last_used_at: Time | null;
}

export interface DatasetTable {
  id: string;
  project_id: string;
  name: string;
  created_at: Time;
}

export interface DatasetVersionTable {
  id: string;
  dataset_id: string;
  project_id: string;
  version: number;
  content_hash: string;
  format: string;
  size_bytes: ColumnType<number, number, number>;
  row_count: number;
  schema_json: Json;
  source: string;
  created_at: Time;
}

export interface JobTable {
  id: string;
  project_id: string;
  type: string;
  payload_json: Json;
  status: string;
  progress: number;
  message: string;
  metrics_json: Json;
  result_json: Json | null;
  error: string | null;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_expires_at: Time | null;
  cancel_requested: number;
  created_by: string;
  created_at: Time;
  started_at: Time | null;
  finished_at: Time | null;
  updated_at: Time;
}

export interface ModelTable {
  id: string;
  project_id: string;
  name: string;
  task: string;
  created_at: Time;
}

export interface ModelVersionTable {
  id: string;
  model_id: string;
  project_id: string;
  version: number;
  artifact_hash: string;
  size_bytes: number;
  algorithm: string;
  params_json: Json;
  metrics_json: Json;
  signature_json: Json;
  dataset_version_id: string | null;
  job_id: string | null;
  code_version: string;
  created_at: Time;
}

export interface DeploymentTable {
  id: string;
  project_id: string;
  name: string;
  model_version_id: string;
  created_by: string;
  created_at: Time;
  updated_at: Time;
}
