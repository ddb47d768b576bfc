import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, invalid, notFound } from '../../errors/index.js';
import {
  PermanentJobError,
  type Job,
  type JobContext,
  type JobHandler,
  type JobOutcome,
  type JobQueue,
} from '../../jobs/queue.js';
import { newId, nowIso, type MetadataStore } from '../../store/metadata.js';
import type { DataEngine } from '../engine.js';
import type { DatasetService, DatasetVersion } from '../service.js';
import { compileRecipe, RecipeDataError, type Fitted, type Source } from './compile.js';
import {
  COLUMN_TYPES,
  MAIN_INPUT,
  parseInputs,
  planRecipe,
  type ColumnType,
  type InputRef,
  type Plan,
  type Schema,
} from './steps.js';

export const RECIPE_JOB = 'recipe';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const DEFAULT_PREVIEW_ROWS = 10_000;
const MAX_PREVIEW_ROWS = 100_000;
const DEFAULT_PREVIEW_LIMIT = 50;
const MAX_PREVIEW_LIMIT = 1_000;

type InputVersion = DatasetVersion;

/** What recipes use of the dataset service. */
export type RecipeDatasets = Pick<
  DatasetService,
  'getVersion' | 'getVersionById' | 'parquetPath' | 'importFile'
>;

/** What recipes use of the DuckDB engine. */
export type RecipeEngine = Pick<DataEngine, 'workDir' | 'withConnection' | 'quoteIdent'>;

export interface Recipe {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly createdAt: string;
  readonly latestVersion: number | null;
}

export interface RecipeVersion {
  readonly id: string;
  readonly recipe: string;
  readonly version: number;
  readonly description: string;
  readonly inputs: Readonly<Record<string, InputRef>>;
  readonly steps: readonly unknown[];
  readonly outputSchema: { readonly columns: Schema };
  readonly createdBy: string;
  readonly createdAt: string;
}

export interface RecipeRun {
  readonly id: string;
  readonly jobId: string;
  readonly output: { readonly dataset: string; readonly version: number; readonly id: string };
  readonly created: boolean;
  readonly inputs: Readonly<Record<string, { dataset: string; version: number; id: string }>>;
  readonly fitted: readonly Fitted[];
  readonly createdAt: string;
}

export interface VersionInput {
  readonly inputs: unknown;
  readonly steps: unknown;
  readonly description?: string | undefined;
}

export interface PreviewRequest {
  /** A saved version (default: the latest), unless `steps` are given. */
  readonly version?: number | undefined;
  /** Draft steps to try; with `inputs`, or the inputs of the latest version. */
  readonly steps?: unknown;
  readonly inputs?: unknown;
  /** Apply only the first `upTo` steps: to see one step's effect. */
  readonly upTo?: number | undefined;
  /** Rows of the main input the steps run on (default 10,000). */
  readonly rows?: number | undefined;
  /** A seeded sample of `rows` rows instead of the first ones. */
  readonly sample?: boolean | undefined;
  /** Rows returned (default 50). */
  readonly limit?: number | undefined;
}

export interface Preview {
  readonly columns: Schema;
  readonly rows: Record<string, unknown>[];
  readonly rowCount: number;
  readonly steps: number;
  readonly fitted: readonly Fitted[];
  readonly inputs: Readonly<Record<string, { dataset: string; version: number; id: string }>>;
}

interface RunPayload {
  readonly projectId: string;
  readonly recipe: string;
  readonly version: number;
  readonly recipeVersionId: string;
  readonly output: string;
  /** alias → dataset version id, resolved when the run was submitted ("latest" included). */
  readonly inputs: Readonly<Record<string, string>>;
}

/**
 * Preparation recipes: immutable numbered versions of ordered steps over named inputs, checked
 * against the inputs' schemas when saved; runs are jobs compiling the steps into one DuckDB query
 * whose Parquet output becomes a dataset version with its lineage.
 */
export class RecipeService {
  constructor(
    private readonly store: MetadataStore,
    private readonly datasets: RecipeDatasets,
    private readonly engine: RecipeEngine,
    private readonly jobs: JobQueue,
  ) {}

