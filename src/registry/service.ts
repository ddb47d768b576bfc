import type { Selectable, Transaction } from 'kysely';
import { AppError, notFound } from '../errors/index.js';
import { newId, nowIso, type Database, type MetadataStore } from '../store/metadata.js';
import type { ModelVersionTable } from '../store/schema.js';

/** Model names, for trained and imported models alike. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** `custom`: an imported model whose outputs Mass does not interpret (an encoder, an image model, ...). */
export const TASKS = ['classification', 'regression', 'clustering', 'custom'] as const;
export type Task = (typeof TASKS)[number];

/** Tensor element types, named as the Open Inference Protocol (KServe V2) names them. */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type Datatype = (typeof DATATYPES)[number];

/** One named tensor of the ONNX graph; -1 is a dynamic dimension (the batch). */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
}

/** One input of a model as a caller sees it: a column of the training data. */
export interface SignatureInput {
  readonly name: string;
  /** numeric: a number or null; categorical / boolean: a string (or boolean) or null. */
  readonly type: 'numeric' | 'categorical' | 'boolean';
}

/** What a model version takes and gives, checked on every prediction before inference. */
export interface Signature {
  readonly task: Task;
  /** The column a trained model predicts; absent for imported and clustering models. */
  readonly target?: string;
  /**
   * Inputs by column name, for rows-by-column requests (models trained by Mass: one [N,1] tensor
   * per column). Empty for imported models that take whole tensors.
   */
  readonly inputs: readonly SignatureInput[];
  /** Class labels in the order of the probability columns (classification). */
  readonly labels?: readonly (string | number)[];
  /** The graph's own tensors, for tensor requests (Open Inference Protocol); every model has them. */
  readonly tensors?: { readonly inputs: readonly TensorSpec[]; readonly outputs: readonly TensorSpec[] };
  /**
   * Which graph outputs hold what, for imported models whose outputs are not named as Mass names
   * them: `probabilities` (float [N,C], columns in the order of `labels`), `label` ([N] int64 or
   * string), `value` (a regression's float output). Absent: the outputs are named `probabilities`,
   * `label` and `value` (models trained by Mass).
   */
  readonly outputRoles?: {
    readonly probabilities?: string;
    readonly label?: string;
    readonly value?: string;
  };
}

export interface Model {
  readonly id: string;
  readonly name: string;
  readonly task: Task;
  readonly createdAt: string;
  readonly latestVersion: number | null;
}

export interface ModelVersion {
  readonly id: string;
  readonly modelId: string;
  readonly model: string;
  readonly version: number;
  readonly artifactHash: string;
  readonly sizeBytes: number;
  readonly algorithm: string;
  readonly params: Record<string, unknown>;
  readonly metrics: Record<string, unknown>;
  readonly signature: Signature;
  /** Lineage: the dataset version trained on, the job that trained it, the code that ran. */
  readonly datasetVersionId: string | null;
  readonly jobId: string | null;
  readonly codeVersion: string;
  readonly createdAt: string;
}

export interface NewModelVersion {
  readonly projectId: string;
  readonly model: string;
  readonly task: Task;
  readonly artifactHash: string;
  readonly sizeBytes: number;
  readonly algorithm: string;
  readonly params: Record<string, unknown>;
  readonly metrics: Record<string, unknown>;
  readonly signature: Signature;
  readonly datasetVersionId: string | null;
  readonly jobId: string | null;
  readonly codeVersion: string;
}

/** Models and their numbered, immutable versions, with lineage. */
export class ModelRegistry {
  constructor(private readonly store: MetadataStore) {}

