import { AppError } from '../errors/index.js';
import type { ModelVersion } from '../registry/service.js';
import type { ModelCache } from './cache.js';
import type { LoadedModel } from './model.js';
import { concatBatch, sameTrailingDims, sliceBatch, type Tensors } from './tensors.js';

/** Adaptive batching of one deployment: off, or on with a row limit and a maximum wait. */
export interface BatchingOptions {
  readonly maxBatchSize: number;
  readonly maxWaitUs: number;
}

export interface SchedulerOptions {
  readonly batching: BatchingOptions | null;
  /** Requests waiting in front of the model; one more is refused with 503 and Retry-After. */
  readonly maxQueue: number;
}

export interface SchedulerObserver {
  /** Rows of one runtime call (a merged batch or a lone request). */
  batch(rows: number, requests: number): void;
}

interface Job {
  readonly feeds: Tensors;
  readonly rows: number;
  readonly outputs: readonly string[] | undefined;
  readonly outputsKey: string;
  readonly enqueuedAt: number;
  readonly resolve: (outputs: Tensors) => void;
  readonly reject: (error: unknown) => void;
}

export class InferenceError extends Error {
  override readonly name = 'InferenceError';
}

/**
 * The queue in front of one model version of one deployment. Requests are queued and run on the
 * next turn of the event loop (`setImmediate`), so every request that arrived in the same turn is
 * in the queue when it runs (measured: this alone serves more requests per second than running
 * each one the moment it is decoded). With batching off they run one by one; with batching on,
 * adaptively: stacked along the batch dimension into one ONNX Runtime call of at most
 * `maxBatchSize` rows, waiting for more only while more keep arriving, and never longer than
 * `maxWaitUs`; then split back. A full queue refuses at once (load shedding).
 */
export class Scheduler {
  private readonly queue: Job[] = [];
  private queuedRows = 0;
  private scheduled = false;
  private running = false;
  /** Queue length at the previous look, to tell whether requests are still arriving. */
  private seen = 0;

  constructor(
    private readonly cache: ModelCache,
    readonly version: ModelVersion,
    readonly options: SchedulerOptions,
    private readonly observer: SchedulerObserver,
  ) {}

  get depth(): number {
    return this.queue.length;
  }

  submit(feeds: Tensors, rows: number, outputs?: readonly string[]): Promise<Tensors> {
    if (this.queue.length >= this.options.maxQueue) {
      throw new AppError(
        'OVERLOADED',
        `model ${this.version.model} version ${this.version.version} has ${this.queue.length} requests waiting (the limit); retry shortly`,
      );
    }
    return new Promise<Tensors>((resolve, reject) => {
      this.queue.push({
        feeds,
        rows,
        outputs,
        outputsKey: outputs ? outputs.join('\u0000') : '',
        enqueuedAt: performance.now(),
        resolve,
        reject,
      });
      this.queuedRows += rows;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    this.cache.hold(this.version.id, 1);
    try {
      const model = this.cache.peek(this.version.id) ?? (await this.loadOrFail());
      if (!model) return;
      const batching = this.options.batching;
      if (!batching || !model.batchable) {
        // Run what is queued now; later arrivals wait for the next turn (fairness with I/O).
        const jobs = this.queue.splice(0, this.queue.length);
        this.queuedRows = 0;
        for (const job of jobs) this.runOne(model, job);
        return;
      }
      while (this.queue.length > 0) {
        const waited = (performance.now() - this.queue[0]!.enqueuedAt) * 1000;
        // Adaptive: keep waiting only while requests keep arriving (the queue grew since the last
        // turn of the event loop); a batch runs when full, at the maximum wait, or when a turn
        // brought nothing new. A lone request thus waits one turn, never the whole maxWaitUs.
        const grew = this.queue.length > this.seen;
        this.seen = this.queue.length;
        if (this.queuedRows < batching.maxBatchSize && waited < batching.maxWaitUs && grew) {
          this.schedule();
          return;
        }
        this.runBatch(model, this.take(batching.maxBatchSize));
        this.seen = this.queue.length;
      }
    } finally {
      this.cache.hold(this.version.id, -1);
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** Reloads an evicted model; a model that cannot load fails the queued requests. */
  private async loadOrFail(): Promise<LoadedModel | undefined> {
    try {
      return await this.cache.acquire(this.version);
    } catch (error) {
      const jobs = this.queue.splice(0, this.queue.length);
      this.queuedRows = 0;
      const failure = new AppError(
        'MODEL_NOT_READY',
        `model ${this.version.model} version ${this.version.version} cannot be loaded`,
        [],
        { cause: error },
      );
      for (const job of jobs) job.reject(failure);
      return undefined;
    }
  }

  /** The oldest job and the following ones that stack with it, up to `maxRows` rows. */
  private take(maxRows: number): Job[] {
    const first = this.queue[0]!;
    const taken: Job[] = [first];
    let rows = first.rows;
    const rest: Job[] = [];
    for (let i = 1; i < this.queue.length; i++) {
      const job = this.queue[i]!;
      if (rows + job.rows <= maxRows && stackable(first, job)) {
        taken.push(job);
        rows += job.rows;
      } else {
        rest.push(job);
      }
    }
    this.queue.length = 0;
    this.queue.push(...rest);
    this.queuedRows -= rows;
    return taken;
  }

  private runOne(model: LoadedModel, job: Job): void {
    try {
      const outputs = model.runtime.run(job.feeds, job.outputs);
      this.observer.batch(job.rows, 1);
      job.resolve(outputs);
    } catch (error) {
      job.reject(new InferenceError((error as Error).message, { cause: error }));
    }
  }

  private runBatch(model: LoadedModel, jobs: Job[]): void {
    if (jobs.length === 1) return this.runOne(model, jobs[0]!);
    const feeds: Tensors = {};
    for (const name of Object.keys(jobs[0]!.feeds))
      feeds[name] = concatBatch(jobs.map((j) => j.feeds[name]!));
    let outputs: Tensors;
    let total = 0;
    for (const j of jobs) total += j.rows;
    try {
      outputs = model.runtime.run(feeds, jobs[0]!.outputs);
    } catch {
      // One bad request must not fail its neighbours: run each alone to find out whose it is.
      for (const job of jobs) this.runOne(model, job);
      return;
    }
    const names = Object.keys(outputs);
    if (!names.every((n) => outputs[n]!.dims[0] === total)) {
      for (const job of jobs) this.runOne(model, job);
      return;
    }
    this.observer.batch(total, jobs.length);
    let start = 0;
    for (const job of jobs) {
      const mine: Tensors = {};
      for (const n of names) mine[n] = sliceBatch(outputs[n]!, start, job.rows);
      start += job.rows;
      job.resolve(mine);
    }
  }
}

function stackable(a: Job, b: Job): boolean {
  if (a.outputsKey !== b.outputsKey) return false;
  for (const name in a.feeds) {
    const x = a.feeds[name]!;
    const y = b.feeds[name];
    if (!y || y.type !== x.type || !sameTrailingDims(x.dims, y.dims)) return false;
  }
  return true;
}