  async create(
    projectId: string,
    input: { name: string; description?: string | undefined } & Partial<VersionInput>,
    createdBy: string,
  ): Promise<Recipe & { version?: RecipeVersion }> {
    if (!NAME.test(input.name))
      throw invalid(
        'name',
        'use 1 to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit',
      );
    // Check a first version before anything is written: a refused version leaves no recipe behind.
    const first =
      input.steps !== undefined || input.inputs !== undefined
        ? await this.check(projectId, { inputs: input.inputs, steps: input.steps ?? [] })
        : undefined;
    const row = {
      id: newId('rcp'),
      project_id: projectId,
      name: input.name,
      description: input.description ?? '',
      created_by: createdBy,
      created_at: nowIso(),
    };
    try {
      return await this.store.transaction(async (trx) => {
        await trx.insertInto('recipes').values(row).execute();
        const recipe: Recipe = {
          id: row.id,
          name: row.name,
          description: row.description,
          createdAt: row.created_at,
          latestVersion: first ? 1 : null,
        };
        if (!first) return recipe;
        const version = await this.insertVersion(
          trx,
          projectId,
          row.id,
          row.name,
          1,
          first,
          input,
          createdBy,
        );
        return { ...recipe, version };
      });
    } catch (error) {
      if (this.store.dialect.isUniqueViolation(error))
        throw new AppError('NAME_TAKEN', `a recipe named ${JSON.stringify(input.name)} exists already`, [
          { path: 'name', message: 'is taken' },
        ]);
      throw error;
    }
  }

