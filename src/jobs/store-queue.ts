import { randomBytes } from 'node:crypto';
import type { Selectable, Transaction } from 'kysely';
import { AppError, notFound } from '../errors/index.js';
import { newId, nowIso, type Database, type MetadataStore } from '../store/metadata.js';
import type { JobTable } from '../store/schema.js';
import { PermanentJobError, type Job, type JobHandler, type JobQueue, type JobStatus } from './queue.js';

export interface StoreJobQueueOptions {
  /** Jobs run at once by this process. */
  readonly concurrency: number;
  /** How long a claim holds without a heartbeat. */
  readonly leaseMs?: number;
  readonly pollMs?: number;
  /**
   * Embedded mode: this process is the only worker, so at start every job still marked running
   * was interrupted by the previous process's end, and is recovered at once instead of after its lease.
   */
  readonly soleWorker: boolean;
  readonly onError?: (error: unknown, job?: Job) => void;
}

const PROGRESS_EVERY_MS = 250;

/** The JobQueue over the metadata store: SQLite in one process, or PostgreSQL shared by many (SKIP LOCKED). */
export class StoreJobQueue implements JobQueue {
  private readonly owner = `w_${randomBytes(8).toString('hex')}`;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private handlers: Readonly<Record<string, JobHandler>> = {};
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = true;
  private claiming = false;

  constructor(
    private readonly store: MetadataStore,
    private readonly options: StoreJobQueueOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 500;
  }

  async enqueue(
    input: { projectId: string; type: string; payload: unknown; createdBy: string; maxAttempts?: number },
    trx?: Transaction<Database>,
  ): Promise<Job> {
    const now = nowIso();
    const row: Selectable<JobTable> = {
      id: newId('job'),
      project_id: input.projectId,
      type: input.type,
      payload_json: JSON.stringify(input.payload),
      status: 'queued',
      progress: 0,
      message: 'queued',
      metrics_json: '{}',
      result_json: null,
      error: null,
      attempts: 0,
      max_attempts: input.maxAttempts ?? 2,
      lease_owner: null,
      lease_expires_at: null,
      cancel_requested: 0,
      created_by: input.createdBy,
      created_at: now,
      started_at: null,
      finished_at: null,
      updated_at: now,
    };
    await (trx ?? this.store.db).insertInto('jobs').values(row).execute();
    // Without a transaction the job is visible now; with one, after the caller commits (next poll).
    if (!trx) setImmediate(() => this.wake());
    return toJob(row);
  }

  async get(projectId: string, id: string): Promise<Job> {
    const row = await this.store.db
      .selectFrom('jobs')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('job', id);
    return toJob(row);
  }

