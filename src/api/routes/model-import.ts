import type { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors/index.js';
import {
  IMPORT_TASKS,
  ModelImporter,
  mergeOptions,
  optionsFromJson,
  optionsFromQuery,
  type ImportOptions,
} from '../../registry/import.js';
import type { App, Services } from '../app.js';
import { ModelVersionSchema, withProblems } from '../schemas.js';

/** The header that carries import options as JSON (for labels with commas, or numeric labels). */
export const IMPORT_OPTIONS_HEADER = 'x-mass-import-options';

export function registerModelImportRoutes(app: App, services: Services): void {
  const { config } = services;
  const importer = new ModelImporter(services.store, services.artifacts, services.registry, services.version);
  app.post(
    '/v1/projects/:project/models/:model/versions',
    {
      config: { auth: 'model:train' },
      bodyLimit: config.maxUploadBytes,
      schema: {
        tags: ['models'],
        summary:
          'Import an ONNX file as a new model version (send the .onnx file as the body, Content-Type: application/octet-stream)',
        description:
          'The file is checked (parsed as ONNX, then loaded in ONNX Runtime) before anything is stored; its ' +
          'signature is derived from its inputs and outputs. Options may also be sent as JSON in the ' +
          `${IMPORT_OPTIONS_HEADER} header ({"task", "labels", "output", "description"}); query parameters win. ` +
          'See docs/models.md.',
        params: Type.Object({
          project: Type.String({ maxLength: 63 }),
          model: Type.String({ minLength: 1, maxLength: 128 }),
        }),
        querystring: Type.Object(
          {
            task: Type.Optional(Type.Union(IMPORT_TASKS.map((t) => Type.Literal(t)))),
            labels: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 65_536,
                description: 'class labels, comma separated, in the order of the probability columns',
              }),
            ),
            output: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 1024,
                description:
                  'the output holding the probabilities (classification) or the value (regression)',
              }),
            ),
            description: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
        headers: Type.Object({ [IMPORT_OPTIONS_HEADER]: Type.Optional(Type.String({ maxLength: 65_536 })) }),
        consumes: ['application/octet-stream'],
        response: withProblems({ 201: ModelVersionSchema }, 409, 413, 415, 422),
      },
    },
    async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/octet-stream') {
        throw new AppError(
          'UNSUPPORTED_MEDIA_TYPE',
          `send the .onnx file as the body with Content-Type: application/octet-stream (got ${type || 'none'})`,
        );
      }
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > config.maxUploadBytes) {
        throw new AppError(
          'PAYLOAD_TOO_LARGE',
          `the model file is larger than the limit of ${config.maxUploadBytes} bytes`,
        );
      }
      const header = request.headers[IMPORT_OPTIONS_HEADER];
      let options: ImportOptions = optionsFromQuery(request.query);
      if (typeof header === 'string')
        options = mergeOptions(optionsFromJson(header, `header ${IMPORT_OPTIONS_HEADER}`), options);
      const version = await importer.import({
        projectId: request.project!.id,
        model: request.params.model,
        body: request.body as Readable,
        maxBytes: config.maxUploadBytes,
        options,
        uploadedBy: request.principal?.keyId ?? undefined,
      });
      return reply.status(201).send(version);
    },
  );
}