  async list(projectId: string): Promise<Recipe[]> {
    const rows = await this.store.db
      .selectFrom('recipes')
      .leftJoin('recipe_versions', 'recipe_versions.recipe_id', 'recipes.id')
      .select(['recipes.id', 'recipes.name', 'recipes.description', 'recipes.created_at'])
      .select((eb) => eb.fn.max('recipe_versions.version').as('latest'))
      .where('recipes.project_id', '=', projectId)
      .groupBy(['recipes.id', 'recipes.name', 'recipes.description', 'recipes.created_at'])
      .orderBy('recipes.name')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      createdAt: r.created_at,
      latestVersion: r.latest === null ? null : Number(r.latest),
    }));
  }

  async get(projectId: string, name: string): Promise<Recipe & { versions: RecipeVersion[] }> {
    const recipe = await this.recipeRow(projectId, name);
    const rows = await this.store.db
      .selectFrom('recipe_versions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('recipe_id', '=', recipe.id)
      .orderBy('version', 'desc')
      .execute();
    const versions = rows.map((r) => toVersion(r, name));
    return {
      id: recipe.id,
      name,
      description: recipe.description,
      createdAt: recipe.created_at,
      latestVersion: versions[0]?.version ?? null,
      versions,
    };
  }

  /** Adds the next version; the steps are checked against the inputs as they are now. */
  async addVersion(
    projectId: string,
    name: string,
    input: VersionInput,
    createdBy: string,
  ): Promise<RecipeVersion> {
    const recipe = await this.recipeRow(projectId, name);
    const checked = await this.check(projectId, input);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store.transaction(async (trx) => {
          const latest = await trx
            .selectFrom('recipe_versions')
            .select((eb) => eb.fn.max('version').as('v'))
            .where('recipe_id', '=', recipe.id)
            .executeTakeFirst();
          const next = Number(latest?.v ?? 0) + 1;
          return this.insertVersion(trx, projectId, recipe.id, name, next, checked, input, createdBy);
        });
      } catch (error) {
        // Two versions added at once: the loser takes the next number.
        if (attempt < 3 && this.store.dialect.isUniqueViolation(error)) continue;
        throw error;
      }
    }
  }

  async getVersion(projectId: string, name: string, version?: number): Promise<RecipeVersion> {
    const recipe = await this.recipeRow(projectId, name);
    let query = this.store.db
      .selectFrom('recipe_versions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('recipe_id', '=', recipe.id);
    query =
      version === undefined
        ? query.orderBy('version', 'desc').limit(1)
        : query.where('version', '=', version);
    const row = await query.executeTakeFirst();
    if (!row) throw notFound('recipe version', version === undefined ? name : `${name}@${version}`);
    return toVersion(row, name);
  }

  /** The runs of a version: which input versions made which dataset versions. */
  async lineage(
    projectId: string,
    name: string,
    version: number,
  ): Promise<{
    recipe: string;
    version: number;
    recipeVersionId: string;
    inputs: Record<string, InputRef>;
    runs: RecipeRun[];
  }> {
    const rv = await this.getVersion(projectId, name, version);
    const rows = await this.store.db
      .selectFrom('recipe_runs')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('recipe_version_id', '=', rv.id)
      .orderBy('created_at', 'desc')
      .limit(1000)
      .execute();
    return {
      recipe: name,
      version,
      recipeVersionId: rv.id,
      inputs: { ...rv.inputs },
      runs: rows.map((r) => ({
        id: r.id,
        jobId: r.job_id,
        output: {
          dataset: r.output_dataset,
          version: Number(r.output_version),
          id: r.output_dataset_version_id,
        },
        created: Number(r.created) === 1,
        inputs: JSON.parse(r.inputs_json) as RecipeRun['inputs'],
        fitted: JSON.parse(r.fitted_json) as Fitted[],
        createdAt: r.created_at,
      })),
    };
  }

  /**
   * Runs steps synchronously on a window of the main input (the first `rows` rows, or a seeded
   * sample of them) and returns the first rows of the result with its schema. Nothing is stored.
   */
  async preview(projectId: string, name: string, request: PreviewRequest): Promise<Preview> {
    const rows = request.rows ?? DEFAULT_PREVIEW_ROWS;
    if (!Number.isInteger(rows) || rows < 1 || rows > MAX_PREVIEW_ROWS)
      throw invalid('rows', `must be a whole number from 1 to ${MAX_PREVIEW_ROWS}`);
    const limit = request.limit ?? DEFAULT_PREVIEW_LIMIT;
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_PREVIEW_LIMIT)
      throw invalid('limit', `must be a whole number from 0 to ${MAX_PREVIEW_LIMIT}`);
    let inputs: unknown;
    let steps: unknown;
    if (request.steps !== undefined) {
      if (request.version !== undefined)
        throw invalid('version', 'give a saved version or draft steps, not both');
      steps = request.steps;
      if (request.inputs !== undefined) inputs = request.inputs;
      else {
        const latest = await this.getVersion(projectId, name).catch((error: unknown) => {
          if (error instanceof AppError && error.code === 'NOT_FOUND')
            throw invalid('inputs', 'the recipe has no version yet: give inputs with the draft steps');
          throw error;
        });
        inputs = latest.inputs;
      }
    } else {
      if (request.inputs !== undefined) throw invalid('inputs', 'draft inputs go with draft steps');
      const saved = await this.getVersion(projectId, name, request.version);
      inputs = saved.inputs;
      steps = saved.steps;
    }
    if (request.upTo !== undefined) {
      if (
        !Array.isArray(steps) ||
        !Number.isInteger(request.upTo) ||
        request.upTo < 0 ||
        request.upTo > steps.length
      )
        throw invalid(
          'upTo',
          `must be a number of steps from 0 to ${Array.isArray(steps) ? steps.length : 0}`,
        );
      steps = steps.slice(0, request.upTo);
    }
    const { plan, versions } = await this.check(projectId, { inputs, steps });
    const sources = await this.sources(versions);
    try {
      return await this.engine.withConnection(async (connection) => {
        const compiled = await compileRecipe(connection, plan, sources, {
          quoteIdent: (n) => this.engine.quoteIdent(n),
          window: { rows, sample: request.sample === true },
        });
        const params = { ...compiled.params, limit_rows: limit };
        const reader = await connection.runAndReadAll(
          `SELECT * FROM (${compiled.sql}) LIMIT CAST($limit_rows AS BIGINT)`,
          params,
        );
        const count = await connection.runAndReadAll(
          `SELECT count(*) AS n FROM (${compiled.sql})`,
          compiled.params,
        );
        return {
          columns: compiled.output,
          rows: (reader.getRowObjects() as Record<string, unknown>[]).map(jsonRow),
          rowCount: Number((count.getRowObjects()[0] as { n: bigint }).n),
          steps: plan.steps.length,
          fitted: compiled.fitted,
          inputs: describe(versions),
        };
      });
    } catch (error) {
      throw dataProblem(error);
    }
  }

  /** Queues a run of a version (default: the latest); "latest" inputs are resolved now. */
  async submitRun(
    projectId: string,
    name: string,
    request: { version?: number | undefined; output?: string | undefined },
    createdBy: string,
  ): Promise<Job> {
    const rv = await this.getVersion(projectId, name, request.version);
    const output = request.output ?? name;
    if (!NAME.test(output))
      throw invalid(
        'output',
        'must be a dataset name: 1 to 128 letters, digits, dots, dashes and underscores',
      );
    // The inputs may have moved on since the version was saved: check the steps against them again.
    const { versions } = await this.check(projectId, { inputs: rv.inputs, steps: rv.steps });
    const payload: RunPayload = {
      projectId,
      recipe: name,
      version: rv.version,
      recipeVersionId: rv.id,
      output,
      inputs: Object.fromEntries(Object.entries(versions).map(([alias, v]) => [alias, v.id])),
    };
    // A crash mid-run is retried once (a rerun gives the same content); bad data fails at once.
    return this.jobs.enqueue({ projectId, type: RECIPE_JOB, payload, createdBy, maxAttempts: 2 });
  }

  /** The job: compile, write the Parquet output to a scratch folder, import it as a dataset version. */
  readonly handler: JobHandler = async (job: Job, ctx: JobContext): Promise<JobOutcome> => {
    const p = job.payload as RunPayload;
    const rv = await this.versionById(p.projectId, p.recipeVersionId);
    const versions: Record<string, InputVersion> = {};
    for (const [alias, id] of Object.entries(p.inputs))
      versions[alias] = await this.datasets.getVersionById(p.projectId, id);
    let plan: Plan;
    try {
      plan = planRecipe(rv.steps, schemasOf(versions));
    } catch (error) {
      throw new PermanentJobError(error instanceof Error ? error.message : String(error));
    }
    const sources = await this.sources(versions);
    await mkdir(this.engine.workDir, { recursive: true });
    const dir = await mkdtemp(join(this.engine.workDir, 'recipe-'));
    // The queue drops reports closer together than its throttle; repeating the latest one each
    // second makes sure a phase's message ("running ...") is shown while that phase lasts.
    let latest: [number, string] = [0, 'starting'];
    const report = (fraction: number, message: string) => {
      latest = [fraction, message];
      ctx.progress(fraction, message);
    };
    const heartbeat = setInterval(() => ctx.progress(...latest), 1_000);
    try {
      const file = join(dir, 'output.parquet');
      const steps = plan.steps.length;
      const fitted = await this.engine.withConnection(async (connection) => {
        const interrupt = () => connection.interrupt();
        ctx.signal.addEventListener('abort', interrupt);
        try {
          const compiled = await compileRecipe(connection, plan, sources, {
            quoteIdent: (n) => this.engine.quoteIdent(n),
            signal: ctx.signal,
            onStep: (i, n) =>
              report((0.6 * i) / Math.max(1, n), `step ${i + 1}/${n}: ${plan.steps[i]!.type}`),
          });
          report(0.6, `running ${steps} steps and writing Parquet`);
          await connection.run(`COPY (${compiled.sql}) TO $output_file (FORMAT parquet, COMPRESSION zstd)`, {
            ...compiled.params,
            output_file: file,
          });
          return compiled.fitted;
        } catch (error) {
          ctx.signal.throwIfAborted();
          throw new PermanentJobError(runFailure(error));
        } finally {
          ctx.signal.removeEventListener('abort', interrupt);
        }
      });
      // Cancelled while the last query finished: stop before anything is recorded.
      ctx.signal.throwIfAborted();
      report(0.8, 'importing the output as a dataset version');
      const { version, created } = await this.datasets
        .importFile(
          p.projectId,
          p.output,
          { path: file, format: 'parquet' },
          {
            source: {
              kind: 'recipe',
              recipe: p.recipe,
              version: p.version,
              recipeVersionId: p.recipeVersionId,
            },
            lineage: { inputs: Object.values(p.inputs), recipeVersionId: p.recipeVersionId },
            signal: ctx.signal,
            // Written just now by this DuckDB: kept as it is where its types are already Mass's.
            asWritten: true,
            // The import reports before each phase, the last one before the version is recorded:
            // throwing there when the job was cancelled abandons the import with nothing stored.
            onProgress: (f, message) => {
              ctx.signal.throwIfAborted();
              report(0.8 + 0.2 * f, message);
            },
          },
        )
        .catch((error: unknown) => {
          throw error instanceof AppError ? new PermanentJobError(error.message) : error;
        });
      const inputs = describe(versions);
      return {
        // The output version is recorded: a cancel that comes now cannot undo it (its run is
        // committed with the job).
        recorded: true,
        result: {
          dataset: version.dataset,
          version: version.version,
          datasetVersionId: version.id,
          created,
          recipe: p.recipe,
          recipeVersion: p.version,
          recipeVersionId: p.recipeVersionId,
          inputs,
        },
        commit: async (trx) => {
          await trx
            .insertInto('recipe_runs')
            .values({
              id: newId('rrun'),
              project_id: p.projectId,
              recipe_version_id: p.recipeVersionId,
              job_id: job.id,
              output_dataset_version_id: version.id,
              output_dataset: version.dataset,
              output_version: version.version,
              created: created ? 1 : 0,
              inputs_json: JSON.stringify(inputs),
              fitted_json: JSON.stringify(fitted),
              created_at: nowIso(),
            })
            .execute();
        },
      };
    } finally {
      clearInterval(heartbeat);
      await rm(dir, { recursive: true, force: true });
    }
  };

  /** Resolves the inputs (pinned or latest) and checks the steps against their schemas. */
  private async check(
    projectId: string,
    input: Pick<VersionInput, 'inputs' | 'steps'>,
  ): Promise<{ inputs: Record<string, InputRef>; plan: Plan; versions: Record<string, InputVersion> }> {
    const inputs = parseInputs(input.inputs);
    const versions: Record<string, InputVersion> = {};
    for (const [alias, ref] of Object.entries(inputs)) {
      try {
        versions[alias] = await this.datasets.getVersion(
          projectId,
          ref.dataset,
          ref.version === 'latest' ? undefined : ref.version,
        );
      } catch (error) {
        if (error instanceof AppError && error.code === 'NOT_FOUND')
          throw invalid(
            `/inputs/${alias}/${ref.version === 'latest' ? 'dataset' : 'version'}`,
            ref.version === 'latest'
              ? `the project has no dataset ${JSON.stringify(ref.dataset)} with a version`
              : `the dataset ${JSON.stringify(ref.dataset)} has no version ${ref.version}`,
          );
        throw error;
      }
    }
    return { inputs, plan: planRecipe(input.steps, schemasOf(versions)), versions };
  }

  private async sources(versions: Record<string, InputVersion>): Promise<Record<string, Source>> {
    const out: Record<string, Source> = {};
    const schemas = schemasOf(versions);
    for (const [alias, v] of Object.entries(versions))
      out[alias] = { path: await this.datasets.parquetPath(v), schema: schemas[alias]! };
    return out;
  }

  private async insertVersion(
    trx: Parameters<Parameters<MetadataStore['transaction']>[0]>[0],
    projectId: string,
    recipeId: string,
    recipe: string,
    version: number,
    checked: { inputs: Record<string, InputRef>; plan: Plan },
    input: Partial<VersionInput>,
    createdBy: string,
  ): Promise<RecipeVersion> {
    const description = input.description ?? '';
    if (typeof description !== 'string' || description.length > 10_000)
      throw invalid('description', 'must be a string of at most 10,000 characters');
    const row = {
      id: newId('rcv'),
      recipe_id: recipeId,
      project_id: projectId,
      version,
      description,
      inputs_json: JSON.stringify(checked.inputs),
      steps_json: JSON.stringify(input.steps ?? []),
      output_schema_json: JSON.stringify(checked.plan.output),
      created_by: createdBy,
      created_at: nowIso(),
    };
    await trx.insertInto('recipe_versions').values(row).execute();
    return toVersion(row, recipe);
  }

  private async recipeRow(projectId: string, name: string) {
    const row = await this.store.db
      .selectFrom('recipes')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) throw notFound('recipe', name);
    return row;
  }

  private async versionById(projectId: string, id: string): Promise<RecipeVersion> {
    const row = await this.store.db
      .selectFrom('recipe_versions')
      .innerJoin('recipes', 'recipes.id', 'recipe_versions.recipe_id')
      .selectAll('recipe_versions')
      .select('recipes.name as recipe_name')
      .where('recipe_versions.project_id', '=', projectId)
      .where('recipe_versions.id', '=', id)
      .executeTakeFirst();
    if (!row) throw new PermanentJobError(`the recipe version ${id} no longer exists`);
    return toVersion(row, row.recipe_name);
  }
}

