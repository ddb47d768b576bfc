import type { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { IMAGE_PREDICT_JOB } from '../../data/sources/image-scoring.js';
import { URL_FORMATS } from '../../data/sources/service.js';
import { AppError, notFound } from '../../errors/index.js';
import type { App, Services } from '../app.js';
import { DatasetVersionSchema, JobSchema, withProblems } from '../schemas.js';

const ZIP_TYPES = ['application/zip', 'application/x-zip-compressed'];

const DatasetParams = Type.Object({ project: Type.String(), dataset: Type.String({ maxLength: 128 }) });

export function registerSourceRoutes(
  app: App,
  { sources, images, imageScoring, jobs, artifacts, config }: Services,
): void {
  app.post(
    '/v1/projects/:project/datasets/:dataset/versions/:version/predictions',
    {
      config: { auth: 'model:train' },
      schema: {
        tags: ['sources'],
        summary: 'Score every image of an image dataset version with a deployment or a model version (a job)',
        description:
          'The model takes one FP32 input [N, 1 or 3, H, W]; images are resized to H×W and scaled to 0..1. ' +
          'The result (GET /v1/projects/:project/image-prediction-jobs/:job/result) is a CSV: file, label, sha256, prediction, score.',
        params: Type.Object({
          project: Type.String(),
          dataset: Type.String({ maxLength: 128 }),
          version: Type.Integer({ minimum: 1 }),
        }),
        body: Type.Object(
          {
            deployment: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            model: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            modelVersion: Type.Optional(
              Type.Integer({ minimum: 1, description: 'with model; default the latest' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 202: JobSchema }),
      },
    },
    async (request, reply) =>
      reply
        .status(202)
        .send(
          await imageScoring.submit(
            request.project!.id,
            request.params.dataset,
            request.params.version,
            request.body,
            request.principal!.userId,
          ),
        ),
  );
  app.get(
    '/v1/projects/:project/image-prediction-jobs/:job/result',
    {
      config: { auth: 'model:read' },
      schema: {
        tags: ['sources'],
        summary: 'The CSV result of a finished image scoring job',
        params: Type.Object({ project: Type.String(), job: Type.String({ maxLength: 64 }) }),
        produces: ['text/csv'],
        response: withProblems({}, 409),
      },
    },
    async (request, reply) => {
      const job = await jobs.get(request.project!.id, request.params.job);
      if (job.type !== IMAGE_PREDICT_JOB) throw notFound('image scoring job', request.params.job);
      const result = job.result as { artifactHash?: string } | null;
      if (job.status !== 'succeeded' || !result?.artifactHash)
        throw new AppError('STATE_CONFLICT', `the job is ${job.status}; its result exists once it succeeded`);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="image-predictions-${job.id}.csv"`)
        .send(artifacts.createReadStream(result.artifactHash));
    },
  );
  // Image zips stream to a temporary file: this scope hands the raw request stream to the service.
  void app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
    scope.addContentTypeParser(ZIP_TYPES, (_request, payload, done) => done(null, payload));
    scope.post(
      '/v1/projects/:project/datasets/:dataset/images',
      {
        config: { auth: 'dataset:write' },
        bodyLimit: config.maxUploadBytes,
        schema: {
          tags: ['sources'],
          summary:
            'Upload a zip of PNG/JPEG images, one folder per label, as a new version of an image dataset',
          description:
            'Each image is stored under its SHA-256; the version is the table file, label, width, height, format, sha256. ' +
            'Limits: MASS_MAX_UPLOAD_BYTES for the zip, MASS_MAX_IMAGES, MASS_MAX_IMAGE_BYTES and MASS_MAX_UNZIPPED_BYTES once unzipped. ' +
            'Paths with .. or absolute names are refused. The same images again return the existing version (200). ' +
            'With ?async=true the zip is stored and imported by a job (202), the way to send large zips.',
          params: DatasetParams,
          querystring: Type.Object({
            async: Type.Optional(
              Type.Boolean({
                description:
                  'true: store the zip and import it as a job (202 with the job: progress per image, cancel)',
              }),
            ),
          }),
          consumes: ZIP_TYPES,
          response: withProblems(
            { 200: DatasetVersionSchema, 201: DatasetVersionSchema, 202: JobSchema },
            413,
            415,
          ),
        },
      },
      async (request, reply) => {
        const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (!ZIP_TYPES.includes(type))
          throw new AppError(
            'UNSUPPORTED_MEDIA_TYPE',
            `send the zip as the body with Content-Type: application/zip (got ${type || 'none'})`,
          );
        const declared = Number(request.headers['content-length']);
        if (Number.isFinite(declared) && declared > config.maxUploadBytes)
          throw new AppError(
            'PAYLOAD_TOO_LARGE',
            `the zip is larger than the limit of ${config.maxUploadBytes} bytes`,
          );
        if (request.query.async)
          return reply
            .status(202)
            .send(
              await images.submitZip(
                request.project!.id,
                request.params.dataset,
                request.body as Readable,
                request.principal!.userId,
              ),
            );
        const { version, created } = await images.importZip(
          request.project!.id,
          request.params.dataset,
          request.body as Readable,
        );
        return reply.status(created ? 201 : 200).send(version);
      },
    );
  });
  app.get(
    '/v1/projects/:project/datasets/:dataset/versions/:version/images/:sha256',
    {
      config: { auth: 'dataset:read' },
      schema: {
        tags: ['sources'],
        summary: 'One image of an image dataset version, by its SHA-256',
        params: Type.Object({
          project: Type.String(),
          dataset: Type.String({ maxLength: 128 }),
          version: Type.Integer({ minimum: 1 }),
          sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
        }),
        response: withProblems({ 200: Type.Unknown({ description: 'the image (image/png or image/jpeg)' }) }),
      },
    },
    async (request, reply) => {
      const { dataset, version, sha256 } = request.params;
      const image = await images.image(request.project!.id, dataset, version, sha256);
      return reply
        .type(image.type)
        .header('cache-control', 'private, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff')
        .send(image.bytes);
    },
  );
  app.post(
    '/v1/projects/:project/datasets/:dataset/import',
    {
      config: { auth: 'dataset:write' },
      schema: {
        tags: ['sources'],
        summary:
          'Import a new dataset version from a saved connection (a table or a query) or a URL; answers with the job',
        description:
          'The query must be one read-only SELECT or WITH statement; it runs in a read-only transaction within MASS_SOURCE_TIMEOUT_SECONDS. ' +
          'URLs to private and internal addresses are refused unless MASS_ALLOW_PRIVATE_URLS is set. ' +
          'An import whose content equals the latest version creates no new version.',
        params: DatasetParams,
        body: Type.Object(
          {
            connection: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            table: Type.Optional(
              Type.String({ minLength: 1, maxLength: 257, description: 'table or schema.table' }),
            ),
            query: Type.Optional(Type.String({ minLength: 1, maxLength: 100_000 })),
            url: Type.Optional(Type.String({ minLength: 1, maxLength: 8_192 })),
            format: Type.Optional(
              Type.Union(
                URL_FORMATS.map((f) => Type.Literal(f)),
                {
                  description: 'url only; default: from the Content-Type or the file name',
                },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 202: JobSchema }),
      },
    },
    async (request, reply) =>
      reply
        .status(202)
        .send(
          await sources.submit(
            request.project!.id,
            request.params.dataset,
            request.body,
            request.principal!.userId,
          ),
        ),
  );
}
