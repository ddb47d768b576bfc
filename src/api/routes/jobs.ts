import { Type } from '@sinclair/typebox';
import { STRATEGIES } from '../../ml/search.js';
import { TASK_KINDS } from '../../training/trainer.js';
import { TRAINERS } from '../../training/trainers/index.js';
import type { App, Services } from '../app.js';
import { JobSchema, ProjectParams, withProblems } from '../schemas.js';

const JobParams = Type.Object({ project: Type.String(), job: Type.String({ maxLength: 100 }) });

export function registerJobRoutes(app: App, { jobs, training }: Services): void {
  app.get(
    '/v1/algorithms',
    {
      config: { auth: 'authenticated' },
      schema: {
        tags: ['training'],
        summary: 'The training algorithms, their tasks and parameters',
        response: withProblems({
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                name: Type.String(),
                summary: Type.String(),
                tasks: Type.Array(Type.String()),
                params: Type.Record(Type.String(), Type.Unknown()),
              }),
            ),
          }),
        }),
      },
    },
    async () => ({
      items: Object.values(TRAINERS).map((t) => ({
        name: t.name,
        summary: t.summary,
        tasks: [...t.tasks],
        params: t.params,
      })),
    }),
  );
  app.post(
    '/v1/projects/:project/training-jobs',
    {
      config: { auth: 'model:train' },
      schema: {
        tags: ['training'],
        summary: 'Train a model on a dataset version; answers at once with the queued job',
        params: ProjectParams,
        body: Type.Object(
          {
            dataset: Type.String({ minLength: 1, maxLength: 128 }),
            datasetVersion: Type.Optional(
              Type.Integer({ minimum: 1, description: 'default: the latest version' }),
            ),
            target: Type.Optional(
              Type.String({ minLength: 1, description: 'the column to predict (not for clustering)' }),
            ),
            model: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 128,
                description: 'model name; default <dataset>-<target>',
              }),
            ),
            algorithm: Type.Optional(
              Type.String({
                description:
                  "see GET /v1/algorithms, or 'auto' to try several within timeBudgetSeconds; default: logistic regression for classes, linear regression for numbers",
              }),
            ),
            timeBudgetSeconds: Type.Optional(
              Type.Number({
                exclusiveMinimum: 0,
                maximum: 86_400,
                description: "algorithm 'auto' only: seconds for trying algorithms; default 60",
              }),
            ),
            search: Type.Optional(
              Type.Object(
                {
                  strategy: Type.Optional(
                    Type.String({ description: `one of ${STRATEGIES.join(', ')}; default tpe` }),
                  ),
                  space: Type.Record(Type.String(), Type.Unknown(), {
                    description: '{ "<param>": [values] | { "min": n, "max": n, "log": bool } }',
                  }),
                  budget: Type.Optional(
                    Type.Object(
                      { trials: Type.Optional(Type.Unknown()), seconds: Type.Optional(Type.Unknown()) },
                      { description: 'trials (full-fit equivalents) and/or seconds; default 20 trials' },
                    ),
                  ),
                  folds: Type.Optional(
                    Type.Unknown({
                      description:
                        'k-fold cross-validation; 1: one validation split; default 5 (1 above 20,000 rows)',
                    }),
                  ),
                  metric: Type.Optional(
                    Type.Unknown({ description: 'default roc_auc for classification, r2 for regression' }),
                  ),
                },
                {
                  description: 'a hyperparameter search on the training rows; the best parameters are fitted',
                },
              ),
            ),
            task: Type.Optional(Type.Union(TASK_KINDS.map((t) => Type.Literal(t)))),
            features: Type.Optional(
              Type.Array(Type.String(), {
                minItems: 1,
                description: 'default: every column but the target and free text',
              }),
            ),
            params: Type.Optional(
              Type.Record(Type.String(), Type.Unknown(), {
                description: "the algorithm's parameters (GET /v1/algorithms)",
              }),
            ),
            testFraction: Type.Optional(
              Type.Number({
                exclusiveMinimum: 0,
                exclusiveMaximum: 1,
                description: 'held-out share; default 0.2',
              }),
            ),
            seed: Type.Optional(Type.Integer({ description: 'split seed; default 42' })),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 202: JobSchema }),
      },
    },
    async (request, reply) =>
      reply
        .status(202)
        .send(await training.submit(request.project!.id, request.body, request.principal!.userId)),
  );
  app.get(
    '/v1/projects/:project/jobs',
    {
      config: { auth: 'job:read' },
      schema: {
        tags: ['jobs'],
        summary: 'Jobs of a project, newest first',
        params: ProjectParams,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
            before: Type.Optional(
              Type.String({ description: 'cursor: createdAt of the last job of the previous page' }),
            ),
            status: Type.Optional(
              Type.Union(
                ['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s)),
              ),
            ),
          },
          { additionalProperties: false },
        ),
        response: withProblems({
          200: Type.Object({ items: Type.Array(JobSchema), next: Type.Union([Type.String(), Type.Null()]) }),
        }),
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const items = await jobs.list(request.project!.id, {
        limit,
        before: request.query.before,
        status: request.query.status as never,
      });
      return { items, next: items.length === limit ? items[items.length - 1]!.createdAt : null };
    },
  );
  app.get(
    '/v1/projects/:project/jobs/:job',
    {
      config: { auth: 'job:read' },
      schema: {
        tags: ['jobs'],
        summary: 'One job with its progress',
        params: JobParams,
        response: withProblems({ 200: JobSchema }),
      },
    },
    async (request) => jobs.get(request.project!.id, request.params.job),
  );
  app.post(
    '/v1/projects/:project/jobs/:job/cancel',
    {
      config: { auth: 'job:cancel' },
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a queued or running job',
        params: JobParams,
        response: withProblems({ 200: JobSchema }, 409),
      },
    },
    async (request) => jobs.cancel(request.project!.id, request.params.job),
  );
}
