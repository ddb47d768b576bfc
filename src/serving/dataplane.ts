import { AppError, invalid } from '../errors/index.js';
import type { TensorSpec } from '../registry/service.js';
import { tensorsToPredictions, type Prediction } from './codec.js';
import { NumericMatrix } from './fastjson.js';
import { instancesToTensors } from './instances.js';
import { pickTarget, type DeploymentService, type Routing, type Target } from './deployments.js';
import type { ServingMetrics } from './metrics.js';
import type { LoadedModel } from './model.js';
import type { PredictionLog } from './predlog.js';
import { InferenceError } from './scheduler.js';
import type { Tensors } from './tensors.js';
import { checkOutputs, type RequestedOutput, type WireInput } from './v2.js';

/** A request as one of the front doors understood it; each form has one codec. */
export type InferInput =
  /** `[{column: value}, ...]`: rows by column name (native API, MLflow `dataframe_records`, `/api/predict`). */
  | { readonly kind: 'records'; readonly rows: readonly unknown[]; readonly path: string }
  /** Column names once, rows as arrays (MLflow `dataframe_split`; matrices in signature order when `columns` is absent). */
  | {
      readonly kind: 'table';
      readonly columns: readonly unknown[] | undefined;
      readonly data: readonly unknown[];
      readonly path: string;
    }
  /** `{column: [values]}` (MLflow `inputs` as an object, for models with column inputs). */
  | { readonly kind: 'columns'; readonly columns: Readonly<Record<string, unknown>>; readonly path: string }
  /** Named tensors (Open Inference Protocol over REST or gRPC; MLflow tensors for imported models). */
  | { readonly kind: 'tensors'; readonly inputs: readonly WireInput[]; readonly path: string }
  /**
   * MLflow `instances` / `inputs` and the like: rows (objects, or arrays in signature order, or
   * `{column: [values]}`) when the model takes columns, tensors when it takes tensors.
   */
  | { readonly kind: 'instances'; readonly value: unknown; readonly path: string }
  /** A numeric matrix read straight from the body (fastjson.ts): rows in the order of the model's columns. */
  | { readonly kind: 'matrix'; readonly matrix: NumericMatrix; readonly path: string };

export interface CallContext {
  readonly requestId: string;
  /** The front door, a metrics label: v1, v2, grpc, mlflow, simple, batch. */
  readonly protocol: string;
}

export interface InferResult {
  readonly routing: Routing;
  readonly target: Target;
  readonly model: LoadedModel;
  readonly outputs: Tensors;
  readonly rows: number;
}

/**
 * The one data plane behind every front door (MLServer's DataPlane): resolve the deployment and
 * the version, encode the input with that version's compiled codec, queue it in front of the
 * runtime (where batching happens), count and time it, log a sample, mirror it to the shadow.
 * It knows no protocol: routes and the gRPC service translate to and from it.
 */
export class DataPlane {
  constructor(
    readonly deployments: DeploymentService,
    readonly metrics: ServingMetrics,
    readonly log: PredictionLog,
    private readonly maxRows: number,
  ) {}

  /** The deployment and the version a request goes to (weighted, or named by number or alias). */
  resolve(projectId: string, name: string, version?: string): { routing: Routing; target: Target } {
    const routing = this.deployments.routing(projectId, name);
    if (!routing) throw new AppError('NOT_FOUND', `deployment ${JSON.stringify(name)} was not found`);
    return { routing, target: pickTarget(routing, version) };
  }

  /** The loaded model of a target, loading it (again) when it is not in memory. */
  async model(target: Target): Promise<LoadedModel> {
    const cached = this.deployments.cache.peek(target.version.id);
    if (cached) return cached;
    try {
      return await this.deployments.cache.acquire(target.version);
    } catch (error) {
      throw new AppError(
        'MODEL_NOT_READY',
        `model ${target.version.model} version ${target.version.version} cannot be loaded`,
        [],
        { cause: error },
      );
    }
  }

  /** Model metadata (tensors) of the version a request would reach, loading it if needed. */
  async metadata(
    projectId: string,
    name: string,
    version?: string,
  ): Promise<{
    routing: Routing;
    target: Target;
    inputs: readonly TensorSpec[];
    outputs: readonly TensorSpec[];
    matrix: (TensorSpec & { columns: string[] }) | undefined;
  }> {
    const { routing, target } = this.resolve(
      projectId,
      name,
      version ?? String(this.primaryOf(projectId, name)),
    );
    const model = await this.model(target);
    return {
      routing,
      target,
      inputs: model.inputs,
      outputs: model.outputs,
      matrix: model.tensors.matrixSpec,
    };
  }