  async list(
    projectId: string,
    options: { limit?: number; before?: string; status?: JobStatus } = {},
  ): Promise<Job[]> {
    let query = this.store.db
      .selectFrom('jobs')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(options.limit ?? 50, 500));
    if (options.status) query = query.where('status', '=', options.status);
    if (options.before) query = query.where('created_at', '<', options.before);
    return (await query.execute()).map(toJob);
  }

  async cancel(projectId: string, id: string): Promise<Job> {
    const job = await this.get(projectId, id);
    const now = nowIso();
    if (job.status === 'queued') {
      const r = await this.store.db
        .updateTable('jobs')
        .set({
          status: 'cancelled',
          message: 'cancelled before it started',
          finished_at: now,
          updated_at: now,
        })
        .where('id', '=', id)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) return this.get(projectId, id);
    }
    if (job.status === 'running' || job.status === 'queued') {
      await this.store.db
        .updateTable('jobs')
        .set({ cancel_requested: 1, updated_at: now })
        .where('id', '=', id)
        .execute();
      this.running.get(id)?.controller.abort(new Error('cancelled'));
      return this.get(projectId, id);
    }
    throw new AppError(
      'STATE_CONFLICT',
      `job ${id} has already ${job.status === 'cancelled' ? 'been cancelled' : job.status}`,
    );
  }

  async start(handlers: Readonly<Record<string, JobHandler>>): Promise<void> {
    this.handlers = handlers;
    this.stopped = false;
    await this.recover(this.options.soleWorker);
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.heartbeat = setInterval(() => void this.beat(), Math.max(1000, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
    this.heartbeat.unref();
    this.wake();
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.heartbeat);
    const all = [...this.running.values()].map((r) => r.done);
    await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, graceMs).unref())]);
    for (const r of this.running.values()) r.controller.abort(new Error('the worker is stopping'));
  }

  /**
   * Jobs whose lease ran out (or, for the sole worker at start, every running job) go back to
   * the queue while they have attempts left, and fail with the reason otherwise.
   */
  async recover(all: boolean): Promise<number> {
    const now = nowIso();
    let query = this.store.db.selectFrom('jobs').selectAll().where('status', '=', 'running');
    if (!all) query = query.where('lease_expires_at', '<', now);
    const stale = await query.execute();
    for (const job of stale) {
      const retry = job.attempts < job.max_attempts && job.cancel_requested === 0;
      await this.store.db
        .updateTable('jobs')
        .set(
          retry
            ? {
                status: 'queued',
                lease_owner: null,
                lease_expires_at: null,
                message: `interrupted during attempt ${job.attempts}; queued again`,
                updated_at: now,
              }
            : {
                status: job.cancel_requested ? 'cancelled' : 'failed',
                lease_owner: null,
                lease_expires_at: null,
                error: job.cancel_requested
                  ? null
                  : `interrupted: the worker stopped during attempt ${job.attempts} of ${job.max_attempts}`,
                message: job.cancel_requested ? 'cancelled' : 'interrupted',
                finished_at: now,
                updated_at: now,
              },
        )
        .where('id', '=', job.id)
        .where('status', '=', 'running')
        .where('lease_owner', job.lease_owner === null ? 'is' : '=', job.lease_owner)
        .execute();
    }
    return stale.length;
  }

  private wake(): void {
    if (this.stopped || this.claiming) return;
    this.claiming = true;
    void this.fill()
      .catch((error) => this.options.onError?.(error))
      .finally(() => {
        this.claiming = false;
      });
  }

  private async fill(): Promise<void> {
    while (!this.stopped && this.running.size < this.options.concurrency) {
      const job = await this.claim();
      if (!job) return;
      const controller = new AbortController();
      const done = this.execute(job, controller).finally(() => {
        this.running.delete(job.id);
        this.wake();
      });
      this.running.set(job.id, { controller, done });
    }
  }

  private async claim(): Promise<Job | undefined> {
    const types = Object.keys(this.handlers);
    if (types.length === 0) return undefined;
    return this.store.transaction(async (trx) => {
      let pick = trx
        .selectFrom('jobs')
        .select('id')
        .where('status', '=', 'queued')
        .where('type', 'in', types)
        .orderBy('created_at')
        .limit(1);
      if (this.store.dialect.supportsSkipLocked) pick = pick.forUpdate().skipLocked();
      const candidate = await pick.executeTakeFirst();
      if (!candidate) return undefined;
      const now = nowIso();
      const row = await trx
        .updateTable('jobs')
        .set((eb) => ({
          status: 'running',
          lease_owner: this.owner,
          lease_expires_at: new Date(Date.now() + this.leaseMs).toISOString(),
          attempts: eb('attempts', '+', 1),
          started_at: now,
          message: 'started',
          updated_at: now,
        }))
        .where('id', '=', candidate.id)
        .where('status', '=', 'queued')
        .returningAll()
        .executeTakeFirst();
      return row ? toJob(row) : undefined;
    });
  }

  private async beat(): Promise<void> {
    if (this.running.size === 0) {
      if (!this.options.soleWorker) await this.recover(false).catch((e) => this.options.onError?.(e));
      return;
    }
    const ids = [...this.running.keys()];
    try {
      await this.store.db
        .updateTable('jobs')
        .set({ lease_expires_at: new Date(Date.now() + this.leaseMs).toISOString() })
        .where('id', 'in', ids)
        .where('lease_owner', '=', this.owner)
        .execute();
      const cancelled = await this.store.db
        .selectFrom('jobs')
        .select('id')
        .where('id', 'in', ids)
        .where('cancel_requested', '=', 1)
        .execute();
      for (const { id } of cancelled) this.running.get(id)?.controller.abort(new Error('cancelled'));
      if (!this.options.soleWorker) await this.recover(false);
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private async execute(job: Job, controller: AbortController): Promise<void> {
    const handler = this.handlers[job.type]!;
    let lastWrite = 0;
    let pending: Promise<unknown> = Promise.resolve();
    // The figures of the last report are kept with the finished job even when its write was throttled.
    let latestMetrics: Record<string, number> | undefined;
    const ctx = {
      signal: controller.signal,
      attempt: job.attempts,
      progress: (fraction: number, message?: string, metrics?: Record<string, number>) => {
        if (metrics !== undefined) latestMetrics = metrics;
        const now = Date.now();
        if (now - lastWrite < PROGRESS_EVERY_MS && fraction < 1) return;
        lastWrite = now;
        const set: { progress: number; updated_at: string; message?: string; metrics_json?: string } = {
          progress: Math.max(0, Math.min(1, fraction)),
          updated_at: new Date(now).toISOString(),
        };
        if (message !== undefined) set.message = message;
        if (metrics !== undefined) set.metrics_json = JSON.stringify(metrics);
        pending = pending
          .then(() =>
            this.store.db
              .updateTable('jobs')
              .set(set)
              .where('id', '=', job.id)
              .where('lease_owner', '=', this.owner)
              .execute(),
          )
          .catch((e) => this.options.onError?.(e, job));
      },
    };
    try {
      const outcome = await handler(job, ctx);
      await pending;
      // A cancel is honoured while the handler runs, through its signal, and after it returned
      // unless its work is already recorded (a dataset version): marking that job cancelled
      // would leave the work behind a job that says it did nothing.
      if (controller.signal.aborted && !outcome.recorded) throw controller.signal.reason;
      await this.store.transaction(async (trx) => {
        const now = nowIso();
        // Lock the row and check we still own it before any side effect: a late worker (its lease
        // was taken over) must not write anything.
        const owned = await trx
          .updateTable('jobs')
          .set({ updated_at: now })
          .where('id', '=', job.id)
          .where('status', '=', 'running')
          .where('lease_owner', '=', this.owner)
          .executeTakeFirst();
        if (Number(owned.numUpdatedRows) !== 1) throw new LeaseLostError();
        await outcome.commit?.(trx);
        await trx
          .updateTable('jobs')
          .set({
            status: 'succeeded',
            ...(latestMetrics ? { metrics_json: JSON.stringify(latestMetrics) } : {}),
            progress: 1,
            message: 'done',
            result_json: JSON.stringify(outcome.result ?? null),
            lease_owner: null,
            lease_expires_at: null,
            finished_at: now,
            updated_at: now,
          })
          .where('id', '=', job.id)
          .execute();
      });
    } catch (error) {
      await pending;
      if (error instanceof LeaseLostError) return;
      await this.fail(job, controller, error);
    }
  }

  private async fail(job: Job, controller: AbortController, error: unknown): Promise<void> {
    const now = nowIso();
    const row = await this.store.db
      .selectFrom('jobs')
      .select(['cancel_requested', 'attempts', 'max_attempts'])
      .where('id', '=', job.id)
      .executeTakeFirst();
    const cancelled = row?.cancel_requested === 1;
    const message = error instanceof Error ? error.message : String(error);
    const permanent = error instanceof PermanentJobError || error instanceof AppError;
    const retry =
      !cancelled && !permanent && !this.stopped && row !== undefined && row.attempts < row.max_attempts;
    if (!cancelled && !permanent) this.options.onError?.(error, job);
    const set = cancelled
      ? { status: 'cancelled', message: 'cancelled', finished_at: now }
      : retry
        ? {
            status: 'queued',
            message: `attempt ${row.attempts} failed: ${message}; queued again`,
            error: message,
          }
        : this.stopped && controller.signal.aborted
          ? undefined // left to lease recovery after the restart
          : { status: 'failed', message: 'failed', error: message, finished_at: now };
    if (!set) return;
    await this.store.db
      .updateTable('jobs')
      .set({ ...set, lease_owner: null, lease_expires_at: null, updated_at: now })
      .where('id', '=', job.id)
      .where('lease_owner', '=', this.owner)
      .execute();
  }
}

class LeaseLostError extends Error {}

function toJob(r: Selectable<JobTable>): Job {
  return {
    id: r.id,
    projectId: r.project_id,
    type: r.type,
    payload: JSON.parse(r.payload_json) as unknown,
    status: r.status as JobStatus,
    progress: Number(r.progress),
    message: r.message,
    metrics: JSON.parse(r.metrics_json) as Record<string, number>,
    result: r.result_json === null ? null : (JSON.parse(r.result_json) as unknown),
    error: r.error,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    cancelRequested: r.cancel_requested === 1,
    createdBy: r.created_by,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
  };
}
