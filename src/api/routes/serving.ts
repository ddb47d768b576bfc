import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/service.js';
import { AppError, notFound } from '../../errors/index.js';
import { BATCH_PREDICT_JOB } from '../../serving/batch.js';
import type { InferResult } from '../../serving/dataplane.js';
import type { Readable } from 'node:stream';
import { invalid } from '../../errors/index.js';
import type { App, Services } from '../app.js';
import { DeploymentSchema, JobSchema, ProjectParams, withProblems } from '../schemas.js';

const DeploymentParams = Type.Object({ project: Type.String(), deployment: Type.String({ maxLength: 63 }) });

const SERVED = Symbol('mass.served');
type Served = FastifyReply & { [SERVED]?: InferResult['routing'] };

/** Every prediction answer says who answered: deployment, model and version (and x-request-id). */
export function servedBy(reply: FastifyReply, result: InferResult): void {
  reply.header('x-mass-deployment', result.routing.name);
  reply.header('x-mass-model', result.target.version.model);
  reply.header('x-mass-model-version', String(result.target.version.version));
  (reply as Served)[SERVED] = result.routing;
}

/** A route-level hook recording the time inside the server (request in → response written), per deployment. */
export function timed(services: Services, route: string) {
  const metrics = services.serving.metrics;
  const unknown = metrics.serverHistogram(route);
  return (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const routing = (reply as Served)[SERVED];
    const h = routing
      ? (routing.histograms[route] ??= metrics.serverHistogram(route, routing.projectName, routing.name))
      : unknown;
    h.observe(reply.elapsedTime * 1000);
    done();
  };
}

const PROJECT_TTL_MS = 5_000;

/**
 * How a protocol-level model name (V2, gRPC, `/api/predict`) maps to a deployment: a key scoped
 * to a project names the deployment alone (`churn`); any caller may name `project.deployment`
 * (names of both never hold a dot), or send the project in `x-mass-project`. A project the
 * caller cannot see reads as "model not found". See docs/decisions/0002.
 */
export class ModelNames {
  private readonly projects = new Map<string, { id: string; at: number } | { id: null; at: number }>();

  constructor(private readonly services: Services) {}

  /** The common case without a promise: a project key naming its own deployment. */
  resolveLocal(
    principal: Principal,
    name: string,
    projectHeader: string | undefined,
  ): { projectId: string; deployment: string } | undefined {
    if (projectHeader !== undefined || principal.projectId === null || name.includes('.')) return undefined;
    return { projectId: principal.projectId, deployment: name };
  }

  async resolve(
    principal: Principal,
    name: string,
    projectHeader: string | undefined,
  ): Promise<{ projectId: string; deployment: string }> {
    const dot = name.indexOf('.');
    const projectName = dot >= 0 ? name.slice(0, dot) : projectHeader;
    const deployment = dot >= 0 ? name.slice(dot + 1) : name;
    if (projectName === undefined || projectName === '') {
      if (principal.projectId !== null) return { projectId: principal.projectId, deployment };
      throw new AppError(
        'VALIDATION_FAILED',
        `name the project of model ${JSON.stringify(name)}: "<project>.${name}", or the x-mass-project header (this key is not scoped to one project)`,
        [{ path: 'model', message: 'the project is not known' }],
      );
    }
    const projectId = await this.projectId(projectName);
    if (projectId === null) throw notFound('model', name);
    if (principal.isAdmin || principal.projectId === projectId) return { projectId, deployment };
    if (principal.sessionId !== null) {
      // A console session: its role comes from the membership (throws 404 without one).
      try {
        await this.services.auth.authorizeProject(principal, projectName, 'predict');
        return { projectId, deployment };
      } catch (error) {
        if (error instanceof AppError && error.status === 403) throw error;
      }
    }
    throw notFound('model', name);
  }

  private async projectId(name: string): Promise<string | null> {
    const now = Date.now();
    const hit = this.projects.get(name);
    if (hit && now - hit.at < PROJECT_TTL_MS) return hit.id;
    const project = await this.services.auth.findProject(name);
    const id = project?.id ?? null;
    if (this.projects.size > 10_000) this.projects.clear();
    this.projects.set(name, { id, at: now });
    return id;
  }
}

export function projectHeader(request: FastifyRequest): string | undefined {
  const h = request.headers['x-mass-project'];
  return typeof h === 'string' ? h : undefined;
}