  /** Adds the next version of a model (creating the model on its first version), inside `trx`. */
  async addVersion(trx: Transaction<Database>, input: NewModelVersion): Promise<ModelVersion> {
    let model = await trx
      .selectFrom('models')
      .selectAll()
      .where('project_id', '=', input.projectId)
      .where('name', '=', input.model)
      .executeTakeFirst();
    if (!model) {
      model = {
        id: newId('mdl'),
        project_id: input.projectId,
        name: input.model,
        task: input.task,
        created_at: nowIso(),
      };
      await trx.insertInto('models').values(model).execute();
    } else if (model.task !== input.task) {
      throw new AppError(
        'STATE_CONFLICT',
        `model ${input.model} is a ${model.task} model; a ${input.task} version cannot be added`,
      );
    }
    const latest = await trx
      .selectFrom('model_versions')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('model_id', '=', model.id)
      .executeTakeFirst();
    const row: Selectable<ModelVersionTable> = {
      id: newId('mv'),
      model_id: model.id,
      project_id: input.projectId,
      version: Number(latest?.v ?? 0) + 1,
      artifact_hash: input.artifactHash,
      size_bytes: input.sizeBytes,
      algorithm: input.algorithm,
      params_json: JSON.stringify(input.params),
      metrics_json: JSON.stringify(input.metrics),
      signature_json: JSON.stringify(input.signature),
      dataset_version_id: input.datasetVersionId,
      job_id: input.jobId,
      code_version: input.codeVersion,
      created_at: nowIso(),
    };
    await trx.insertInto('model_versions').values(row).execute();
    return toVersion(row, model.name);
  }

  /** The task of a model, or undefined when no model of that name exists yet (inside `trx`). */
  async modelTask(trx: Transaction<Database>, projectId: string, name: string): Promise<Task | undefined> {
    const row = await trx
      .selectFrom('models')
      .select('task')
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.task as Task | undefined;
  }

  async listModels(projectId: string): Promise<Model[]> {
    const rows = await this.store.db
      .selectFrom('models')
      .leftJoin('model_versions', 'model_versions.model_id', 'models.id')
      .select(['models.id', 'models.name', 'models.task', 'models.created_at'])
      .select((eb) => eb.fn.max('model_versions.version').as('latest'))
      .where('models.project_id', '=', projectId)
      .groupBy(['models.id', 'models.name', 'models.task', 'models.created_at'])
      .orderBy('models.name')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      task: r.task as Task,
      createdAt: r.created_at,
      latestVersion: r.latest === null ? null : Number(r.latest),
    }));
  }

  async getModel(projectId: string, name: string): Promise<Model & { versions: ModelVersion[] }> {
    const model = await this.store.db
      .selectFrom('models')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!model) throw notFound('model', name);
    const rows = await this.store.db
      .selectFrom('model_versions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('model_id', '=', model.id)
      .orderBy('version', 'desc')
      .execute();
    const versions = rows.map((r) => toVersion(r, name));
    return {
      id: model.id,
      name,
      task: model.task as Task,
      createdAt: model.created_at,
      latestVersion: versions[0]?.version ?? null,
      versions,
    };
  }

  /** A version by number, or the latest when `version` is undefined. */
  async getVersion(projectId: string, name: string, version?: number): Promise<ModelVersion> {
    let query = this.store.db
      .selectFrom('model_versions')
      .innerJoin('models', 'models.id', 'model_versions.model_id')
      .selectAll('model_versions')
      .where('models.project_id', '=', projectId)
      .where('models.name', '=', name);
    query =
      version === undefined
        ? query.orderBy('model_versions.version', 'desc').limit(1)
        : query.where('model_versions.version', '=', version);
    const row = await query.executeTakeFirst();
    if (!row) throw notFound('model version', version === undefined ? name : `${name}@${version}`);
    return toVersion(row, name);
  }

  async getVersionById(projectId: string, id: string): Promise<ModelVersion> {
    const row = await this.store.db
      .selectFrom('model_versions')
      .innerJoin('models', 'models.id', 'model_versions.model_id')
      .selectAll('model_versions')
      .select('models.name as model_name')
      .where('model_versions.project_id', '=', projectId)
      .where('model_versions.id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('model version', id);
    return toVersion(row, row.model_name);
  }
}

function toVersion(r: Selectable<ModelVersionTable>, model: string): ModelVersion {
  return {
    id: r.id,
    modelId: r.model_id,
    model,
    version: Number(r.version),
    artifactHash: r.artifact_hash,
    sizeBytes: Number(r.size_bytes),
    algorithm: r.algorithm,
    params: JSON.parse(r.params_json) as Record<string, unknown>,
    metrics: JSON.parse(r.metrics_json) as Record<string, unknown>,
    signature: JSON.parse(r.signature_json) as Signature,
    datasetVersionId: r.dataset_version_id,
    jobId: r.job_id,
    codeVersion: r.code_version,
    createdAt: r.created_at,
  };
}
