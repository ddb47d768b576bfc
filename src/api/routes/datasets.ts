import type { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors/index.js';
import type { App, Services } from '../app.js';
import { DatasetSchema, DatasetVersionSchema, ProjectParams, withProblems } from '../schemas.js';

export function registerDatasetRoutes(app: App, { datasets, config }: Services): void {
  app.post(
    '/v1/projects/:project/datasets',
    {
      config: { auth: 'dataset:write' },
      bodyLimit: config.maxUploadBytes,
      schema: {
        tags: ['datasets'],
        summary:
          'Upload a CSV file as a new dataset version (send the file as the body, Content-Type: text/csv)',
        description:
          'Importing content identical to the latest version returns that version (200) instead of creating one.',
        params: ProjectParams,
        querystring: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 128 }) },
          { additionalProperties: false },
        ),
        consumes: ['text/csv'],
        response: withProblems({ 200: DatasetVersionSchema, 201: DatasetVersionSchema }, 413, 415),
      },
    },
    async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!['text/csv', 'application/csv', 'application/octet-stream'].includes(type)) {
        throw new AppError(
          'UNSUPPORTED_MEDIA_TYPE',
          `send the CSV file as the body with Content-Type: text/csv (got ${type || 'none'})`,
        );
      }
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > config.maxUploadBytes) {
        throw new AppError(
          'PAYLOAD_TOO_LARGE',
          `the file is larger than the limit of ${config.maxUploadBytes} bytes`,
        );
      }
      const body = request.body as Readable;
      const { version, created } = await datasets.importCsv(request.project!.id, request.query.name, body, {
        maxBytes: config.maxUploadBytes,
        source: 'upload:csv',
      });
      return reply.status(created ? 201 : 200).send(version);
    },
  );
  app.get(
    '/v1/projects/:project/datasets',
    {
      config: { auth: 'dataset:read' },
      schema: {
        tags: ['datasets'],
        summary: 'Datasets of a project',
        params: ProjectParams,
        response: withProblems({ 200: Type.Object({ items: Type.Array(DatasetSchema) }) }),
      },
    },
    async (request) => ({ items: await datasets.list(request.project!.id) }),
  );
  app.get(
    '/v1/projects/:project/datasets/:dataset',
    {
      config: { auth: 'dataset:read' },
      schema: {
        tags: ['datasets'],
        summary: 'A dataset with its versions, newest first',
        params: Type.Object({ project: Type.String(), dataset: Type.String({ maxLength: 128 }) }),
        response: withProblems({
          200: Type.Intersect([DatasetSchema, Type.Object({ versions: Type.Array(DatasetVersionSchema) })]),
        }),
      },
    },
    async (request) => datasets.get(request.project!.id, request.params.dataset),
  );
  app.get(
    '/v1/projects/:project/datasets/:dataset/versions/:version',
    {
      config: { auth: 'dataset:read' },
      schema: {
        tags: ['datasets'],
        summary: 'One dataset version with its schema',
        params: Type.Object({
          project: Type.String(),
          dataset: Type.String({ maxLength: 128 }),
          version: Type.Integer({ minimum: 1 }),
        }),
        response: withProblems({ 200: DatasetVersionSchema }),
      },
    },
    async (request) =>
      datasets.getVersion(request.project!.id, request.params.dataset, request.params.version),
  );
}
