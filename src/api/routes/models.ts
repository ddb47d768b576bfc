import { Type } from '@sinclair/typebox';
import type { App, Services } from '../app.js';
import { ModelSchema, ModelVersionSchema, ProjectParams, withProblems } from '../schemas.js';

const VersionParams = Type.Object({
  project: Type.String(),
  model: Type.String({ maxLength: 128 }),
  version: Type.Integer({ minimum: 1 }),
});

export function registerModelRoutes(app: App, { registry, artifacts }: Services): void {
  app.get(
    '/v1/projects/:project/models',
    {
      config: { auth: 'model:read' },
      schema: {
        tags: ['models'],
        summary: 'Models of a project',
        params: ProjectParams,
        response: withProblems({ 200: Type.Object({ items: Type.Array(ModelSchema) }) }),
      },
    },
    async (request) => ({ items: await registry.listModels(request.project!.id) }),
  );
  app.get(
    '/v1/projects/:project/models/:model',
    {
      config: { auth: 'model:read' },
      schema: {
        tags: ['models'],
        summary: 'A model with its versions, newest first',
        params: Type.Object({ project: Type.String(), model: Type.String({ maxLength: 128 }) }),
        response: withProblems({
          200: Type.Intersect([ModelSchema, Type.Object({ versions: Type.Array(ModelVersionSchema) })]),
        }),
      },
    },
    async (request) => registry.getModel(request.project!.id, request.params.model),
  );
  app.get(
    '/v1/projects/:project/models/:model/versions/:version',
    {
      config: { auth: 'model:read' },
      schema: {
        tags: ['models'],
        summary: 'One model version: metrics, signature, lineage',
        params: VersionParams,
        response: withProblems({ 200: ModelVersionSchema }),
      },
    },
    async (request) => registry.getVersion(request.project!.id, request.params.model, request.params.version),
  );
  app.get(
    '/v1/projects/:project/models/:model/versions/:version/artifact',
    {
      config: { auth: 'model:read' },
      schema: {
        tags: ['models'],
        summary: 'The ONNX file of a model version',
        params: VersionParams,
        produces: ['application/octet-stream'],
        response: withProblems({}),
      },
    },
    async (request, reply) => {
      const { model, version } = request.params;
      const mv = await registry.getVersion(request.project!.id, model, version);
      return reply
        .type('application/octet-stream')
        .header(
          'content-disposition',
          `attachment; filename="${mv.model.replace(/[^A-Za-z0-9._-]/g, '_')}-v${mv.version}.onnx"`,
        )
        .send(artifacts.createReadStream(mv.artifactHash));
    },
  );
}
