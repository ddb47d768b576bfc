/**
 * The Open Inference Protocol over gRPC (`inference.GRPCInferenceService`), on its own port: the
 * same keys (metadata `authorization: Bearer mass_...`), the same model names and the same data
 * plane as the REST front door. This file only translates messages.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Action } from '../../auth/permissions.js';
import type { Principal } from '../../auth/service.js';
import { AppError } from '../../errors/index.js';
import type { InferResult } from '../../serving/dataplane.js';
import { pickTarget } from '../../serving/deployments.js';
import { servedVersions } from '../../serving/spec.js';
import { V2_OF_ORT, type NamedTensor, type Tensors } from '../../serving/tensors.js';
import type { RequestedOutput, WireInput } from '../../serving/v2.js';
import type { Services } from '../app.js';
import { ModelNames } from './serving.js';

type Parameter = { bool_param?: boolean; int64_param?: string; string_param?: string };
type Contents = {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: string[];
  uint_contents?: number[];
  uint64_contents?: string[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
};
interface InferInputTensor {
  name: string;
  datatype: string;
  shape: string[];
  parameters: Record<string, Parameter>;
  contents: Contents | null;
}
interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, Parameter>;
  inputs: InferInputTensor[];
  outputs: { name: string; parameters: Record<string, Parameter> }[];
  raw_input_contents: Buffer[];
}

function protoPath(): string {
  const candidates = [
    new URL('../../serving/grpc/grpc_service.proto', import.meta.url),
    // Compiled to dist/src/api/routes: the proto stays in the source tree.
    new URL('../../../../src/serving/grpc/grpc_service.proto', import.meta.url),
  ].map((u) => fileURLToPath(u));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`grpc_service.proto not found (looked in ${candidates.join(', ')})`);
  return found;
}

const STATUS_OF_HTTP: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  404: grpc.status.NOT_FOUND,
  409: grpc.status.FAILED_PRECONDITION,
  413: grpc.status.RESOURCE_EXHAUSTED,
  415: grpc.status.INVALID_ARGUMENT,
  422: grpc.status.INVALID_ARGUMENT,
  429: grpc.status.RESOURCE_EXHAUSTED,
  503: grpc.status.UNAVAILABLE,
};

/** Which field of InferTensorContents carries each datatype. */
const CONTENTS_FIELD: Record<string, keyof Contents> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

function isBase64(parameters: Record<string, Parameter> | undefined): boolean {
  return parameters?.content_type?.string_param === 'base64' || parameters?.binary_data?.bool_param === true;
}

function contentsOf(t: NamedTensor): Contents {
  const d = t.data;
  switch (t.type) {
    case 'string':
      return { bytes_contents: (d as string[]).map((s) => Buffer.from(s, 'utf8')) };
    case 'bool':
      return { bool_contents: Array.from(d as Uint8Array, (v) => v === 1) };
    case 'int64':
      return { int64_contents: Array.from(d as BigInt64Array, (v) => v.toString()) };
    case 'uint8':
      return { uint_contents: Array.from(d as Uint8Array) };
    case 'int8':
    case 'int16':
    case 'int32':
      return { int_contents: Array.from(d as Int32Array) };
    case 'float64':
      return { fp64_contents: Array.from(d as Float64Array) };
    case 'float16':
      return {};
    default:
      return { fp32_contents: Array.from(d as Float32Array) };
  }
}