function schemasOf(versions: Record<string, InputVersion>): Record<string, Schema> {
  return Object.fromEntries(
    Object.entries(versions).map(([alias, v]) => [
      alias,
      v.schema.columns.map((c) => ({
        name: c.name,
        type: (COLUMN_TYPES as readonly string[]).includes(c.type) ? (c.type as ColumnType) : 'text',
      })),
    ]),
  );
}

function describe(
  versions: Record<string, InputVersion>,
): Record<string, { dataset: string; version: number; id: string }> {
  return Object.fromEntries(
    Object.entries(versions).map(([alias, v]) => [
      alias,
      { dataset: v.dataset, version: v.version, id: v.id },
    ]),
  );
}

interface VersionRow {
  id: string;
  version: number;
  description: string;
  inputs_json: string;
  steps_json: string;
  output_schema_json: string;
  created_by: string;
  created_at: string;
}

function toVersion(r: VersionRow, recipe: string): RecipeVersion {
  return {
    id: r.id,
    recipe,
    version: Number(r.version),
    description: r.description,
    inputs: JSON.parse(r.inputs_json) as Record<string, InputRef>,
    steps: JSON.parse(r.steps_json) as unknown[],
    outputSchema: { columns: JSON.parse(r.output_schema_json) as Schema },
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

/** A DuckDB value as JSON: whole numbers as numbers where exact, timestamps and others as text. */
function jsonRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === 'bigint')
      out[k] =
        v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(v)
          : v.toString();
    else if (typeof v === 'number') out[k] = Number.isFinite(v) ? v : null;
    else if (v === null || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
    else out[k] = String(v);
  }
  return out;
}

/** The reason a run failed, in the user's terms (DuckDB's message without its SQL excerpt). */
function runFailure(error: unknown): string {
  if (error instanceof RecipeDataError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 1_000);
}

/** A preview that fails on the data is the caller's problem (400), not a server error. */
function dataProblem(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (error instanceof RecipeDataError)
    return new AppError('VALIDATION_FAILED', error.message, [
      { path: `/steps/${error.step}`, message: error.message },
    ]);
  const message = error instanceof Error ? error.message : '';
  if (/^(Conversion|Invalid Input|Out of Range|Binder) Error/.test(message))
    return new AppError('VALIDATION_FAILED', `the steps fail on the data: ${runFailure(error)}`, [
      { path: '/steps', message: runFailure(error) },
    ]);
  return error;
}

export { MAIN_INPUT };
