import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String(),
    code: Type.String(),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'An error, as RFC 9457 application/problem+json' },
);

/** The problem responses every authenticated route can give. */
export function withProblems<T extends Record<number, TSchema>>(ok: T, ...extra: number[]) {
  const out: Record<number, TSchema> = { ...ok };
  for (const status of [400, 401, 403, 404, ...extra]) out[status] = Type.Ref('Problem');
  return out;
}

export const ProjectParams = Type.Object({ project: Type.String({ maxLength: 63 }) });

export const ProjectSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});

export const ColumnSchemaSchema = Type.Object({
  name: Type.String(),
  type: Type.Union([
    Type.Literal('numeric'),
    Type.Literal('categorical'),
    Type.Literal('boolean'),
    Type.Literal('text'),
  ]),
  missing: Type.Integer(),
  distinct: Type.Integer(),
  distinctCapped: Type.Boolean(),
  integer: Type.Optional(Type.Boolean()),
  min: Type.Optional(Type.Number()),
  max: Type.Optional(Type.Number()),
  mean: Type.Optional(Type.Number()),
});

export const DatasetVersionSchema = Type.Object({
  id: Type.String(),
  dataset: Type.String(),
  version: Type.Integer(),
  contentHash: Type.String(),
  format: Type.String(),
  sizeBytes: Type.Integer(),
  rowCount: Type.Integer(),
  schema: Type.Object({ columns: Type.Array(ColumnSchemaSchema), rowCount: Type.Integer() }),
  source: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});

export const DatasetSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  latestVersion: Type.Union([Type.Integer(), Type.Null()]),
});

export const JobSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  status: Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s))),
  progress: Type.Number({ minimum: 0, maximum: 1 }),
  message: Type.String(),
  metrics: Type.Record(Type.String(), Type.Number()),
  result: Type.Unknown(),
  error: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  cancelRequested: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const SignatureSchema = Type.Object({
  task: Type.Union([Type.Literal('classification'), Type.Literal('regression')]),
  target: Type.String(),
  inputs: Type.Array(Type.Object({ name: Type.String(), type: Type.String() })),
  labels: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number()]))),
});

export const ModelVersionSchema = Type.Object({
  id: Type.String(),
  model: Type.String(),
  version: Type.Integer(),
  artifactHash: Type.String(),
  sizeBytes: Type.Integer(),
  algorithm: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown()),
  metrics: Type.Record(Type.String(), Type.Unknown()),
  signature: SignatureSchema,
  datasetVersionId: Type.Union([Type.String(), Type.Null()]),
  jobId: Type.Union([Type.String(), Type.Null()]),
  codeVersion: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});

export const ModelSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  task: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  latestVersion: Type.Union([Type.Integer(), Type.Null()]),
});

export const DeploymentSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  model: Type.String(),
  version: Type.Integer(),
  modelVersionId: Type.String(),
  ready: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const PredictBody = Type.Object(
  {
    rows: Type.Array(Type.Record(Type.String(), Type.Unknown()), {
      minItems: 1,
      description: 'Rows by column name; null is a missing value',
    }),
  },
  { additionalProperties: false },
);
export type PredictBody = Static<typeof PredictBody>;

export const PredictResponse = Type.Object({
  deployment: Type.String(),
  model: Type.String(),
  version: Type.Integer(),
  requestId: Type.String(),
  predictions: Type.Array(
    Type.Union([
      Type.Object({
        label: Type.Union([Type.String(), Type.Number()]),
        probabilities: Type.Record(Type.String(), Type.Number()),
      }),
      Type.Object({ value: Type.Number() }),
    ]),
  ),
});

export const ApiKeySchema = Type.Object({
  id: Type.String(),
  prefix: Type.String(),
  name: Type.String(),
  projectId: Type.Union([Type.String(), Type.Null()]),
  role: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
