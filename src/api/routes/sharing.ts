import { Type } from '@sinclair/typebox';
import { GRANT_KINDS } from '../../auth/grants.js';
import type { App, Services } from '../app.js';
import { ProjectParams, withProblems } from '../schemas.js';

const GrantSchema = Type.Object({
  id: Type.String(),
  from: Type.String(),
  to: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  version: Type.Integer(),
  objectId: Type.String(),
  createdAt: Type.String(),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});
const GrantParams = Type.Object({ project: Type.String(), grant: Type.String({ maxLength: 100 }) });

export function registerSharingRoutes(app: App, { grants, registry, datasets, artifacts }: Services): void {
  app.post(
    '/v1/projects/:project/grants',
    {
      config: { auth: 'share:manage' },
      schema: {
        tags: ['sharing'],
        summary: 'Grant another project read access to one dataset version or one model version',
        params: ProjectParams,
        body: Type.Object(
          {
            to: Type.String({ maxLength: 63 }),
            kind: Type.Union(GRANT_KINDS.map((k) => Type.Literal(k))),
            name: Type.String({ maxLength: 128 }),
            version: Type.Integer({ minimum: 1 }),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 201: GrantSchema }),
      },
    },
    async (request, reply) =>
      reply.status(201).send(await grants.create(request.principal!, request.params.project, request.body)),
  );
  app.get(
    '/v1/projects/:project/grants',
    {
      config: { auth: 'project:read' },
      schema: {
        tags: ['sharing'],
        summary: 'Grants given by and given to this project',
        params: ProjectParams,
        response: withProblems({
          200: Type.Object({ given: Type.Array(GrantSchema), received: Type.Array(GrantSchema) }),
        }),
      },
    },
    async (request) => grants.list(request.principal!, request.params.project),
  );
  app.delete(
    '/v1/projects/:project/grants/:grant',
    {
      config: { auth: 'share:manage' },
      schema: {
        tags: ['sharing'],
        summary: 'Revoke a grant this project gave',
        params: GrantParams,
        response: withProblems({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await grants.revoke(request.principal!, request.params.project, request.params.grant);
      return reply.status(204).send();
    },
  );
  app.get(
    '/v1/projects/:project/shared/:grant',
    {
      config: { auth: 'project:read' },
      schema: {
        tags: ['sharing'],
        summary: 'The dataset or model version shared with this project by a grant',
        params: GrantParams,
        response: withProblems({ 200: Type.Object({ grant: GrantSchema, object: Type.Unknown() }) }),
      },
    },
    async (request) => {
      const grant = await grants.resolve(request.principal!, request.params.project, request.params.grant);
      const object =
        grant.kind === 'model_version'
          ? await registry.getVersionById(grant.fromProjectId, grant.objectId)
          : await datasets.getVersionById(grant.fromProjectId, grant.objectId);
      const { fromProjectId: _hidden, ...visible } = grant;
      return { grant: visible, object };
    },
  );
  app.get(
    '/v1/projects/:project/shared/:grant/artifact',
    {
      config: { auth: 'project:read' },
      schema: {
        tags: ['sharing'],
        summary: 'The file of a shared version (ONNX model or CSV dataset)',
        params: GrantParams,
        produces: ['application/octet-stream'],
        response: withProblems({}),
      },
    },
    async (request, reply) => {
      const grant = await grants.resolve(request.principal!, request.params.project, request.params.grant);
      const hash =
        grant.kind === 'model_version'
          ? (await registry.getVersionById(grant.fromProjectId, grant.objectId)).artifactHash
          : (await datasets.getVersionById(grant.fromProjectId, grant.objectId)).contentHash;
      const ext = grant.kind === 'model_version' ? 'onnx' : 'csv';
      return reply
        .type(grant.kind === 'model_version' ? 'application/octet-stream' : 'text/csv')
        .header(
          'content-disposition',
          `attachment; filename="${grant.name.replace(/[^A-Za-z0-9._-]/g, '_')}-v${grant.version}.${ext}"`,
        )
        .send(artifacts.createReadStream(hash));
    },
  );
}
