import { AppError, invalid, notFound } from '../errors/index.js';
import type { ModelRegistry, ModelVersion } from '../registry/service.js';
import { newId, nowIso, type MetadataStore } from '../store/metadata.js';
import type { ModelCache, ModelState } from './cache.js';
import type { FineHistogram, ServingMetrics, TargetMetrics } from './metrics.js';
import { Scheduler } from './scheduler.js';
import {
  applySpec,
  defaultSpec,
  parseSpec,
  primaryVersion,
  promoteSpec,
  rollbackSpec,
  servedVersions,
  type DeploymentSpec,
  type DeploymentSpecInput,
} from './spec.js';

/** One model version of a deployment, with its queue and its metrics. */
export interface Target {
  readonly version: ModelVersion;
  readonly scheduler: Scheduler;
  readonly metrics: TargetMetrics;
}

/**
 * Everything a request needs to know about a deployment, as one immutable object. A change
 * (promote, rollback, new weights) builds a new object with every version loaded and warm, then
 * replaces the old one in a single assignment: a request reads the object once and sees the whole
 * old routing or the whole new one, never a mix.
 */
export interface Routing {
  readonly id: string;
  readonly projectId: string;
  readonly projectName: string;
  readonly name: string;
  readonly model: string;
  readonly generation: number;
  readonly spec: DeploymentSpec;
  readonly targets: ReadonlyMap<number, Target>;
  readonly primary: Target;
  /** Cumulative weights over `routes`, for a weighted pick in one pass. */
  readonly cumulative: readonly number[];
  readonly routes: readonly Target[];
  readonly shadow: Target | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** In-server time histograms of this deployment per front door, filled in by the API on first use. */
  readonly histograms: Record<string, FineHistogram>;
}

export interface VersionState {
  readonly version: number;
  readonly modelVersionId: string;
  readonly state: ModelState | 'unloaded';
  readonly error?: string;
}

