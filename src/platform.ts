import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp, type App, type Services } from './api/app.js';
import { startGrpcServer, type GrpcServer } from './api/routes/v2-grpc.js';
import { Accounts } from './auth/accounts.js';
import { AuditLog, Checkpoints } from './auth/audit.js';
import { Grants } from './auth/grants.js';
import { Quotas } from './auth/quotas.js';
import { AuthService } from './auth/service.js';
import type { Config } from './config/config.js';
import { DataEngine } from './data/engine.js';
import { RECIPE_JOB, RecipeService } from './data/recipes/service.js';
import { DatasetService } from './data/service.js';
import { ConnectionService } from './data/sources/connections.js';
import { IMAGE_PREDICT_JOB, ImageScoring } from './data/sources/image-scoring.js';
import { IMAGE_IMPORT_JOB, ImageService, imageLimitsOf } from './data/sources/images.js';
import { SecretBox } from './data/sources/secrets.js';
import { IMPORT_JOB, SourceService } from './data/sources/service.js';
import { BACKTEST_JOB, Decisions } from './decisions/index.js';
import { StoreJobQueue } from './jobs/store-queue.js';
import { ModelRegistry } from './registry/service.js';
import { BATCH_PREDICT_JOB, BatchScoring } from './serving/batch.js';
import { ModelCache } from './serving/cache.js';
import { DataPlane } from './serving/dataplane.js';
import { DeploymentService } from './serving/deployments.js';
import { ServingMetrics } from './serving/metrics.js';
import { modelLoader } from './serving/model.js';
import { PredictionLog } from './serving/predlog.js';
import { FsArtifactStore } from './store/fs/index.js';
import { openMetadataStore } from './store/open.js';
import { TRAIN_JOB, TrainingService } from './training/service.js';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface Platform {
  readonly services: Services;
  readonly app: App;
  /** Shown once on the very first start; only its hash is stored. */
  readonly adminKey: string | undefined;
  /** The port of the Open Inference Protocol over gRPC, when MASS_GRPC_PORT turns it on. */
  readonly grpcPort: number | undefined;
  close(): Promise<void>;
}

/**
 * The composition root: picks the implementations from the configuration, wires the services,
 * migrates the database, brings deployments back and starts the job runner.
 */
