import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { Action } from '../auth/permissions.js';
import type { Accounts } from '../auth/accounts.js';
import type { AuditLog } from '../auth/audit.js';
import type { Grants } from '../auth/grants.js';
import type { Quotas } from '../auth/quotas.js';
import type { AuthService, Principal, Project } from '../auth/service.js';
import type { Config } from '../config/config.js';
import type { RecipeService } from '../data/recipes/service.js';
import type { DatasetService } from '../data/service.js';
import type { ConnectionService } from '../data/sources/connections.js';
import type { ImageScoring } from '../data/sources/image-scoring.js';
import type { ImageService } from '../data/sources/images.js';
import type { SourceService } from '../data/sources/service.js';
import type { Decisions } from '../decisions/index.js';
import { AppError, ERROR_CODES, type ErrorCode, type FieldIssue } from '../errors/index.js';
import type { JobQueue } from '../jobs/queue.js';
import type { ModelRegistry } from '../registry/service.js';
import type { BatchScoring } from '../serving/batch.js';
import type { DataPlane } from '../serving/dataplane.js';
import type { DeploymentService } from '../serving/deployments.js';
import type { ArtifactStore } from '../store/artifacts.js';
import type { MetadataStore } from '../store/metadata.js';
import type { TrainingService } from '../training/service.js';
import { registerAccountRoutes } from './routes/accounts.js';
import { registerArtifactRoutes } from './routes/artifacts.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerConnectionRoutes } from './routes/connections.js';
import { registerDatasetRoutes } from './routes/datasets.js';
import { registerDecisionRoutes } from './routes/decisions.js';
import { registerDeploymentRoutes } from './routes/deployments.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerModelImportRoutes } from './routes/model-import.js';
import { registerModelRoutes } from './routes/models.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { registerMlflowRoutes } from './routes/mlflow.js';
import { registerProjectRoutes } from './routes/projects.js';
import { registerRecipeRoutes } from './routes/recipes.js';
import { registerRuleSetRoutes } from './routes/rulesets.js';
import { registerServingRoutes } from './routes/serving.js';
import { registerSimpleRoutes } from './routes/simple.js';
import { registerSourceRoutes } from './routes/sources.js';
import { registerV2Routes } from './routes/v2.js';
import { registerSharingRoutes } from './routes/sharing.js';
import { Problem } from './schemas.js';
import { registerSecurity } from './security.js';

/** Who may call a route: nobody needs a key (`public`), any valid key, or a key allowed the action in the route's project. */
export type RouteAuth = 'public' | 'authenticated' | 'admin' | Action;

/** A registered route and who may call it: the table the authorization tests are generated from. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly auth: RouteAuth;
}

declare module 'fastify' {
  interface FastifyInstance {
    readonly routeTable: RouteEntry[];
  }
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal?: Principal;
    project?: Project;
  }
}

export interface Services {
  readonly config: Config;
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  readonly auth: AuthService;
  readonly accounts: Accounts;
  readonly grants: Grants;
  readonly audit: AuditLog;
  readonly quotas: Quotas;
  readonly datasets: DatasetService;
  /** Saved database connections (passwords encrypted) and imports from connections, URLs and image zips. */
  readonly connections: ConnectionService;
  readonly sources: SourceService;
  readonly images: ImageService;
  readonly imageScoring: ImageScoring;
  /** Preparation recipes: versioned steps run as jobs into dataset versions. */
  readonly recipes: RecipeService;
  readonly registry: ModelRegistry;
  readonly jobs: JobQueue;
  readonly training: TrainingService;
  readonly deployments: DeploymentService;
  /** The data plane behind every prediction front door (native, V2 REST and gRPC, MLflow, simple). */
  readonly serving: DataPlane;
  readonly batchScoring: BatchScoring;
  /** Rule sets, decision services, the decision record, replay and backtests. */
  readonly decisions: Decisions;
  readonly version: string;
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Routes only translate HTTP to service calls; every rule lives in the services. */
export async function buildApp(services: Services): Promise<App> {
  const { config } = services;
  const app = Fastify({
    logger:
      config.logLevel === 'silent'
        ? false
        : { level: config.logLevel, redact: ['req.headers.authorization'] },
    bodyLimit: config.maxBodyBytes,
    // Unique, not secret: a random prefix per process and a counter (no random bytes per request).
    genReqId: requestIds(),
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array' } },
    // A JSON body with a key like "__proto__" is refused rather than silently merged.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // Names may be 128 characters; fastify's default of 100 would answer longer ones with a bare 414.
    routerOptions: { maxParamLength: 256 },
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    ...(config.tlsCert !== undefined && config.tlsKey !== undefined
      ? { https: { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } }
      : {}),
  }).withTypeProvider<TypeBoxTypeProvider>() as App;

  app.addSchema(Problem);
  app.decorate('routeTable', [] as RouteEntry[]);

  // Deny by default: a route that does not say who may call it is a bug, caught at start and by a test.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) {
      route.config = { ...(route.config ?? {}), auth: 'public' };
      return;
    }
    if (!route.config?.auth) throw new Error(`route ${route.method} ${route.url} declares no auth rule`);
    for (const method of [route.method].flat())
      if (method !== 'HEAD') app.routeTable.push({ method, url: route.url, auth: route.config.auth });
  });

  // Headers, Host allow-list, CORS, authentication and authorization, rate limits, audit.
  registerSecurity(app, services);

  // CSV uploads stream straight to the dataset service; it enforces the size limit itself.
  app.addContentTypeParser(
    ['text/csv', 'application/csv', 'application/octet-stream'],
    (_request, payload, done) => done(null, payload),
  );

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => sendProblem(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      new AppError('ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
      request,
      reply,
    ),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Mass API',
        version: services.version,
        description: 'Mass: Model-as-a-Service. Authenticate with "Authorization: Bearer mass_...".',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  registerHealthRoutes(app, services);
  registerProjectRoutes(app, services);
  registerAccountRoutes(app, services);
  registerSharingRoutes(app, services);
  registerAuditRoutes(app, services);
  registerArtifactRoutes(app, services);
  registerKeyRoutes(app, services);
  registerDatasetRoutes(app, services);
  registerConnectionRoutes(app, services);
  registerSourceRoutes(app, services);
  registerRecipeRoutes(app, services);
  registerJobRoutes(app, services);
  registerModelRoutes(app, services);
  registerModelImportRoutes(app, services);
  registerDeploymentRoutes(app, services);
  registerServingRoutes(app, services);
  registerV2Routes(app, services);
  registerMlflowRoutes(app, services);
  registerSimpleRoutes(app, services);
  registerMetricsRoutes(app, services);
  registerRuleSetRoutes(app, services);
  registerDecisionRoutes(app, services);
  return app;
}

