import type { ConnectionTables } from './tables/connections.js';
import type { DataTables, DatasetVersionExtra } from './tables/datasets.js';
import type { DecisionTables } from './tables/decisions.js';
import type { RecipeTables } from './tables/recipes.js';
import type { ColumnType } from 'kysely';

/**
 * The tables of the metadata store, as Kysely sees them. Ids are random strings (never sequential);
 * times are ISO-8601 UTC strings (sortable as text in both dialects); JSON is stored as text.
 */
export interface Database extends DataTables, ConnectionTables, RecipeTables, DecisionTables {
  projects: ProjectTable;
  users: UserTable;
  api_keys: ApiKeyTable;
  datasets: DatasetTable;
  dataset_versions: DatasetVersionTable;
  jobs: JobTable;
  models: ModelTable;
  model_versions: ModelVersionTable;
  deployments: DeploymentTable;
  prediction_log: PredictionLogTable;
  sessions: SessionTable;
  project_members: ProjectMemberTable;
  grants: GrantTable;
  audit_log: AuditLogTable;
}

type Json = string;
type Time = string;

export interface ProjectTable {
  id: string;
  name: string;
  description: string;
  created_at: Time;
  max_concurrent_jobs: ColumnType<number | null, number | null | undefined, number | null>;
  storage_quota_bytes: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface UserTable {
  id: string;
  name: string;
  is_admin: number;
  created_at: Time;
  /** scrypt, `scrypt$N$r$p$salt$hash` (base64url); null for service accounts and the bootstrap admin. */
  password_hash: ColumnType<string | null, string | null | undefined, string | null>;
  /** 'user' or 'service' (a service account: keys only, no password). */
  kind: ColumnType<string, string | undefined, string>;
  disabled_at: ColumnType<Time | null, Time | null | undefined, Time | null>;
}

export interface SessionTable {
  /** SHA-256 of the session token; the token itself lives only in the cookie. */
  id: string;
  user_id: string;
  csrf_hash: string;
  created_at: Time;
  expires_at: Time;
  revoked_at: Time | null;
  ip: string;
}

export interface ProjectMemberTable {
  project_id: string;
  user_id: string;
  role: string;
  created_at: Time;
}

export interface GrantTable {
  id: string;
  from_project_id: string;
  to_project_id: string;
  /** 'dataset_version' or 'model_version'. */
  kind: string;
  object_id: string;
  created_by: string;
  created_at: Time;
  revoked_at: Time | null;
}

export interface AuditLogTable {
  seq: ColumnType<number, number, never>;
  at: Time;
  actor_user_id: string | null;
  actor_key_id: string | null;
  project_id: string | null;
  action: string;
  target: string;
  outcome: string;
  status: number;
  ip: string;
  request_id: string;
  details_json: Json;
  prev_hash: string;
  hash: string;
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
  /** Predictions per second allowed to this key; null: the server default. */
  rate_limit_rps: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface DatasetTable {
  id: string;
  project_id: string;
  name: string;
  created_at: Time;
}

export interface DatasetVersionTable extends DatasetVersionExtra {
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
  /** Routing (traffic weights, shadow, aliases), batching, queue and log settings; see serving/spec.ts. */
  config_json: ColumnType<Json, Json | undefined, Json>;
}

/** Sampled predictions (and every shadow comparison), written in batches off the request path. */
export interface PredictionLogTable {
  id: string;
  project_id: string;
  deployment_id: string;
  deployment: string;
  model: string;
  version: number;
  /** `primary`: the answer returned; `shadow`: a shadow version's answer, never returned. */
  role: string;
  request_id: string;
  protocol: string;
  rows: number;
  inputs_json: Json;
  outputs_json: Json;
  latency_us: number;
  /** Shadow entries: how the shadow answer compares with the answer returned. */
  comparison_json: Json | null;
  created_at: Time;
}