  private primaryOf(projectId: string, name: string): number {
    const routing = this.deployments.routing(projectId, name);
    return routing ? routing.primary.version.version : 0;
  }

  async infer(
    projectId: string,
    name: string,
    version: string | undefined,
    input: InferInput,
    ctx: CallContext,
    requested?: readonly RequestedOutput[],
  ): Promise<InferResult> {
    const { routing, target } = this.resolve(projectId, name, version);
    const started = performance.now();
    try {
      const model = this.deployments.cache.peek(target.version.id) ?? (await this.model(target));
      const { feeds, rows } = this.encode(model, input);
      let fetch: string[] | undefined;
      if (requested) {
        checkOutputs(requested, model.outputs);
        fetch = requested.map((o) => o.name);
      }
      let outputs: Tensors;
      try {
        outputs = await target.scheduler.submit(feeds, rows, fetch);
      } catch (error) {
        if (error instanceof InferenceError)
          throw new AppError(
            'INFERENCE_FAILED',
            `model ${target.version.model} version ${target.version.version} failed while predicting (request ${ctx.requestId})`,
            [],
            { cause: error },
          );
        throw error;
      }
      const us = (performance.now() - started) * 1000;
      target.metrics.latency.observe(us / 1e6);
      target.metrics.requests(ctx.protocol).inc();
      const spec = routing.spec;
      if (spec.logSampleRate > 0 && Math.random() < spec.logSampleRate)
        this.record(routing, target, 'primary', ctx, rows, input, outputs, us);
      if (routing.shadow && Math.random() < spec.shadow!.fraction) {
        const shadow = routing.shadow;
        setImmediate(() => void this.mirror(routing, shadow, target, input, outputs, ctx));
      }
      return { routing, target, model, outputs, rows };
    } catch (error) {
      target.metrics.error(error instanceof AppError ? error.code : 'INTERNAL');
      throw error;
    }
  }

  /** Rows by column → predictions (label and probabilities, or value), for the row-oriented front doors. */
  predictions(result: InferResult): Prediction[] {
    return tensorsToPredictions(result.model.version.signature, result.outputs, result.rows);
  }

  private encode(model: LoadedModel, input: InferInput): { feeds: Tensors; rows: number } {
    if (input.kind === 'tensors') return model.tensors.decode(input.inputs, input.path);
    if (input.kind === 'instances') return this.encode(model, this.instances(model, input.value, input.path));
    const encoder = model.rows;
    if (!encoder) {
      throw new AppError(
        'PREDICTION_INPUT_INVALID',
        `model ${model.version.model} takes tensors (${model.inputs.map((i) => `${i.name} ${i.datatype} [${i.shape.join(',')}]`).join('; ')}), not rows by column: use the Open Inference Protocol (/v2/models/.../infer) or MLflow "inputs"`,
        [{ path: input.path, message: 'this model takes tensors, not rows by column' }],
      );
    }
    if (input.kind === 'matrix') {
      const rows = input.matrix.rows;
      if (rows === 0) throw invalid(input.path, 'must hold at least one row');
      if (rows > this.maxRows)
        throw new AppError('TOO_MANY_ROWS', `at most ${this.maxRows} rows per request, got ${rows}`);
      return { feeds: encoder.encodeMatrix(input.matrix, input.path), rows };
    }
    if (input.kind === 'columns') {
      const encoded = encoder.encodeColumns(input.columns, input.path);
      if (encoded.rows === 0) throw invalid(input.path, 'must hold at least one row');
      if (encoded.rows > this.maxRows)
        throw new AppError('TOO_MANY_ROWS', `at most ${this.maxRows} rows per request, got ${encoded.rows}`);
      return encoded;
    }
    const rows = input.kind === 'records' ? input.rows.length : input.data.length;
    if (rows === 0) throw invalid(input.path, 'must hold at least one row');
    if (rows > this.maxRows)
      throw new AppError('TOO_MANY_ROWS', `at most ${this.maxRows} rows per request, got ${rows}`);
    const feeds =
      input.kind === 'records'
        ? encoder.encodeRecords(input.rows, input.path)
        : encoder.encodeTable(input.columns, input.data, input.path);
    return { feeds, rows };
  }

