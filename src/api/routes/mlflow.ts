import type { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { parse } from 'csv-parse/sync';
import { AppError } from '../../errors/index.js';
import type { InferInput } from '../../serving/dataplane.js';
import { NumericMatrix, readNumericMatrix } from '../../serving/fastjson.js';
import { mlflowPredictions } from '../../serving/instances.js';
import type { App, Services } from '../app.js';
import { withProblems } from '../schemas.js';
import { servedBy, timed } from './serving.js';

const FORMS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

function bad(path: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${path} ${message}`, [{ path, message }]);
}

/** An MLflow scoring body → the data plane's input (the pandas orientations and the tensor forms). */
export function mlflowInput(body: unknown): InferInput {
  if (body instanceof NumericMatrix) return { kind: 'instances', value: body, path: `/${body.key}` };
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad('/', `must be an object with one of ${FORMS.join(', ')}`);
  const b = body as Record<string, unknown>;
  const present = FORMS.filter((f) => Object.hasOwn(b, f));
  for (const key of Object.keys(b))
    if (!(FORMS as readonly string[]).includes(key) && key !== 'params')
      throw bad(`/${key}`, `is not an MLflow scoring field (${FORMS.join(', ')}, params)`);
  if (present.length !== 1)
    throw bad(
      '/',
      `must hold exactly one of ${FORMS.join(', ')}${present.length ? `, got ${present.join(' and ')}` : ''}`,
    );
  const form = present[0]!;
  const value = b[form];
  if (form === 'dataframe_split') {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw bad('/dataframe_split', 'must be an object {"columns": [...], "data": [[...], ...]}');
    const split = value as Record<string, unknown>;
    if (!Array.isArray(split.data)) throw bad('/dataframe_split/data', 'must be an array of rows');
    if (split.columns !== undefined && !Array.isArray(split.columns))
      throw bad('/dataframe_split/columns', 'must be an array of column names');
    return {
      kind: 'table',
      columns: split.columns as unknown[] | undefined,
      data: split.data,
      path: '/dataframe_split',
    };
  }
  if (form === 'dataframe_records') {
    if (!Array.isArray(value)) throw bad('/dataframe_records', 'must be an array of {column: value} objects');
    return { kind: 'records', rows: value, path: '/dataframe_records' };
  }
  return { kind: 'instances', value, path: `/${form}` };
}

/** A CSV body (MLflow accepts pandas CSV): a header, then rows; numbers become numbers, blanks null. */
async function csvInput(stream: Readable, maxBytes: number): Promise<InferInput> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new AppError('PAYLOAD_TOO_LARGE', `the body is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  let records: string[][];
  try {
    records = parse(Buffer.concat(chunks), { bom: true, skip_empty_lines: true }) as string[][];
  } catch (error) {
    throw new AppError('CSV_INVALID', `the CSV body cannot be read: ${(error as Error).message}`);
  }
  const [header, ...rows] = records;
  if (!header || rows.length === 0)
    throw new AppError('DATASET_EMPTY', 'the CSV body needs a header and rows');
  const cell = (v: string): unknown => {
    const t = v.trim();
    if (t === '') return null;
    const n = Number(t);
    return Number.isFinite(n) && /^[-+]?(\d|\.\d)/.test(t) ? n : v;
  };
  return {
    kind: 'table',
    columns: header.map((h) => h.trim()),
    data: rows.map((r) => r.map(cell)),
    path: '/csv',
  };
}

/** MLflow-style scoring: clients written for `mlflow models serve` work unchanged. */
export function registerMlflowRoutes(app: App, services: Services): void {
  // In its own scope: this route reads numeric matrices straight from the body bytes.
  void app.register(async (scope) => mlflowRoutes(scope as App, services));
}

async function mlflowRoutes(app: App, services: Services): Promise<void> {
  const { serving } = services;
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const matrix = readNumericMatrix(body as Buffer);
    if (matrix) done(null, matrix);
    else json(request, (body as Buffer).toString('utf8'), done);
  });
  app.post<{ Params: { project: string; deployment: string }; Querystring: { version?: string } }>(
    '/v1/projects/:project/deployments/:deployment/invocations',
    {
      config: { auth: 'predict' },
      schema: {
        tags: ['predictions'],
        summary:
          'Predict with an MLflow scoring body (dataframe_split, dataframe_records, instances, inputs, or CSV)',
        description:
          'The body `mlflow models serve` takes: {"dataframe_split": {"columns", "data"}}, {"dataframe_records": [...]}, ' +
          '{"instances": [...]} or {"inputs": ...}; for models trained by Mass, arrays of values follow the order of the ' +
          'model\'s columns. Answers {"predictions": [...]}: labels, values, or the outputs of other models.',
        params: Type.Object({ project: Type.String(), deployment: Type.String({ maxLength: 63 }) }),
        querystring: Type.Object({ version: Type.Optional(Type.String({ maxLength: 32 })) }),
        response: withProblems({}, 413, 500, 503),
      },
      onResponse: timed(services, 'invocations'),
    },
    async (request, reply) => {
      const input =
        typeof (request.body as Readable | undefined)?.pipe === 'function'
          ? await csvInput(request.body as Readable, services.config.maxBodyBytes)
          : mlflowInput(request.body);
      const result = await serving.infer(
        request.project!.id,
        request.params.deployment,
        request.query.version,
        input,
        { requestId: request.id, protocol: 'mlflow' },
      );
      servedBy(reply, result);
      const predictions = mlflowPredictions(result.model.version.signature, result.outputs, result.rows);
      return reply.type('application/json; charset=utf-8').send(JSON.stringify({ predictions }));
    },
  );
}
