import { Type } from '@sinclair/typebox';
import type { App, Services } from '../app.js';
import { servedBy } from './serving.js';
import {
  DeploymentSchema,
  DeploymentSettings,
  PredictBody,
  PredictResponse,
  ProjectParams,
  withProblems,
} from '../schemas.js';

const DeploymentParams = Type.Object({ project: Type.String(), deployment: Type.String({ maxLength: 63 }) });
const VersionQuery = Type.Object({
  version: Type.Optional(
    Type.String({
      maxLength: 32,
      description: 'A version number or alias this deployment serves; default: by traffic weight',
    }),
  ),
});

export function registerDeploymentRoutes(app: App, { deployments, serving }: Services): void {
  app.post(
    '/v1/projects/:project/deployments',
    {
      config: { auth: 'deployment:write' },
      schema: {
        tags: ['deployments'],
        summary: 'Deploy a model version behind a named endpoint (loaded and warmed before it answers)',
        params: ProjectParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 63 }),
            model: Type.String({ minLength: 1, maxLength: 128 }),
            version: Type.Optional(Type.Integer({ minimum: 1, description: 'default: the latest' })),
            ...DeploymentSettings,
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 201: DeploymentSchema }, 409),
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await deployments.create(request.project!.id, request.body, request.principal!.userId)),
  );
  app.get(
    '/v1/projects/:project/deployments',
    {
      config: { auth: 'deployment:read' },
      schema: {
        tags: ['deployments'],
        summary: 'Deployments of a project',
        params: ProjectParams,
        response: withProblems({ 200: Type.Object({ items: Type.Array(DeploymentSchema) }) }),
      },
    },
    async (request) => ({ items: deployments.list(request.project!.id) }),
  );
  app.get(
    '/v1/projects/:project/deployments/:deployment',
    {
      config: { auth: 'deployment:read' },
      schema: {
        tags: ['deployments'],
        summary: 'One deployment',
        params: DeploymentParams,
        response: withProblems({ 200: DeploymentSchema }),
      },
    },
    async (request) => deployments.get(request.project!.id, request.params.deployment),
  );
  app.patch(
    '/v1/projects/:project/deployments/:deployment',
    {
      config: { auth: 'deployment:write' },
      schema: {
        tags: ['deployments'],
        summary:
          'Switch versions, change traffic weights, shadow, aliases or settings: one atomic switch, new versions warm first',
        params: DeploymentParams,
        body: Type.Object(
          {
            model: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            version: Type.Optional(Type.Integer({ minimum: 1 })),
            ...DeploymentSettings,
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 200: DeploymentSchema }),
      },
    },
    async (request) => deployments.update(request.project!.id, request.params.deployment, request.body),
  );
  app.delete(
    '/v1/projects/:project/deployments/:deployment',
    {
      config: { auth: 'deployment:write' },
      schema: {
        tags: ['deployments'],
        summary: 'Remove a deployment',
        params: DeploymentParams,
        response: withProblems({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await deployments.remove(request.project!.id, request.params.deployment);
      return reply.status(204).send();
    },
  );
  app.post(
    '/v1/projects/:project/deployments/:deployment/predict',
    {
      config: { auth: 'predict' },
      schema: {
        tags: ['predictions'],
        summary: 'Predict with rows by column name',
        description:
          'Each row names every input column of the model; null is a missing value. Classifiers answer the label and class probabilities, regressions the value.',
        params: DeploymentParams,
        querystring: VersionQuery,
        body: PredictBody,
        response: withProblems({ 200: PredictResponse }, 413, 500, 503),
      },
    },
    async (request, reply) => {
      const { deployment } = request.params;
      const result = await serving.infer(
        request.project!.id,
        deployment,
        request.query.version,
        { kind: 'records', rows: request.body.rows, path: '/rows' },
        { requestId: request.id, protocol: 'v1' },
      );
      servedBy(reply, result);
      const answer = {
        deployment,
        model: result.target.version.model,
        version: result.target.version.version,
        requestId: request.id,
        predictions: serving.predictions(result),
      };
      const task = result.model.version.signature.task;
      // Other models answer every output by name, which the response schema does not describe.
      if (task !== 'classification' && task !== 'regression')
        return reply.type('application/json; charset=utf-8').send(JSON.stringify(answer));
      return answer;
    },
  );
}