/** Promote, rollback and the prediction log of a deployment. */
export function registerServingRoutes(app: App, services: Services): void {
  const { deployments, serving, registry, datasets, artifacts, jobs, config } = services;
  const batch = services.batchScoring;

  app.post<{ Params: { project: string }; Querystring: { model?: string; version?: number } }>(
    '/v1/projects/:project/batch-prediction-jobs',
    {
      config: { auth: 'model:train' },
      schema: {
        tags: ['predictions'],
        summary:
          'Score a dataset version or an uploaded CSV with a model version: a job writing a CSV result',
        description:
          'JSON body {"model", "version"?, "dataset", "datasetVersion"?}, or the CSV itself (Content-Type: text/csv) with ' +
          '?model=&version=. The result (GET .../result) has the input columns, then `prediction` (and ' +
          '`probability_<class>` for classifiers). Progress and rows/s are on the job.',
        params: ProjectParams,
        querystring: Type.Object({
          model: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          version: Type.Optional(Type.Integer({ minimum: 1 })),
        }),
        response: withProblems({ 202: JobSchema }, 413, 415),
      },
    },
    async (request, reply) => {
      const projectId = request.project!.id;
      const body = request.body as Readable | Record<string, unknown> | undefined;
      let model: string | undefined;
      let version: number | undefined;
      let input: { hash: string; rowCount: number | null; label: string };
      if (body && typeof (body as Readable).pipe === 'function') {
        model = request.query.model;
        version = request.query.version;
        if (model === undefined) throw invalid('model', 'name the model in the query: ?model=...');
        const writer = await artifacts.begin();
        try {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            if (writer.size + chunk.length > config.maxUploadBytes)
              throw new AppError(
                'PAYLOAD_TOO_LARGE',
                `the CSV is larger than ${config.maxUploadBytes} bytes`,
              );
            await writer.write(chunk);
          }
          if (writer.size === 0) throw new AppError('DATASET_EMPTY', 'the CSV body is empty');
          const ref = await writer.commit();
          input = { hash: ref.hash, rowCount: null, label: 'uploaded CSV' };
        } catch (error) {
          await writer.abort();
          throw error;
        }
      } else {
        const b = (body ?? {}) as Record<string, unknown>;
        if (typeof b !== 'object' || Array.isArray(b)) throw invalid('body', 'must be a JSON object');
        for (const key of Object.keys(b))
          if (!['model', 'version', 'dataset', 'datasetVersion'].includes(key))
            throw invalid(
              key,
              'is not a field of a batch scoring job (model, version, dataset, datasetVersion)',
            );
        if (typeof b.model !== 'string') throw invalid('model', 'must be the name of a model');
        if (typeof b.dataset !== 'string') throw invalid('dataset', 'must be the name of a dataset');
        if (b.version !== undefined && !Number.isInteger(b.version))
          throw invalid('version', 'must be a version number');
        if (b.datasetVersion !== undefined && !Number.isInteger(b.datasetVersion))
          throw invalid('datasetVersion', 'must be a version number');
        model = b.model;
        version = b.version as number | undefined;
        const dv = await datasets.getVersion(projectId, b.dataset, b.datasetVersion as number | undefined);
        input = {
          hash: await datasets.csvArtifact(dv),
          rowCount: dv.rowCount,
          label: `${dv.dataset}@${dv.version}`,
        };
      }
      const mv = await registry.getVersion(projectId, model, version);
      const job = await batch.submit(projectId, mv, input, request.principal!.userId);
      return reply.status(202).send(job);
    },
  );
  app.get(
    '/v1/projects/:project/batch-prediction-jobs/:job/result',
    {
      config: { auth: 'model:read' },
      schema: {
        tags: ['predictions'],
        summary: 'The CSV result of a finished batch scoring job',
        params: Type.Object({ project: Type.String(), job: Type.String({ maxLength: 64 }) }),
        produces: ['text/csv'],
        response: withProblems({}, 409),
      },
    },
    async (request, reply) => {
      const job = await jobs.get(request.project!.id, request.params.job);
      if (job.type !== BATCH_PREDICT_JOB) throw notFound('batch scoring job', request.params.job);
      const result = job.result as { artifactHash?: string } | null;
      if (job.status !== 'succeeded' || !result?.artifactHash)
        throw new AppError('STATE_CONFLICT', `the job is ${job.status}; its result exists once it succeeded`);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="predictions-${job.id}.csv"`)
        .send(artifacts.createReadStream(result.artifactHash));
    },
  );

  app.post(
    '/v1/projects/:project/deployments/:deployment/promote',
    {
      config: { auth: 'deployment:write' },
      schema: {
        tags: ['deployments'],
        summary: 'Promote a version to production: it takes all traffic (warm before the switch)',
        description:
          'Give a version, or an alias whose version is promoted (default: staging). The production version before is kept for rollback.',
        params: DeploymentParams,
        body: Type.Object(
          {
            version: Type.Optional(Type.Integer({ minimum: 1 })),
            alias: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' })),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 200: DeploymentSchema }, 409),
      },
    },
    async (request) => deployments.promote(request.project!.id, request.params.deployment, request.body),
  );
  app.post(
    '/v1/projects/:project/deployments/:deployment/rollback',
    {
      config: { auth: 'deployment:write' },
      schema: {
        tags: ['deployments'],
        summary: 'Roll back to the production version before the last promote (all traffic to it)',
        params: DeploymentParams,
        response: withProblems({ 200: DeploymentSchema }, 409),
      },
    },
    async (request) => deployments.rollback(request.project!.id, request.params.deployment),
  );
  app.get(
    '/v1/projects/:project/deployments/:deployment/predictions',
    {
      config: { auth: 'deployment:read' },
      schema: {
        tags: ['deployments'],
        summary: 'The prediction log: sampled predictions and every shadow comparison, newest first',
        params: DeploymentParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
          role: Type.Optional(Type.Union([Type.Literal('primary'), Type.Literal('shadow')])),
        }),
        response: withProblems({
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                id: Type.String(),
                deployment: Type.String(),
                model: Type.String(),
                version: Type.Integer(),
                role: Type.String(),
                requestId: Type.String(),
                protocol: Type.String(),
                rows: Type.Integer(),
                inputs: Type.Unknown(),
                outputs: Type.Unknown(),
                latencyUs: Type.Integer(),
                comparison: Type.Unknown(),
                createdAt: Type.String(),
              }),
            ),
          }),
        }),
      },
    },
    async (request) => {
      const d = deployments.get(request.project!.id, request.params.deployment);
      // What is still in memory is written first, so that a caller reads its own predictions.
      await serving.log.flush();
      return {
        items: await serving.log.list(request.project!.id, d.id, {
          limit: request.query.limit ?? 100,
          role: request.query.role,
        }),
      };
    },
  );
}
