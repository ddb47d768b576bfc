import { Type } from '@sinclair/typebox';
import { predictTarget, predictTargets } from '../../serving/instances.js';
import type { App, Services } from '../app.js';
import { withProblems } from '../schemas.js';
import { ModelNames, projectHeader, servedBy, timed } from './serving.js';

const ModelEntry = Type.Object({
  model_id: Type.String({ description: 'What to send as model_id: the deployment, or project.deployment' }),
  project: Type.String(),
  deployment: Type.String(),
  model: Type.String(),
  version: Type.Integer(),
  task: Type.String(),
  ready: Type.Boolean(),
  input_parameters: Type.Array(Type.Object({ name: Type.String(), type: Type.String() })),
  output_targets: Type.Array(Type.String()),
});

/**
 * The simple form many teams start from: list the models you may call, send one set of named
 * input parameters, get the prediction for one target.
 */
export function registerSimpleRoutes(app: App, services: Services): void {
  const { serving, deployments } = services;
  const names = new ModelNames(services);

  app.get(
    '/api/model',
    {
      config: { auth: 'predict' },
      schema: {
        tags: ['predictions'],
        summary: 'The models the caller may predict with',
        response: withProblems({ 200: Type.Object({ models: Type.Array(ModelEntry) }) }),
      },
    },
    async (request) => {
      const principal = request.principal!;
      const models = [];
      for (const r of deployments.all()) {
        if (!principal.isAdmin && principal.projectId !== r.projectId) continue;
        const scoped = principal.projectId === r.projectId;
        const version = r.primary.version;
        const loaded = deployments.cache.peek(version.id);
        const s = version.signature;
        const inputs =
          s.inputs.length > 0
            ? s.inputs.map((i) => ({ name: i.name, type: i.type }))
            : (s.tensors?.inputs ?? loaded?.inputs ?? []).map((t) => ({
                name: t.name,
                type: `${t.datatype} [${t.shape.join(',')}]`,
              }));
        models.push({
          model_id: scoped ? r.name : `${r.projectName}.${r.name}`,
          project: r.projectName,
          deployment: r.name,
          model: version.model,
          version: version.version,
          task: s.task,
          ready: deployments.isReady(r),
          input_parameters: inputs,
          output_targets: loaded
            ? predictTargets(loaded)
            : [
                ...(s.target !== undefined ? [s.target] : []),
                ...(s.tensors?.outputs ?? []).map((o) => o.name),
              ],
        });
      }
      models.sort((a, b) => a.model_id.localeCompare(b.model_id));
      return { models };
    },
  );

  app.post(
    '/api/predict',
    {
      config: { auth: 'predict' },
      schema: {
        tags: ['predictions'],
        summary: 'Predict one target from named input parameters',
        description:
          'model_id: a model_id of GET /api/model. input_parameters: one value per input, by name (null is a missing value for models trained by Mass). output_target: the target column (default), a class label (its probability), or an output name.',
        body: Type.Object(
          {
            model_id: Type.String({ minLength: 1, maxLength: 127 }),
            input_parameters: Type.Record(Type.String(), Type.Unknown()),
            output_target: Type.Optional(Type.String({ maxLength: 256 })),
            model_version: Type.Optional(Type.String({ maxLength: 32 })),
          },
          { additionalProperties: false },
        ),
        response: withProblems(
          {
            200: Type.Object({
              model_id: Type.String(),
              model: Type.String(),
              model_version: Type.Integer(),
              output_target: Type.Union([Type.String(), Type.Null()]),
              prediction: Type.Unknown(),
              request_id: Type.String(),
            }),
          },
          413,
          500,
          503,
        ),
      },
      onResponse: timed(services, 'api_predict'),
    },
    async (request, reply) => {
      const body = request.body;
      const { projectId, deployment } = await names.resolve(
        request.principal!,
        body.model_id,
        projectHeader(request),
      );
      const result = await serving.infer(
        projectId,
        deployment,
        body.model_version,
        { kind: 'instances', value: [body.input_parameters], path: '/input_parameters' },
        { requestId: request.id, protocol: 'simple' },
      );
      servedBy(reply, result);
      const target = body.output_target ?? result.model.version.signature.target;
      return {
        model_id: body.model_id,
        model: result.target.version.model,
        model_version: result.target.version.version,
        output_target: target ?? null,
        prediction: predictTarget(result.model, result.outputs, body.output_target),
        request_id: request.id,
      };
    },
  );
}
