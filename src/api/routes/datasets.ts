import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { checkColumnTypes, type FileFormat } from '../../data/service.js';
import { AppError, invalid } from '../../errors/index.js';
import type { App, Services } from '../app.js';
import {
  DatasetProfileSchema,
  DatasetSchema,
  DatasetVersionSchema,
  ProjectParams,
  RowsPageSchema,
  withProblems,
} from '../schemas.js';

/** Content types of dataset uploads and the format each one means. */
const UPLOAD_TYPES: Record<string, FileFormat | undefined> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'text/tab-separated-values': 'tsv',
  'application/json': 'json',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/x-jsonlines': 'jsonl',
  'application/vnd.apache.parquet': 'parquet',
  'application/x-parquet': 'parquet',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  // Raw bytes: the format comes from ?format=, CSV by default (as before).
  'application/octet-stream': undefined,
};

const FORMATS = ['csv', 'tsv', 'json', 'jsonl', 'parquet', 'xlsx'] as const;

const VersionParams = Type.Object({
  project: Type.String(),
  dataset: Type.String({ maxLength: 128 }),
  version: Type.Integer({ minimum: 1 }),
});

export function registerDatasetRoutes(app: App, services: Services): void {
  const { datasets, config } = services;
  // Uploads stream straight to a temporary file: the body parsers of this scope hand the raw
  // request stream over for every upload type (JSON included), and the service enforces the limit.
  void app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
    scope.removeContentTypeParser(['application/json']);
    scope.addContentTypeParser(
      Object.keys(UPLOAD_TYPES).filter(
        (t) => !['text/csv', 'application/csv', 'application/octet-stream'].includes(t),
      ),
      (_request, payload, done) => done(null, payload),
    );
    scope.post(
      '/v1/projects/:project/datasets',
      {
        config: { auth: 'dataset:write' },
        bodyLimit: config.maxUploadBytes,
        schema: {
          tags: ['datasets'],
          summary:
            'Upload a file (CSV, TSV, JSON, JSON Lines, Parquet, Excel .xlsx) as a new dataset version; send the file as the body',
          description:
            'The format comes from ?format= or the Content-Type (text/csv, text/tab-separated-values, application/json, application/x-ndjson, application/vnd.apache.parquet, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; application/octet-stream means CSV unless ?format= says otherwise). CSV delimiter, quote, header and encoding are detected; the query parameters override them. Importing content identical to the latest version returns that version (200) instead of creating one.',
          params: ProjectParams,
          querystring: Type.Object(
            {
              name: Type.String({ minLength: 1, maxLength: 128 }),
              format: Type.Optional(Type.Union(FORMATS.map((f) => Type.Literal(f)))),
              delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 3 })),
              quote: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })),
              header: Type.Optional(Type.Boolean()),
              encoding: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
              sheet: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
              schema: Type.Optional(
                Type.String({
                  maxLength: 65_536,
                  description: 'column types to impose, as JSON: {"zip":"categorical","amount":"numeric"}',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          consumes: Object.keys(UPLOAD_TYPES),
          response: withProblems({ 200: DatasetVersionSchema, 201: DatasetVersionSchema }, 413, 415, 422),
        },
      },
      async (request, reply) => {
        const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (!(type in UPLOAD_TYPES)) {
          throw new AppError(
            'UNSUPPORTED_MEDIA_TYPE',
            `send the file as the body with one of the content types ${Object.keys(UPLOAD_TYPES).join(', ')} (got ${type || 'none'})`,
          );
        }
        const declared = Number(request.headers['content-length']);
        if (Number.isFinite(declared) && declared > config.maxUploadBytes) {
          throw new AppError(
            'PAYLOAD_TOO_LARGE',
            `the file is larger than the limit of ${config.maxUploadBytes} bytes`,
          );
        }
        const q = request.query;
        const format: FileFormat = q.format ?? UPLOAD_TYPES[type] ?? 'csv';
        const isText = format === 'csv' || format === 'tsv';
        for (const key of ['delimiter', 'quote', 'header', 'encoding'] as const)
          if (q[key] !== undefined && !isText)
            throw invalid(key, `only for csv and tsv files, not ${format}`);
        if (q.sheet !== undefined && format !== 'xlsx')
          throw invalid('sheet', `only for xlsx files, not ${format}`);
        const csv = {
          ...(q.delimiter !== undefined ? { delimiter: q.delimiter } : {}),
          ...(q.quote !== undefined ? { quote: q.quote } : {}),
          ...(q.header !== undefined ? { header: q.header } : {}),
          ...(q.encoding !== undefined ? { encoding: q.encoding } : {}),
        };
        let schemaOverrides: Record<string, unknown> | undefined;
        if (q.schema !== undefined) {
          try {
            schemaOverrides = JSON.parse(q.schema) as Record<string, unknown>;
          } catch {
            throw invalid('schema', 'must be a JSON object of column name → type');
          }
          if (
            typeof schemaOverrides !== 'object' ||
            schemaOverrides === null ||
            Array.isArray(schemaOverrides)
          )
            throw invalid('schema', 'must be a JSON object of column name → type');
        }
        const { version, created } = await datasets.importStream(
          request.project!.id,
          q.name,
          request.body as Readable,
          { format, ...(Object.keys(csv).length > 0 ? { csv } : {}), ...(q.sheet ? { sheet: q.sheet } : {}) },
          {
            maxBytes: config.maxUploadBytes,
            source: { kind: 'upload', contentType: type },
            ...(schemaOverrides ? { schemaOverrides: checkColumnTypes(schemaOverrides, 'schema') } : {}),
          },
        );
        return reply.status(created ? 201 : 200).send(version);
      },
    );
  });
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
        params: VersionParams,
        response: withProblems({ 200: DatasetVersionSchema }),
      },
    },
    async (request) =>
      datasets.getVersion(request.project!.id, request.params.dataset, request.params.version),
  );
  app.get(
    '/v1/projects/:project/datasets/:dataset/versions/:version/profile',
    {
      config: { auth: 'dataset:read' },
      schema: {
        tags: ['datasets'],
        summary: 'The profile of a dataset version, computed at import',
        description:
          'Per column: type, missing share, distinct count, min / max / mean / std / quantiles and a 20-bin histogram for numbers, top 10 values for categories, text and booleans, min / max for datetimes. For the whole set: rows, duplicate rows, Pearson correlations among numeric columns.',
        params: VersionParams,
        response: withProblems({ 200: DatasetProfileSchema }),
      },
    },
    async (request) => {
      const version = await datasets.getVersion(
        request.project!.id,
        request.params.dataset,
        request.params.version,
      );
      return datasets.profile(version);
    },
  );
  app.get(
    '/v1/projects/:project/datasets/:dataset/versions/:version/rows',
    {
      config: { auth: 'dataset:read' },
      schema: {
        tags: ['datasets'],
        summary: 'Rows of a dataset version: a page (limit, offset) or a random sample (sample, seed)',
        params: VersionParams,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
            offset: Type.Optional(Type.Integer({ minimum: 0 })),
            sample: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
            seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 200: RowsPageSchema }),
      },
    },
    async (request) => {
      const q = request.query;
      if (q.sample !== undefined && (q.limit !== undefined || q.offset !== undefined))
        throw invalid('sample', 'a sample takes no limit or offset');
      if (q.seed !== undefined && q.sample === undefined) throw invalid('seed', 'only with sample');
      const version = await datasets.getVersion(
        request.project!.id,
        request.params.dataset,
        request.params.version,
      );
      return q.sample !== undefined
        ? datasets.sample(version, q.sample, q.seed ?? 42)
        : datasets.rows(version, q.limit ?? 50, q.offset ?? 0);
    },
  );
  app.patch(
    '/v1/projects/:project/datasets/:dataset/versions/:version/schema',
    {
      config: { auth: 'dataset:write' },
      schema: {
        tags: ['datasets'],
        summary: 'Change column types: creates a new version cast accordingly, with lineage to this one',
        description:
          'Versions are immutable: the result is a new version of the same dataset (201), or the latest version when the same edit was already made (200). A value that cannot be converted refuses the edit (422 CAST_FAILED naming the column, the row and the value).',
        params: VersionParams,
        body: Type.Object(
          {
            columns: Type.Record(Type.String({ minLength: 1, maxLength: 1024 }), Type.String(), {
              description: 'column name → numeric, integer, categorical, boolean, datetime or text',
            }),
          },
          { additionalProperties: false },
        ),
        response: withProblems({ 200: DatasetVersionSchema, 201: DatasetVersionSchema }, 422),
      },
    },
    async (request, reply) => {
      const version = await datasets.getVersion(
        request.project!.id,
        request.params.dataset,
        request.params.version,
      );
      const { version: edited, created } = await datasets.editSchema(
        request.project!.id,
        version,
        request.body.columns,
      );
      return reply.status(created ? 201 : 200).send(edited);
    },
  );
}