  private instances(model: LoadedModel, value: unknown, path: string): InferInput {
    if (value instanceof NumericMatrix) {
      if (model.rows) return { kind: 'matrix', matrix: value, path };
      const names = [...model.layout.slots.keys()];
      if (names.length !== 1) value = value.toJSON();
      else {
        const inputs = [
          {
            name: names[0],
            datatype: model.layout.slots.get(names[0]!)!.spec.datatype,
            shape: [value.rows, value.cols],
            data: value.data,
          },
        ];
        return { kind: 'tensors', inputs, path };
      }
    }
    if (!model.rows) return { kind: 'tensors', inputs: instancesToTensors(model, value, path), path };
    if (Array.isArray(value)) {
      const first = value[0];
      if (typeof first === 'object' && first !== null && !Array.isArray(first))
        return { kind: 'records', rows: value, path };
      // A matrix: each row's values in the order of the model's columns (a lone column may send scalars).
      const width = model.rows.names.length;
      const data = width === 1 ? value.map((v) => (Array.isArray(v) ? v : [v])) : value;
      return { kind: 'table', columns: undefined, data, path };
    }
    if (typeof value === 'object' && value !== null)
      return { kind: 'columns', columns: value as Record<string, unknown>, path };
    throw new AppError(
      'PREDICTION_INPUT_INVALID',
      `${path} must be an array of rows or an object of columns`,
      [{ path, message: 'must be an array of rows or an object of columns' }],
    );
  }

  private record(
    routing: Routing,
    target: Target,
    role: 'primary' | 'shadow',
    ctx: CallContext,
    rows: number,
    input: InferInput,
    outputs: Tensors,
    us: number,
    comparison?: Record<string, unknown>,
  ): void {
    this.log.push({
      projectId: routing.projectId,
      deploymentId: routing.id,
      deployment: routing.name,
      model: target.version.model,
      version: target.version.version,
      role,
      requestId: ctx.requestId,
      protocol: ctx.protocol,
      rows,
      inputs:
        input.kind === 'tensors'
          ? input.inputs
          : input.kind === 'records'
            ? input.rows
            : input.kind === 'instances'
              ? input.value
              : input.kind === 'matrix'
                ? input.matrix
                : input,
      outputs,
      latencyUs: us,
      ...(comparison ? { comparison } : {}),
      at: new Date().toISOString(),
    });
  }

  /** The shadow gets the same input, encoded by its own codec; its answer is compared and logged, never returned. */
  private async mirror(
    routing: Routing,
    shadow: Target,
    primary: Target,
    input: InferInput,
    answered: Tensors,
    ctx: CallContext,
  ): Promise<void> {
    const started = performance.now();
    let outputs: Tensors = {};
    let rows = 0;
    let comparison: Record<string, unknown>;
    try {
      const model = await this.model(shadow);
      const encoded = this.encode(model, input);
      rows = encoded.rows;
      outputs = await shadow.scheduler.submit(encoded.feeds, encoded.rows);
      comparison = compare(answered, outputs);
    } catch (error) {
      comparison = { agree: false, error: (error as Error).message };
    }
    comparison = { primaryVersion: primary.version.version, ...comparison };
    const us = (performance.now() - started) * 1000;
    this.metrics.shadow
      .labels({
        project: routing.projectName,
        deployment: routing.name,
        version: String(shadow.version.version),
        agree: String(comparison.agree === true),
      })
      .inc();
    this.record(routing, shadow, 'shadow', ctx, rows, input, outputs, us, comparison);
  }
}

/**
 * How a shadow's answer compares with the answer returned. Discrete outputs (labels, ids) must
 * be equal; when a model has none, numbers must be within 1e-4. `maxAbsDiff` is the largest
 * difference of the numeric outputs (probabilities of a retrained model always differ a little).
 */
export function compare(a: Tensors, b: Tensors): Record<string, unknown> {
  const names = Object.keys(a);
  const discrete = names.some((n) => a[n]!.type !== 'float32' && a[n]!.type !== 'float64');
  let agree = true;
  let maxAbsDiff = 0;
  const differing: string[] = [];
  for (const name of names) {
    const x = a[name]!;
    const y = b[name];
    if (!y || x.data.length !== y.data.length || x.type !== y.type) {
      agree = false;
      differing.push(name);
      continue;
    }
    const numeric = x.type === 'float32' || x.type === 'float64';
    let same = true;
    for (let i = 0; i < x.data.length; i++) {
      const p = x.data[i];
      const q = y.data[i];
      if (numeric) {
        const d = Math.abs((p as number) - (q as number));
        if (d > maxAbsDiff) maxAbsDiff = d;
        if (d > 1e-4) same = false;
      } else if (p !== q) same = false;
    }
    if (!same) {
      differing.push(name);
      if (!numeric || !discrete) agree = false;
    }
  }
  return { agree, maxAbsDiff, differing };
}
