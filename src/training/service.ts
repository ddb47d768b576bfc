import { Worker } from 'node:worker_threads';
import type { ColumnSchema } from '../data/schema.js';
import type { DatasetService } from '../data/service.js';
import { AppError, invalid } from '../errors/index.js';
import {
  PermanentJobError,
  type Job,
  type JobContext,
  type JobHandler,
  type JobOutcome,
  type JobQueue,
} from '../jobs/queue.js';
import type { ModelRegistry } from '../registry/service.js';
import type { ArtifactStore } from '../store/artifacts.js';
import { autoCandidates, DEFAULT_TIME_BUDGET_SECONDS } from './automl.js';
import { defaultMetric } from './evaluate.js';
import { resolveParams } from './params.js';
import { resolveSearch, type SearchSpec } from './search.js';
import { isNumericType, resolveTextOptions } from './text.js';
import { AUTO_ALGORITHM, type TrainOutput, type TrainSpec } from './spec.js';
import type { TaskKind, Trainer } from './trainer.js';
import { TRAINERS } from './trainers/index.js';
import type { WorkerMessage } from './worker.js';

export interface TrainRequest {
  readonly dataset: string;
  readonly datasetVersion?: number | undefined;
  /** The column to predict; not used by clustering. */
  readonly target?: string | undefined;
  readonly model?: string | undefined;
  /** A name in TRAINERS; default: logistic regression for classes, linear regression for numbers. */
  readonly algorithm?: string | undefined;
  /** Default: classification for a categorical, boolean or small whole-number target, else regression. */
  readonly task?: TaskKind | undefined;
  readonly features?: readonly string[] | undefined;
  readonly params?: Readonly<Record<string, unknown>> | undefined;
  readonly testFraction?: number | undefined;
  readonly seed?: number | undefined;
  /** A hyperparameter search on the training rows (see `resolveSearch`); not with `algorithm: 'auto'`. */
  readonly search?: unknown;
  /** The automatic mode's budget; only with `algorithm: 'auto'`; default 60. */
  readonly timeBudgetSeconds?: number | undefined;
}

export const TRAIN_JOB = 'train';
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** A numeric target with at most this many whole-number values is taken as classes. */
const MAX_AUTO_CLASSES = 20;
const MAX_CLASSES = 200;
const DEFAULT_TRAINER: Readonly<Record<TaskKind, string>> = {
  classification: 'logistic_regression',
  regression: 'linear_regression',
  clustering: 'kmeans',
};

/**
 * Training: checks a request against the dataset's schema before anything is queued, then runs
 * the work in a worker thread so that request handling never waits for it. The model version is
 * written in the same transaction that marks the job done.
 */
export class TrainingService {
  constructor(
    private readonly datasets: DatasetService,
    private readonly registry: ModelRegistry,
    private readonly artifacts: ArtifactStore,
    private readonly jobs: JobQueue,
    private readonly codeVersion: string,
  ) {}

  async submit(projectId: string, request: TrainRequest, createdBy: string): Promise<Job> {
    const spec = await this.resolve(projectId, request);
    return this.jobs.enqueue({
      projectId,
      type: TRAIN_JOB,
      payload: { projectId, spec },
      createdBy,
      maxAttempts: 2,
    });
  }

