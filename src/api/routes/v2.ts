import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/index.js';
import { pickTarget } from '../../serving/deployments.js';
import { servedVersions } from '../../serving/spec.js';
import { parseV2Request, v2ResponseJson } from '../../serving/v2.js';
import type { App, Services } from '../app.js';
import { withProblems } from '../schemas.js';
import { ModelNames, projectHeader, servedBy, timed } from './serving.js';

/** The body was parsed as JSON (text and binary bodies reach handlers as strings or streams). */
export function isJsonBody(request: FastifyRequest): boolean {
  return /^application\/([a-z.+-]*\+)?json\b/i.test(request.headers['content-type'] ?? '');
}

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 127 }) });
const VersionParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 127 }),
  version: Type.String({ minLength: 1, maxLength: 32 }),
});

const TensorMetadata = Type.Object({
  name: Type.String(),
  datatype: Type.String(),
  shape: Type.Array(Type.Integer()),
});

const ModelMetadata = Type.Object({
  name: Type.String(),
  versions: Type.Array(Type.String()),
  platform: Type.String(),
  inputs: Type.Array(TensorMetadata),
  outputs: Type.Array(TensorMetadata),
  parameters: Type.Object({
    deployment: Type.String(),
    model: Type.String(),
    version: Type.String(),
    aliases: Type.Record(Type.String(), Type.Integer()),
    matrix_input: Type.Optional(
      Type.Object(
        {
          name: Type.String(),
          datatype: Type.String(),
          shape: Type.Array(Type.Integer()),
          columns: Type.Array(Type.String()),
        },
        {
          description:
            'The same inputs as one FP32 matrix, columns in this order (models whose columns are all numeric)',
        },
      ),
    ),
  }),
});

const InferenceDescription =
  'Open Inference Protocol (KServe V2). The model name is a deployment: its name for a key scoped to a project, ' +
  '`project.deployment` (or the x-mass-project header) otherwise. The version is a number or an alias the ' +
  'deployment serves; without one, traffic weights choose. Body: {"id"?, "parameters"?, "inputs": [{"name", ' +
  '"datatype", "shape", "data", "parameters"?: {"content_type": "base64"}}], "outputs"?: [{"name"}]}. Models trained ' +
  'by Mass take one [N,1] tensor per column (FP32 for numbers, null for missing; BYTES for categories).';