export async function startPlatform(config: Config): Promise<Platform> {
  const store = openMetadataStore(config.databaseUrl);
  await store.migrate();
  const artifacts = new FsArtifactStore(join(config.home, 'artifacts'));
  const auth = new AuthService(store);
  const accounts = new Accounts(store, auth, config.sessionHours);
  const grants = new Grants(store, auth);
  const quotas = new Quotas(store, config);
  const audit = new AuditLog(store, new Checkpoints(config.auditDir));
  const boot = await auth.bootstrap();
  // One DuckDB per process (created on first use) for imports, profiles, previews and recipes.
  const dataEngine = new DataEngine({
    home: config.home,
    memoryLimit: config.dataMemoryLimit,
    threads: config.dataThreads,
  });
  const datasets = new DatasetService(store, artifacts, dataEngine);
  const registry = new ModelRegistry(store);
  // Sources: connection passwords encrypted under MASS_SECRET_KEY (or <home>/secret.key, made once).
  const connections = new ConnectionService(
    store,
    await SecretBox.open({ secretKey: config.secretKey, home: config.home }),
    config.sqliteSourceDirs,
    { allowLocalHosts: config.allowLocalDatabases },
  );
  // The job runner logs through the app's logger, which exists only once the app is built.
  const late: { app?: App } = {};
  const jobs = new StoreJobQueue(store, {
    concurrency: config.jobConcurrency,
    soleWorker: store.dialect.name === 'sqlite',
    onError: (error, job) => late.app?.log.error({ err: error, jobId: job?.id }, 'job error'),
  });
  const sources = new SourceService(
    datasets,
    connections,
    jobs,
    { allowPrivate: config.allowPrivateUrls, allowHosts: config.urlAllowHosts },
    {
      timeoutMs: config.sourceTimeoutSeconds * 1000,
      maxRows: config.sourceMaxRows,
      maxBytes: config.maxUploadBytes,
    },
    join(config.home, 'tmp', 'sources'),
  );
  const images = new ImageService(
    datasets,
    artifacts,
    dataEngine,
    imageLimitsOf(config),
    join(config.home, 'tmp', 'sources'),
    jobs,
  );
  const training = new TrainingService(datasets, registry, artifacts, jobs, VERSION);
  // Serving: one model cache within a memory budget, deployments routing over it, one data plane.
  const metrics = new ServingMetrics();
  const cache = new ModelCache(
    modelLoader(artifacts, config.maxPredictRows, (model) =>
      metrics.loadSeconds
        .labels({ model: model.version.model, version: String(model.version.version) })
        .observe(model.loadMs / 1000),
    ),
    config.modelCacheBytes,
    { evicted: () => metrics.cacheEvictions.inc() },
  );
  metrics.cacheBudget.set(config.modelCacheBytes);
  metrics.onCollect(() => {
    metrics.cacheBytes.set(cache.bytes);
    metrics.cacheModels.set(cache.loadedCount);
  });
  const deployments = new DeploymentService(store, registry, cache, metrics, {
    maxQueue: config.maxQueue,
    refreshMs: config.deploymentRefreshMs,
  });
  const predictionLog = new PredictionLog(store, {
    flushMs: 1_000,
    maxBuffer: 10_000,
    batchSize: 500,
    onDropped: (n) => metrics.logDropped.inc(n),
    onWritten: (n) => metrics.logWritten.inc(n),
    onError: (error) => late.app?.log.error({ err: error }, 'prediction log write failed'),
  });
  const serving = new DataPlane(deployments, metrics, predictionLog, config.maxPredictRows);
  // Batch scoring loads its own session (up to 64k rows per call), outside the serving cache.
  const batchScoring = new BatchScoring(
    registry,
    artifacts,
    jobs,
    modelLoader(artifacts, 65_536, () => undefined),
  );
  // Image scoring (data/ imports neither the registry nor serving: they are adapted here).
  const loadImageModel = modelLoader(artifacts, 65_536, () => undefined);
  const imageScoring = new ImageScoring(
    datasets,
    images,
    {
      async resolve(projectId, ref) {
        const id =
          ref.deployment !== undefined
            ? deployments.get(projectId, ref.deployment).modelVersionId
            : undefined;
        const mv =
          id !== undefined
            ? await registry.getVersionById(projectId, id)
            : await registry.getVersion(projectId, ref.model!, ref.version);
        return { id: mv.id, model: mv.model, version: mv.version };
      },
      async open(projectId, modelVersionId) {
        const model = await loadImageModel(await registry.getVersionById(projectId, modelVersionId));
        return {
          inputs: model.inputs,
          run: (feeds) => model.runtime.run(feeds),
          close: () => model.runtime.unload(),
        };
      },
    },
    artifacts,
    jobs,
  );
  // Preparation recipes: steps compiled to one DuckDB query per run; runs are jobs.
  const recipes = new RecipeService(store, datasets, dataEngine, jobs);
  // Decisions: rule sets and services over the data plane; backtests run as jobs.
  const decisions = new Decisions(store, serving, registry, jobs, datasets);
  const services: Services = {
    config,
    store,
    artifacts,
    auth,
    accounts,
    grants,
    audit,
    quotas,
    datasets,
    connections,
    sources,
    images,
    imageScoring,
    recipes,
    registry,
    jobs,
    training,
    deployments,
    serving,
    batchScoring,
    decisions,
    version: VERSION,
  };
  const app = await buildApp(services);
  late.app = app;
  await deployments.loadAll((error, name) =>
    app.log.error({ err: error, deployment: name }, 'deployment failed to load'),
  );
  await jobs.start({
    [TRAIN_JOB]: training.handler,
    [BATCH_PREDICT_JOB]: batchScoring.handler,
    [IMPORT_JOB]: sources.handler,
    [IMAGE_PREDICT_JOB]: imageScoring.handler,
    [IMAGE_IMPORT_JOB]: images.handler,
    [RECIPE_JOB]: recipes.handler,
    [BACKTEST_JOB]: decisions.backtests.handler,
  });
  const grpc: GrpcServer | undefined =
    config.grpcPort === null
      ? undefined
      : await startGrpcServer(services, config.host, config.grpcPort, (error, requestId) =>
          app.log.error({ err: error, requestId }, 'gRPC request failed'),
        );
  if (grpc) app.log.info({ port: grpc.port }, 'Open Inference Protocol over gRPC listening');
  return {
    services,
    app,
    adminKey: boot?.adminKey,
    grpcPort: grpc?.port,
    async close() {
      // Graceful: no new connections; requests in flight finish; a kept-alive connection is
      // closed as soon as its last response is written, rather than at its idle timeout.
      const closeIdle = setInterval(() => app.server.closeIdleConnections(), 50);
      try {
        await Promise.all([app.close(), grpc?.close()]);
      } finally {
        clearInterval(closeIdle);
      }
      await jobs.stop(5_000);
      await predictionLog.close();
      await deployments.close();
      await audit.close();
      await dataEngine.close();
      await store.close();
    },
  };
}