function requestIds(): () => string {
  const prefix = randomBytes(6).toString('base64url');
  let n = 0;
  return () => `req_${prefix}${(n++).toString(36)}`;
}

/** The one place errors become responses: application/problem+json, never a stack trace. */
function sendProblem(
  error: FastifyError | AppError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const problem = toAppError(error);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  const body = {
    type: `urn:mass:error:${problem.code.toLowerCase()}`,
    title: problem.title,
    status: problem.status,
    detail: problem.message,
    instance: request.url.split('?')[0] ?? request.url,
    code: problem.code,
    requestId: request.id,
    ...(problem.errors.length > 0 ? { errors: problem.errors } : {}),
    // The error fields the Open Inference Protocol and MLflow clients read, beside the problem's own.
    ...(request.url.startsWith('/v2/') ? { error: problem.message } : {}),
    ...(request.url.includes('/invocations')
      ? { error_code: problem.status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST', message: problem.message }
      : {}),
  };
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer');
  // Load shedding and models still loading: a client may retry shortly.
  if (problem.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
  return reply.status(problem.status).type('application/problem+json').send(JSON.stringify(body));
}

function toAppError(error: FastifyError | AppError): AppError {
  if (error instanceof AppError) return error;
  const e = error as FastifyError & {
    validation?: { instancePath: string; message?: string; params?: Record<string, unknown> }[];
    validationContext?: string;
  };
  if (e.validation) {
    const where = e.validationContext ?? 'body';
    const issues: FieldIssue[] = e.validation.map((v) => {
      const extra =
        v.params && typeof v.params.additionalProperty === 'string' ? `/${v.params.additionalProperty}` : '';
      const missing =
        v.params && typeof v.params.missingProperty === 'string' ? `/${v.params.missingProperty}` : '';
      return { path: `${where}${v.instancePath}${extra || missing}`, message: v.message ?? 'is not valid' };
    });
    const first = issues[0];
    return new AppError(
      'VALIDATION_FAILED',
      first ? `${first.path} ${first.message}` : 'the request is not valid',
      issues,
    );
  }
  const byFastifyCode: Record<string, ErrorCode> = {
    FST_ERR_CTP_INVALID_JSON_BODY: 'BODY_NOT_JSON',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'BODY_NOT_JSON',
    FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  };
  const mapped = e.code ? byFastifyCode[e.code] : undefined;
  if (mapped) return new AppError(mapped, e.message);
  if (e instanceof SyntaxError || (e.statusCode === 400 && /JSON/i.test(e.message)))
    return new AppError('BODY_NOT_JSON', `the body is not valid JSON: ${e.message}`);
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    const code =
      (Object.keys(ERROR_CODES) as ErrorCode[]).find((c) => ERROR_CODES[c].status === e.statusCode) ??
      'VALIDATION_FAILED';
    return new AppError(code, e.message);
  }
  return new AppError(
    'INTERNAL',
    'an internal error occurred; the request id identifies it in the server log',
    [],
    { cause: error },
  );
}
