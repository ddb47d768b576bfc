import { AppError, invalid, notFound } from '../errors/index.js';
import type { ModelRegistry, ModelVersion } from '../registry/service.js';
import type { ArtifactStore } from '../store/artifacts.js';
import { newId, nowIso, type MetadataStore } from '../store/metadata.js';
import { rowsToTensors, tensorsToPredictions, type Prediction } from './codec.js';
import { loadOnnxRuntime, type ModelRuntime } from './runtime.js';

export interface Deployment {
  readonly id: string;
  readonly name: string;
  readonly model: string;
  readonly version: number;
  readonly modelVersionId: string;
  readonly ready: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface PredictResult {
  readonly deployment: string;
  readonly model: string;
  readonly version: number;
  readonly predictions: Prediction[];
}

interface Live {
  readonly id: string;
  readonly projectId: string;
  readonly name: string;
  readonly version: ModelVersion;
  readonly runtime: ModelRuntime;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const DEPLOYMENT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Named endpoints of a project, each serving one model version from an ONNX Runtime session
 * that is loaded and warmed up before the deployment takes traffic. Sessions are shared by
 * deployments of the same version. On start, `loadAll` brings every deployment back.
 */
export class DeploymentService {
  private readonly live = new Map<string, Live>();
  private readonly runtimes = new Map<string, Promise<ModelRuntime>>();
  private loaded = false;

  constructor(
    private readonly store: MetadataStore,
    private readonly registry: ModelRegistry,
    private readonly artifacts: ArtifactStore,
    private readonly maxRows: number,
  ) {}

  /** True once every stored deployment has been loaded (for /readyz). */
  get ready(): boolean {
    return this.loaded;
  }

  async loadAll(onError?: (error: unknown, deployment: string) => void): Promise<void> {
    const rows = await this.store.db.selectFrom('deployments').selectAll().execute();
    for (const row of rows) {
      try {
        const version = await this.registry.getVersionById(row.project_id, row.model_version_id);
        const runtime = await this.runtimeFor(version);
        this.live.set(key(row.project_id, row.name), {
          id: row.id,
          projectId: row.project_id,
          name: row.name,
          version,
          runtime,
          createdAt: row.created_at,
          updatedAt: row.updated_at,
        });
      } catch (error) {
        onError?.(error, row.name);
      }
    }
    this.loaded = true;
  }

  async create(
    projectId: string,
    input: { name: string; model: string; version?: number | undefined },
    createdBy: string,
  ): Promise<Deployment> {
    if (!DEPLOYMENT_NAME.test(input.name))
      throw invalid('name', 'use 1 to 63 lowercase letters, digits and dashes');
    const version = await this.registry.getVersion(projectId, input.model, input.version);
    // Load and warm the model first: a deployment exists only once it can answer.
    const runtime = await this.runtimeFor(version);
    const now = nowIso();
    const row = {
      id: newId('dep'),
      project_id: projectId,
      name: input.name,
      model_version_id: version.id,
      created_by: createdBy,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.store.db.insertInto('deployments').values(row).execute();
    } catch (error) {
      if (this.store.dialect.isUniqueViolation(error))
        throw new AppError('NAME_TAKEN', `deployment ${JSON.stringify(input.name)} already exists`);
      throw error;
    }
    const live: Live = {
      id: row.id,
      projectId,
      name: input.name,
      version,
      runtime,
      createdAt: now,
      updatedAt: now,
    };
    this.live.set(key(projectId, input.name), live);
    return toDeployment(live);
  }

  /** Points a deployment at another version; the new model is warm before the switch. */
  async update(
    projectId: string,
    name: string,
    input: { model?: string | undefined; version?: number | undefined },
  ): Promise<Deployment> {
    const current = this.get(projectId, name);
    const version = await this.registry.getVersion(projectId, input.model ?? current.model, input.version);
    const runtime = await this.runtimeFor(version);
    const now = nowIso();
    await this.store.db
      .updateTable('deployments')
      .set({ model_version_id: version.id, updated_at: now })
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .execute();
    const old = this.live.get(key(projectId, name))!;
    const live: Live = { ...old, version, runtime, updatedAt: now };
    this.live.set(key(projectId, name), live);
    return toDeployment(live);
  }

  async remove(projectId: string, name: string): Promise<void> {
    this.get(projectId, name);
    await this.store.db
      .deleteFrom('deployments')
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .execute();
    this.live.delete(key(projectId, name));
  }

  list(projectId: string): Deployment[] {
    return [...this.live.values()]
      .filter((d) => d.projectId === projectId)
      .map(toDeployment)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  get(projectId: string, name: string): Deployment {
    const live = this.live.get(key(projectId, name));
    if (!live) throw notFound('deployment', name);
    return toDeployment(live);
  }

  async predict(projectId: string, name: string, rows: readonly unknown[]): Promise<PredictResult> {
    const live = this.live.get(key(projectId, name));
    if (!live) throw notFound('deployment', name);
    if (rows.length === 0) throw invalid('/rows', 'must hold at least one row');
    if (rows.length > this.maxRows)
      throw new AppError('TOO_MANY_ROWS', `at most ${this.maxRows} rows per request, got ${rows.length}`);
    const signature = live.version.signature;
    const feeds = rowsToTensors(signature, rows);
    let outputs;
    try {
      outputs = await live.runtime.run(feeds);
    } catch (error) {
      throw new AppError(
        'INFERENCE_FAILED',
        `model ${live.version.model} version ${live.version.version} failed while predicting`,
        [],
        { cause: error },
      );
    }
    return {
      deployment: name,
      model: live.version.model,
      version: live.version.version,
      predictions: tensorsToPredictions(signature, outputs, rows.length),
    };
  }

  private runtimeFor(version: ModelVersion): Promise<ModelRuntime> {
    let pending = this.runtimes.get(version.id);
    if (!pending) {
      pending = (async () => {
        const bytes = await this.artifacts.get(version.artifactHash);
        const runtime = await loadOnnxRuntime(bytes);
        // Warm-up: one row of missing values runs every node once, so the first caller does not pay for it.
        const warm = Object.fromEntries(version.signature.inputs.map((i) => [i.name, null]));
        await runtime.run(rowsToTensors(version.signature, [warm]));
        return runtime;
      })();
      this.runtimes.set(version.id, pending);
      pending.catch(() => this.runtimes.delete(version.id));
    }
    return pending;
  }

  async close(): Promise<void> {
    for (const p of this.runtimes.values()) await (await p.catch(() => undefined))?.unload();
    this.runtimes.clear();
    this.live.clear();
  }
}

function key(projectId: string, name: string): string {
  return `${projectId}/${name}`;
}

function toDeployment(l: Live): Deployment {
  return {
    id: l.id,
    name: l.name,
    model: l.version.model,
    version: l.version.version,
    modelVersionId: l.version.id,
    ready: true,
    createdAt: l.createdAt,
    updatedAt: l.updatedAt,
  };
}