  /** Turns a request into a full spec, refusing what cannot train with an error naming the field. */
  async resolve(projectId: string, raw: TrainRequest): Promise<TrainSpec> {
    // params.text configures the text featurizer of any algorithm; the rest are the trainer's.
    const { text: rawText, ...trainerParams } = raw.params ?? {};
    const text = resolveTextOptions(rawText);
    const request: TrainRequest = { ...raw, ...(raw.params !== undefined ? { params: trainerParams } : {}) };
    const version = await this.datasets.getVersion(projectId, request.dataset, request.datasetVersion);
    const columns = new Map(version.schema.columns.map((c) => [c.name, c]));

    const auto = request.algorithm === AUTO_ALGORITHM;
    let trainer: Trainer | undefined;
    if (request.algorithm !== undefined && !auto) {
      trainer = TRAINERS[request.algorithm];
      if (!trainer)
        throw invalid('algorithm', `must be ${AUTO_ALGORITHM} or one of ${Object.keys(TRAINERS).join(', ')}`);
    }
    let task = request.task;
    if (task !== undefined && trainer && !trainer.tasks.includes(task)) {
      throw invalid('task', `${trainer.name} does ${trainer.tasks.join(' or ')}, not ${task}`);
    }
    if (task === undefined && trainer?.tasks.length === 1) task = trainer.tasks[0];

    let target: ColumnSchema | undefined;
    if (auto && task === 'clustering')
      throw invalid(
        'algorithm',
        'the automatic mode ranks models by a metric of the target; clustering has none',
      );
    if (auto && request.target === undefined) throw invalid('target', 'name the column to predict');
    if (task === 'clustering') {
      if (request.target !== undefined) throw invalid('target', 'clustering takes no target column');
    } else {
      if (request.target === undefined) throw invalid('target', 'name the column to predict');
      target = columns.get(request.target);
      if (!target) {
        throw invalid(
          'target',
          `the dataset ${version.dataset}@${version.version} has no column ${JSON.stringify(request.target)}; columns: ${[...columns.keys()].join(', ')}`,
        );
      }
      if (version.rowCount - target.missing === 0) {
        throw new AppError('TARGET_INVALID', `the target ${target.name} has no values`, [
          { path: 'target', message: 'all values are missing' },
        ]);
      }
      task ??= inferTask(target, trainer);
      checkTarget(target, task, auto ? AUTO_ALGORITHM : (trainer?.name ?? DEFAULT_TRAINER[task]));
    }
    if (auto) {
      if (autoCandidates(TRAINERS, task).length === 0)
        throw invalid('algorithm', `no algorithm for ${task} is installed`);
      if (request.params !== undefined && Object.keys(request.params).length > 0)
        throw invalid('params', 'the automatic mode picks the parameters; name an algorithm to set them');
      if (request.search !== undefined)
        throw invalid('search', 'the automatic mode runs its own search; name an algorithm to search it');
    } else {
      trainer ??= TRAINERS[DEFAULT_TRAINER[task]];
      if (!trainer) throw invalid('algorithm', `no algorithm for ${task} is installed`);
      if (!trainer.tasks.includes(task))
        throw invalid('algorithm', `${trainer.name} does ${trainer.tasks.join(' or ')}, not ${task}`);
      if (request.timeBudgetSeconds !== undefined)
        throw invalid(
          'timeBudgetSeconds',
          `only for algorithm ${AUTO_ALGORITHM}; a search has search.budget.seconds`,
        );
    }
    const params = trainer ? resolveParams(trainer, request.params) : {};
    let timeBudgetSeconds: number | undefined;
    if (auto) {
      timeBudgetSeconds = request.timeBudgetSeconds ?? DEFAULT_TIME_BUDGET_SECONDS;
      if (!(typeof timeBudgetSeconds === 'number' && timeBudgetSeconds > 0 && timeBudgetSeconds <= 86_400))
        throw invalid('timeBudgetSeconds', 'must be a number of seconds in (0, 86400]');
    }

    let features: ColumnSchema[];
    if (request.features !== undefined) {
      if (new Set(request.features).size !== request.features.length)
        throw invalid('features', 'a column is named twice');
      features = request.features.map((name, i) => {
        const column = columns.get(name);
        if (!column) throw invalid(`features/${i}`, `the dataset has no column ${JSON.stringify(name)}`);
        if (name === target?.name) throw invalid(`features/${i}`, 'the target cannot also be a feature');
        return column;
      });
    } else {
      // Every column but the target; a column without a single value carries nothing.
      features = version.schema.columns.filter((c) => c.name !== target?.name);
    }
    const notes: string[] = [];
    const empty = features.filter((c) => c.missing >= version.rowCount);
    if (empty.length > 0) {
      features = features.filter((c) => c.missing < version.rowCount);
      notes.push(
        ...empty.map((c) => `${c.name}: every value is missing; left out (not an input of the model)`),
      );
    }
    if (features.length === 0)
      throw invalid('features', 'no usable feature column: every other column is empty');
    if (trainer?.preprocessing === 'counts') {
      // Counts cannot be negative: refuse before queueing rather than fail in the worker.
      const negative = features.find((c) => isNumericType(c.type) && c.min !== undefined && c.min < 0);
      if (negative)
        throw invalid(
          request.features ? `features/${request.features.indexOf(negative.name)}` : 'features',
          `${trainer.name} needs non-negative counts, but ${negative.name} goes down to ${negative.min}; leave it out with features, or choose gaussian_nb`,
        );
    }
    const present0 = version.rowCount - (target?.missing ?? 0);
    const trainRows0 = present0 - Math.ceil(present0 * (request.testFraction ?? 0.2));
    if (features.length >= trainRows0)
      notes.push(
        `${features.length} feature columns for ${trainRows0} training rows: the model can fit the training rows exactly; trust the test metrics, not the training fit`,
      );

    const model = request.model ?? `${version.dataset}-${target?.name ?? trainer!.name}`.slice(0, 128);
    if (!MODEL_NAME.test(model))
      throw invalid('model', 'use 1 to 128 letters, digits, dots, dashes and underscores');
    const present = version.rowCount - (target?.missing ?? 0);
    const testFraction = request.testFraction ?? 0.2;
    if (!(testFraction > 0 && testFraction < 1)) throw invalid('testFraction', 'must be between 0 and 1');
    if (Math.floor(present * testFraction) < 1 || present - Math.ceil(present * testFraction) < 2) {
      throw invalid(
        'testFraction',
        `${present} labelled rows are too few to hold out ${testFraction} of them`,
      );
    }
    const seed = request.seed ?? 42;
    if (!Number.isInteger(seed)) throw invalid('seed', 'must be a whole number');
    let search: SearchSpec | undefined;
    if (request.search !== undefined && trainer) {
      search = resolveSearch(trainer, request.search, {
        task,
        fixed: request.params ?? {},
        trainRows: present - Math.ceil(present * testFraction),
      });
    }

    return {
      algorithm: auto ? AUTO_ALGORITHM : trainer!.name,
      task,
      ...(target ? { target } : {}),
      features,
      text,
      ...(notes.length > 0 ? { notes } : {}),
      params,
      ...(search ? { search } : {}),
      ...(auto ? { timeBudgetSeconds, autoMetric: defaultMetric(task) } : {}),
      testFraction,
      seed,
      rowCount: version.rowCount,
      model,
      datasetVersionId: version.id,
      datasetLabel: `${version.dataset}@${version.version}`,
    };
  }

