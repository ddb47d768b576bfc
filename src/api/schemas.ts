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

export const ColumnTypeSchema = Type.Union([
  Type.Literal('numeric'),
  Type.Literal('integer'),
  Type.Literal('categorical'),
  Type.Literal('boolean'),
  Type.Literal('datetime'),
  Type.Literal('text'),
]);

export const ColumnSchemaSchema = Type.Object({
  name: Type.String(),
  type: ColumnTypeSchema,
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
  format: Type.String({ description: 'parquet; csv for versions stored before the DuckDB engine' }),
  sizeBytes: Type.Integer(),
  rowCount: Type.Integer(),
  schema: Type.Object({ columns: Type.Array(ColumnSchemaSchema), rowCount: Type.Integer() }),
  source: Type.String(),
  sourceInfo: Type.Union([Type.Object({ kind: Type.String() }, { additionalProperties: true }), Type.Null()]),
  lineage: Type.Union([
    Type.Object({ inputs: Type.Array(Type.String()), recipeVersionId: Type.Optional(Type.String()) }),
    Type.Null(),
  ]),
  createdAt: Type.String({ format: 'date-time' }),
});

const NumberOrNull = Type.Union([Type.Number(), Type.Null()]);

export const ColumnProfileSchema = Type.Object({
  name: Type.String(),
  type: ColumnTypeSchema,
  missing: Type.Integer(),
  missingShare: Type.Number(),
  distinct: Type.Integer(),
  distinctApprox: Type.Boolean(),
  min: Type.Optional(Type.Union([Type.Number(), Type.String(), Type.Null()])),
  max: Type.Optional(Type.Union([Type.Number(), Type.String(), Type.Null()])),
  mean: Type.Optional(NumberOrNull),
  std: Type.Optional(NumberOrNull),
  quantiles: Type.Optional(
    Type.Object({
      p1: NumberOrNull,
      p5: NumberOrNull,
      p25: NumberOrNull,
      p50: NumberOrNull,
      p75: NumberOrNull,
      p95: NumberOrNull,
      p99: NumberOrNull,
    }),
  ),
  histogram: Type.Optional(
    Type.Object({
      edges: Type.Array(Type.Number()),
      counts: Type.Array(Type.Integer()),
      sampled: Type.Optional(
        Type.Boolean({
          description:
            'true when the counts were estimated from every k-th row (above 50,000 rows) and scaled to the column',
        }),
      ),
    }),
  ),
  top: Type.Optional(
    Type.Array(
      Type.Object({
        value: Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
        count: Type.Integer(),
      }),
    ),
  ),
});

export const DatasetProfileSchema = Type.Object({
  rowCount: Type.Integer(),
  duplicateRows: Type.Integer(),
  columns: Type.Array(ColumnProfileSchema),
  correlations: Type.Object({
    columns: Type.Array(Type.String()),
    matrix: Type.Array(Type.Array(NumberOrNull)),
    rows: Type.Integer(),
  }),
});

export const RowsPageSchema = Type.Object({
  columns: Type.Array(Type.Object({ name: Type.String(), type: ColumnTypeSchema })),
  rows: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  total: Type.Integer(),
  offset: Type.Optional(Type.Integer()),
  limit: Type.Optional(Type.Integer()),
  sample: Type.Optional(Type.Integer()),
  seed: Type.Optional(Type.Integer()),
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

export const TensorSpecSchema = Type.Object({
  name: Type.String(),
  datatype: Type.String({ description: 'Open Inference Protocol datatype: FP32, INT64, BYTES, ...' }),
  shape: Type.Array(Type.Integer(), { description: '-1 is a dynamic dimension' }),
});

export const SignatureSchema = Type.Object({
  task: Type.Union([
    Type.Literal('classification'),
    Type.Literal('regression'),
    Type.Literal('clustering'),
    Type.Literal('custom'),
  ]),
  target: Type.Optional(Type.String()),
  inputs: Type.Array(Type.Object({ name: Type.String(), type: Type.String() }), {
    description: 'Columns for rows-by-column requests; empty for models that take whole tensors',
  }),
  labels: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number()]))),
  tensors: Type.Optional(
    Type.Object({ inputs: Type.Array(TensorSpecSchema), outputs: Type.Array(TensorSpecSchema) }),
  ),
  outputRoles: Type.Optional(
    Type.Object({
      probabilities: Type.Optional(Type.String()),
      label: Type.Optional(Type.String()),
      value: Type.Optional(Type.String()),
    }),
  ),
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

const TrafficSchema = Type.Array(
  Type.Object(
    { version: Type.Integer({ minimum: 1 }), weight: Type.Number({ minimum: 0, maximum: 100 }) },
    { additionalProperties: false },
  ),
  {
    minItems: 1,
    maxItems: 10,
    description: 'Versions answering requests that name none, split by weight (90/10: a canary)',
  },
);
const BatchingSchema = Type.Object(
  {
    maxBatchSize: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      description: 'Most rows in one merged ONNX Runtime call',
    }),
    maxWaitUs: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      description: 'Longest wait for a batch to fill, in microseconds',
    }),
  },
  { additionalProperties: false },
);
const ShadowSchema = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    fraction: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Share of requests mirrored; default 1' }),
    ),
  },
  { additionalProperties: false },
);

/** The serving settings a deployment can be created or changed with (serving/spec.ts). */
export const DeploymentSettings = {
  traffic: Type.Optional(TrafficSchema),
  shadow: Type.Optional(
    Type.Union([ShadowSchema, Type.Null()], {
      description:
        'A version that gets a copy of requests; its answers are compared and logged, never returned',
    }),
  ),
  aliases: Type.Optional(
    Type.Record(Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' }), Type.Integer({ minimum: 1 }), {
      description: 'Names for versions (production, staging), usable as /v2/models/{name}/versions/{alias}',
    }),
  ),
  batching: Type.Optional(
    Type.Union([BatchingSchema, Type.Null()], { description: 'Adaptive batching; null: off' }),
  ),
  maxQueue: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Requests waiting per version before 503' }),
  ),
  logSampleRate: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'Share of predictions written to the prediction log',
    }),
  ),
};

export const DeploymentSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  model: Type.String(),
  version: Type.Integer({
    description: 'The version answering by default (production, or the heaviest route)',
  }),
  modelVersionId: Type.String(),
  ready: Type.Boolean({ description: 'Every version taking traffic is loaded and warm' }),
  traffic: Type.Optional(TrafficSchema),
  shadow: Type.Optional(
    Type.Union([Type.Object({ version: Type.Integer(), fraction: Type.Number() }), Type.Null()]),
  ),
  aliases: Type.Optional(Type.Record(Type.String(), Type.Integer())),
  previous: Type.Optional(
    Type.Union([Type.Integer(), Type.Null()], { description: 'What rollback returns to' }),
  ),
  batching: Type.Optional(
    Type.Union([Type.Object({ maxBatchSize: Type.Integer(), maxWaitUs: Type.Integer() }), Type.Null()]),
  ),
  maxQueue: Type.Optional(Type.Integer()),
  logSampleRate: Type.Optional(Type.Number()),
  generation: Type.Optional(
    Type.Integer({ description: 'Increases with every routing change in this process' }),
  ),
  versions: Type.Optional(
    Type.Array(
      Type.Object({
        version: Type.Integer(),
        modelVersionId: Type.String(),
        state: Type.String({ description: 'loading, ready, evicted (reloads on demand), failed, unloaded' }),
        error: Type.Optional(Type.String()),
      }),
    ),
  ),
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
