import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp, type App, type Services } from './api/app.js';
import { AuthService } from './auth/service.js';
import type { Config } from './config/config.js';
import { DatasetService } from './data/service.js';
import { StoreJobQueue } from './jobs/store-queue.js';
import { ModelRegistry } from './registry/service.js';
import { DeploymentService } from './serving/deployments.js';
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
  const boot = await auth.bootstrap();
  const datasets = new DatasetService(store, artifacts);
  const registry = new ModelRegistry(store);
  // The job runner logs through the app's logger, which exists only once the app is built.
  const late: { app?: App } = {};
  const jobs = new StoreJobQueue(store, {
    concurrency: config.jobConcurrency,
    soleWorker: store.dialect.name === 'sqlite',
    onError: (error, job) => late.app?.log.error({ err: error, jobId: job?.id }, 'job error'),
  });
  const training = new TrainingService(datasets, registry, artifacts, jobs, VERSION);
  const deployments = new DeploymentService(store, registry, artifacts, config.maxPredictRows);
  const services: Services = {
    config,
    store,
    artifacts,
    auth,
    datasets,
    registry,
    jobs,
    training,
    deployments,
    version: VERSION,
  };
  const app = await buildApp(services);
  late.app = app;
  await deployments.loadAll((error, name) =>
    app.log.error({ err: error, deployment: name }, 'deployment failed to load'),
  );
  await jobs.start({ [TRAIN_JOB]: training.handler });
  return {
    services,
    app,
    adminKey: boot?.adminKey,
    async close() {
      await app.close();
      await jobs.stop(5_000);
      await deployments.close();
      await store.close();
    },
  };
}
