import { Type } from '@sinclair/typebox';
import { buildBundle } from '../../registry/bundle.js';
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
        summary: 'The ONNX file of a model version, or with ?format=zip a bundle',
        description:
          'format=zip: a zip holding model.onnx, signature.json and model-card.json (name, version, task, ' +
          'metrics, lineage, inputs and outputs, producer). See docs/models.md.',
        params: VersionParams,
        querystring: Type.Object(
          { format: Type.Optional(Type.Union([Type.Literal('onnx'), Type.Literal('zip')])) },
          { additionalProperties: false },
        ),
        produces: ['application/octet-stream', 'application/zip'],
        response: withProblems({}),
      },
    },
    async (request, reply) => {
      const { model, version } = request.params;
      const mv = await registry.getVersion(request.project!.id, model, version);
      const base = `${mv.model.replace(/[^A-Za-z0-9._-]/g, '_')}-v${mv.version}`;
      if (request.query.format === 'zip') {
        // Models are small enough to bundle in memory; model.onnx is stored, not compressed.
        const zip = buildBundle(mv, await artifacts.get(mv.artifactHash));
        return reply
          .type('application/zip')
          .header('content-disposition', `attachment; filename="${base}.zip"`)
          .send(Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength));
      }
      return reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename="${base}.onnx"`)
        .send(artifacts.createReadStream(mv.artifactHash));
    },
  );
}