export interface Deployment {
  readonly id: string;
  readonly name: string;
  readonly model: string;
  /** The version answering by default (production, or the heaviest route). */
  readonly version: number;
  readonly modelVersionId: string;
  /** Every version taking traffic is loaded and warm. */
  readonly ready: boolean;
  readonly traffic: readonly { version: number; weight: number }[];
  readonly shadow: { version: number; fraction: number } | null;
  readonly aliases: Readonly<Record<string, number>>;
  readonly previous: number | null;
  readonly batching: { maxBatchSize: number; maxWaitUs: number } | null;
  readonly maxQueue: number;
  readonly logSampleRate: number;
  readonly generation: number;
  readonly versions: readonly VersionState[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface CreateDeployment extends DeploymentSpecInput {
  readonly name: string;
  readonly model: string;
  readonly version?: number | undefined;
}

export interface UpdateDeployment extends DeploymentSpecInput {
  /** Switch to another model: its `version` (default: latest) takes all traffic. */
  readonly model?: string | undefined;
  /** Switch to this version: it takes all traffic (unless `traffic` is given too). */
  readonly version?: number | undefined;
}

export const DEPLOYMENT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

let generations = 0;

/**
 * Named endpoints of a project, each serving versions of one model by traffic weight, with an
 * optional shadow and aliases. Models live in the shared cache (loaded once per version, LRU
 * within a memory budget); a deployment's versions are loaded and warmed before it takes traffic.
 */
export class DeploymentService {
  private readonly live = new Map<string, Routing>();
  private readonly schedulers = new Map<string, Scheduler>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private loaded = false;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: MetadataStore,
    private readonly registry: ModelRegistry,
    readonly cache: ModelCache,
    private readonly metrics: ServingMetrics,
    private readonly options: { readonly maxQueue: number; readonly refreshMs: number },
  ) {
    metrics.onCollect(() => {
      for (const r of this.live.values())
        for (const t of r.targets.values())
          metrics.queueDepth.set(
            { project: r.projectName, deployment: r.name, version: String(t.version.version) },
            t.scheduler.depth,
          );
    });
  }

  /** True once every stored deployment has been brought back (for /readyz). */
  get ready(): boolean {
    return this.loaded;
  }

  /** The routing object of a deployment: the hot path's one lookup. */
  routing(projectId: string, name: string): Routing | undefined {
    return this.live.get(key(projectId, name));
  }

  /** Every live deployment (for the simple API's model list and metrics). */
  all(): Routing[] {
    return [...this.live.values()];
  }

  async loadAll(onError?: (error: unknown, deployment: string) => void): Promise<void> {
    const rows = await this.store.db.selectFrom('deployments').selectAll().execute();
    const loads: Promise<unknown>[] = [];
    for (const row of rows) {
      try {
        const routing = await this.build(row, false);
        this.live.set(key(row.project_id, row.name), routing);
        // Every served version loaded and warm before the server says it is ready; a model that
        // cannot load leaves its deployment not ready (and says why), not the whole server.
        for (const t of routing.targets.values())
          loads.push(this.cache.acquire(t.version).catch((error: unknown) => onError?.(error, row.name)));
      } catch (error) {
        onError?.(error, row.name);
      }
    }
    await Promise.all(loads);
    this.loaded = true;
    if (this.options.refreshMs > 0) {
      this.refreshTimer = setInterval(() => {
        this.refresh().catch((error: unknown) => onError?.(error, '(refresh)'));
      }, this.options.refreshMs);
      this.refreshTimer.unref();
    }
  }

  /**
   * Picks up changes made by other processes sharing the database (scaled-out mode): a
   * deployment whose `updated_at` moved is rebuilt (warm first) and swapped like a local change.
   */
  async refresh(): Promise<void> {
    const rows = await this.store.db.selectFrom('deployments').selectAll().execute();
    const seen = new Set<string>();
    for (const row of rows) {
      const k = key(row.project_id, row.name);
      seen.add(k);
      const current = this.live.get(k);
      if (current && current.updatedAt === row.updated_at && current.id === row.id) continue;
      await this.exclusive(k, async () => {
        const routing = await this.build(row, true);
        this.live.set(k, routing);
      });
    }
    for (const k of [...this.live.keys()]) if (!seen.has(k)) this.live.delete(k);
    this.sweep();
  }

  async create(projectId: string, input: CreateDeployment, createdBy: string): Promise<Deployment> {
    if (!DEPLOYMENT_NAME.test(input.name))
      throw invalid('name', 'use 1 to 63 lowercase letters, digits and dashes');
    const version = await this.registry.getVersion(projectId, input.model, input.version);
    const spec = applySpec(defaultSpec(version.version, this.options.maxQueue), input);
    const k = key(projectId, input.name);
    return this.exclusive(k, async () => {
      if (this.live.has(k))
        throw new AppError('NAME_TAKEN', `deployment ${JSON.stringify(input.name)} already exists`);
      const now = nowIso();
      const primary = await this.registry.getVersion(projectId, version.model, primaryVersion(spec));
      const row = {
        id: newId('dep'),
        project_id: projectId,
        name: input.name,
        model_version_id: primary.id,
        created_by: createdBy,
        created_at: now,
        updated_at: now,
        config_json: JSON.stringify(spec),
      };
      // Load and warm every version first: a deployment exists only once it can answer.
      const routing = await this.build(row, true);
      try {
        await this.store.db.insertInto('deployments').values(row).execute();
      } catch (error) {
        if (this.store.dialect.isUniqueViolation(error))
          throw new AppError('NAME_TAKEN', `deployment ${JSON.stringify(input.name)} already exists`);
        throw error;
      }
      this.live.set(k, routing);
      return this.describe(routing);
    });
  }

  /** Changes versions, weights, shadow, aliases or settings: one atomic switch, the new versions warm first. */
  async update(projectId: string, name: string, input: UpdateDeployment): Promise<Deployment> {
    return this.change(projectId, name, async (current) => {
      let base = current.spec;
      let model = current.model;
      if (input.model !== undefined || input.version !== undefined) {
        model = input.model ?? current.model;
        const version = await this.registry.getVersion(projectId, model, input.version);
        base =
          model === current.model
            ? {
                ...base,
                traffic: [{ version: version.version, weight: 100 }],
                shadow: base.shadow?.version === version.version ? null : base.shadow,
                aliases: { ...base.aliases, production: version.version },
                previous: primaryVersion(base) === version.version ? base.previous : primaryVersion(base),
              }
            : {
                ...defaultSpec(version.version, base.maxQueue),
                batching: base.batching,
                logSampleRate: base.logSampleRate,
              };
      }
      return { model, spec: applySpec(base, input) };
    });
  }

  async promote(
    projectId: string,
    name: string,
    target: { version?: number | undefined; alias?: string | undefined },
  ): Promise<Deployment> {
    return this.change(projectId, name, async (current) => ({
      model: current.model,
      spec: promoteSpec(current.spec, target),
    }));
  }

  async rollback(projectId: string, name: string): Promise<Deployment> {
    return this.change(projectId, name, async (current) => ({
      model: current.model,
      spec: rollbackSpec(current.spec),
    }));
  }

  private async change(
    projectId: string,
    name: string,
    fn: (current: Routing) => Promise<{ model: string; spec: DeploymentSpec }>,
  ): Promise<Deployment> {
    const k = key(projectId, name);
    return this.exclusive(k, async () => {
      const current = this.live.get(k);
      if (!current) throw notFound('deployment', name);
      const { model, spec } = await fn(current);
      const primary = await this.registry.getVersion(projectId, model, primaryVersion(spec));
      const now = nowIso();
      const row = {
        id: current.id,
        project_id: projectId,
        name,
        model_version_id: primary.id,
        created_by: '',
        created_at: current.createdAt,
        updated_at: now,
        config_json: JSON.stringify(spec),
      };
      const routing = await this.build(row, true);
      await this.store.db
        .updateTable('deployments')
        .set({ model_version_id: primary.id, updated_at: now, config_json: row.config_json })
        .where('project_id', '=', projectId)
        .where('name', '=', name)
        .execute();
      this.live.set(k, routing);
      this.sweep();
      return this.describe(routing);
    });
  }

  async remove(projectId: string, name: string): Promise<void> {
    const k = key(projectId, name);
    await this.exclusive(k, async () => {
      if (!this.live.has(k)) throw notFound('deployment', name);
      await this.store.db
        .deleteFrom('deployments')
        .where('project_id', '=', projectId)
        .where('name', '=', name)
        .execute();
      this.live.delete(k);
      this.sweep();
    });
  }

  list(projectId: string): Deployment[] {
    return [...this.live.values()]
      .filter((d) => d.projectId === projectId)
      .map((r) => this.describe(r))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  get(projectId: string, name: string): Deployment {
    const routing = this.live.get(key(projectId, name));
    if (!routing) throw notFound('deployment', name);
    return this.describe(routing);
  }

  /** Every version taking traffic (or the one asked for) is loaded and warm. */
  isReady(routing: Routing, target?: Target): boolean {
    const targets = target ? [target] : routing.routes.filter((_t, i) => weightOf(routing, i) > 0);
    return targets.every((t) => this.cache.state(t.version.id) === 'ready');
  }

  describe(r: Routing): Deployment {
    const versions: VersionState[] = [...r.targets.values()].map((t) => {
      const state = this.cache.state(t.version.id) ?? 'unloaded';
      const error = state === 'failed' ? this.cache.errorOf(t.version.id)?.message : undefined;
      return {
        version: t.version.version,
        modelVersionId: t.version.id,
        state,
        ...(error !== undefined ? { error } : {}),
      };
    });
    return {
      id: r.id,
      name: r.name,
      model: r.model,
      version: r.primary.version.version,
      modelVersionId: r.primary.version.id,
      ready: this.isReady(r),
      traffic: r.spec.traffic.map((t) => ({ ...t })),
      shadow: r.spec.shadow ? { ...r.spec.shadow } : null,
      aliases: { ...r.spec.aliases },
      previous: r.spec.previous,
      batching: r.spec.batching ? { ...r.spec.batching } : null,
      maxQueue: r.spec.maxQueue,
      logSampleRate: r.spec.logSampleRate,
      generation: r.generation,
      versions,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    };
  }

  /** Builds the routing object of a stored row; with `warm`, every served version is loaded first. */
  private async build(
    row: {
      id: string;
      project_id: string;
      name: string;
      model_version_id: string;
      created_at: string;
      updated_at: string;
      config_json: string;
    },
    warm: boolean,
  ): Promise<Routing> {
    const primaryRow = await this.registry.getVersionById(row.project_id, row.model_version_id);
    const spec = parseSpec(row.config_json, primaryRow.version, this.options.maxQueue);
    const project = await this.store.db
      .selectFrom('projects')
      .select('name')
      .where('id', '=', row.project_id)
      .executeTakeFirst();
    const projectName = project?.name ?? row.project_id;
    const targets = new Map<number, Target>();
    for (const v of servedVersions(spec)) {
      const version =
        v === primaryRow.version
          ? primaryRow
          : await this.registry.getVersion(row.project_id, primaryRow.model, v);
      if (warm) await this.cache.acquire(version);
      targets.set(v, this.target(row.id, projectName, row.name, version, spec));
    }
    const routes = spec.traffic.map((t) => targets.get(t.version)!);
    const cumulative: number[] = [];
    let sum = 0;
    for (const t of spec.traffic) cumulative.push((sum += t.weight));
    return {
      id: row.id,
      projectId: row.project_id,
      projectName,
      name: row.name,
      model: primaryRow.model,
      generation: ++generations,
      spec,
      targets,
      primary: targets.get(primaryVersion(spec))!,
      cumulative,
      routes,
      shadow: spec.shadow ? targets.get(spec.shadow.version) : undefined,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      histograms: {},
    };
  }

  private target(
    deploymentId: string,
    projectName: string,
    name: string,
    version: ModelVersion,
    spec: DeploymentSpec,
  ): Target {
    // A scheduler outlives routing changes that keep its version and settings, so that its
    // queue and batches carry over a switch.
    const k = `${deploymentId}/${version.id}`;
    let scheduler = this.schedulers.get(k);
    const options = { batching: spec.batching, maxQueue: spec.maxQueue };
    const metrics = this.metrics.target(projectName, name, version.version);
    if (
      !scheduler ||
      scheduler.options.maxQueue !== options.maxQueue ||
      JSON.stringify(scheduler.options.batching) !== JSON.stringify(options.batching)
    ) {
      scheduler = new Scheduler(this.cache, version, options, {
        batch: (rows) => metrics.batchSize.observe(rows),
      });
      this.schedulers.set(k, scheduler);
    }
    return { version, scheduler, metrics };
  }

  /** Unloads models and forgets queues no deployment refers to any more. */
  private sweep(): void {
    const keep = new Set<string>();
    const schedulers = new Set<string>();
    for (const r of this.live.values())
      for (const t of r.targets.values()) {
        keep.add(t.version.id);
        schedulers.add(`${r.id}/${t.version.id}`);
      }
    for (const k of [...this.schedulers.keys()]) if (!schedulers.has(k)) this.schedulers.delete(k);
    // Later, so that requests already holding the old routing finish without a reload.
    setTimeout(() => {
      const still = new Set(keep);
      for (const r of this.live.values()) for (const t of r.targets.values()) still.add(t.version.id);
      this.cache.retain(still);
    }, 2_000).unref();
  }

  /** Runs changes of one deployment one after another, so that none is lost. */
  private async exclusive<T>(k: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(k) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(k, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(k) === tail) this.locks.delete(k);
    }
  }

  async close(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.live.clear();
    this.schedulers.clear();
    this.cache.close();
  }
}

function weightOf(r: Routing, i: number): number {
  return r.spec.traffic[i]?.weight ?? 0;
}

function key(projectId: string, name: string): string {
  return `${projectId}/${name}`;
}

/**
 * The target of one request: the version named (a number or an alias of this deployment), or
 * one drawn by weight. A version the deployment does not serve is "not found".
 */
export function pickTarget(r: Routing, requested: string | undefined, random = Math.random): Target {
  if (requested !== undefined && requested !== '') {
    const byAlias = r.spec.aliases[requested];
    const number = byAlias ?? (/^\d{1,9}$/.test(requested) ? Number(requested) : NaN);
    const t = r.targets.get(number);
    if (!t) throw notFound(`version of deployment ${r.name}`, requested);
    return t;
  }
  const routes = r.routes;
  if (routes.length === 1) return routes[0]!;
  const cumulative = r.cumulative;
  const x = random() * cumulative[cumulative.length - 1]!;
  for (let i = 0; i < cumulative.length; i++) if (x < cumulative[i]!) return routes[i]!;
  return routes[routes.length - 1]!;
}