  /** The job handler: runs the spec in a worker thread, stores the ONNX file, registers the version on commit. */
  readonly handler: JobHandler = async (job: Job, ctx: JobContext): Promise<JobOutcome> => {
    const { projectId, spec } = job.payload as { projectId: string; spec: TrainSpec };
    const version = await this.datasets.getVersionById(projectId, spec.datasetVersionId);
    const path = await this.artifacts.localPath(version.contentHash);
    const output = await runInWorker(path, spec, ctx);
    const ref = await this.artifacts.put(output.onnx);
    let registered: { version: number; id: string } | undefined;
    return {
      get result() {
        return {
          model: spec.model,
          version: registered?.version,
          modelVersionId: registered?.id,
          algorithm: output.algorithm,
          metrics: jobSummary(output.metrics),
          durationMs: Math.round(output.durationMs),
        };
      },
      commit: async (trx) => {
        const mv = await this.registry.addVersion(trx, {
          projectId,
          model: spec.model,
          task: spec.task,
          artifactHash: ref.hash,
          sizeBytes: ref.size,
          algorithm: output.algorithm,
          params: output.params,
          metrics: { ...output.metrics, durationMs: Math.round(output.durationMs) },
          signature: output.signature,
          datasetVersionId: spec.datasetVersionId,
          jobId: job.id,
          codeVersion: this.codeVersion,
        });
        registered = { version: mv.version, id: mv.id };
      },
    };
  };
}

/**
 * The metrics a finished job shows: everything but the curves, the trials table and the
 * leaderboard, which stay with the model version (GET .../versions/<n>).
 */
function jobSummary(metrics: Record<string, unknown>): Record<string, unknown> {
  const { curves: _curves, calibration: _calibration, search, auto, ...rest } = metrics;
  const out: Record<string, unknown> = { ...rest };
  if (search && typeof search === 'object') {
    const { trials, ...summary } = search as { trials?: unknown[] };
    out.search = { ...summary, trialCount: trials?.length ?? 0 };
  }
  if (auto && typeof auto === 'object') {
    const { leaderboard: _leaderboard, ...summary } = auto as { leaderboard?: unknown };
    out.auto = summary;
  }
  return out;
}

/** Classes for a categorical, boolean or small whole-number target (or when the algorithm only classifies). */
function inferTask(target: ColumnSchema, trainer: Trainer | undefined): TaskKind {
  if (trainer && !trainer.tasks.includes('regression')) return 'classification';
  if (trainer && !trainer.tasks.includes('classification')) return 'regression';
  if (!isNumericType(target.type)) return 'classification';
  const integer = target.integer ?? String(target.type) === 'integer';
  return integer && !target.distinctCapped && target.distinct <= MAX_AUTO_CLASSES
    ? 'classification'
    : 'regression';
}

function checkTarget(target: ColumnSchema, task: TaskKind, algorithm: string): void {
  const refuse = (message: string, why: string) =>
    new AppError('TARGET_INVALID', message, [{ path: 'target', message: why }]);
  if (task === 'regression' && !isNumericType(target.type)) {
    throw refuse(
      `the target ${target.name} is ${target.type}; ${algorithm} for regression needs a numeric target`,
      `not numeric (${target.type})`,
    );
  }
  if (task === 'classification') {
    if (target.type === 'text')
      throw refuse(`the target ${target.name} is free text, not classes`, 'free text');
    if (target.distinct < 2)
      throw refuse(
        `the target ${target.name} has only one class; a classifier needs at least two`,
        'one class',
      );
    if (target.distinctCapped || target.distinct > MAX_CLASSES)
      throw refuse(`the target ${target.name} has more than ${MAX_CLASSES} classes`, 'too many classes');
  }
}

function runInWorker(path: string, spec: TrainSpec, ctx: JobContext): Promise<TrainOutput> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { path, spec } });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = () => finish(() => reject(ctx.signal.reason ?? new Error('cancelled')));
    ctx.signal.addEventListener('abort', onAbort);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') ctx.progress(m.fraction, m.message, m.metrics);
      else if (m.type === 'done') finish(() => resolve(m.output));
      else finish(() => reject(m.permanent ? new PermanentJobError(m.message) : new Error(m.message)));
    });
    worker.on('error', (error) => finish(() => reject(error)));
    worker.on('exit', (code) =>
      finish(() => reject(new Error(`the training thread exited with code ${code}`))),
    );
  });
}