/** The Open Inference Protocol over REST; the same data plane as every other front door. */
export function registerV2Routes(app: App, services: Services): void {
  const { serving, deployments } = services;
  const names = new ModelNames(services);

  app.get(
    '/v2/health/live',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['open inference protocol'],
        summary: 'Server liveness',
        security: [],
        response: { 200: Type.Object({ live: Type.Boolean() }) },
      },
    },
    async () => ({ live: true }),
  );
  app.get(
    '/v2/health/ready',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['open inference protocol'],
        summary: 'Server readiness: every deployment has been brought back',
        security: [],
        response: {
          200: Type.Object({ ready: Type.Boolean() }),
          503: Type.Object({ ready: Type.Boolean() }),
        },
      },
    },
    async (_request, reply) => {
      const ready = deployments.ready;
      return reply.status(ready ? 200 : 503).send({ ready });
    },
  );
  app.get(
    '/v2',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['open inference protocol'],
        summary: 'Server metadata',
        security: [],
        response: {
          200: Type.Object({
            name: Type.String(),
            version: Type.String(),
            extensions: Type.Array(Type.String()),
          }),
        },
      },
    },
    async () => ({ name: 'mass', version: services.version, extensions: [] as string[] }),
  );

  const metadata = async (request: FastifyRequest, name: string, version: string | undefined) => {
    const { projectId, deployment } = await names.resolve(request.principal!, name, projectHeader(request));
    const meta = await serving.metadata(projectId, deployment, version);
    return {
      name,
      versions: servedVersions(meta.routing.spec).map(String),
      platform: 'onnx_onnxv1',
      inputs: [...meta.inputs],
      outputs: [...meta.outputs],
      parameters: {
        deployment: meta.routing.name,
        model: meta.target.version.model,
        version: String(meta.target.version.version),
        aliases: { ...meta.routing.spec.aliases },
        ...(meta.matrix ? { matrix_input: meta.matrix } : {}),
      },
    };
  };
  const metaSchema = (params: typeof NameParams | typeof VersionParams) => ({
    tags: ['open inference protocol'],
    summary: 'Model metadata: the tensors a deployment (version) takes and gives',
    params,
    response: withProblems({ 200: ModelMetadata }, 503),
  });
  app.get<{ Params: { name: string } }>(
    '/v2/models/:name',
    { config: { auth: 'deployment:read' }, schema: metaSchema(NameParams) },
    async (request) => metadata(request, request.params.name, undefined),
  );
  app.get<{ Params: { name: string; version: string } }>(
    '/v2/models/:name/versions/:version',
    { config: { auth: 'deployment:read' }, schema: metaSchema(VersionParams) },
    async (request) => metadata(request, request.params.name, request.params.version),
  );

  const ready = async (
    request: FastifyRequest,
    reply: FastifyReply,
    name: string,
    version: string | undefined,
  ) => {
    const { projectId, deployment } = await names.resolve(request.principal!, name, projectHeader(request));
    const { routing } = serving.resolve(projectId, deployment, version);
    const target = version === undefined ? undefined : pickTarget(routing, version);
    const isReady = deployments.isReady(routing, target);
    return reply.status(isReady ? 200 : 503).send({ name, ready: isReady });
  };
  const readySchema = (params: typeof NameParams | typeof VersionParams) => ({
    tags: ['open inference protocol'],
    summary: 'Model readiness: loaded and warm (false while loading, after eviction or a failed load)',
    params,
    response: withProblems({
      200: Type.Object({ name: Type.String(), ready: Type.Boolean() }),
      503: Type.Object({ name: Type.String(), ready: Type.Boolean() }),
    }),
  });
  app.get<{ Params: { name: string } }>(
    '/v2/models/:name/ready',
    { config: { auth: 'deployment:read' }, schema: readySchema(NameParams) },
    async (request, reply) => ready(request, reply, request.params.name, undefined),
  );
  app.get<{ Params: { name: string; version: string } }>(
    '/v2/models/:name/versions/:version/ready',
    { config: { auth: 'deployment:read' }, schema: readySchema(VersionParams) },
    async (request, reply) => ready(request, reply, request.params.name, request.params.version),
  );

  const infer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    name: string,
    version: string | undefined,
  ) => {
    if (!isJsonBody(request))
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `send the inference request as JSON (Content-Type: application/json), got ${request.headers['content-type'] ?? 'none'}`,
      );
    const v2 = parseV2Request(request.body);
    const header = projectHeader(request);
    const { projectId, deployment } =
      names.resolveLocal(request.principal!, name, header) ??
      (await names.resolve(request.principal!, name, header));
    const result = await serving.infer(
      projectId,
      deployment,
      version,
      { kind: 'tensors', inputs: v2.inputs, path: '/inputs' },
      { requestId: request.id, protocol: 'v2' },
      v2.outputs,
    );
    servedBy(reply, result);
    const order = v2.outputs ?? result.model.outputs.map((o) => ({ name: o.name, base64: false }));
    const json = v2ResponseJson(
      {
        modelName: name,
        modelVersion: String(result.target.version.version),
        id: v2.id ?? request.id,
        parameters: {
          request_id: request.id,
          deployment: result.routing.name,
          model: result.target.version.model,
        },
      },
      result.outputs,
      order,
    );
    return reply.type('application/json; charset=utf-8').send(json);
  };
  const inferSchema = (params: typeof NameParams | typeof VersionParams) => ({
    tags: ['open inference protocol'],
    summary: 'Inference with named tensors',
    description: InferenceDescription,
    params,
    response: withProblems({}, 413, 500, 503),
  });
  app.post<{ Params: { name: string } }>(
    '/v2/models/:name/infer',
    {
      config: { auth: 'predict' },
      schema: inferSchema(NameParams),
      onResponse: timed(services, 'v2_infer'),
    },
    async (request, reply) => infer(request, reply, request.params.name, undefined),
  );
  app.post<{ Params: { name: string; version: string } }>(
    '/v2/models/:name/versions/:version/infer',
    {
      config: { auth: 'predict' },
      schema: inferSchema(VersionParams),
      onResponse: timed(services, 'v2_infer'),
    },
    async (request, reply) => infer(request, reply, request.params.name, request.params.version),
  );
}