function rawOf(t: NamedTensor): Buffer {
  if (t.type === 'string') {
    const parts: Buffer[] = [];
    for (const s of t.data as string[]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      parts.push(len, b);
    }
    return Buffer.concat(parts);
  }
  const d = t.data as Float32Array;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

export interface GrpcServer {
  readonly port: number;
  close(graceMs?: number): Promise<void>;
}

/** Starts the gRPC front door on `host:port` (0: any free port). */
export async function startGrpcServer(
  services: Services,
  host: string,
  port: number,
  onError: (error: unknown, requestId: string) => void = () => undefined,
): Promise<GrpcServer> {
  const definition = protoLoader.loadSync(protoPath(), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const proto = grpc.loadPackageDefinition(definition) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  };
  const { serving, deployments, auth, config } = services;
  const names = new ModelNames(services);
  const prefix = `grpc_${randomBytes(6).toString('base64url')}`;
  let counter = 0;

  const principalOf = async (
    call: grpc.ServerUnaryCall<unknown, unknown>,
    action: Action,
  ): Promise<Principal> => {
    const header = call.metadata.get('authorization')[0];
    const principal = await auth.authenticate(typeof header === 'string' ? header : undefined);
    auth.authorize(principal, action);
    return principal;
  };
  const projectOf = (call: grpc.ServerUnaryCall<unknown, unknown>): string | undefined => {
    const h = call.metadata.get('x-mass-project')[0];
    return typeof h === 'string' ? h : undefined;
  };

  /** Runs a handler; an error becomes a gRPC status with the problem's detail and the request id. */
  const unary =
    <Req, Res>(fn: (call: grpc.ServerUnaryCall<Req, Res>, requestId: string) => Promise<Res>) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
      const requestId = `${prefix}${(counter++).toString(36)}`;
      fn(call, requestId).then(
        (res) => callback(null, res),
        (error: unknown) => {
          const e = error instanceof AppError ? error : undefined;
          const trailer = new grpc.Metadata();
          trailer.set('x-request-id', requestId);
          if (e) trailer.set('x-mass-error-code', e.code);
          if (!e || e.status >= 500) onError(error, requestId);
          callback({
            code: e ? (STATUS_OF_HTTP[e.status] ?? grpc.status.INTERNAL) : grpc.status.INTERNAL,
            // A 5xx says what failed (the problem's title), never the cause; the log has it under the id.
            details: `${e ? (e.status < 500 || e.status === 503 ? e.message : e.title) : 'internal error'} (request ${requestId})`,
            metadata: trailer,
          });
        },
      );
    };

  const server = new grpc.Server({
    'grpc.max_receive_message_length': config.maxBodyBytes,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  server.addService(proto.inference.GRPCInferenceService.service, {
    ServerLive: unary(async () => ({ live: true })),
    ServerReady: unary(async () => ({ ready: deployments.ready })),
    ServerMetadata: unary(async () => ({ name: 'mass', version: services.version, extensions: [] })),
    ModelReady: unary<{ name: string; version: string }, { ready: boolean }>(async (call) => {
      const principal = await principalOf(call, 'deployment:read');
      const { name, version } = call.request;
      const { projectId, deployment } = await names.resolve(principal, name, projectOf(call));
      const { routing } = serving.resolve(projectId, deployment, version || undefined);
      return { ready: deployments.isReady(routing, version ? pickTarget(routing, version) : undefined) };
    }),
    ModelMetadata: unary<{ name: string; version: string }, unknown>(async (call) => {
      const principal = await principalOf(call, 'deployment:read');
      const { name, version } = call.request;
      const { projectId, deployment } = await names.resolve(principal, name, projectOf(call));
      const meta = await serving.metadata(projectId, deployment, version || undefined);
      return {
        name,
        versions: servedVersions(meta.routing.spec).map(String),
        platform: 'onnx_onnxv1',
        inputs: meta.inputs.map((t) => ({ ...t, shape: t.shape.map(String) })),
        outputs: meta.outputs.map((t) => ({ ...t, shape: t.shape.map(String) })),
      };
    }),
    ModelInfer: unary<ModelInferRequest, unknown>(async (call, requestId) => {
      const started = performance.now();
      let routing: InferResult['routing'] | undefined;
      try {
        const principal = await principalOf(call, 'predict');
        const req = call.request;
        const { projectId, deployment } = await names.resolve(principal, req.model_name, projectOf(call));
        const raw = req.raw_input_contents.length > 0;
        if (raw && req.raw_input_contents.length !== req.inputs.length)
          throw new AppError(
            'PREDICTION_INPUT_INVALID',
            `raw_input_contents has ${req.raw_input_contents.length} entries for ${req.inputs.length} inputs`,
            [{ path: '/raw_input_contents', message: 'one entry per input' }],
          );
        const inputs: WireInput[] = req.inputs.map((t, i) => {
          const field = CONTENTS_FIELD[t.datatype];
          return {
            name: t.name,
            datatype: t.datatype,
            shape: t.shape.map(Number),
            data: field && t.contents ? (t.contents[field] ?? []) : [],
            base64: isBase64(t.parameters),
            ...(raw ? { raw: req.raw_input_contents[i]! } : {}),
          };
        });
        const requested: RequestedOutput[] | undefined =
          req.outputs.length > 0 ? req.outputs.map((o) => ({ name: o.name, base64: false })) : undefined;
        const result = await serving.infer(
          projectId,
          deployment,
          req.model_version || undefined,
          { kind: 'tensors', inputs, path: '/inputs' },
          { requestId, protocol: 'grpc' },
          requested,
        );
        const headers = new grpc.Metadata();
        headers.set('x-request-id', requestId);
        headers.set('x-mass-deployment', result.routing.name);
        headers.set('x-mass-model', result.target.version.model);
        headers.set('x-mass-model-version', String(result.target.version.version));
        call.sendMetadata(headers);
        routing = result.routing;
        const order = requested?.map((o) => o.name) ?? result.model.outputs.map((o) => o.name);
        const tensors: [string, NamedTensor][] = order
          .map((n) => [n, (result.outputs as Tensors)[n]] as [string, NamedTensor | undefined])
          .filter((e): e is [string, NamedTensor] => e[1] !== undefined);
        // Raw in, raw out; FP16 has no typed field, so a model with an FP16 output answers raw.
        const useRaw = raw || tensors.some(([, t]) => t.type === 'float16');
        return {
          model_name: req.model_name,
          model_version: String(result.target.version.version),
          id: req.id || requestId,
          parameters: {
            request_id: { string_param: requestId },
            deployment: { string_param: result.routing.name },
            model: { string_param: result.target.version.model },
          },
          outputs: tensors.map(([name, t]) => ({
            name,
            datatype: V2_OF_ORT[t.type],
            shape: t.dims.map(String),
            ...(useRaw ? {} : { contents: contentsOf(t) }),
          })),
          raw_output_contents: useRaw ? tensors.map(([, t]) => rawOf(t)) : [],
        };
      } finally {
        const h = routing
          ? (routing.histograms.grpc_infer ??= serving.metrics.serverHistogram(
              'grpc_infer',
              routing.projectName,
              routing.name,
            ))
          : serving.metrics.serverHistogram('grpc_infer');
        h.observe((performance.now() - started) * 1000);
      }
    }),
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return {
    port: bound,
    async close(graceMs = 5_000) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
