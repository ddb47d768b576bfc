import type { ColumnType } from 'kysely';

/** Tables of migration 0007-decisions, merged into the store's Database interface. */
export interface DecisionTables {
  rulesets: RulesetTable;
  ruleset_versions: RulesetVersionTable;
  ruleset_activations: RulesetActivationTable;
  decision_services: DecisionServiceTable;
  decisions: DecisionTable;
}

type Json = string;
type Time = string;
type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;

export interface RulesetTable {
  id: string;
  project_id: string;
  name: string;
  description: ColumnType<string, string | undefined, string>;
  last_version: ColumnType<number, number | undefined, number>;
  created_by: string;
  created_at: Time;
}

export interface RulesetVersionTable {
  id: string;
  ruleset_id: string;
  project_id: string;
  version: number;
  /** The RuleSetDef as validated; never rewritten. */
  definition_json: Json;
  definition_hash: string;
  /** draft, submitted or approved ("active" and "superseded" come from the activations). */
  status: string;
  comment: ColumnType<string, string | undefined, string>;
  author_id: string;
  created_at: Time;
  submitted_by: Nullable<string>;
  submitted_at: Nullable<Time>;
  approved_by: Nullable<string>;
  approved_at: Nullable<Time>;
}

export interface RulesetActivationTable {
  id: string;
  ruleset_id: string;
  project_id: string;
  /** Per rule set, increasing: breaks ties between activations effective at the same instant. */
  seq: number;
  version_id: string;
  effective_at: Time;
  /** activate or rollback */
  kind: string;
  created_by: string;
  created_at: Time;
  /** A scheduled activation cancelled (by a rollback) before it took effect. */
  cancelled_at: Nullable<Time>;
}

export interface DecisionServiceTable {
  id: string;
  project_id: string;
  name: string;
  ruleset_id: string;
  /** A pinned version number, or null: the version active at decision time. */
  ruleset_version: Nullable<number>;
  deployments_json: Json;
  description: ColumnType<string, string | undefined, string>;
  created_by: string;
  created_at: Time;
  updated_at: Time;
}

/** The decision record: append-only. */
export interface DecisionTable {
  id: string;
  project_id: string;
  service_id: string;
  service: string;
  business_key: string | null;
  input_json: Json;
  facts_json: Json;
  model_outputs_json: Json;
  ruleset_version_id: string | null;
  ruleset: string;
  ruleset_version: number | null;
  /** [{deployment, model, version, modelVersionId}] */
  model_versions_json: Json;
  fired_json: Json;
  outcome: string | null;
  /** ok or failed */
  status: string;
  error: string | null;
  caller_user_id: string | null;
  caller_key_id: string | null;
  request_id: string;
  latency_us: number;
  created_at: Time;
  /** SHA-256 of the canonical content of the row: an edited row no longer matches. */
  hash: string;
}
